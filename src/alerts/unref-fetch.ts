/**
 * A minimal `fetch` for the Telegram sink over node:http(s) whose socket does not hold the
 * process open: global fetch cannot unref its sockets, so a hanging Telegram would keep a bot that
 * has finished alive until the request timed out. Exit stays bounded by the plugin's own flush.
 * Supports what the sink uses: a method, string headers, a string body, an AbortSignal.
 */
import http from 'node:http';
import https from 'node:https';

export const unrefFetch: typeof fetch = (input, init = {}) =>
  new Promise<Response>((resolve, reject) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    const client = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (!client) {
      reject(new TypeError(`unsupported protocol ${url.protocol}`));
      return;
    }
    const signal = init.signal ?? undefined;
    if (signal?.aborted) {
      reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
      return;
    }
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => (headers[key] = value));
    const body = typeof init.body === 'string' ? init.body : undefined;
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const req = client.request(url, { method: init.method ?? 'GET', headers, agent: false }, (res) => {
      const responseHeaders = new Headers();
      for (const [key, value] of Object.entries(res.headers)) {
        if (typeof value === 'string') responseHeaders.set(key, value);
        else if (Array.isArray(value)) for (const v of value) responseHeaders.append(key, v);
      }
      const status = res.statusCode ?? 0;
      // Response refuses these statuses a body; the sink only needs the status then.
      const noBody = status === 204 || status === 304 || status < 200;
      // Resolved at the headers, as fetch is: the caller learns the status even when the body
      // then breaks off (a 200 whose body never arrives was most likely delivered).
      const chunks: Buffer[] = [];
      const responseBody = new ReadableStream<Uint8Array>({
        start(controller) {
          let settled = false;
          const fail = (error: unknown): void => {
            if (settled) return;
            settled = true;
            controller.error(error);
          };
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', fail);
          res.on('close', () => {
            if (!res.complete) fail(new Error('the answer broke off before its end'));
          });
          res.on('end', () => {
            if (settled) return;
            settled = true;
            if (chunks.length > 0) controller.enqueue(Buffer.concat(chunks));
            controller.close();
          });
        },
      });
      resolve(new Response(noBody ? null : responseBody, { status: status < 200 ? 599 : status, headers: responseHeaders }));
    });
    req.on('socket', (socket) => socket.unref());
    req.on('error', reject);
    signal?.addEventListener(
      'abort',
      () => req.destroy(signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError')),
      { once: true },
    );
    req.end(body);
  });
