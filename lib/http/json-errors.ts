/**
 * JSON errors for what goes wrong before a flow sees a request: a body that
 * is not JSON, a body over the size limit, a URL that does not decode. Express
 * would answer those with an HTML page carrying the error's stack and the
 * server's paths; these answer `{ "error", "code" }` instead.
 *
 * - `jsonErrorHandler()`: an Express error handler. It answers client errors
 *   (4xx: those body parsers and the router raise) and passes anything else on.
 * - `jsonBodyParser()`: reads a JSON request body the way Node-RED's http-in
 *   node would (body-parser's `json()` defaults: application/json, UTF-8,
 *   gzip or deflate, objects and arrays only, `apiMaxLength`), but answers
 *   a bad body with a JSON 4xx instead of http-in's plain-text 500. It
 *   leaves a body another parser already read alone (`req._body`).
 */
import { Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import { sendJson, type ErrorMiddleware, type Middleware, type Request, type Response } from './types';

export interface HttpErrorReply {
  status: number;
  body: { error: string; code: string };
}

/** The JSON answer for an error raised while reading a request, or undefined when it is not the client's fault. */
export function clientErrorReply(err: unknown, limit = '5mb'): HttpErrorReply | undefined {
  const e = (err ?? {}) as { status?: unknown; statusCode?: unknown; type?: unknown; name?: unknown; message?: unknown };
  const status = Number(e.status ?? e.statusCode);
  if (!Number.isInteger(status) || status < 400 || status > 499) return undefined;
  const type = typeof e.type === 'string' ? e.type : '';
  if (status === 413 || type === 'entity.too.large') return { status: 413, body: { error: `body: larger than the ${limit} limit (Node-RED's apiMaxLength setting)`, code: 'too-large' } };
  if (type === 'entity.parse.failed') return { status: 400, body: { error: 'body: expected JSON (an object or an array), could not parse it', code: 'invalid-input' } };
  if (type === 'encoding.unsupported' || type === 'charset.unsupported' || status === 415) return { status: 415, body: { error: 'body: expected UTF-8 JSON, identity, gzip or deflate encoded', code: 'unsupported-media-type' } };
  if (type === 'request.aborted' || type === 'request.size.invalid') return { status: 400, body: { error: 'body: the request ended before its announced length', code: 'invalid-input' } };
  if (e.name === 'URIError') return { status: 400, body: { error: 'path: not a valid percent-encoded URL', code: 'invalid-input' } };
  // Another client error: say which status, never the error's own text (it may name files).
  return { status, body: { error: `the request was refused (HTTP ${status})`, code: 'bad-request' } };
}

export function jsonErrorHandler(options: { limit?: string } = {}): ErrorMiddleware {
  return function iloDeployJsonErrors(err, _req, res, next) {
    const reply = clientErrorReply(err, options.limit);
    if (!reply || res.headersSent) return next(err);
    sendJson(res, reply.status, reply.body);
  };
}

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** "5mb" -> bytes (body-parser's notation); a number is bytes. */
export function parseSize(limit: string | number): number {
  if (typeof limit === 'number') return limit;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(limit);
  if (!m) throw new Error(`not a size: ${JSON.stringify(limit)}`);
  return Math.floor(Number(m[1]) * (UNITS[(m[2] ?? 'b').toLowerCase()] as number));
}

function isJson(req: Request): boolean {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  return type === 'application/json';
}

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
}

class BodyError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
  ) {
    super(type);
  }
}

async function readLimited(req: Request, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding === 'identity' && Number.isFinite(declared) && declared > limit) throw new BodyError(413, 'entity.too.large');
  let stream: Readable = req;
  if (encoding === 'gzip') stream = req.pipe(createGunzip());
  else if (encoding === 'deflate') stream = req.pipe(createInflate());
  else if (encoding !== 'identity') throw new BodyError(415, 'encoding.unsupported');
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > limit) throw new BodyError(413, 'entity.too.large');
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof BodyError) throw err;
    throw new BodyError(400, encoding === 'identity' ? 'request.aborted' : 'entity.parse.failed');
  }
  return Buffer.concat(chunks);
}

export function jsonBodyParser(options: { limit?: string | number } = {}): Middleware {
  const limitText = typeof options.limit === 'number' ? `${options.limit} bytes` : (options.limit ?? '5mb');
  const limit = parseSize(options.limit ?? '5mb');
  return function iloDeployJsonBody(req, res, next) {
    if (req._body || !isJson(req) || !hasBody(req)) return next();
    const charset = /;\s*charset=("?)([^";]+)\1/i.exec(String(req.headers['content-type']))?.[2]?.toLowerCase();
    const refuse = (err: unknown): void => {
      const reply = clientErrorReply(err, limitText) as HttpErrorReply;
      // What is left of the body is read and dropped (as Node does for a body nobody read), so the client gets the answer.
      req.unpipe();
      req.resume();
      sendJson(res, reply.status, reply.body);
    };
    if (charset && charset !== 'utf-8' && charset !== 'utf8') return refuse(new BodyError(415, 'charset.unsupported'));
    readLimited(req, limit).then(
      (buf) => {
        const text = buf.toString('utf8');
        const first = /^[\s\ufeff]*(.)/.exec(text)?.[1];
        req._body = true;
        if (first === undefined) {
          req.body = {};
          return next();
        }
        if (first !== '{' && first !== '[') return refuse(new BodyError(400, 'entity.parse.failed'));
        try {
          req.body = JSON.parse(text) as unknown;
        } catch {
          return refuse(new BodyError(400, 'entity.parse.failed'));
        }
        next();
      },
      (err: unknown) => refuse(err),
    );
  };
}

export type { Request, Response };
