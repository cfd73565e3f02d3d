/**
 * Native TLS on the plugin's servers: HTTPS with the configured pair, a renewed certificate taken
 * up without a restart, a bad renewal leaving the previous one in place, and no plain-HTTP
 * fallback when the files cannot be read.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/http/server.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures/tls');
const fixture = (name: string) => path.join(FIXTURES, name);
const fingerprint = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;

let server: RunningServer | undefined;
let dir: string | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const routes = { '/metrics': { methods: ['GET'], handler: (_req: unknown, res: { end: (body: string) => void }) => res.end('ok\n') } } as never;

/** GET over HTTPS trusting both test certificates; resolves with the body and the certificate the server showed. */
function get(port: number): Promise<{ body: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port, path: '/metrics', ca: [readFileSync(fixture('a.crt')), readFileSync(fixture('b.crt'))], agent: false },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ body, fingerprint: (res.socket as import('node:tls').TLSSocket).getPeerX509Certificate()?.fingerprint256 ?? '' }));
      },
    );
    req.on('error', reject);
  });
}

describe('TLS', () => {
  it('serves HTTPS with the configured certificate, and takes up a renewed one without a restart', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pbm-tls-'));
    const certFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    copyFileSync(fixture('a.crt'), certFile);
    copyFileSync(fixture('a.key'), keyFile);
    const infos: string[] = [];
    const errors: string[] = [];
    server = await startServer({ name: 'metrics', host: '127.0.0.1', port: 0, routes, onError: (m) => errors.push(m), onInfo: (m) => infos.push(m), tls: { certFile, keyFile }, tlsReloadCheckMs: 50 });
    expect(await get(server!.port)).toEqual({ body: 'ok\n', fingerprint: fingerprint(fixture('a.crt')) });

    // A half-done renewal (new certificate, old key): refused, the old pair keeps serving.
    copyFileSync(fixture('b.crt'), certFile);
    await new Promise((r) => setTimeout(r, 300));
    expect(errors.some((e) => e.startsWith('metrics server: TLS certificate not reloaded, the previous one stays'))).toBe(true);
    expect((await get(server!.port)).fingerprint).toBe(fingerprint(fixture('a.crt')));

    copyFileSync(fixture('b.key'), keyFile);
    await new Promise((r) => setTimeout(r, 300));
    expect(infos).toContain('metrics server: TLS certificate reloaded');
    expect((await get(server!.port)).fingerprint).toBe(fingerprint(fixture('b.crt')));
  });

  it('does not fall back to plain HTTP when the files cannot be read: one line, no server', async () => {
    const errors: string[] = [];
    server = await startServer({ name: 'health', host: '127.0.0.1', port: 0, routes, onError: (m) => errors.push(m), tls: { certFile: '/nonexistent/cert.pem', keyFile: '/nonexistent/key.pem' } });
    expect(server).toBeUndefined();
    expect(errors).toEqual(['health server not started: cannot read its TLS certificate or key (ENOENT); the bot runs on without it']);
  });

  it('fixtures are what the README says: certificates for 127.0.0.1', () => {
    for (const name of ['a.crt', 'b.crt']) expect(new X509Certificate(readFileSync(fixture(name))).checkIP('127.0.0.1')).toBe('127.0.0.1');
  });
});
