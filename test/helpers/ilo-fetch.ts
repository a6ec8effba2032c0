/**
 * Fetches a URL the way an iLO's virtual media client does: a bare
 * HTTP/1.1 request with only Host (optionally without the port) and Range,
 * over a raw socket, so no client library adds or fixes anything.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface RawOptions {
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
  range?: string;
  /** Send `Host: 127.0.0.1` without the port, as some iLOs do. */
  hostWithoutPort?: boolean;
  /** Request target to send instead of the URL's path and query (e.g. to try `..`). */
  rawTarget?: string;
  /** PEM to trust for https. */
  ca?: string;
}

export function iloFetch(url: string, opts: RawOptions = {}): Promise<RawResponse> {
  const u = new URL(url);
  const https = u.protocol === 'https:';
  const port = Number(u.port || (https ? 443 : 80));
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const method = opts.method ?? 'GET';
  const lines = [`${method} ${opts.rawTarget ?? u.pathname + u.search} HTTP/1.1`, `Host: ${opts.hostWithoutPort ? u.hostname : u.host}`];
  if (opts.range) lines.push(`Range: ${opts.range}`);
  const request = `${lines.join('\r\n')}\r\n\r\n`;
  return new Promise((resolve, reject) => {
    const socket: Socket = https
      ? tlsConnect({ host, port, ca: opts.ca, servername: undefined, rejectUnauthorized: opts.ca !== undefined }, () => socket.write(request))
      : netConnect({ host, port }, () => socket.write(request));
    let buf = Buffer.alloc(0);
    let head: { status: number; headers: Record<string, string>; bodyStart: number } | undefined;
    const finish = (): void => {
      if (!head) return;
      const len = method === 'HEAD' || head.status === 204 || head.status === 304 ? 0 : Number(head.headers['content-length'] ?? NaN);
      if (Number.isNaN(len)) {
        if (head.headers['transfer-encoding']) {
          socket.destroy();
          reject(new Error('chunked answers are not expected here'));
        }
        return; // read until close
      }
      if (buf.length - head.bodyStart >= len) {
        socket.destroy();
        resolve({ status: head.status, headers: head.headers, body: buf.subarray(head.bodyStart, head.bodyStart + len) });
      }
    };
    socket.setTimeout(30_000, () => socket.destroy(new Error('iloFetch: timed out')));
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!head) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [statusLine = '', ...rest] = buf.subarray(0, end).toString('latin1').split('\r\n');
        const headers: Record<string, string> = {};
        for (const l of rest) {
          const i = l.indexOf(':');
          headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        head = { status: Number(statusLine.split(' ')[1]), headers, bodyStart: end + 4 };
      }
      finish();
    });
    socket.on('error', reject);
    socket.on('close', () => {
      if (head) resolve({ status: head.status, headers: head.headers, body: buf.subarray(head.bodyStart) });
      else reject(new Error('iloFetch: connection closed before an answer'));
    });
  });
}
