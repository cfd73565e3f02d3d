// Renders the README's configuration and series tables from the config schema and the
// instrument catalog, so the documentation cannot drift from the code:
//
//   npm run docs        rewrites the tables between their markers in README.md
//
// test/readme.test.ts fails when README.md differs from what this renders.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const escape = (text) => String(text).replaceAll('|', '\\|');

export function renderConfigTable(fields, describeDefault, describeExpected) {
  const rows = fields.map(
    (f) => `| \`${f.env}\` | ${escape(describeDefault(f))} | ${escape(describeExpected(f))} | ${escape(f.description)} |`,
  );
  return ['| Variable | Default | Accepted | Meaning |', '|---|---|---|---|', ...rows].join('\n');
}

export function renderSeriesTable(metrics) {
  const rows = metrics.map(
    (m) =>
      `| \`${m.name}\` | ${m.type} | ${m.labels.length ? m.labels.map((l) => `\`${l}\``).join(', ') : '—'} | ${escape(m.help)}${m.seed ? ' *(seed)*' : ''} |`,
  );
  return ['| Series | Type | Labels | Meaning |', '|---|---|---|---|', ...rows].join('\n');
}

export function replaceBetween(text, marker, content) {
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md has no ${start} … ${end} markers`);
  return `${text.slice(0, from + start.length)}\n${content}\n${text.slice(to)}`;
}

export async function renderReadme(readme, { CONFIG_FIELDS, describeDefault, describeExpected, METRIC_LIST }) {
  let text = replaceBetween(readme, 'config-table', renderConfigTable(CONFIG_FIELDS, describeDefault, describeExpected));
  text = replaceBetween(text, 'series-table', renderSeriesTable(METRIC_LIST));
  return text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const config = await import('../dist/core/config.js');
  const catalog = await import('../dist/metrics/catalog.js');
  const path = new URL('../README.md', import.meta.url);
  const readme = readFileSync(path, 'utf8');
  writeFileSync(path, await renderReadme(readme, { ...config, ...catalog }));
  console.log('README.md tables updated');
}
