// The Grafana dashboards, as code: typed builders of @grafana/grafana-foundation-sdk, every metric
// name from the metric catalog (src/metrics/catalog.ts), every threshold line from the rule catalog
// and the configuration defaults (src/rules/catalog.ts, src/core/config.ts):
//
//   npm run dashboards      rewrites grafana/dashboards/*.json
//
// test/grafana.test.ts fails when the committed JSON differs from what this renders, when a query
// names a series the instrument catalog does not define, or when a selector lacks the
// job/instance filter. Queries use only raw series (no recording rules), so the dashboards work
// against any Prometheus that scrapes the bot, with or without prometheus/rules.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { loadConfig } from '../src/core/config.js';
import { METRICS } from '../src/metrics/catalog.js';
import { MEMORY_WARNING_SHARE, RULES, ruleNamed, ruleSettings, runbookUrl, STALE_CRITICAL_FACTOR, type RuleDef, type RuleName } from '../src/rules/catalog.js';

/**
 * Dashboard JSON schema 39: what Grafana 10.3 to 11.2 write, and what every Grafana 11 reads
 * without a migration of substance. The SDK's builder writes 42 (Grafana 12), which the shipped
 * Grafana 11.1 (deploy/compose.yaml) would not migrate: the built dashboard is set back to 39.
 */
export const SCHEMA_VERSION = 39;

/** Every panel and query names the datasource through the `$datasource` variable. */
export const DATASOURCE = Object.freeze({ type: 'prometheus', uid: '${datasource}' });

/** The provisioned datasource's uid (grafana/provisioning/datasources/prometheus.yaml). */
export const PROVISIONED_DATASOURCE_UID = 'prometheus';
/** The provisioned Jaeger datasource the latency panels' exemplars link to. */
export const TRACE_DATASOURCE_UID = 'jaeger';

/**
 * The datasource input of Grafana's "Import dashboard" dialog: the import replaces
 * `${DS_PROMETHEUS}` with the Prometheus chosen there. Only the import copies (grafana/import/)
 * start the `$datasource` variable on it: a provisioned dashboard has no import step, and an
 * unresolved `current` leaves Grafana 12's panels without a datasource on first render, so the
 * provisioned copies start on the provisioned uid.
 */
export const DATASOURCE_INPUT = 'DS_PROMETHEUS';
/** The oldest Grafana the dashboards are written for (schemaVersion 39). */
export const GRAFANA_MIN_VERSION = '11.1.0';

/** Histograms whose latency panels show exemplars (trace ids, OpenMetrics) and link them to traces. */
const EXEMPLAR_HISTOGRAMS = [METRICS.walletScanDuration.name, METRICS.tradeExecutionDuration.name];

const config = loadConfig({}).config;
const settings = ruleSettings(config);
/** A rule's threshold, as the catalog defines it for the default configuration. */
const threshold = (name: RuleName): number => ruleNamed(name).threshold!.value(settings);

/**
 * The values the threshold lines are drawn at: the rules' thresholds and the monitoring breaker's
 * limits, for the configuration defaults (never spelled here).
 */
export const THRESHOLDS = Object.freeze({
  CIRCUIT_BREAKER_CPU_THRESHOLD: config.circuitBreakerCpuThreshold,
  CIRCUIT_BREAKER_MEMORY_THRESHOLD: config.circuitBreakerMemoryThreshold,
  MEMORY_THRESHOLD_TOTAL_SYSTEM_MB: config.memoryThresholdMb.total_system,
  MONITORING_MAX_CPU_PERCENT: config.maxCpuPercent,
  API_SUCCESS_THRESHOLD: threshold('PolymarketBotApiSuccessRatioLow'),
  API_FAILURE_COUNT_THRESHOLD: threshold('PolymarketBotApiConsecutiveFailures'),
  DAILY_LOSS_WARNING_PERCENT: threshold('PolymarketBotDailyLossWarning'),
  DAILY_LOSS_CRITICAL_PERCENT: threshold('PolymarketBotDailyLossCritical'),
  STALE_AFTER_SECONDS: threshold('PolymarketBotWalletScansStale'),
});

// The breaker recovers below 4/5 of its thresholds, and a component is degraded from
// MEMORY_WARNING_SHARE (4/5) of its memory threshold; stale is critical at STALE_CRITICAL_FACTOR ×
// STALE_AFTER_SECONDS. Multiplied before dividing, so 68 stays 68 (85 * 0.8 is 68.00000000000001).
const fourFifths = (value: number): number => (value * MEMORY_WARNING_SHARE * 5 * 4) / 20;

const GREEN = 'green';
const ORANGE = 'orange';
const RED = 'red';
const BLUE = 'blue';

// ---------------------------------------------------------------------------------------------
// PromQL. Every selector carries the job/instance filter, and every query aggregates with an
// explicit `by (job, instance, …)`, which drops the exporter's otel_scope_name/otel_scope_version
// labels: a plugin upgrade changes otel_scope_version, and without the aggregation every panel
// would split into an old and a new series.

const FILTER = 'job=~"$job", instance=~"$instance"';

/** `metric{job=~"$job", instance=~"$instance", …matchers}` */
export function selector(metric: string, matchers = ''): string {
  return `${metric}{${FILTER}${matchers ? `, ${matchers}` : ''}}`;
}

const by = (...labels: string[]): string => `by (${['job', 'instance', ...labels].join(', ')})`;

interface QueryShape {
  agg?: string;
  labels?: string[];
  matchers?: string;
  window?: string;
}

/** The current value of a gauge, one series per bot (and per `labels`). */
function gauge(metric: string, { agg = 'max', labels = [], matchers }: QueryShape = {}): string {
  return `${agg} ${by(...labels)} (${selector(metric, matchers)})`;
}

/** Per-second rate of a counter (or a histogram's _count/_sum), summed per bot. */
function rate(metric: string, { labels = [], matchers, window = '$__rate_interval' }: QueryShape = {}): string {
  return `sum ${by(...labels)} (rate(${selector(metric, matchers)}[${window}]))`;
}

/** How much a counter grew over the dashboard's time range. */
function increaseOverRange(metric: string, { labels = [], matchers }: QueryShape = {}): string {
  return `sum ${by(...labels)} (increase(${selector(metric, matchers)}[$__range]))`;
}

/** A quantile of a histogram over the rate window (every outcome unless `matchers` say otherwise). */
function quantile(q: number, histogram: string, { labels = [], matchers }: QueryShape = {}): string {
  return `histogram_quantile(${q}, sum ${by(...labels, 'le')} (rate(${selector(`${histogram}_bucket`, matchers)}[$__rate_interval])))`;
}

// ---------------------------------------------------------------------------------------------
// Field config pieces.

/** Absolute threshold steps: a base colour, then [value, colour] pairs in ascending order. */
function steps(base: string, ...pairs: [number, string][]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps([{ color: base, value: null }, ...pairs.map(([value, color]) => ({ color, value }))]);
}

/** Value → text/colour mappings, e.g. [[1, 'healthy', GREEN], …]. */
function valueMap(entries: [number, string, string][]): dashboard.ValueMapping[] {
  return [
    {
      type: dashboard.MappingType.ValueToText,
      options: Object.fromEntries(entries.map(([value, text, color], index) => [String(value), { color, index, text }])),
    },
  ];
}

/** `monitoring_component_status`: 1 healthy, 0 degraded, -1 critical (src/core/model.ts STATUS_GAUGE_VALUE). */
const STATUS_MAPPINGS = valueMap([
  [1, 'healthy', GREEN],
  [0, 'degraded', ORANGE],
  [-1, 'critical', RED],
]);
const STATUS_THRESHOLDS = (): dashboard.ThresholdsConfigBuilder => steps(RED, [0, ORANGE], [1, GREEN]);

const BREAKER_THRESHOLDS = (): dashboard.ThresholdsConfigBuilder => steps(GREEN, [1, RED]);

/** A field override: a matcher and the properties it sets. */
interface Override {
  matcher: dashboard.MatcherConfig;
  properties: dashboard.DynamicConfigValue[];
}

/** Series colours by the legend's leading word (legends read `<name> · <instance>`). */
function colourBy(pairs: [string, string][]): Override[] {
  return pairs.map(([pattern, color]) => ({
    matcher: { id: 'byRegexp', options: `/^(${pattern})\\b/` },
    properties: [{ id: 'color', value: { fixedColor: color, mode: 'fixed' } }],
  }));
}

const STATUS_COLOURS = colourBy([
  ['healthy', GREEN],
  ['degraded', ORANGE],
  ['critical', RED],
]);

// ---------------------------------------------------------------------------------------------
// Targets and panels.

function target(refId: string, expr: string, legendFormat: string, { instant = false } = {}): prometheus.DataqueryBuilder {
  const query = new prometheus.DataqueryBuilder()
    .datasource(DATASOURCE)
    .editorMode(prometheus.QueryEditorMode.Code)
    .expr(expr)
    .legendFormat(legendFormat)
    .refId(refId);
  return instant ? query.instant() : query.range();
}

/** Targets from [expr, legend] pairs, lettered A, B, C… */
function targets(pairs: [string, string][], options?: { instant?: boolean }): prometheus.DataqueryBuilder[] {
  return pairs.map(([expr, legend], i) => target(String.fromCharCode(65 + i), expr, legend, options));
}

interface PanelArgs {
  id: number;
  title: string;
  description: string;
  w: number;
  h: number;
  unit: string;
  targets: prometheus.DataqueryBuilder[];
  overrides?: Override[];
  decimals?: number;
  min?: number;
  max?: number;
}

/** What every panel shares: id, title, description, size (placed by `layout`), unit, queries. */
function common_<B extends timeseries.PanelBuilder | stat.PanelBuilder | statetimeline.PanelBuilder>(builder: B, args: PanelArgs): B {
  builder
    .datasource(DATASOURCE)
    .description(args.description)
    .gridPos({ h: args.h, w: args.w, x: 0, y: 0 })
    .id(args.id)
    .title(args.title)
    .unit(args.unit)
    .targets(args.targets)
    .overrides(args.overrides ?? []);
  if (args.decimals !== undefined) builder.decimals(args.decimals);
  if (args.min !== undefined) builder.min(args.min);
  if (args.max !== undefined) builder.max(args.max);
  return builder;
}

interface TimeseriesArgs extends PanelArgs {
  thresholds?: dashboard.ThresholdsConfigBuilder;
  thresholdLines?: boolean;
  softMin?: number | null;
  softMax?: number;
  stack?: boolean;
  bars?: boolean;
  colorByThresholds?: boolean;
}

function timeseriesPanel({
  thresholds,
  thresholdLines = Boolean(thresholds),
  softMin = 0,
  softMax,
  stack = false,
  bars = false,
  colorByThresholds = false,
  ...rest
}: TimeseriesArgs): timeseries.PanelBuilder {
  const panel = common_(new timeseries.PanelBuilder(), rest)
    .colorScheme(new dashboard.FieldColorBuilder().mode(colorByThresholds ? dashboard.FieldColorModeId.Thresholds : dashboard.FieldColorModeId.PaletteClassic))
    .axisBorderShow(false)
    .axisCenteredZero(false)
    .axisPlacement(common.AxisPlacement.Auto)
    .barAlignment(common.BarAlignment.Center)
    .drawStyle(bars ? common.GraphDrawStyle.Bars : common.GraphDrawStyle.Line)
    .fillOpacity(bars || stack ? 60 : 10)
    .gradientMode(colorByThresholds ? common.GraphGradientMode.Scheme : common.GraphGradientMode.None)
    .lineInterpolation(common.LineInterpolation.Linear)
    .lineWidth(1)
    .pointSize(4)
    .showPoints(common.VisibilityMode.Never)
    .spanNulls(false)
    .stacking(new common.StackingConfigBuilder().group('A').mode(stack ? common.StackingMode.Normal : common.StackingMode.None))
    .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(thresholdLines ? common.GraphThresholdsStyleMode.Dashed : common.GraphThresholdsStyleMode.Off))
    .thresholds(thresholds ?? steps(GREEN))
    .legend(new common.VizLegendOptionsBuilder().calcs([]).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom).showLegend(true))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending));
  if (softMin !== null) panel.axisSoftMin(softMin);
  if (softMax !== undefined) panel.axisSoftMax(softMax);
  return panel;
}

interface StatArgs extends PanelArgs {
  thresholds?: dashboard.ThresholdsConfigBuilder;
  mappings?: dashboard.ValueMapping[];
  colorMode?: common.BigValueColorMode;
  graphMode?: common.BigValueGraphMode;
  textMode?: common.BigValueTextMode;
  noValue?: string;
}

function statPanel({
  thresholds,
  mappings = [],
  colorMode = common.BigValueColorMode.Value,
  graphMode = common.BigValueGraphMode.None,
  textMode = common.BigValueTextMode.Auto,
  noValue,
  ...rest
}: StatArgs): stat.PanelBuilder {
  const panel = common_(new stat.PanelBuilder(), rest)
    .colorScheme(new dashboard.FieldColorBuilder().mode(dashboard.FieldColorModeId.Thresholds))
    .mappings(mappings)
    .thresholds(thresholds ?? steps(GREEN))
    .colorMode(colorMode)
    .graphMode(graphMode)
    .justifyMode(common.BigValueJustifyMode.Auto)
    .orientation(common.VizOrientation.Auto)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields('').values(false))
    .showPercentChange(false)
    .textMode(textMode)
    .wideLayout(true);
  if (noValue !== undefined) panel.noValue(noValue);
  return panel;
}

interface StateTimelineArgs extends PanelArgs {
  thresholds: dashboard.ThresholdsConfigBuilder;
  mappings: dashboard.ValueMapping[];
}

function stateTimelinePanel({ thresholds, mappings, ...rest }: StateTimelineArgs): statetimeline.PanelBuilder {
  return common_(new statetimeline.PanelBuilder(), rest)
    .colorScheme(new dashboard.FieldColorBuilder().mode(dashboard.FieldColorModeId.Thresholds))
    .fillOpacity(80)
    .hideFrom(new common.HideSeriesConfigBuilder().legend(false).tooltip(false).viz(false))
    .lineWidth(0)
    .mappings(mappings)
    .thresholds(thresholds)
    .alignValue(common.TimelineValueAlignment.Left)
    .legend(new common.VizLegendOptionsBuilder().displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom).showLegend(true))
    .mergeValues(true)
    .rowHeight(0.9)
    .showValue(common.VisibilityMode.Auto)
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Single).sort(common.SortOrder.None));
}

/** A row header; the panels after it belong to it (they follow it in the dashboard's list). */
function row(id: number, title: string): dashboard.RowBuilder {
  return new dashboard.RowBuilder(title).id(id).collapsed(false).gridPos({ h: 1, w: 24, x: 0, y: 0 });
}

type Item = timeseries.PanelBuilder | stat.PanelBuilder | statetimeline.PanelBuilder | dashboard.RowBuilder;

/**
 * Lays panels out left to right in a 24-column grid, wrapping to a new line when a panel would
 * not fit; a row header always starts a new line.
 */
function layout(items: Item[]): Item[] {
  let x = 0;
  let y = 0;
  let lineHeight = 0;
  for (const item of items) {
    const isRow = item instanceof dashboard.RowBuilder;
    const { w, h } = (item.build() as { gridPos: dashboard.GridPos }).gridPos;
    if (isRow || x + w > 24) {
      y += lineHeight;
      x = 0;
      lineHeight = 0;
    }
    item.gridPos({ h, w, x, y });
    x += w;
    lineHeight = Math.max(lineHeight, h);
    if (isRow) {
      y += h;
      x = 0;
      lineHeight = 0;
    }
  }
  return items;
}

// ---------------------------------------------------------------------------------------------
// Templating: datasource, then job, then instance filtered by the chosen jobs.

function queryVariable(name: string, label: string, query: string, description: string): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(name)
    .allValue('.*')
    .current({ selected: true, text: ['All'], value: ['$__all'] })
    .datasource(DATASOURCE)
    .definition(query)
    .description(description)
    .hide(dashboard.VariableHide.DontHide)
    .includeAll(true)
    .label(label)
    .multi(true)
    .query({ qryType: 1, query, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .regex('')
    .sort(dashboard.VariableSort.AlphabeticalAsc);
}

const HEALTH_CHECKS = METRICS.healthChecks.name;

function variables(): (dashboard.DatasourceVariableBuilder | dashboard.QueryVariableBuilder)[] {
  return [
    new dashboard.DatasourceVariableBuilder('datasource')
      .current({ selected: false, text: 'Prometheus', value: PROVISIONED_DATASOURCE_UID })
      .description('The Prometheus that scrapes the bot.')
      .hide(dashboard.VariableHide.DontHide)
      .includeAll(false)
      .label('Data source')
      .multi(false)
      .type('prometheus')
      .regex(''),
    queryVariable(
      'job',
      'Job',
      `label_values(${HEALTH_CHECKS}, job)`,
      'Prometheus scrape jobs that see the monitoring plugin (polymarket-bot in prometheus/prometheus.yml).',
    ),
    queryVariable('instance', 'Bot', `label_values(${HEALTH_CHECKS}{job=~"$job"}, instance)`, 'Bot processes (scrape targets) of the chosen jobs.'),
  ];
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function board({ uid, title, description, panels }: { uid: string; title: string; description: string; panels: Item[] }): Json {
  const builder = new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .editable()
    .fiscalYearStartMonth(0)
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .link(
      new dashboard.DashboardLinkBuilder('Polymarket bot')
        .asDropdown(false)
        .icon('external link')
        .includeVars(true)
        .keepTime(true)
        .tags(['polymarket-bot'])
        .targetBlank(false)
        .tooltip('')
        .type(dashboard.DashboardLinkType.Dashboards)
        .url(''),
    )
    .refresh('30s')
    .tags(['polymarket-bot', 'monitoring'])
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .version(1)
    .weekStart('')
    .annotation(
      new dashboard.AnnotationQueryBuilder()
        .builtIn(1)
        .datasource({ type: 'grafana', uid: '-- Grafana --' })
        .enable(true)
        .hide(true)
        .iconColor('rgba(0, 211, 255, 1)')
        .name('Annotations & Alerts')
        .type('dashboard'),
    );
  const built = builder.build() as Json;
  // Prometheus' firing alerts of the chosen bots, drawn on every graph (the same names as Telegram's).
  built.annotations.list.push({
    datasource: DATASOURCE,
    enable: true,
    expr: `${ALERTS_FIRING}`,
    iconColor: 'red',
    name: 'Firing alerts',
    step: '60s',
    tagKeys: 'severity,instance',
    titleFormat: '{{alertname}}',
    textFormat: '{{severity}} on {{instance}}',
    useValueForTime: false,
  });
  for (const variable of variables()) builder.withVariable(variable);
  for (const item of layout(panels)) {
    if (item instanceof dashboard.RowBuilder) builder.withRow(item);
    else builder.withPanel(item);
  }
  const json = builder.build() as Json;
  json.annotations = built.annotations;
  for (const panel of panelsOf(json)) {
    const targets = (panel.targets as Json[] | undefined) ?? [];
    // Latency quantiles over the scan and trade buckets: exemplars on, linked to the trace datasource
    // (grafana/provisioning/datasources/prometheus.yaml: exemplarTraceIdDestinations).
    for (const t of targets) if (EXEMPLAR_HISTOGRAMS.some((name) => String(t.expr).includes(`${name}_bucket`))) t.exemplar = true;
    const links = runbookLinks(targets.map((t) => String(t.expr)));
    if (links.length > 0) panel.links = links;
  }
  const panelTypes = [...new Set(panelsOf(json).map((p) => String(p.type)).filter((type) => type !== 'row'))].sort();
  // See SCHEMA_VERSION; a provisioned dashboard has no database id. __requires is what Grafana's
  // "Export for sharing externally" writes (with __inputs: forImport below).
  return {
    __requires: [
      { type: 'grafana', id: 'grafana', name: 'Grafana', version: GRAFANA_MIN_VERSION },
      { type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' },
      ...panelTypes.map((type) => ({ type: 'panel', id: type, name: PANEL_NAMES[type] ?? type, version: '' })),
    ],
    ...json,
    id: null,
    schemaVersion: SCHEMA_VERSION,
  };
}

const PANEL_NAMES: Readonly<Record<string, string>> = { timeseries: 'Time series', stat: 'Stat', 'state-timeline': 'State timeline' };

/**
 * The chosen bots' firing alerts, for the annotation query — not the severity "none" markers
 * (the Watchdog, the alert-route marker), which fire all the time and would shade every graph.
 */
const ALERTS_FIRING = 'ALERTS{alertstate="firing", severity!="none", job=~"$job", instance=~"$instance"}';

/**
 * A panel's links to the runbook of every alert rule over a series it draws: from the rule
 * catalog (each rule's PromQL names its series), so a new rule gets its link without an edit here.
 */
function runbookLinks(exprs: string[]): Json[] {
  const series = (expr: string): Set<string> => new Set(expr.match(/\b[a-z_][a-z0-9_]*\b/g) ?? []);
  const drawn = new Set(exprs.flatMap((expr) => [...series(expr)]).map((name) => name.replace(/_(bucket|count|sum)$/, '')));
  const links: Json[] = [];
  for (const rule of RULES as readonly RuleDef[]) {
    if (rule.prometheus === undefined) continue;
    const used = [...series(rule.prometheus.expr(settings))].map((name) => name.replace(/_(bucket|count|sum)$/, ''));
    if (!used.some((name) => name.startsWith('monitoring_') && drawn.has(name))) continue;
    links.push({ title: `Runbook: ${rule.name}`, url: runbookUrl(rule.name), targetBlank: true });
  }
  return links;
}

// Legends lead with what the series is and end with the bot it comes from, so several selected
// bots stay apart and the colour overrides can match the leading word.
const perBot = (what: string): string => `${what} · {{instance}}`;

/** An alert's name, for the descriptions that name it. */
const alert = (name: RuleName): string => ruleNamed(name).name;



// ---------------------------------------------------------------------------------------------
// Bot overview.

/** The catalog's series, by the short names the panels use. */
const M = {
  status: METRICS.componentStatus.name,
  breaker: METRICS.circuitBreaker.name,
  tradeBreaker: METRICS.tradeExecutorBreaker.name,
  cpu: METRICS.cpuUsage.name,
  rss: METRICS.memoryUsage.name,
  selfTime: METRICS.selfTime.name,
  healthChecks: METRICS.healthChecks.name,
  healthCheckDuration: METRICS.healthCheckDuration.name,
  alertsSent: METRICS.alertsSent.name,
  alertsSuppressed: METRICS.alertsSuppressed.name,
  alertsFailed: METRICS.alertsFailed.name,
  alertsDropped: METRICS.alertsDropped.name,
  alertRoute: METRICS.alertRoute.name,
  loopP50: METRICS.eventLoopDelayP50.name,
  loopP99: METRICS.eventLoopDelayP99.name,
  loopMax: METRICS.eventLoopDelayMax.name,
  walletScan: METRICS.walletScanDuration.name,
  lastScan: METRICS.lastWalletScan.name,
  walletsWatched: METRICS.walletsWatched.name,
  trade: METRICS.tradeExecutionDuration.name,
  apiRequests: METRICS.apiRequests.name,
  apiRatio: METRICS.apiSuccessRatio.name,
  apiFailures: METRICS.apiConsecutiveFailures.name,
  pnl: METRICS.dailyPnl.name,
  lossRatio: METRICS.dailyLossRatio.name,
};

/** Host metrics from @opentelemetry/host-metrics that the dashboards use. */
const HOST = {
  systemMemory: 'system_memory_utilization',
  processCpu: 'process_cpu_time_total',
};

function tradeBreakerStat(id: number, w: number, h: number): stat.PanelBuilder {
  return statPanel({
    id,
    title: 'Trading breaker (the bot’s own)',
    description:
      'The bot’s own trading circuit breaker, as the bot reports it (read-only; the plugin never opens or closes it). ' +
      '"open" means the bot has halted trading — usually the daily loss limit. ' +
      `When red: read the reason in /health (components.trade_executor) or the ${alert('PolymarketBotTradeCircuitBreakerOpen')} alert, then decide in the bot, not here.`,
    w,
    h,
    unit: 'none',
    targets: targets([[gauge(M.tradeBreaker), perBot('trading')]]),
    mappings: valueMap([
      [0, 'closed (trading)', GREEN],
      [1, 'open (halted)', RED],
    ]),
    thresholds: BREAKER_THRESHOLDS(),
    colorMode: common.BigValueColorMode.Background,
    noValue: 'not reported',
  });
}

function overview() {
  const cpuLimit = THRESHOLDS.CIRCUIT_BREAKER_CPU_THRESHOLD;
  // Percent → ratio after the 4/5, so 0.68 stays 0.68 (0.85 * 4 / 5 is 0.6799999999999999).
  const memPercent = THRESHOLDS.CIRCUIT_BREAKER_MEMORY_THRESHOLD;
  const rssLimit = THRESHOLDS.MEMORY_THRESHOLD_TOTAL_SYSTEM_MB;
  const selfBudget = THRESHOLDS.MONITORING_MAX_CPU_PERCENT / 100;

  return board({
    uid: 'pbm-overview',
    title: 'Polymarket bot — overview',
    description:
      'Health of the copy-trading bot and of its monitoring plugin: component status, both circuit breakers, host and process resources, alert delivery and what monitoring itself costs.',
    panels: [
      row(100, 'Health'),
      statPanel({
        id: 101,
        title: 'Overall status',
        description:
          'The worst status among the bot’s components (the lowest monitoring_component_status): healthy, degraded or critical, as /health reports it. ' +
          'When orange or red: the component timeline below shows which component; /health on DASHBOARD_PORT says why.',
        w: 6,
        h: 5,
        unit: 'none',
        targets: targets([[gauge(M.status, { agg: 'min' }), perBot('overall')]]),
        mappings: STATUS_MAPPINGS,
        thresholds: STATUS_THRESHOLDS(),
        colorMode: common.BigValueColorMode.Background,
        noValue: 'no data — is the bot running and scraped?',
      }),
      statPanel({
        id: 102,
        title: 'Monitoring circuit breaker',
        description:
          `The plugin’s own breaker. "tripped" means the host crossed CIRCUIT_BREAKER_CPU_THRESHOLD (${cpuLimit} %) or CIRCUIT_BREAKER_MEMORY_THRESHOLD (${THRESHOLDS.CIRCUIT_BREAKER_MEMORY_THRESHOLD} %) and monitoring shed its own work: no health checks, alert rules or spans until it recovers. Trading is not affected. ` +
          'When red: find what loads the host (CPU and memory panels below); after MAX_RECOVERY_ATTEMPTS it waits for a manual reset (POST /admin/circuit-breaker/reset).',
        w: 6,
        h: 5,
        unit: 'none',
        targets: targets([[gauge(M.breaker), perBot('breaker')]]),
        mappings: valueMap([
          [0, 'active', GREEN],
          [1, 'tripped', RED],
        ]),
        thresholds: BREAKER_THRESHOLDS(),
        colorMode: common.BigValueColorMode.Background,
      }),
      tradeBreakerStat(103, 6, 5),
      statPanel({
        id: 104,
        title: 'Monitoring overhead now',
        description:
          `CPU the plugin spends on itself (collection, evaluation, alert delivery), as a share of one core. Budget: MONITORING_MAX_CPU_PERCENT (${THRESHOLDS.MONITORING_MAX_CPU_PERCENT} % of a core). ` +
          'When red: see "Monitoring overhead by activity" below; raise MONITOR_INTERVAL_SECONDS or lower the scrape frequency.',
        w: 6,
        h: 5,
        unit: 'percentunit',
        decimals: 2,
        targets: targets([[rate(M.selfTime), perBot('overhead')]]),
        thresholds: steps(GREEN, [selfBudget, RED]),
        graphMode: common.BigValueGraphMode.Area,
      }),
      stateTimelinePanel({
        id: 105,
        title: 'Component status',
        description:
          'Status of each component over time (main_bot, wallet_monitor, trade_executor, circuit_breaker, alert_system): green healthy, orange degraded, red critical. A component the bot never reported on has no row. ' +
          'When a row turns red: the matching alert (README, "Alert rules") names the cause — stale scans, main loop stalled, memory, daily loss, breaker.',
        w: 24,
        h: 8,
        unit: 'none',
        targets: targets([[gauge(M.status, { labels: ['component'] }), perBot('{{component}}')]]),
        mappings: STATUS_MAPPINGS,
        thresholds: STATUS_THRESHOLDS(),
      }),

      row(200, 'Host and process'),
      timeseriesPanel({
        id: 201,
        title: 'System CPU',
        description:
          `System-wide CPU utilisation the plugin samples each evaluation (monitoring_cpu_usage_percent). The breaker trips above CIRCUIT_BREAKER_CPU_THRESHOLD (${cpuLimit} %, red line) and recovers only below ${fourFifths(cpuLimit)} % (orange line). ` +
          'When it nears the red line: something on the host (often not the bot) is starving it; trades will be slow too.',
        w: 8,
        h: 8,
        unit: 'percent',
        min: 0,
        max: 100,
        targets: targets([[gauge(M.cpu), perBot('cpu')]]),
        thresholds: steps(GREEN, [fourFifths(cpuLimit), ORANGE], [cpuLimit, RED]),
      }),
      timeseriesPanel({
        id: 202,
        title: 'Bot memory (RSS)',
        description:
          `Resident memory of the bot process, bot and plugin together (monitoring_memory_usage_mb, MiB). main_bot is degraded from ${fourFifths(rssLimit)} MiB (orange line) and critical at MEMORY_THRESHOLD_TOTAL_SYSTEM_MB (${rssLimit} MiB, red line). ` +
          'When it climbs steadily: a leak in the bot; restart it at a quiet moment and compare heap snapshots.',
        w: 8,
        h: 8,
        unit: 'mbytes',
        targets: targets([[gauge(M.rss), perBot('rss')]]),
        thresholds: steps(GREEN, [fourFifths(rssLimit), ORANGE], [rssLimit, RED]),
      }),
      timeseriesPanel({
        id: 203,
        title: 'System memory used',
        description:
          `Share of the host’s memory in use (system_memory_utilization, state "used"). The breaker trips above CIRCUIT_BREAKER_MEMORY_THRESHOLD (${memPercent} %, red line) and recovers only below ${fourFifths(memPercent)} % (orange line). ` +
          'When it nears the red line: find the process that grows (it may not be the bot).',
        w: 8,
        h: 8,
        unit: 'percentunit',
        min: 0,
        max: 1,
        targets: targets([[gauge(HOST.systemMemory, { matchers: 'system_memory_state="used"' }), perBot('used')]]),
        thresholds: steps(GREEN, [fourFifths(memPercent) / 100, ORANGE], [memPercent / 100, RED]),
      }),
      timeseriesPanel({
        id: 204,
        title: 'Event-loop delay',
        description:
          'How late the bot’s event loop ran timers over the last evaluation interval: median, 99th percentile and worst. Every millisecond here delays a copied trade by as much. ' +
          'When p99 or max climb into the hundreds of milliseconds: something blocks the loop (synchronous work, huge JSON); the plugin’s own share is in "Monitoring overhead".',
        w: 12,
        h: 8,
        unit: 's',
        targets: targets([
          [gauge(M.loopP50), perBot('p50')],
          [gauge(M.loopP99), perBot('p99')],
          [gauge(M.loopMax), perBot('max')],
        ]),
      }),
      timeseriesPanel({
        id: 205,
        title: 'Bot process CPU',
        description:
          'CPU time the bot process uses, bot and plugin together, as a share of one core (process_cpu_time_total, user + system). ' +
          'When it sits near 100 %: the bot is CPU-bound on its single thread and its event loop will lag.',
        w: 12,
        h: 8,
        unit: 'percentunit',
        targets: targets([
          [rate(HOST.processCpu, { labels: ['process_cpu_state'] }), perBot('{{process_cpu_state}}')],
        ]),
        stack: true,
      }),

      row(300, 'Alerts'),
      timeseriesPanel({
        id: 301,
        title: 'Alerts delivered',
        description:
          'Alerts Telegram accepted, per minute, by severity (monitoring_alerts_sent_total). Without TELEGRAM_BOT_TOKEN alerts go to the log only and this stays at 0. ' +
          'When critical alerts keep coming: read them in Telegram or the log; the component timeline shows what they are about.',
        w: 8,
        h: 8,
        unit: 'cpm',
        targets: targets([[`60 * ${rate(M.alertsSent, { labels: ['severity'] })}`, perBot('{{severity}}')]]),
        overrides: colourBy([
          ['critical', RED],
          ['warning', ORANGE],
          ['info', BLUE],
        ]),
        stack: true,
      }),
      timeseriesPanel({
        id: 302,
        title: 'Alerts not delivered',
        description:
          'Alerts that did not reach Telegram, per minute: suppressed (a duplicate inside DUPLICATE_ALERT_WINDOW_MINUTES or a component in cooldown — normal), failed by reason (timeout, network, rate_limited, http_4xx, http_5xx, rejected) and dropped from a full delivery queue. ' +
          'When failed or dropped rise: http_4xx means a wrong TELEGRAM_BOT_TOKEN/TELEGRAM_CHAT_ID or a blocked bot; timeout/network mean the host cannot reach api.telegram.org. Alerts still go to the log.',
        w: 8,
        h: 8,
        unit: 'cpm',
        targets: targets([
          [`60 * ${rate(M.alertsSuppressed)}`, perBot('suppressed')],
          [`60 * ${rate(M.alertsFailed, { labels: ['reason'] })}`, perBot('failed {{reason}}')],
          [`60 * ${rate(M.alertsDropped)}`, perBot('dropped')],
        ]),
        overrides: colourBy([
          ['suppressed', BLUE],
          ['failed', RED],
          ['dropped', ORANGE],
        ]),
      }),
      statPanel({
        id: 303,
        title: 'Undelivered alerts (time range)',
        description:
          'Alerts that failed or were dropped over the selected time range: alerts nobody received on Telegram. ' +
          'When red: check "Alerts not delivered" for the reason, and the plugin’s log for the alerts themselves.',
        w: 4,
        h: 8,
        unit: 'short',
        decimals: 0,
        targets: targets([[`${increaseOverRange(M.alertsFailed)} + ${increaseOverRange(M.alertsDropped)}`, perBot('undelivered')]], {
          instant: true,
        }),
        thresholds: steps(GREEN, [1, RED]),
        colorMode: common.BigValueColorMode.Background,
      }),
      statPanel({
        id: 304,
        title: 'Who sends alerts',
        description:
          `Who notifies Telegram of the conditions both the plugin and Prometheus evaluate (ALERT_ROUTE): "plugin" — the plugin sends them and Alertmanager mutes its copy (${alert('PolymarketBotAlertsRoutedToPlugin')}); "alertmanager" — Alertmanager sends them, the plugin only logs them (also shown while the plugin has no Telegram); "both". ` +
          'When it is not what you meant: set ALERT_ROUTE on the bot and restart it; see docs/alerts.md.',
        w: 4,
        h: 8,
        unit: 'none',
        targets: targets([[gauge(M.alertRoute, { labels: ['route'] }), '{{route}} · {{instance}}']], { instant: true }),
        thresholds: steps(BLUE),
        textMode: common.BigValueTextMode.Name,
      }),

      row(400, 'Monitoring overhead'),
      timeseriesPanel({
        id: 401,
        title: 'Monitoring overhead by activity',
        description:
          `Time the plugin spends on itself, by activity (collection on each scrape and evaluation, evaluation of checks and rules, alert delivery), stacked, as a share of one core. The red line is MONITORING_MAX_CPU_PERCENT (${THRESHOLDS.MONITORING_MAX_CPU_PERCENT} %). ` +
          'When the stack crosses it: scrape less often or raise MONITOR_INTERVAL_SECONDS; a tall alert_delivery band means a Telegram backlog.',
        w: 12,
        h: 8,
        unit: 'percentunit',
        targets: targets([[rate(M.selfTime, { labels: ['activity'] }), perBot('{{activity}}')]]),
        thresholds: steps(GREEN, [selfBudget, RED]),
        stack: true,
      }),
      timeseriesPanel({
        id: 402,
        title: 'Monitoring share of the bot’s CPU',
        description:
          'The plugin’s own time divided by all the CPU time of the bot process: what fraction of the bot’s CPU goes to monitoring. ' +
          'When it is more than a few percent on an idle bot: the scrape or evaluation cadence is too aggressive.',
        w: 12,
        h: 8,
        unit: 'percentunit',
        targets: targets([[`${rate(M.selfTime)} / ${rate(HOST.processCpu)}`, perBot('monitoring')]]),
      }),
      timeseriesPanel({
        id: 403,
        title: 'Evaluation cycles by status',
        description:
          'Evaluation cycles (breaker → health checks → alert rules) per minute, by the overall status each found; one every MONITOR_INTERVAL_SECONDS. ' +
          'When the total drops to 0: the breaker is tripped (evaluation is shed) or the plugin stopped; when degraded/critical bands appear, see the component timeline.',
        w: 12,
        h: 8,
        unit: 'cpm',
        targets: targets([[`60 * ${rate(M.healthChecks, { labels: ['status'] })}`, perBot('{{status}}')]]),
        overrides: STATUS_COLOURS,
        stack: true,
      }),
      timeseriesPanel({
        id: 404,
        title: 'Evaluation cycle duration',
        description:
          'How long one evaluation cycle takes: p50 and p99 from the histogram, and the mean. Cycles run off the bot’s hot path but on its event loop. ' +
          'When p99 exceeds tens of milliseconds: the event loop is congested, or the host is short of CPU.',
        w: 12,
        h: 8,
        unit: 's',
        targets: targets([
          [quantile(0.5, M.healthCheckDuration), perBot('p50')],
          [quantile(0.99, M.healthCheckDuration), perBot('p99')],
          [`${rate(`${M.healthCheckDuration}_sum`)} / ${rate(`${M.healthCheckDuration}_count`)}`, perBot('mean')],
        ]),
      }),
    ],
  });
}

// ---------------------------------------------------------------------------------------------
// Trading.

// Filled or done: green; accepted by the exchange but not (yet) filled: blue; nothing happened:
// orange; refused, failed or errored (the PolymarketBotTradeFailures outcomes): red.
const OUTCOME_COLOURS = colourBy([
  ['filled|success', GREEN],
  ['resting|delayed', BLUE],
  ['unfilled|skipped|other', ORANGE],
  ['failed|error|rejected|invalid', RED],
]);

function trading() {
  const staleAfter = THRESHOLDS.STALE_AFTER_SECONDS;
  const apiThreshold = THRESHOLDS.API_SUCCESS_THRESHOLD;
  const scanErrorLimit = Math.round((1 - apiThreshold) * 100) / 100;
  const warnLoss = THRESHOLDS.DAILY_LOSS_WARNING_PERCENT;
  const critLoss = THRESHOLDS.DAILY_LOSS_CRITICAL_PERCENT;
  const scans = `${M.walletScan}_count`;

  return board({
    uid: 'pbm-trading',
    title: 'Polymarket bot — trading',
    description:
      'What the copy-trading bot is doing: wallet scans, copied trade executions, the APIs it depends on, and the day’s PnL against its loss limits.',
    panels: [
      row(100, 'Wallet scans'),
      timeseriesPanel({
        id: 101,
        title: 'Wallet scan latency',
        description:
          'How long one wallet scan takes, every outcome included: p50, p95 and p99 over the rate window. A copy can only be as fast as the scan that finds the trade. ' +
          'When p99 climbs: the data API is slow (see "API calls") or the event loop lags (overview dashboard).',
        w: 12,
        h: 8,
        unit: 's',
        targets: targets([
          [quantile(0.5, M.walletScan), perBot('p50')],
          [quantile(0.95, M.walletScan), perBot('p95')],
          [quantile(0.99, M.walletScan), perBot('p99')],
        ]),
      }),
      timeseriesPanel({
        id: 102,
        title: 'Wallet scans by outcome',
        description:
          'Wallet scans per second by outcome (success, skipped, rejected, invalid, failed, error, other). ' +
          'When the success band thins or vanishes: scans are failing — see the error ratio and the API panels.',
        w: 12,
        h: 8,
        unit: 'ops',
        targets: targets([[rate(scans, { labels: ['outcome'] }), perBot('{{outcome}}')]]),
        overrides: OUTCOME_COLOURS,
        stack: true,
      }),
      timeseriesPanel({
        id: 103,
        title: 'Wallet scan error ratio',
        description:
          `Share of wallet scans that did not succeed (every outcome but success) over the rate window. The red line is 1 − API_SUCCESS_THRESHOLD (${scanErrorLimit * 100} %). ` +
          'When above it: the bot is missing trades to copy; check the data API’s success ratio and consecutive failures below.',
        w: 12,
        h: 7,
        unit: 'percentunit',
        min: 0,
        softMax: 0.25,
        // With no failed scan there is no non-success series at all: `or 0 * …` turns that into 0.
        targets: targets([
          [
            `(${rate(scans, { matchers: 'outcome!="success"' })} or 0 * ${rate(scans)}) / ${rate(scans)}`,
            perBot('errors'),
          ],
        ]),
        thresholds: steps(GREEN, [scanErrorLimit, RED]),
      }),
      statPanel({
        id: 104,
        title: 'Since last successful scan',
        description:
          `Time since the last successful wallet scan. wallet_monitor is degraded after STALE_AFTER_SECONDS (${staleAfter} s) and critical after ${STALE_CRITICAL_FACTOR} × that. ` +
          'When orange or red: the bot is blind to the wallets it copies; check that its scan loop runs and that the data API answers.',
        w: 6,
        h: 7,
        unit: 's',
        decimals: 0,
        targets: targets([[`time() - ${gauge(M.lastScan)}`, perBot('age')]]),
        thresholds: steps(GREEN, [staleAfter, ORANGE], [staleAfter * STALE_CRITICAL_FACTOR, RED]),
        colorMode: common.BigValueColorMode.Background,
        noValue: 'no successful scan yet',
      }),
      statPanel({
        id: 105,
        title: 'Wallets watched',
        description:
          'Wallets the bot watches, as it last reported. When it drops unexpectedly: the bot’s wallet list was reloaded or trimmed.',
        w: 6,
        h: 7,
        unit: 'none',
        decimals: 0,
        targets: targets([[gauge(M.walletsWatched), perBot('wallets')]]),
        thresholds: steps(BLUE),
        graphMode: common.BigValueGraphMode.Area,
      }),

      row(200, 'Trade execution'),
      timeseriesPanel({
        id: 201,
        title: 'Trade execution latency by side',
        description:
          'How long copying one trade takes, by side, every outcome included: p50, p95 and p99. Latency is slippage: the price moves while the order travels. ' +
          'When p99 climbs: the CLOB API is slow or failing (API panels), or the event loop lags.',
        w: 12,
        h: 8,
        unit: 's',
        targets: targets([
          [quantile(0.5, M.trade, { labels: ['side'] }), perBot('p50 {{side}}')],
          [quantile(0.95, M.trade, { labels: ['side'] }), perBot('p95 {{side}}')],
          [quantile(0.99, M.trade, { labels: ['side'] }), perBot('p99 {{side}}')],
        ]),
      }),
      timeseriesPanel({
        id: 202,
        title: 'Trade outcomes by side',
        description:
          'Trade operations per minute (orders placed, and cancels) by outcome and side: filled/success (green), resting/delayed on the book (blue), unfilled/skipped/other (orange), rejected/invalid/failed/error (red). ' +
          'Skipped usually means the bot’s own breaker holds trades back; unfilled, a marketable order that found no match. ' +
          `When red bands appear: read the ${alert('PolymarketBotTradeFailed')} notices for the reason (rejected: the exchange refused the order; failed: the CLOB answered 429/5xx; error: no answer or a throw).`,
        w: 12,
        h: 8,
        unit: 'cpm',
        targets: targets([[`60 * ${rate(`${M.trade}_count`, { labels: ['operation', 'outcome', 'side'] })}`, perBot('{{outcome}} {{side}} {{operation}}')]]),
        overrides: OUTCOME_COLOURS,
        stack: true,
        bars: true,
      }),
      statPanel({
        id: 203,
        title: 'Trades in the time range by outcome',
        description:
          'How many trade operations (orders and cancels) ended in each outcome over the selected time range. When a red outcome is large: see "Trade outcomes by side" for when it happened.',
        w: 24,
        h: 4,
        unit: 'short',
        decimals: 0,
        targets: targets([[increaseOverRange(`${M.trade}_count`, { labels: ['outcome'] }), perBot('{{outcome}}')]], { instant: true }),
        thresholds: steps(BLUE),
        textMode: common.BigValueTextMode.ValueAndName,
        overrides: OUTCOME_COLOURS,
      }),

      row(300, 'APIs'),
      timeseriesPanel({
        id: 301,
        title: 'API success ratio',
        description:
          `Share of successful calls per API over the last 5 minutes (clob, data_api, gamma, polygon_rpc, other); absent while an API is not called. API health is degraded below API_SUCCESS_THRESHOLD (${apiThreshold * 100} %, red line). ` +
          'When an API falls below it: check its status page and the bot’s network; the bot retries, but scans and trades slow down.',
        w: 8,
        h: 8,
        unit: 'percentunit',
        min: 0,
        max: 1,
        targets: targets([[gauge(M.apiRatio, { agg: 'min', labels: ['api'] }), perBot('{{api}}')]]),
        thresholds: steps(RED, [apiThreshold, GREEN]),
      }),
      timeseriesPanel({
        id: 302,
        title: 'API consecutive failures',
        description:
          `Failed calls in a row per API since its last success. ${alert('PolymarketBotApiConsecutiveFailures')} fires (critical) at API_FAILURE_COUNT_THRESHOLD (${THRESHOLDS.API_FAILURE_COUNT_THRESHOLD}, red line). ` +
          'When it crosses the line: the API is down for the bot; if it is the CLOB, trading has effectively stopped.',
        w: 8,
        h: 8,
        unit: 'none',
        decimals: 0,
        softMax: THRESHOLDS.API_FAILURE_COUNT_THRESHOLD + 1,
        targets: targets([[gauge(M.apiFailures, { labels: ['api'] }), perBot('{{api}}')]]),
        thresholds: steps(GREEN, [THRESHOLDS.API_FAILURE_COUNT_THRESHOLD, RED]),
      }),
      timeseriesPanel({
        id: 303,
        title: 'API calls',
        description:
          'Calls per second to each API, by outcome. Shows which API the failures come from and whether the bot is calling at all. ' +
          'When failures dominate one API: see its success ratio and consecutive failures.',
        w: 8,
        h: 8,
        unit: 'reqps',
        targets: targets([[rate(M.apiRequests, { labels: ['api', 'outcome'] }), perBot('{{outcome}} {{api}}')]]),
        overrides: colourBy([
          ['success', GREEN],
          ['failure', RED],
        ]),
        stack: true,
      }),

      row(400, 'Daily PnL and risk'),
      timeseriesPanel({
        id: 401,
        title: 'Daily PnL',
        description:
          'The day’s profit and loss in USD, as the bot last reported it; red below zero. ' +
          'When it falls steeply: compare with "Daily loss ratio" — the bot halts itself at its loss limit.',
        w: 10,
        h: 8,
        unit: 'currencyUSD',
        softMin: null, // PnL goes negative: let the axis follow it
        targets: targets([[gauge(M.pnl), perBot('PnL')]]),
        thresholds: steps(RED, [0, GREEN]),
        thresholdLines: false,
        colorByThresholds: true,
      }),
      timeseriesPanel({
        id: 402,
        title: 'Daily loss ratio',
        description:
          `The day’s loss as a share of the starting balance (0 in profit). ${alert('PolymarketBotDailyLossWarning')} fires at DAILY_LOSS_WARNING_PERCENT (${warnLoss * 100} %, orange line) and is critical at DAILY_LOSS_CRITICAL_PERCENT (${critLoss * 100} %, red line). ` +
          'When it nears the red line: expect the bot’s own breaker to halt trading; review the strategy before it resumes.',
        w: 10,
        h: 8,
        unit: 'percentunit',
        min: 0,
        softMax: 0.2,
        targets: targets([[gauge(M.lossRatio), perBot('loss')]]),
        thresholds: steps(GREEN, [warnLoss, ORANGE], [critLoss, RED]),
      }),
      tradeBreakerStat(403, 4, 8),
    ],
  });
}

// ---------------------------------------------------------------------------------------------

const DASHBOARDS: Record<string, () => Json> = {
  'grafana/dashboards/bot-overview.json': overview,
  'grafana/dashboards/trading.json': trading,
};

/** { path relative to the repository root: the JSON text to commit } — the provisioned dashboards. */
export function renderDashboards(): Record<string, string> {
  return Object.fromEntries(Object.entries(DASHBOARDS).map(([file, build]) => [file, `${JSON.stringify(build(), null, 2)}\n`]));
}

/**
 * The same dashboard as Grafana's "Export for sharing externally" would write it, for the UI's
 * import dialog: `__inputs` asks for the Prometheus to use, and the `$datasource` variable starts
 * on what was chosen.
 */
export function forImport(json: Json): Json {
  const copy = JSON.parse(JSON.stringify(json)) as Json;
  const input = `\${${DATASOURCE_INPUT}}`;
  for (const variable of copy.templating.list as Json[]) if (variable.type === 'datasource') variable.current = { selected: false, text: 'Prometheus', value: input };
  return {
    __inputs: [{ name: DATASOURCE_INPUT, label: 'Prometheus', description: 'The Prometheus that scrapes the bots.', type: 'datasource', pluginId: 'prometheus', pluginName: 'Prometheus' }],
    ...copy,
  };
}

/** { grafana/import/<name>.json: the import copy } — outside the provisioned folder, for the UI's import. */
export function renderImportDashboards(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(DASHBOARDS).map(([file, build]) => [file.replace('grafana/dashboards/', 'grafana/import/'), `${JSON.stringify(forImport(build()), null, 2)}\n`]),
  );
}

/** Every panel (rows' nested panels included) of a dashboard object. */
export function panelsOf(json: Json): Json[] {
  return (json.panels as Json[]).flatMap((p) => [p, ...((p.panels as Json[] | undefined) ?? [])]);
}

/** Concrete values for Grafana's variables, for running the queries against Prometheus directly. */
const SUBSTITUTIONS: [string, string][] = [
  ['$__rate_interval', '1m'],
  ['$__interval', '15s'],
  ['$__range', '1h'],
  ['$job', '.*'],
  ['$instance', '.*'],
];

export function substitute(expr: string): string {
  return SUBSTITUTIONS.reduce((text, [variable, value]) => text.split(variable).join(value), expr);
}

/**
 * Every panel query as plain PromQL ($job/$instance → `.*`, $__rate_interval → 1m,
 * $__interval → 15s, $__range → 1h), with where it comes from.
 */
export function allExpressions(): { dashboard: string; panel: string; refId: string; expr: string }[] {
  const out: { dashboard: string; panel: string; refId: string; expr: string }[] = [];
  for (const build of Object.values(DASHBOARDS)) {
    const json = build();
    for (const panel of panelsOf(json)) {
      for (const t of (panel.targets as Json[] | undefined) ?? []) {
        out.push({ dashboard: json.title, panel: panel.title, refId: t.refId, expr: substitute(t.expr) });
      }
    }
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  for (const [file, text] of Object.entries({ ...renderDashboards(), ...renderImportDashboards() })) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
    console.log(`wrote ${file}`);
  }
}
