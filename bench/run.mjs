// The benchmark: `npm run bench` (about 37 minutes), `npm run bench -- --quick` (about 3),
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
import { LOOP_DELAY_BOTS, runLoopDelay, runLoopTail } from './loop-delay.mjs';
import { BENCH, REGISTER, fmt, killAll, machine, table } from './lib.mjs';
import { OPS, VARIANTS as PER_OP_VARIANTS, runPerOp } from './per-op.mjs';
import { runScrapeCost } from './scrape-cost.mjs';
import { LABELS } from './variants.mjs';
import { SCAN_FINDS_TRADE, SCRAPE_EVERY_MS, WHOLE_BOT_VARIANTS, WORKLOAD, runWholeBot } from './whole-bot.mjs';

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

const ratio = (value, base) => value / base;
const cell = (text, r) => (Number.isFinite(r) ? `${text} (${fmt.ratio(r)})` : text);

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

function wholeBotSection(whole) {
  const s = whole.summary;
  const none = s.none;
  const metrics = [
    ['CPU, % of one core', (r) => r.cpuPercent, (v) => fmt.pct(v)],
    ['steady RSS', (r) => r.rssBytes, fmt.mb],
    ['event-loop delay p99 (runs one after another; the goal: 2b)', (r) => r.eldP99, (v) => fmt.ms(v, 2)],
    ['trade latency p50', (r) => r.tradeP50, (v) => fmt.ms(v, 3)],
    ['trade latency p99', (r) => r.tradeP99, (v) => fmt.ms(v, 3)],
    ['startup (spawn → first line)', (r) => r.startupMs, (v) => fmt.ms(v, 0)],
  ];
  const rows = metrics.map(([label, get, show]) => [label, ...WHOLE_BOT_VARIANTS.map((name) => cell(show(get(s[name])), ratio(get(s[name]), get(none))))]);
  rows.push(['scans/s · trades/s (actual)', ...WHOLE_BOT_VARIANTS.map((name) => `${fmt.num(s[name].scansPerS)} · ${fmt.num(s[name].tradesPerS)}`)]);
  rows.push(['/metrics scrapes (errors) · p50', ...WHOLE_BOT_VARIANTS.map((name) => (name === 'none' ? '—' : `${fmt.num(s[name].scrapes, 0)} (${fmt.num(s[name].scrapeErrors, 0)}) · ${fmt.ms(s[name].scrapeMs)}`))]);
  const { rounds, warmupS, durationS } = whole.settings;
  return [
    '## 2. Whole bot',
    '',
    `The demo bot with DEMO_WALLETS=${WORKLOAD.DEMO_WALLETS}, DEMO_SCAN_INTERVAL_MS=${WORKLOAD.DEMO_SCAN_INTERVAL_MS}, DEMO_FEED_INTERVAL_MS=${WORKLOAD.DEMO_FEED_INTERVAL_MS}, DEMO_LATENCY_SCALE=${WORKLOAD.DEMO_LATENCY_SCALE}, DEMO_FAILURE_RATE=${WORKLOAD.DEMO_FAILURE_RATE} (a scan finds a trade with probability ${SCAN_FINDS_TRADE}): ${rounds} round(s), interleaved, of ${warmupS} s warm-up + ${durationS} s measured per variant; medians over rounds. Variants with /metrics are scraped every ${SCRAPE_EVERY_MS / 1000} s. CPU, event-loop delay (excess over the 10 ms timer) and trade latency are measured inside the bot over the measured window; RSS is /proc VmRSS sampled each second. (×) = ratio to no monitoring.`,
    '',
    table(['', ...WHOLE_BOT_VARIANTS.map((n) => LABELS[n])], rows),
    '',
    `Plugin's own CPU (plugin run − unmonitored run of the same round, over wall time; median over rounds): **${fmt.pct(whole.pluginCpuPercent, 3)} of one core**.`,
  ].join('\n');
}

/** The bots of sections 2b and 2c. */
const LOOP_BOT_LABELS = {
  none: 'no monitoring',
  control: 'no monitoring again (control)',
  plugin: 'this plugin',
  nodesdk: 'bare NodeSDK + Prometheus (instruments nothing)',
  libraries: "the plugin's libraries, imported, never started",
};

function loopDelaySection(loop) {
  const rows = LOOP_DELAY_BOTS.map(([key]) => {
    const r = loop.summary[key];
    return [
      LOOP_BOT_LABELS[key],
      fmt.ms(r.p95, 2),
      fmt.ms(r.p99, 2),
      key === 'none' ? '—' : fmt.ratio(r.ratioP95),
      key === 'none' ? '—' : `**${fmt.ratio(r.ratioP99)}**`,
      key === 'none' ? '—' : `${fmt.ratio(r.ratioMin)} – ${fmt.ratio(r.ratioMax)}`,
    ];
  });
  const { rounds, warmupS, durationS } = loop.settings;
  return [
    '## 2b. Event-loop delay, side by side',
    '',
    `The goal's own measurement. The bot's p99 (10 ms timer: ${fmt.num(loop.summary.none.samples, 0)} samples a round) rests on about one sample a second, and libuv's timers wake on whole milliseconds, so between two runs of the same bot one after the other it moves by more than the 5 % the goal allows. Here each of ${rounds} round(s) runs, at the same time, the unmonitored bot, a second unmonitored bot (the control), the plugin's bot and the bare NodeSDK + Prometheus preload's bot (both scraped every ${SCRAPE_EVERY_MS / 1000} s), and a bot that only imports the libraries the plugin loads (bench/baselines/libraries-only.mjs: nothing started, nothing scraped), at the whole-bot workload, ${warmupS} s warm-up + ${durationS} s measured; each is compared with the unmonitored bot of its own round, and the median of those per-round ratios is the figure. The control's ratio is what the method reads when nothing differs; the bare SDK's is what the SDK costs before anything is instrumented; the libraries' is what carrying that code costs before any of it runs.`,
    '',
    table(['Bot', 'p95 (median)', 'p99 (median)', 'p95 × per round (median)', 'p99 × per round (median)', 'p99 × per round, range'], rows),
  ].join('\n');
}

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
    `The bots of 2b again, ${rounds} round(s) of ${warmupS} s warm-up + ${durationS} s, each with bench/loop-tail-preload.mjs: a 10 ms timer of its own records every sample's lateness and the CPU the bot's main thread used in it. "Late" = at or over the unmonitored bot's p99 over all its samples pooled (${fmt.ms(tail.threshold, 2)}). A late sample during which the thread ran for at least half the lateness is the bot's own work, monitoring's included (on CPU); one during which it hardly ran is time the thread waited for a core or a wake-up (off CPU: the machine's). "Shared" = late samples that overlap a late sample of another bot of the same round. The pooled p99 is over every sample of every round, so it rests on more samples than 2b's per-round figure.`,
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

function budget({ perOp, whole, loop, idle, scrapeCost, clobOrder }) {
  const goals = [];
  const goal = (text, measured, pass) => goals.push([text, measured, pass ? 'PASS' : 'MISS']);
  goal(
    "plugin's own CPU at the default workload and a 5 s scrape ≤ 0.5 % of one core",
    fmt.pct(whole.pluginCpuPercent, 3),
    whole.pluginCpuPercent <= 0.5,
  );
  const p = idle.summary.plugin.addedRssBytes;
  const sdk = idle.summary.nodesdk.addedRssBytes;
  const auto = idle.summary.auto.addedRssBytes;
  goal('added steady RSS ≤ bare NodeSDK + Prometheus preload\'s + 10 %', `${fmt.mb(p)} vs ${fmt.mb(sdk)} (${fmt.ratio(p / sdk)})`, p <= 1.1 * sdk);
  goal("added steady RSS ≤ 0.8 × auto-instrumentations preload's", `${fmt.mb(p)} vs ${fmt.mb(auto)} (${fmt.ratio(p / auto)})`, p <= 0.8 * auto);
  const eld = loop.summary.plugin;
  goal(
    'event-loop delay p99 with the plugin ≤ 1.05 × without (side by side, median of per-round ratios)',
    `${fmt.ratio(eld.ratioP99)} (range ${fmt.ratio(eld.ratioMin)} – ${fmt.ratio(eld.ratioMax)}; control ${fmt.ratio(loop.summary.control.ratioP99)}, range ${fmt.ratio(loop.summary.control.ratioMin)} – ${fmt.ratio(loop.summary.control.ratioMax)}; bare NodeSDK ${fmt.ratio(loop.summary.nodesdk.ratioP99)}; libraries only ${fmt.ratio(loop.summary.libraries.ratioP99)})`,
    eld.ratioP99 <= 1.05,
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
  log('section 2: whole bot');
  const whole = await runWholeBot({ mode, log });
  log('section 2b: event-loop delay side by side');
  const loop = await runLoopDelay({ mode, log });
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
  const { goals, text: budgetText } = budget({ perOp, whole, loop, idle, scrapeCost, clobOrder });
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
    loopDelaySection(loop),
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
