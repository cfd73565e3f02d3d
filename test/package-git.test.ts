/**
 * `npm install <git URL>`, as a user without the registry does: a throw-away clone of this
 * checkout's HEAD (committed files only, as any git install sees them), installed with
 * git+file:// into a bot folder that has never heard of monitoring, and the bot started with the
 * preload. npm prepares a git dependency itself: it installs the clone's devDependencies and runs
 * its prepare script (which builds dist/), then packs it with the same files list as `npm pack`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { INSTALL_FLAGS, ROOT, cleanup, run, scratchBot, startInstalledBot, tempDir } from './support/install.js';

afterAll(() => cleanup());

it('installs from a git URL and preloads', { timeout: 400_000 }, async () => {
  const work = tempDir('git');
  const clone = path.join(work, 'repo');
  const cloned = await run('git', ['clone', '--quiet', '--no-local', ROOT, clone], work, 60_000);
  const head = JSON.parse(fs.readFileSync(path.join(clone, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  expect(head.scripts?.prepare, "HEAD's package.json has no prepare script: a git install would ship no dist/").toBeDefined();

  const bot = scratchBot(path.join(work, 'bot'));
  const install = await run('npm', ['install', `git+file://${clone}`, ...INSTALL_FLAGS], bot, 360_000);
  const installed = path.join(bot, 'node_modules/polymarket-bot-monitoring');
  expect(fs.existsSync(path.join(installed, 'dist/register.js')), 'dist/register.js not installed').toBe(true);
  expect(fs.existsSync(path.join(installed, 'test')), 'test/ installed').toBe(false);

  const check = await startInstalledBot(bot);
  console.log(
    `[package-git] git clone ${cloned.seconds.toFixed(1)} s; npm install git+file:// ${install.seconds.toFixed(1)} s; ` +
      `bot up (monitoring started) in ${check.startSeconds.toFixed(1)} s`,
  );
  expect(check.metrics).toMatch(/^monitoring_health_checks_total\{/m);
  expect([200, 503]).toContain(check.health.status);
  expect(JSON.parse(check.health.body)).toHaveProperty('status');
  expect(check.output).toMatch(/bot stopping: SIGTERM/);
  expect(check.output).not.toMatch(/monitoring disabled|ERR_MODULE_NOT_FOUND/);
  expect(check.exit).toEqual({ code: 0, signal: null });
});
