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
import { pipeline } from 'node:stream';
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

const READ_CHUNK = 512 * 1024;

export function mediaRequestHandler(resolve: Resolve): (req: IncomingMessage, res: ServerResponse) => void {
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
    serve(req, res, obj).catch(() => {
      if (!res.headersSent) notFound(res);
      else res.destroy();
    });
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

async function serve(req: IncomingMessage, res: ServerResponse, obj: ServedObject): Promise<void> {
  let fh: FileHandle | undefined = await open(obj.path, constants.O_RDONLY | constants.O_NOFOLLOW);
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
    const stream = fh.createReadStream({ start, end, highWaterMark: READ_CHUNK });
    fh = undefined; // the stream owns it now and closes it
    pipeline(stream, res, () => undefined);
  } finally {
    await fh?.close();
  }
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'content-length': '10' }).end('Not Found\n');
}
