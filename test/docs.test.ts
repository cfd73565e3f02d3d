/**
 * The docs are contracts users read. The configuration and series tables are rendered from the
 * schema and the catalog (`npm run docs`), the alert reference from the rule catalog
 * (test/rules/generated.test.ts); every relative link and anchor resolves; the README stays a
 * landing page that still answers the first questions (the outcome words, what is not covered).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_FIELDS, describeDefault, describeExpected } from '../src/core/config.js';
import { FAILURE_OUTCOMES, OUTCOMES } from '../src/core/model.js';
import { METRIC_LIST } from '../src/metrics/catalog.js';
import { OUTCOME_WORDS } from '../src/ingest/outcome.js';
import { TABLES } from '../scripts/readme-tables.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');
const DOCS = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const readme = read('README.md');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
const slug = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, (c) => (c === '_' ? '_' : ''))
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  let inCode = false;
  const seen = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) inCode = !inCode;
    if (inCode) continue;
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) {
      const base = slug(heading[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const id of line.matchAll(/<a id="([^"]+)"><\/a>/g)) anchors.add(id[1]!);
  }
  return anchors;
}

/** Relative links of a markdown file, outside code blocks. */
function linksOf(text: string): string[] {
  const links: string[] = [];
  let inCode = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) inCode = !inCode;
    if (inCode) continue;
    for (const m of line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)) if (!/^[a-z]+:/.test(m[1]!)) links.push(m[1]!);
  }
  return links;
}

describe('the docs', () => {
  it.each(Object.keys(TABLES).map((f) => [f]))('%s has its tables exactly as the schema and catalog render them (run `npm run docs`)', async (file) => {
    const text = read(file);
    const render = TABLES[file as keyof typeof TABLES];
    expect(text).toBe(render(text, { CONFIG_FIELDS, describeDefault, describeExpected, METRIC_LIST }));
  });

  it.each(CONFIG_FIELDS.map((f) => [f.env, 'otelEnv' in f ? f.otelEnv : undefined]))('documents %s', (env, otelEnv) => {
    expect(read('docs/configuration.md')).toContain(otelEnv ? `| \`${env}\` (or \`${otelEnv}\`) |` : `| \`${env}\` |`);
  });

  it.each(METRIC_LIST.map((m) => [m.name]))('documents series %s', (name) => {
    expect(read('docs/metrics.md')).toContain(`| \`${name}\` |`);
  });

  it.each(DOCS.map((f) => [f]))('%s: every relative link and anchor resolves', (file) => {
    const broken: string[] = [];
    for (const link of linksOf(read(file))) {
      const [target, anchor] = link.split('#') as [string, string | undefined];
      const resolved = target === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), target));
      if (!existsSync(path.join(ROOT, resolved))) {
        broken.push(`${link}: no file ${resolved}`);
        continue;
      }
      if (anchor && resolved.endsWith('.md') && !anchorsOf(read(resolved)).has(anchor)) broken.push(`${link}: no anchor #${anchor} in ${resolved}`);
    }
    expect(broken).toEqual([]);
  });

  it('finds a broken link or anchor (the checker itself)', () => {
    expect(linksOf('see [x](docs/nowhere.md#a) and `[y](z.md)`')).toEqual(['docs/nowhere.md#a']);
    expect(anchorsOf('## Who notifies: `ALERT_ROUTE`\n## Ports and security').has('who-notifies-alert_route')).toBe(true);
  });
});

describe('the README, a landing page', () => {
  it('is at most 300 lines', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(300);
  });

  it('says plainly that axios calls outside the CLOB client are not covered', () => {
    expect(readme).toMatch(/axios/i);
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
