// The benchmark: `npm run bench` (about 23 minutes), `npm run bench -- --quick` (about 3),
// `node bench/run.mjs --smoke` (seconds; proves the plumbing for CI, writes nothing).
//
// Runs every section against dist/ (build first), prints one markdown table per section and the
// budget with PASS/MISS per goal, and (except --smoke) writes the same to bench/RESULTS.md with
// the machine's CPU, cores, Node version and date. A missed goal does not fail the run; a
// section that cannot run does. Every child process runs on loopback ephemeral ports, within a
// time bound, and is killed at the end whatever happens.
//
// The machine is assumed noisy: every figure is a median of repeated runs, and comparisons are
// ratios against a baseline measured in the same run.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { clobOrderGoals, clobOrderSection, runClobOrder } from './clob-order.mjs';
import { runEvaluation } from './evaluation.mjs';
import { runIdle } from './idle.mjs';
import { LOOP_DELAY_BOTS, runLoopTail } from './loop-delay.mjs';
import { BENCH, REGISTER, fmt, killAll, machine, table } from './lib.mjs';
import { OPS, VARIANTS as PER_OP_VARIANTS, runPerOp } from './per-op.mjs';
import { runScrapeCost } from './scrape-cost.mjs';
import { LABELS } from './variants.mjs';
import { PEERS, SCAN_FINDS_TRADE, WHOLE_BOT_BOTS, WORKLOAD, runWholeBot } from './whole-bot.mjs';

const argv = process.argv.slice(2);
const mode = argv.includes('--smoke') ? 'smoke' : argv.includes('--quick') ? 'quick' : 'full';
const RESULTS = path.join(BENCH, 'RESULTS.md');

const log = (message) => process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);
const t0 = performance.now();

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}
process.on('exit', killAll);

if (!existsSync(REGISTER)) {
  console.error(`bench: ${path.relative(process.cwd(), REGISTER)} is missing; run \`npm run build\` first`);
  process.exit(1);
}

/** The code measured: commit, and whether src/ had uncommitted changes (dist/ is built from the working tree). */
function codeVersion() {
  try {
    const git = (...args) => execFileSync('git', args, { cwd: BENCH, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--', '../src') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' + uncommitted changes in src/' : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

// ---------------------------------------------------------------------------------------------

const PER_OP_LABELS = {
  absent: 'probe, plugin absent',
  plugin: 'probe, plugin loaded',
  manual: 'hand-written OTel span + histogram + counter',
  prom: 'prom-client histogram timer',
};
const opName = (op) => (op === 'trade' ? 'traceTradeExecution' : 'traceWalletScan');

function perOpSection(results) {
  const rows = [];
  for (const op of OPS) {
    const manual = results.find((r) => r.op === op && r.variant === 'manual');
    for (const variant of PER_OP_VARIANTS) {
      const r = results.find((x) => x.op === op && x.variant === variant);
      rows.push([
        `\`${opName(op)}\``,
        PER_OP_LABELS[variant],
        fmt.ns(r.nsPerOp),
        fmt.ratio(r.nsPerOp / manual.nsPerOp),
        fmt.ns(r.nsPerOpWithTurns),
        fmt.ratio(r.nsPerOpWithTurns / manual.nsPerOpWithTurns),
      ]);
    }
  }
  return [
    '## 1. Per operation',
    '',
    `Around a no-op, each variant in fresh processes (${results[0].processes ?? 1} per variant, interleaved); per process the median of timed runs after a warm-up, then the median over processes. Operations run in chunks of 500 with one turn of the event loop after each: "call" times the calls alone, "with deferred work" adds the turns, where work the plugin moves off the caller's stack (trade notices) runs — the figure the budget uses. In both OTel variants NodeSDK has no span processor (the plugin's default without a trace exporter), so spans are non-recording.`,
    '',
    table(['Operation', 'Variant', 'call ns/op', '× hand-written', 'with deferred work ns/op', '× hand-written'], rows),
  ].join('\n');
}

/** The bots of section 2, in its table's order. */
const WHOLE_BOT_LABELS = {
  none: 'no monitoring',
  control: 'no monitoring again (control)',
  'plugin-never': 'this plugin, never scraped',
  plugin: 'this plugin',
  'plugin-1s': 'this plugin, scraped every 1 s',
  nodesdk: 'bare NodeSDK + Prometheus (instruments nothing)',
  'nodesdk-1s': 'bare NodeSDK + Prometheus, scraped every 1 s',
  auto: 'auto-instrumentations-node',
  promclient: 'prom-client (hand-written)',
  'promclient-1s-loop': 'prom-client, event-loop monitor at 1 s instead of its 10 ms default (not a peer)',
};

function wholeBotSection(whole) {
  const s = whole.summary;
  const range = (r, show) => `${show(r.median)} (${show(r.min)} – ${show(r.max)})`;
  const rows = WHOLE_BOT_BOTS.map(([key, , scrapeMs]) => {
    const r = s[key];
    const baseline = key === 'none';
    return [
      WHOLE_BOT_LABELS[key],
      scrapeMs > 0 ? `${scrapeMs / 1000} s` : 'never',
      fmt.pct(r.cpuPercent, 2),
      baseline ? '—' : range(r.addedCpu, (v) => `${v >= 0 ? '+' : ''}${fmt.num(v, 2)}`),
      `${fmt.pct(r.cpuPercentWithLoopTimer, 2)}${baseline ? '' : ` (${r.addedCpuWithLoopTimer.median >= 0 ? '+' : ''}${fmt.num(r.addedCpuWithLoopTimer.median, 2)})`}`,
      fmt.mb(r.rssBytes),
      baseline ? '—' : fmt.ratio(r.eldP95Ratio.median),
      baseline ? '—' : range(r.eldP99Ratio, fmt.ratio),
      `${fmt.ms(r.tradeP50, 3)} · ${fmt.ms(r.tradeP99, 3)}`,
      scrapeMs > 0 ? `${fmt.ms(r.scrapeMs, 2)}` : '—',
      scrapeMs > 0 ? `${fmt.num(r.bodyBytes / 1024, 1)} KiB` : '—',
      scrapeMs > 0 ? `${fmt.num(r.scrapes, 0)} (${fmt.num(r.scrapeErrors, 0)})` : '—',
    ];
  });
  const { rounds, warmupS, durationS } = whole.settings;
  const best = whole.bestPeer;
  const plugin = s.plugin.addedCpu.median;
  return [
    '## 2. Whole bot, side by side',
    '',
    `The demo bot with DEMO_WALLETS=${WORKLOAD.DEMO_WALLETS}, DEMO_SCAN_INTERVAL_MS=${WORKLOAD.DEMO_SCAN_INTERVAL_MS}, DEMO_FEED_INTERVAL_MS=${WORKLOAD.DEMO_FEED_INTERVAL_MS}, DEMO_LATENCY_SCALE=${WORKLOAD.DEMO_LATENCY_SCALE}, DEMO_FAILURE_RATE=${WORKLOAD.DEMO_FAILURE_RATE} (a scan finds a trade with probability ${SCAN_FINDS_TRADE}) under every set-up at once: ${rounds} round(s) of ${warmupS} s warm-up + ${durationS} s measured, the bots started in an order rotated each round, each scraper at its own offset within the first second (so no two scrapes queue for the cores together; every 5 s all of them fall within one second). The warm-up covers V8 compiling the hot paths, a one-off cost of a bot that runs for days. Each bot is about 1 % of a core, so on two cores they barely compete, and a noisy stretch of the machine lands on all of them alike. Every "added" figure and ratio is against the unmonitored bot of the same round, then the median over rounds (range in brackets); the control is a second unmonitored bot, so its figures are what the method reads when nothing differs. Event-loop delay (excess over a 10 ms timer) and trade latency are measured inside the bot over the measured window. That timer wakes the bot 100 times a second, which is CPU of its own and hides the wake-ups of a peer's own 10 ms loop monitor (prom-client's default metrics, auto-instrumentations' runtime metrics), so CPU (all threads, inside the bot, same window) comes from a twin of each bot in the same round that runs without it; the CPU the bots used with the timer running is shown beside it. RSS is /proc VmRSS sampled each second; /metrics figures are the scrapes in the measured window (the harness asks for the classic text format, as \`curl\` would; Prometheus asks for OpenMetrics).`,
    '',
    table(['Bot', 'scraped', 'CPU, % of a core', 'added CPU, % of a core', 'CPU with the 10 ms timer (added)', 'steady RSS', 'ELD p95 ×', 'ELD p99 ×', 'trade p50 · p99', '/metrics p50', 'body', 'scrapes (errors)'], rows),
    '',
    `Added CPU of the plugin by scrape interval — never / 5 s / 1 s: **${fmt.num(s['plugin-never'].addedCpu.median, 3)} / ${fmt.num(plugin, 3)} / ${fmt.num(s['plugin-1s'].addedCpu.median, 3)} % of a core**. One scrape (the 1 s bot's CPU over the never-scraped one's, per scrape): **${fmt.ms(whole.perScrape.plugin.median, 2)}** (range ${fmt.ms(whole.perScrape.plugin.min, 2)} – ${fmt.ms(whole.perScrape.plugin.max, 2)}); the bare SDK's, which collects nothing (its 1 s bot over its 5 s one): ${fmt.ms(whole.perScrape.nodesdk.median, 2)}. Best peer at a 5 s scrape: ${LABELS[best]}, +${fmt.num(s[best].addedCpu.median, 3)} % (the plugin: ${fmt.ratio(plugin / s[best].addedCpu.median)} of it). Most of the peers' cost is their default event-loop monitor, a 10 ms timer (prom-client's \`collectDefaultMetrics\`, auto-instrumentations' runtime metrics); the plugin's ticks once a second. prom-client with a 1 s monitor: +${fmt.num(s['promclient-1s-loop'].addedCpu.median, 3)} % (the plugin: ${fmt.ratio(plugin / s['promclient-1s-loop'].addedCpu.median)} of it).`,
  ].join('\n');
}

/** The bots of section 2c. */
const LOOP_BOT_LABELS = {
  none: 'no monitoring',
  control: 'no monitoring again (control)',
  plugin: 'this plugin',
  nodesdk: 'bare NodeSDK + Prometheus (instruments nothing)',
  libraries: "the plugin's libraries, imported, never started",
};

function loopTailSection(tail) {
  const rows = LOOP_DELAY_BOTS.map(([key]) => {
    const r = tail.bots[key];
    return [
      LOOP_BOT_LABELS[key],
      fmt.ms(r.p99, 2),
      key === 'none' ? '—' : fmt.ratio(r.ratioP99),
      fmt.num(r.tailPerMinute, 1),
      fmt.num(r.onCpuPerMinute, 1),
      fmt.num(r.offCpuPerMinute, 1),
      `${fmt.num(r.sharedShare * 100, 0)} %`,
    ];
  });
  const { rounds, warmupS, durationS } = tail.settings;
  return [
    '## 2c. Where the event-loop delay tail comes from',
    '',
    `Five bots side by side — the unmonitored bot, a second one (the control), the plugin's and the bare NodeSDK + Prometheus preload's (both scraped every 5 s), and one that only imports the libraries the plugin loads (bench/baselines/libraries-only.mjs: nothing started, nothing scraped) — ${rounds} round(s) of ${warmupS} s warm-up + ${durationS} s, each with bench/loop-tail-preload.mjs: a 10 ms timer of its own records every sample's lateness and the CPU the bot's main thread used in it. "Late" = at or over the unmonitored bot's p99 over all its samples pooled (${fmt.ms(tail.threshold, 2)}). A late sample during which the thread ran for at least half the lateness is the bot's own work, monitoring's included (on CPU); one during which it hardly ran is time the thread waited for a core or a wake-up (off CPU: the machine's). "Shared" = late samples that overlap a late sample of another bot of the same round. The pooled p99 is over every sample of every round, so it rests on more samples than section 2's per-round figure.`,
    '',
    table(['Bot', 'p99, pooled', '× no monitoring', 'late samples / min', 'on CPU / min', 'off CPU / min', 'shared'], rows),
  ].join('\n');
}

function idleSection(idle) {
  const s = idle.summary;
  const rows = Object.values(s).map((r) => [
    r.name === 'none' ? '`node bot.js` (bare)' : LABELS[r.name],
    fmt.ms(r.startupMs, 0),
    r.name === 'none' ? '—' : fmt.ms(r.addedStartupMs, 0),
    fmt.mb(r.rssBytes),
    r.name === 'none' ? '—' : fmt.mb(r.addedRssBytes),
  ]);
  return [
    '## Startup and idle memory (issue #2)',
    '',
    `An idle bot (bench/idle-bot.mjs: loads the probe, prints one line, waits) under each preload. Startup: spawn → first line, median of ${fmt.num(s.none.startups, 0)} interleaved spawns. RSS: after ${idle.settings.warmupS} s and one /metrics scrape, median of ${idle.settings.rssSamples} samples per run, median of ${idle.settings.rssRounds} run(s).`,
    '',
    table(['Preload', 'startup', 'added startup', 'steady RSS', 'added RSS'], rows),
  ].join('\n');
}

function scrapeSection(scrapeCost) {
  const rows = scrapeCost.levels.map((l) => [
    l.extra === 0 ? 'default (none extra)' : `+${l.extra.toLocaleString('en')}`,
    l.series.toLocaleString('en'),
    fmt.ms(l.responseP50, 2),
    fmt.ms(l.responseP90, 2),
    fmt.ms(l.stallP50, 2),
    fmt.ms(l.stallP90, 2),
    fmt.ms(l.stallMax, 2),
    fmt.ms(l.backgroundMax, 2),
  ]);
  return [
    '## 3. Scrape cost',
    '',
    `bench/series-bot.mjs with the plugin: 20 scans and 5 trades a second through the probe, plus extra counter series through the global OTel API (1 000 label values per instrument). Scraped every second for ${scrapeCost.settings.durationS} s after ${scrapeCost.settings.warmupScrapes} warm-up scrapes. "Loop stall" = the longest event-loop stall (1 ms monitorEventLoopDelay, excess over the timer) between just before a scrape and just after its response; "background" = the same over an equal window without a scrape. Series = sample lines in the exposition.`,
    '',
    table(['Extra series', 'series exposed', '/metrics p50', '/metrics p90', 'loop stall p50', 'loop stall p90', 'loop stall max', 'background max'], rows),
  ].join('\n');
}

function evaluationSection(ev) {
  const rows = [
    ['evaluation cycle (mean of Δsum/Δcount)', `${fmt.ms(ev.cycleMs, 3)} over ${ev.cycles} cycle(s)`],
    [`evaluation share of one core at ${ev.intervalS} s interval`, fmt.pct(ev.evaluationCorePercentAtInterval, 4)],
    ['evaluation share of one core at the default 30 s interval (extrapolated)', fmt.pct(ev.evaluationCorePercentAtDefault, 4)],
    ...Object.entries(ev.activities).map(([activity, a]) => [
      `self time \`${activity}\``,
      `${fmt.s(a.perMinuteS, 4)} per minute = ${fmt.pct(a.corePercent, 4)} of one core`,
    ]),
    ['self time, all activities', `${fmt.pct(ev.selfCorePercent, 4)} of one core`],
    ['whole bot process, same window (for scale)', `${fmt.pct(ev.botCorePercent, 2)} of one core`],
  ];
  return [
    '## 4. Evaluation cost',
    '',
    `The demo bot at the whole-bot workload with the plugin, MONITOR_INTERVAL_SECONDS=${ev.intervalS}, scraped every 5 s; figures from \`monitoring_health_check_duration_seconds\` and \`monitoring_self_time_seconds_total\` over ${fmt.s(ev.wallS, 0)} after a warm-up.`,
    '',
    table(['Figure', 'Value'], rows),
  ].join('\n');
}

function budget({ perOp, whole, idle, scrapeCost, clobOrder }) {
  const goals = [];
  const goal = (text, measured, pass) => goals.push([text, measured, pass ? 'PASS' : 'MISS']);
  const s = whole.summary;
  const added = (key) => s[key].addedCpu.median;
  const best = whole.bestPeer;
  const peers = PEERS.map((key) => `${LABELS[key]} +${fmt.num(added(key), 3)} %`).join(', ');
  goal('added CPU at a 5 s scrape ≤ 0.3 % of one core (side by side, median of per-round differences)', `${fmt.num(added('plugin'), 3)} % (range ${fmt.num(s.plugin.addedCpu.min, 3)} – ${fmt.num(s.plugin.addedCpu.max, 3)}; control ${fmt.num(added('control'), 3)} %)`, added('plugin') <= 0.3);
  goal(
    "added CPU at a 5 s scrape ≤ 0.7 × the best peer's (prom-client or auto-instrumentations, as set up by default)",
    `${fmt.num(added('plugin'), 3)} % vs ${fmt.num(added(best), 3)} % (${fmt.ratio(added('plugin') / added(best))}; ${peers}; the peers' default 10 ms event-loop monitor is most of it: prom-client with a 1 s one +${fmt.num(added('promclient-1s-loop'), 3)} %, the plugin ${fmt.ratio(added('plugin') / added('promclient-1s-loop'))} of that)`,
    added('plugin') <= 0.7 * added(best),
  );
  goal('added CPU at a 1 s scrape ≤ 0.5 % of one core', `${fmt.num(added('plugin-1s'), 3)} %`, added('plugin-1s') <= 0.5);
  goal('CPU per scrape ≤ 2 ms at the default series count', `${fmt.ms(whole.perScrape.plugin.median, 2)} (the bare SDK's, collecting nothing: ${fmt.ms(whole.perScrape.nodesdk.median, 2)})`, whole.perScrape.plugin.median <= 2);
  goal(
    "/metrics p50 ≤ 1.5 × the bare NodeSDK exporter's (5 s scrape)",
    `${fmt.ms(s.plugin.scrapeMs, 2)} vs ${fmt.ms(s.nodesdk.scrapeMs, 2)} (${fmt.ratio(s.plugin.scrapeMs / s.nodesdk.scrapeMs)})`,
    s.plugin.scrapeMs <= 1.5 * s.nodesdk.scrapeMs,
  );
  const within = (key) => s.plugin[key].median <= s.nodesdk[key].max;
  goal(
    "event-loop delay p95 and p99 ratios with the plugin within the bare NodeSDK's range in the same rounds",
    `p95 ${fmt.ratio(s.plugin.eldP95Ratio.median)} (bare SDK ${fmt.ratio(s.nodesdk.eldP95Ratio.min)} – ${fmt.ratio(s.nodesdk.eldP95Ratio.max)}), p99 ${fmt.ratio(s.plugin.eldP99Ratio.median)} (bare SDK ${fmt.ratio(s.nodesdk.eldP99Ratio.min)} – ${fmt.ratio(s.nodesdk.eldP99Ratio.max)})`,
    within('eldP95Ratio') && within('eldP99Ratio'),
  );
  const p = idle.summary.plugin.addedRssBytes;
  const sdk = idle.summary.nodesdk.addedRssBytes;
  const auto = idle.summary.auto.addedRssBytes;
  goal('added steady RSS ≤ bare NodeSDK + Prometheus preload\'s + 10 %', `${fmt.mb(p)} vs ${fmt.mb(sdk)} (${fmt.ratio(p / sdk)})`, p <= 1.1 * sdk);
  goal("added steady RSS ≤ 0.8 × auto-instrumentations preload's", `${fmt.mb(p)} vs ${fmt.mb(auto)} (${fmt.ratio(p / auto)})`, p <= 0.8 * auto);
  const eld = s.plugin.eldP99Ratio;
  goal(
    'event-loop delay p99 with the plugin ≤ 1.05 × without (side by side, median of per-round ratios)',
    `${fmt.ratio(eld.median)} (range ${fmt.ratio(eld.min)} – ${fmt.ratio(eld.max)}; control ${fmt.ratio(s.control.eldP99Ratio.median)}, range ${fmt.ratio(s.control.eldP99Ratio.min)} – ${fmt.ratio(s.control.eldP99Ratio.max)}; bare NodeSDK ${fmt.ratio(s.nodesdk.eldP99Ratio.median)})`,
    eld.median <= 1.05,
  );
  const stall = scrapeCost.levels.find((l) => l.extra === 0);
  goal('one scrape at the default series count blocks the loop < 2 ms (median scrape)', `${fmt.ms(stall.stallP50, 2)} (p90 ${fmt.ms(stall.stallP90, 2)})`, stall.stallP50 < 2);
  for (const op of OPS) {
    const of = (variant) => perOp.find((r) => r.op === op && r.variant === variant);
    const [plugin, manual] = [of('plugin'), of('manual')];
    const total = plugin.nsPerOpWithTurns / manual.nsPerOpWithTurns;
    goal(
      `per-op \`${opName(op)}\` with the plugin ≤ 1.2 × hand-written OTel (with deferred work)`,
      `${fmt.ns(plugin.nsPerOpWithTurns)} vs ${fmt.ns(manual.nsPerOpWithTurns)} (${fmt.ratio(total)}; call alone ${fmt.ratio(plugin.nsPerOp / manual.nsPerOp)})`,
      total <= 1.2,
    );
    goal(`per-op \`${opName(op)}\`, plugin absent ≤ 50 ns`, fmt.ns(of('absent').nsPerOp), of('absent').nsPerOp <= 50);
  }
  const start = idle.summary.plugin.addedStartupMs;
  const autoStart = idle.summary.auto.addedStartupMs;
  goal('startup added ≤ 300 ms', fmt.ms(start, 0), start <= 300);
  goal("startup added ≤ 0.6 × auto-instrumentations preload's", `${fmt.ms(start, 0)} vs ${fmt.ms(autoStart, 0)} (${fmt.ratio(start / autoStart)})`, start <= 0.6 * autoStart);
  for (const [text, measured, pass] of clobOrderGoals(clobOrder)) goal(text, measured, pass);
  return { goals, text: ['## Budget', '', table(['Goal', 'Measured', 'Result'], goals)].join('\n') };
}

// ---------------------------------------------------------------------------------------------

const info = machine();
log(`mode ${mode}; ${info.cpu}, ${info.cores} cores, Node ${info.node}; load ${info.load}`);
try {
  log('section 1: per operation');
  const perOp = await runPerOp({ mode, log });
  log('section 2: whole bot, side by side');
  const whole = await runWholeBot({ mode, log });
  log('section 2c: event-loop delay tail');
  const tail = await runLoopTail({ mode, log });
  log('issue #2: startup and idle memory');
  const idle = await runIdle({ mode, log });
  log('section 3: scrape cost');
  const scrapeCost = await runScrapeCost({ mode, log });
  log('section 4: evaluation cost');
  const evaluation = await runEvaluation({ mode, log });
  log('section 5: CLOB order through the instrumented client');
  const clobOrder = await runClobOrder({ mode, log });
  const { goals, text: budgetText } = budget({ perOp, whole, idle, scrapeCost, clobOrder });
  const elapsed = (performance.now() - t0) / 1000;

  const report = [
    '# Benchmark results',
    '',
    `Generated by \`node bench/run.mjs${mode === 'full' ? '' : ` --${mode}`}\` (\`npm run bench\`) on ${info.date}.`,
    '',
    `- CPU: ${info.cpu}, ${info.cores} cores (load average at start: ${info.load}; the machine is shared, so figures are medians and ratios within one run)`,
    `- Node: ${info.node}`,
    `- Code: ${codeVersion()} (measured from dist/)`,
    `- Mode: ${mode}; took ${Math.round(elapsed)} s`,
    '',
    budgetText,
    '',
    perOpSection(perOp),
    '',
    wholeBotSection(whole),
    '',
    loopTailSection(tail),
    '',
    idleSection(idle),
    '',
    scrapeSection(scrapeCost),
    '',
    evaluationSection(evaluation),
    '',
    clobOrderSection(clobOrder),
    '',
  ].join('\n');
  console.log(report);
  if (mode !== 'smoke') {
    writeFileSync(RESULTS, report);
    log(`wrote ${path.relative(process.cwd(), RESULTS)}`);
  }
  const missed = goals.filter((g) => g[2] === 'MISS').length;
  log(`done in ${Math.round(elapsed)} s; ${goals.length - missed} goal(s) met, ${missed} missed`);
} catch (error) {
  log(`failed: ${error?.stack ?? error}`);
  killAll();
  process.exit(1);
}
killAll();
