/**
 * The Debian binaries the stack test needs. Missing ones fail the run with the install command:
 * the stack test never skips, or a green run could mean nothing was tested.
 */
import { execFileSync } from 'node:child_process';

function which(names: readonly string[]): string | undefined {
  for (const name of names) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      // try the next name
    }
  }
  return undefined;
}

export interface Binaries {
  prometheus: string;
  promtool: string;
  alertmanager: string;
}

export function requireBinaries(): Binaries {
  const found = {
    prometheus: which(['prometheus']),
    promtool: which(['promtool']),
    // Debian names the Alertmanager binary after its package.
    alertmanager: which(['prometheus-alertmanager', 'alertmanager']),
  };
  const missing = Object.entries(found).filter(([, path]) => !path).map(([name]) => name);
  if (missing.length > 0) {
    throw new Error(
      `the stack test needs ${missing.join(', ')} on PATH: apt-get install -y prometheus prometheus-alertmanager`,
    );
  }
  return found as Binaries;
}
