/**
 * No setting that does nothing (issue 15: MONITORING_MAX_CPU_PERCENT, MONITORING_MAX_MEMORY_MB and
 * MEMORY_THRESHOLD_SCANNER_MB were parsed and documented, and nothing read them). Each field of the
 * schema must be read by the plugin's code outside the schema module — as `config.<key>` or, for
 * the grouped memory thresholds, by its component name.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_FIELDS } from '../src/core/config.js';
import { ROOT } from './e2e/harness.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') && full !== path.join(ROOT, 'src/core/config.ts') ? [readFileSync(full, 'utf8')] : [];
  });
}

const code = sources(path.join(ROOT, 'src')).join('\n');

describe('every setting is read', () => {
  // MONITORING_STRICT is the schema's own business: it decides whether loadConfig throws.
  it.each(CONFIG_FIELDS.filter((f) => f.key !== 'strict').map((f) => [f.env, f] as const))('%s is read outside the schema', (_, field) => {
    const read = 'component' in field && field.component
      ? new RegExp(`${field.key}\\??\\.${field.component}\\b`)
      : new RegExp(`\\b(?:config|options|c)\\.${field.key}\\b|\\{[^}]*\\b${field.key}\\b[^}]*\\}\\s*=\\s*config\\b`);
    expect(read.test(code), `${field.env} (${field.key}) is parsed but nothing reads it`).toBe(true);
  });
});
