/**
 * The README's configuration and series tables are contracts users read; they are rendered from
 * the schema and the catalog (`npm run docs`), and this test fails when they drift.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_FIELDS, describeDefault, describeExpected } from '../src/core/config.js';
import { FAILURE_OUTCOMES, OUTCOMES } from '../src/core/model.js';
import { METRIC_LIST } from '../src/metrics/catalog.js';
import { OUTCOME_WORDS } from '../src/ingest/outcome.js';
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

  describe('the trade outcomes table', () => {
    const section = readme.slice(readme.indexOf('## Trade outcomes'), readme.indexOf('\n## ', readme.indexOf('## Trade outcomes') + 1));
    const rows = section.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| What came back') && !line.startsWith('|---'));

    it.each(OUTCOMES.map((o) => [o]))('names outcome %s in its column', (outcome) => {
      expect(rows.some((row) => row.split(' | ')[1]?.includes(`\`${outcome}\``))).toBe(true);
    });

    it.each(Object.keys(OUTCOME_WORDS).filter((w) => !(OUTCOMES as readonly string[]).includes(w) && w !== 'ok').map((w) => [w]))(
      'lists the word %s a result may carry',
      (word) => {
        expect(section.includes(`\`${word}\``) || section.includes(`'${word}'`)).toBe(true);
      },
    );

    it('marks exactly the failure outcomes as failures', () => {
      for (const row of rows) {
        const [, outcome, failure] = row.split(' | ');
        for (const o of FAILURE_OUTCOMES) if (outcome === `\`${o}\``) expect(failure, row).toMatch(/^yes/);
        if (outcome === '`filled`' || outcome === '`resting`' || outcome === '`unfilled`') expect(failure, row).toMatch(/^no/);
      }
    });
  });
});
