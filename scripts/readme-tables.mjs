// Renders the configuration and series tables of the docs from the config schema and the
// instrument catalog, so the documentation cannot drift from the code:
//
//   npm run docs        rewrites the tables between their markers in docs/configuration.md and
//                       docs/metrics.md, and the rule files (npm run rules)
//
// test/docs.test.ts fails when a file differs from what this renders.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const escape = (text) => String(text).replaceAll('|', '\\|');

export function renderConfigTable(fields, describeDefault, describeExpected) {
  const rows = fields.map(
    (f) => `| \`${f.env}\`${f.otelEnv ? ` (or \`${f.otelEnv}\`)` : ''} | ${escape(describeDefault(f))} | ${escape(describeExpected(f))} | ${escape(f.description)} |`,
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
  if (from < 0 || to < from) throw new Error(`no ${start} … ${end} markers`);
  return `${text.slice(0, from + start.length)}\n${content}\n${text.slice(to)}`;
}

/** Each generated file, and how its tables are rendered from the schema and the catalog. */
export const TABLES = {
  'docs/configuration.md': (text, { CONFIG_FIELDS, describeDefault, describeExpected }) =>
    replaceBetween(text, 'config-table', renderConfigTable(CONFIG_FIELDS, describeDefault, describeExpected)),
  'docs/metrics.md': (text, { METRIC_LIST }) => replaceBetween(text, 'series-table', renderSeriesTable(METRIC_LIST)),
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const config = await import('../dist/core/config.js');
  const catalog = await import('../dist/metrics/catalog.js');
  for (const [file, render] of Object.entries(TABLES)) {
    const path = new URL(`../${file}`, import.meta.url);
    writeFileSync(path, render(readFileSync(path, 'utf8'), { ...config, ...catalog }));
    console.log(`${file} tables updated`);
  }
}
