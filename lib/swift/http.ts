/**
 * HTTP for the OpenStack clients (Swift, Keystone, tempauth, Glance) and
 * image URLs: an undici Agent with the caller's TLS trust, errors that name
 * the service and the URL without its query string, and small body readers.
 */
import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
import { LibError } from '../errors';
import { OpenStackError, type OpenStackService } from './errors';

export interface TlsTrust {
  /** Extra CA (or the server's own certificate) as PEM, trusted besides the system's. */
  caPem?: string | Buffer;
  /** Accept any certificate. For labs only: anyone on the path can read the credentials. */
  insecure?: boolean;
}

export interface HttpOptions {
  tls?: TlsTrust;
  connectTimeoutMs?: number;
  /** Time to wait for response headers (default 60 s). */
  headersTimeoutMs?: number;
  /** Longest silence while a body flows (default 300 s). */
  bodyTimeoutMs?: number;
}

export type HttpBody = string | Buffer | Readable | AsyncIterable<Uint8Array> | null;

export interface HttpCall {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  headers?: Record<string, string>;
  body?: HttpBody;
  signal?: AbortSignal;
}

export function createHttpAgent(opts: HttpOptions = {}): Agent {
  const tls = opts.tls ?? {};
  return new Agent({
    connect: {
      timeout: opts.connectTimeoutMs ?? 10_000,
      rejectUnauthorized: tls.insecure !== true,
      ...(tls.caPem ? { ca: [...tlsRootsWith(tls.caPem)] } : {}),
    },
    headersTimeout: opts.headersTimeoutMs ?? 60_000,
    bodyTimeout: opts.bodyTimeoutMs ?? 300_000,
    keepAliveTimeout: 10_000,
  });
}

/** `ca` replaces the system roots; keep them so public endpoints still verify. */
function tlsRootsWith(pem: string | Buffer): string[] {
  return [...rootCertificates, String(pem)];
}

/** scheme://host:port/path: what may appear in messages (no query, no user info). */
export function safeUrl(u: string | URL): string {
  try {
    const url = typeof u === 'string' ? new URL(u) : u;
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

export async function httpRequest(agent: Dispatcher, service: OpenStackService, url: string | URL, call: HttpCall): Promise<Dispatcher.ResponseData> {
  try {
    return await request(url, {
      dispatcher: agent,
      method: call.method,
      headers: call.headers,
      body: asUndiciBody(call.body),
      signal: call.signal,
    });
  } catch (err) {
    throw transportError(service, call.method, url, err);
  }
}

function asUndiciBody(body: HttpBody | undefined): string | Buffer | Readable | undefined {
  if (body === null || body === undefined) return undefined;
  if (typeof body === 'string' || Buffer.isBuffer(body) || body instanceof Readable) return body;
  return Readable.from(body, { objectMode: false });
}

export function transportError(service: OpenStackService, method: string, url: string | URL, err: unknown): Error {
  // Our own errors, including a failure of the body being sent, pass through.
  if (err instanceof LibError) return err;
  const e = err as NodeJS.ErrnoException & { name?: string };
  const code = e?.code ?? '';
  const where = `${method} ${safeUrl(url)}`;
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || e?.name === 'TimeoutError') {
    return new OpenStackError(service, 'timeout', `${where}: no answer in time (${code || e.name})`, { cause: err });
  }
  if (e?.name === 'AbortError') return new OpenStackError(service, 'connection', `${where}: aborted`, { cause: err });
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|EPROTO|ERR_SSL/.test(code)) {
    return new OpenStackError(service, 'connection', `${where}: the server's TLS certificate was refused (${code}); give its CA, or turn verification off for a lab`, { cause: err });
  }
  return new OpenStackError(service, 'connection', `${where}: ${code ? `${code} ` : ''}${e?.message ?? String(err)}`, { cause: err });
}

export function header(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Reads at most `limit` bytes of a body as text (error bodies, JSON documents). */
export async function readText(body: Dispatcher.ResponseData['body'], limit = 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    const b = c as Buffer;
    n += b.length;
    if (n > limit) {
      body.destroy();
      throw new Error(`answer larger than ${limit} bytes`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function drain(body: Dispatcher.ResponseData['body']): Promise<void> {
  try {
    await body.dump({ limit: 64 * 1024 });
  } catch {
    body.destroy();
  }
}

/** A short, single-line excerpt of an error body for a message. */
export async function errorExcerpt(body: Dispatcher.ResponseData['body']): Promise<string> {
  try {
    const t = (await readText(body, 16 * 1024)).replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
    return t.length > 200 ? `${t.slice(0, 200)}…` : t;
  } catch {
    return '';
  }
}
