/**
 * The HTTP side of the built-in media server: GET and HEAD of
 * /<token>/<name>, with one byte range (206 + Content-Range, 416 when
 * unsatisfiable) streamed from disk. Anything else is 404 (or 405 for other
 * methods); the answer never says why, and no path from the request ever
 * reaches the file system.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseRange } from '../range';
import { TOKEN_RE } from './state';

export interface ServedObject {
  path: string;
  size: number;
  contentType: string;
  etag: string;
  lastModified: Date;
}

/** Looks up a token and name; undefined when nothing (valid) is published there. */
export type Resolve = (token: string, name: string) => ServedObject | undefined;

/**
 * Bytes per read. Two buffers of this size per transfer are reused for the
 * whole body (one is read into while the other is sent), so memory stays
 * flat and the garbage collector has nothing to do; large reads keep
 * loopback throughput close to a sendfile server (bench/store.ts).
 */
const READ_CHUNK = 1024 * 1024;
/**
 * With many transfers at once (a fleet fetching its media), the buffers
 * share this budget: each transfer's chunk shrinks towards MIN_CHUNK, so
 * 500 iLOs reading at once hold about 16 MiB, not 1 GiB.
 */
const BUFFER_BUDGET = 32 * 1024 * 1024;
const MIN_CHUNK = 16 * 1024;

export function mediaRequestHandler(resolve: Resolve): (req: IncomingMessage, res: ServerResponse) => void {
  let transfers = 0;
  const chunkSize = (): number => Math.max(MIN_CHUNK, Math.min(READ_CHUNK, Math.floor(BUFFER_BUDGET / (2 * transfers) / MIN_CHUNK) * MIN_CHUNK));
  return (req, res) => {
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-content-type-options', 'nosniff');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-length': '0' }).end();
      return;
    }
    const target = parseTarget(req.url);
    const obj = target && resolve(target.token, target.name);
    if (!obj) return notFound(res);
    transfers++;
    void serve(req, res, obj, chunkSize())
      .catch(() => {
        if (!res.headersSent) notFound(res);
        else res.destroy();
      })
      .finally(() => transfers--);
  };
}

function parseTarget(url: string | undefined): { token: string; name: string } | undefined {
  if (!url || url[0] !== '/') return undefined;
  const q = url.search(/[?#]/);
  const parts = (q >= 0 ? url.slice(0, q) : url).split('/');
  if (parts.length !== 3) return undefined;
  const [, token = '', encodedName = ''] = parts;
  if (!TOKEN_RE.test(token)) return undefined;
  try {
    return { token, name: decodeURIComponent(encodedName) };
  } catch {
    return undefined;
  }
}

async function serve(req: IncomingMessage, res: ServerResponse, obj: ServedObject, chunk: number): Promise<void> {
  const fh = await open(obj.path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.size !== obj.size) return notFound(res);
    const size = st.size;
    const range = parseRange(req.headers.range, size);
    const headers: Record<string, string> = {
      'content-type': obj.contentType,
      'accept-ranges': 'bytes',
      etag: obj.etag,
      'last-modified': obj.lastModified.toUTCString(),
    };
    if (range.kind === 'unsatisfiable') {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${size}`, 'content-length': '0' }).end();
      return;
    }
    const [status, start, end] = range.kind === 'partial' ? [206, range.start, range.end] : [200, 0, size - 1];
    if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    headers['content-length'] = String(end - start + 1);
    res.writeHead(status, headers);
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return;
    }
    await sendRange(fh, start, end, res, chunk);
  } finally {
    await fh.close();
  }
}

/** Writes bytes start..end of the file to the response, reusing two buffers. */
async function sendRange(fh: FileHandle, start: number, end: number, res: ServerResponse, chunk: number): Promise<void> {
  const size = Math.min(chunk, end - start + 1);
  const buffers = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
  const inFlight: Array<Promise<void> | undefined> = [undefined, undefined];
  let gone = false;
  const onClose = (): void => {
    gone = true;
  };
  res.once('close', onClose);
  try {
    for (let pos = start, i = 0; pos <= end && !gone; i ^= 1) {
      await inFlight[i]; // this buffer's previous write has left it
      const buf = buffers[i] as Buffer;
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - pos + 1), pos);
      if (bytesRead === 0) throw new Error('file shorter than recorded');
      pos += bytesRead;
      inFlight[i] = new Promise<void>((resolve, reject) => res.write(buf.subarray(0, bytesRead), (err) => (err ? reject(err) : resolve())));
      inFlight[i]?.catch(() => undefined);
    }
    await Promise.all(inFlight);
    if (!gone) res.end();
  } finally {
    res.off('close', onClose);
  }
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'content-length': '10' }).end('Not Found\n');
}
