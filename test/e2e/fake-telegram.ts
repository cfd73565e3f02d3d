/**
 * A fake Telegram Bot API on a real loopback socket, for end-to-end tests: it records every
 * sendMessage body and answers as Telegram does, or, once told to hang, accepts requests (reads
 * them in full, records them) and never answers.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SentMessage {
  /** The request path, token included: `/bot<token>/sendMessage`. */
  readonly path: string;
  readonly chat_id: unknown;
  readonly text: string;
  readonly parse_mode: unknown;
  readonly disable_notification: unknown;
}

export class FakeTelegram {
  /** Every sendMessage received, answered or not, in arrival order. */
  readonly messages: SentMessage[] = [];
  /** Anything else that reached the server (wrong path or method). */
  readonly strays: string[] = [];
  url = '';
  private hanging = false;
  private readonly held = new Set<ServerResponse>();
  private readonly listeners = new Set<() => void>();
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** From now on, accept each request and never answer it. */
  hang(): void {
    this.hanging = true;
  }

  async stop(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.held.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Resolves once `predicate` holds for the messages received so far; rejects after `timeoutMs`. */
  waitFor(predicate: (messages: readonly SentMessage[]) => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate(this.messages)) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}; Telegram received:\n${this.messages.map((m) => m.text).join('\n---\n')}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    const path = req.url ?? '';
    if (req.method !== 'POST' || !/^\/bot[^/]+\/sendMessage$/.test(path)) {
      this.strays.push(`${req.method} ${path}`);
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, error_code: 404, description: 'Not Found' }));
      return;
    }
    const body = JSON.parse(raw) as Record<string, unknown>;
    this.messages.push({
      path,
      chat_id: body.chat_id,
      text: String(body.text),
      parse_mode: body.parse_mode,
      disable_notification: body.disable_notification,
    });
    for (const listener of this.listeners) listener();
    if (this.hanging) {
      this.held.add(res);
      res.once('close', () => this.held.delete(res));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, result: {} }));
  }
}
