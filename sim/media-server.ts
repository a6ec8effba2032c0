/**
 * A small image server the simulated fleet can fetch from (tests and the
 * demo): named buffers over HTTP or HTTPS with single-range support (206),
 * 404 for anything else, and a log of what was asked, so a test can check
 * how the (simulated) iLO reads. (Deploys publish their media elsewhere.)
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export interface MediaRequest {
  method: string;
  path: string;
  range?: string;
  host?: string;
  headerNames: string[];
}

export interface MediaServer {
  readonly origin: string;
  readonly requests: MediaRequest[];
  /** Serve `body` at /name. */
  put(name: string, body: Buffer): string;
  url(name: string): string;
  /** Answer 200 with the whole body, ignoring Range (a poor server). */
  ignoreRange: boolean;
  close(): Promise<void>;
}

export async function startMediaServer(tls?: { key: string; cert: string }): Promise<MediaServer> {
  const files = new Map<string, Buffer>();
  const requests: MediaRequest[] = [];
  const sockets = new Set<Socket>();
  const state = { ignoreRange: false };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push({ method: req.method ?? 'GET', path, range: req.headers.range, host: req.headers.host, headerNames: Object.keys(req.headers) });
    const body = files.get(path);
    if (!body || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (!m || state.ignoreRange) {
      res.writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const start = Number(m[1]);
    const end = Math.min(m[2] ? Number(m[2]) : body.length - 1, body.length - 1);
    if (start >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` });
      res.end();
      return;
    }
    res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${body.length}`, 'content-length': end - start + 1, 'accept-ranges': 'bytes' });
    res.end(req.method === 'HEAD' ? undefined : body.subarray(start, end + 1));
  };
  const server: Server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, handler) : createHttpServer(handler);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    put(name, body) {
      files.set(`/${name}`, body);
      return `${origin}/${name}`;
    },
    url: (name) => `${origin}/${name}`,
    get ignoreRange() {
      return state.ignoreRange;
    },
    set ignoreRange(v: boolean) {
      state.ignoreRange = v;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Bytes with a recognisable pattern, so reads can be checked at any offset. */
export function patternImage(size: number, seed = 1): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed * 7 + (i >> 10)) & 0xff;
  return b;
}
