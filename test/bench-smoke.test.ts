/**
 * The benchmark's plumbing, not its numbers: `node bench/run.mjs --smoke` starts every variant of
 * every section (real processes on loopback, against dist/, which `npm test` builds first), exits
 * 0 and prints a table for each section. No timing is asserted: this machine is shared.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function runSmoke(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bench/run.mjs', '--smoke'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 110_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const SECTIONS = [
  '## Budget',
  '## 1. Per operation',
  '## 2. Whole bot, side by side',
  '## 2c. Where the event-loop delay tail comes from',
  '## Startup and idle memory (issue #2)',
  '## 3. Scrape cost',
  '## 4. Evaluation cost',
  '## 5. CLOB order through the instrumented client',
];

it('runs every section in smoke mode and prints a table for each', { timeout: 120_000 }, async () => {
  const { code, stdout, stderr } = await runSmoke();
  expect(code, stderr).toBe(0);
  for (const heading of SECTIONS) {
    const start = stdout.indexOf(`${heading}\n`);
    expect(start, `${heading} missing from:\n${stdout}`).toBeGreaterThanOrEqual(0);
    const next = stdout.indexOf('\n## ', start + heading.length);
    const section = stdout.slice(start, next === -1 ? undefined : next);
    // A markdown table: header, separator, at least one row.
    expect(section, `${heading} has no table`).toMatch(/^\|.*\|\n\|[-:|]+\|\n\|.*\|$/m);
  }
  for (const variant of ['no monitoring', 'this plugin', 'auto-instrumentations-node', 'prom-client', 'bare NodeSDK + Prometheus']) {
    expect(stdout).toContain(variant);
  }
  expect(stdout).toMatch(/\| (PASS|MISS) \|/);
});
