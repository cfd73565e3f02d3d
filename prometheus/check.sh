#!/usr/bin/env bash
# Validate the Prometheus configuration, the rule files and their unit tests with promtool.
#
#   prometheus/check.sh            (from anywhere; PROMTOOL=/path/to/promtool to pick one)
#
# Exits non-zero on the first failure, or when promtool cannot be found.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

promtool="${PROMTOOL:-promtool}"
if ! command -v "$promtool" >/dev/null 2>&1; then
  echo "check.sh: promtool not found (looked for '$promtool')." >&2
  echo "  Install it with Prometheus (Debian/Ubuntu: apt-get install prometheus; or the release" >&2
  echo "  tarball from prometheus.io), or set PROMTOOL=/path/to/promtool." >&2
  exit 127
fi

echo "== $("$promtool" --version 2>&1 | head -n 1)"

# Also loads the rule files it names. Hostnames (alertmanager, otel-collector,
# host.docker.internal) are not resolved: they exist only inside the compose network.
echo "== promtool check config prometheus.yml"
"$promtool" check config prometheus.yml

echo "== promtool check rules rules/*.yml"
"$promtool" check rules rules/*.yml

echo "== promtool test rules tests/*.yml"
"$promtool" test rules tests/*.yml

echo "== all Prometheus checks passed"
