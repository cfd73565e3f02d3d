/**
 * The package as users install it: `npm pack` builds dist/ itself (the prepare script) and ships
 * only what the preload needs; the tarball, installed into a bot folder that has never heard of
 * monitoring, works with `node --import polymarket-bot-monitoring/register bot.mjs`.
 *
 * The pack runs in a fresh copy of the working tree (see copyWorkingTree), not in this checkout:
 * prepare wipes and rebuilds dist/, which the other end-to-end tests run from meanwhile.
 * The install from a git URL is in package-git.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  INSTALL_FLAGS,
  ROOT,
  cleanup,
  copyWorkingTree,
  exportTargets,
  pack,
  run,
  scratchBot,
  startInstalledBot,
  tempDir,
  type PackResult,
} from './support/install.js';

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { exports: unknown };

let work: string;
let packed: PackResult;
let srcModules: string[];

beforeAll(async () => {
  work = tempDir('pack');
  const copy = path.join(work, 'package');
  copyWorkingTree(copy);
  expect(fs.existsSync(path.join(copy, 'dist')), 'a fresh copy has no dist/').toBe(false);
  srcModules = (fs.readdirSync(path.join(copy, 'src'), { recursive: true }) as string[])
    .map((rel) => rel.split(path.sep).join('/'))
    .filter((rel) => /\.[cm]?[jt]s$/.test(rel) && !/\.d\.[cm]?ts$/.test(rel));
  const out = path.join(work, 'out');
  fs.mkdirSync(out);
  packed = await pack(copy, out, 120_000);
  console.log(
    `[package] npm pack (prepare builds dist/): ${packed.seconds.toFixed(1)} s; ${packed.files.length} files, ` +
      `${(packed.size / 1024).toFixed(1)} KiB packed, ${(packed.unpackedSize / 1024).toFixed(1)} KiB unpacked`,
  );
}, 150_000);

afterAll(() => cleanup());

describe('npm pack', () => {
  it('ships every exports target', () => {
    const files = new Set(packed.files.map((f) => f.path));
    const targets = exportTargets(pkg.exports);
    expect(targets).toContain('dist/register.js');
    for (const target of targets) expect(files.has(target), `${target} missing from the tarball`).toBe(true);
  });

  it('ships the compiled JS and .d.ts of every module under src/, as a whole', () => {
    const files = new Set(packed.files.map((f) => f.path));
    expect(srcModules.length).toBeGreaterThan(10);
    for (const rel of srcModules) {
      const base = `dist/${rel.replace(/\.([cm]?)[jt]s$/, '')}`;
      const ext = /\.([cm]?)[jt]s$/.exec(rel)![1];
      expect(files.has(`${base}.${ext}js`), `${base}.${ext}js missing`).toBe(true);
      expect(files.has(`${base}.d.${ext}ts`), `${base}.d.${ext}ts missing`).toBe(true);
    }
  });

  it('ships nothing else: no tests, bench, examples, sources, source maps', () => {
    const paths = packed.files.map((f) => f.path);
    const outside = paths.filter(
      (p) => !(p === 'package.json' || p === 'README.md' || /^LICEN[CS]E(\.\w+)?$/i.test(p) || /^dist\/.+\.(d\.[cm]?ts|[cm]?js)$/.test(p)),
    );
    expect(outside).toEqual([]);
    for (const dir of ['test', 'bench', 'examples', 'grafana', 'scripts', 'src', 'deploy', 'prometheus', 'otel-collector', '.ci']) {
      expect(paths.filter((p) => p.startsWith(`${dir}/`))).toEqual([]);
    }
    expect(paths.filter((p) => p.endsWith('.map'))).toEqual([]);
    expect(paths).toContain('package.json');
    expect(paths).toContain('README.md');
  });
});

describe('the tarball, installed into a bot that has never heard of monitoring', () => {
  it('preloads with node --import polymarket-bot-monitoring/register', { timeout: 150_000 }, async () => {
    const bot = scratchBot(path.join(work, 'bot'));
    const install = await run('npm', ['install', packed.tarball, ...INSTALL_FLAGS], bot, 120_000);
    const installed = path.join(bot, 'node_modules/polymarket-bot-monitoring');
    expect(fs.existsSync(path.join(installed, 'dist/register.js'))).toBe(true);

    const started = performance.now();
    const check = await startInstalledBot(bot);
    const botSeconds = (performance.now() - started) / 1000;
    console.log(
      `[package] tarball: npm install ${install.seconds.toFixed(1)} s; bot up (monitoring started) in ` +
        `${check.startSeconds.toFixed(1)} s, scraped and stopped in ${botSeconds.toFixed(1)} s`,
    );

    expect(check.metrics).toMatch(/^monitoring_health_checks_total\{/m);
    expect(check.metrics).toMatch(/^monitoring_memory_usage_mb[{ ]/m);
    expect(check.metrics).toMatch(/target_info\{[^}]*service_name="/);
    expect([200, 503]).toContain(check.health.status);
    expect(JSON.parse(check.health.body)).toMatchObject({ status: expect.stringMatching(/^(healthy|degraded|critical)$/) });
    // The bot's own SIGTERM handler stays in charge: it stops its interval and Node ends, exit 0.
    expect(check.output).toMatch(/bot tick 1/);
    expect(check.output).toMatch(/bot stopping: SIGTERM/);
    expect(check.output).not.toMatch(/monitoring disabled|ERR_MODULE_NOT_FOUND/);
    expect(check.exit).toEqual({ code: 0, signal: null });

    // The CLI, as `npx polymarket-bot-monitoring check` finds it: the bin npm linked.
    const bin = path.join(bot, 'node_modules/.bin/polymarket-bot-monitoring');
    const cli = await run(process.execPath, [bin, 'check'], bot, 20_000);
    expect(cli.stdout).toContain('no problems');
  });
});
