/**
 * The README's configuration and series tables are contracts users read; they are rendered from
 * the schema and the catalog (`npm run docs`), and this test fails when they drift.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_FIELDS, describeDefault, describeExpected } from '../src/config.js';
import { METRIC_LIST } from '../src/telemetry/catalog.js';
import { renderReadme } from '../scripts/readme-tables.mjs';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('has the configuration and series tables exactly as the schema and catalog render them (run `npm run docs`)', async () => {
    const rendered = await renderReadme(readme, { CONFIG_FIELDS, describeDefault, describeExpected, METRIC_LIST });
    expect(readme).toBe(rendered);
  });

  it.each(CONFIG_FIELDS.map((f) => [f.env]))('documents %s', (env) => {
    expect(readme).toContain(`| \`${env}\` |`);
  });

  it.each(METRIC_LIST.map((m) => [m.name]))('documents series %s', (name) => {
    expect(readme).toContain(`| \`${name}\` |`);
  });
});
