#!/usr/bin/env node
/**
 * The command line: `npx polymarket-bot-monitoring config` prints the configuration the preload
 * would run with in this environment (secrets masked), where each value comes from, and every
 * problem; `… check` prints only the problems and exits 1 when there is one, so a deploy script
 * or a systemd ExecStartPre can refuse a bad configuration before the bot starts.
 *
 * Reads the environment only: it starts nothing, opens no port and never needs the bot's key.
 */
import { CONFIG_FIELDS, ConfigError, describeDefault, fieldPath, loadConfig, quote, type FieldSpec } from './core/config.js';
import { redactText, registerSecrets, secretsFromEnv } from './core/redact.js';
import { exportPlan, metricExportTiming } from './plugin/sdk.js';

type Env = Readonly<Record<string, string | undefined>>;

const USAGE = `usage: polymarket-bot-monitoring <command>

  config [--json]   print the effective configuration (secrets masked) and every problem
  check             print the problems only; exit 1 if there is one, 0 otherwise

Both read this shell's environment, as the preload would (node --import polymarket-bot-monitoring/register).
`;

export interface Report {
  readonly settings: { readonly env: string; readonly value: string; readonly source: string }[];
  readonly exporting: { readonly traces: string[]; readonly metrics: string[] };
  /** Values that cannot be used as given: each falls back to its default (or is fatal with MONITORING_STRICT=true). */
  readonly problems: string[];
  /** Advice: the configuration works, perhaps not as meant. */
  readonly warnings: string[];
}

function shown(field: FieldSpec, value: unknown): string {
  if (value === undefined) return '(unset)';
  if (field.secret) return '(set, hidden)';
  return typeof value === 'string' ? quote(value) : String(value);
}

export function report(env: Env): Report {
  const { config, warnings, sources } = loadConfig(env);
  let problems: string[] = [];
  try {
    loadConfig(env, { strict: true });
  } catch (error) {
    if (error instanceof ConfigError) problems = error.problems;
    else throw error;
  }
  const plan = exportPlan(env);
  metricExportTiming(env, plan.warnings);
  const flat = config as unknown as Record<string, unknown>;
  const settings = (CONFIG_FIELDS as readonly FieldSpec[]).map((field) => {
    const value = field.component === undefined ? flat[field.key] : (flat[field.key] as Record<string, unknown>)[field.component];
    const { from, valid } = sources[fieldPath(field)]!;
    const source = from === undefined ? `default (${describeDefault(field)})` : valid ? from : `default: ${from} is invalid`;
    return { env: field.env, value: shown(field, value), source };
  });
  const advisories = warnings.filter((w) => !problems.some((p) => w.startsWith(p)));
  return { settings, exporting: plan.described, problems: [...problems, ...plan.warnings], warnings: advisories };
}

function printConfig(r: Report, out: (line: string) => void): void {
  const width = Math.max(...r.settings.map((s) => s.env.length));
  const valueWidth = Math.min(40, Math.max(...r.settings.map((s) => s.value.length)));
  for (const s of r.settings) out(`${s.env.padEnd(width)}  ${s.value.padEnd(valueWidth)}  ${s.source}`);
  out('');
  out(`span export: ${r.exporting.traces.join(', ') || 'off'}`);
  out(`metric push: ${r.exporting.metrics.join(', ') || 'off'}`);
  printProblems(r, out);
}

function printProblems(r: Report, out: (line: string) => void): void {
  if (r.problems.length === 0 && r.warnings.length === 0) {
    out('');
    out('no problems');
    return;
  }
  for (const [title, lines] of [['problems', r.problems], ['warnings', r.warnings]] as const) {
    if (lines.length === 0) continue;
    out('');
    out(`${title}:`);
    for (const line of lines) out(`  ${line}`);
  }
}

export function main(argv: readonly string[], env: Env, write: (line: string) => void, writeError: (line: string) => void): number {
  // Every line as the plugin's own log writes it: a key pasted into the wrong variable is still masked.
  registerSecrets(secretsFromEnv(env));
  const out = (line: string): void => write(redactText(line));
  const err = (line: string): void => writeError(redactText(line));
  const [command, ...rest] = argv;
  switch (command) {
    case 'config': {
      const r = report(env);
      if (rest.includes('--json')) out(JSON.stringify(r, null, 2));
      else printConfig(r, out);
      return 0;
    }
    case 'check': {
      const r = report(env);
      printProblems(r, r.problems.length > 0 ? err : out);
      return r.problems.length > 0 ? 1 : 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out(USAGE);
      return command === undefined ? 2 : 0;
    default:
      err(`unknown command ${quote(command)}\n`);
      err(USAGE);
      return 2;
  }
}

// Run as the package's bin (not when imported by a test).
const self = process.argv[1] ?? '';
if (/(?:^|[\\/])(?:cli\.js|polymarket-bot-monitoring)$/.test(self)) {
  process.exitCode = main(process.argv.slice(2), process.env, (line) => process.stdout.write(`${line}\n`), (line) => process.stderr.write(`${line}\n`));
}
