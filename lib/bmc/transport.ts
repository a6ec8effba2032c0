/**
 * HTTPS to one iLO, two ways, with the project's TLS trust modes, timeouts,
 * typed transport errors and safe retries:
 * - `request`: an undici keep-alive pool (Redfish keeps its connections);
 * - `exchange`: one request on a fresh TLS connection, the answer read
 *   until it is complete (RIBCL: every reply closes the connection, so a
 *   pool would only add its bookkeeping to each call).
 * Both share one TLS connector (trust checks, session resumption) and
 * bound the connections to this iLO and, process-wide, the requests in flight.
 */
import { type TLSSocket } from 'node:tls';
import { Pool, errors as undiciErrors, type buildConnector } from 'undici';
import { BmcError } from './errors';
import { IloEndpoint, ResolvedEndpoint, resolveEndpoint } from './endpoint';
import { HttpReadError, HttpResponseReader } from './http-response-reader';
import { Slots, withRequestSlot } from './request-slots';
import { CONNECT_TIMEOUT, IloTlsConnector, TLS_PIN_MISMATCH } from './tls-connector';
import type { BmcStats } from './types';

export interface HttpReply {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE' | 'HEAD';
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /**
   * Whether the request may be sent again when its outcome is unknown
   * (connection dropped after sending). Requests that never reached the iLO
   * are always safe to repeat.
   */
  idempotent: boolean;
  /** Called each time the request is about to go out (its slots are held): it is no longer queued. */
  onSend?: () => void;
}

const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** Error codes that mean the request never reached the iLO. */
const NOT_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', CONNECT_TIMEOUT]);
/** Errors that will not go away by trying again. */
const PERMANENT = new Set(['ENOTFOUND', TLS_PIN_MISMATCH]);
const ANSWER_TIMEOUT = 'ERR_ILO_ANSWER_TIMEOUT';

/** A failure before any byte of the request was written: always safe to repeat. */
class NotSent extends Error {
  constructor(override readonly cause: unknown) {
    super('not sent');
  }
}

// Header names and values go into the request verbatim: no line breaks.
// eslint-disable-next-line no-control-regex
const HEADER_UNSAFE = /[\r\n\u0000]/;

export class IloHttpClient {
  readonly endpoint: ResolvedEndpoint;
  readonly stats: BmcStats = { requests: 0, retries: 0, tlsConnections: 0, tlsResumed: 0 };
  private readonly tls: IloTlsConnector;
  /** Connections to this iLO, whichever way they are made. */
  private readonly connections: Slots;
  private keepAlive?: Pool;
  /** Sockets of exchanges in flight (destroyed on close). An array: a Set reallocates as it shrinks. */
  private readonly open: TLSSocket[] = [];
  private closed = false;

  constructor(endpoint: IloEndpoint | ResolvedEndpoint) {
    this.endpoint = 'origin' in endpoint ? endpoint : resolveEndpoint(endpoint);
    const ep = this.endpoint;
    if (ep.tls.mode === 'insecure') {
      ep.logger?.warn(`TLS verification is OFF for iLO ${ep.target}: anyone on the path can read its credentials`);
    }
    this.tls = new IloTlsConnector(ep, this.stats);
    this.connections = new Slots(ep.maxConnections);
  }

  get target(): string {
    return this.endpoint.target;
  }

  /** A request over the keep-alive pool (Redfish). */
  request(req: HttpRequest): Promise<HttpReply> {
    return this.withRetries(req, () => this.pooled(req));
  }

  /**
   * A request on a fresh TLS connection, the answer read until complete
   * (Content-Length, chunked, or the iLO closing). For RIBCL.
   */
  exchange(req: HttpRequest): Promise<HttpReply> {
    return this.withRetries(req, () => this.oneShot(req));
  }

  /**
   * Close the keep-alive pool's idle connections (it is made again if
   * needed): a client that will only exchange, such as RIBCL after the
   * protocol probe, holds no socket between calls.
   */
  async releaseKeepAlive(): Promise<void> {
    const pool = this.keepAlive;
    this.keepAlive = undefined;
    if (pool) await closePool(pool);
  }

  private async withRetries(req: HttpRequest, once: () => Promise<HttpReply>): Promise<HttpReply> {
    if (this.closed) throw new BmcError('connection', `the client for iLO ${this.target} was closed`, { target: this.target });
    const attempts = 1 + this.endpoint.retries;
    let lastError: BmcError | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) {
        this.stats.retries++;
        await delay(250 * 2 ** (attempt - 1));
      }
      try {
        // This iLO's slot first: a request queued behind a busy iLO holds no process-wide slot.
        return await this.connections.run(() => withRequestSlot(once));
      } catch (err) {
        const { error, sent, permanent } = classify(err, this.target);
        lastError = error;
        if (sent && !permanent) this.stats.unansweredAt = Date.now();
        if (permanent || (sent && !req.idempotent)) throw error;
      }
    }
    throw lastError as BmcError;
  }

  private pool(): Pool {
    if (!this.keepAlive) {
      const ep = this.endpoint;
      const connect: buildConnector.connector = (_opts, cb) => {
        this.tls.connect(true).then(
          (socket) => cb(null, socket),
          (err: Error) => cb(err, null),
        );
      };
      this.keepAlive = new Pool(ep.origin, {
        connections: ep.maxConnections,
        pipelining: 1,
        keepAliveTimeout: 20_000,
        // undici keeps an idle connection for the server's hint minus this: with
        // the default (1 s) a server hinting 1 s would never be reused.
        keepAliveTimeoutThreshold: 300,
        headersTimeout: ep.requestTimeoutMs,
        bodyTimeout: ep.requestTimeoutMs,
        maxResponseSize: MAX_RESPONSE_BYTES,
        connect,
      });
    }
    return this.keepAlive;
  }

  private async pooled(req: HttpRequest): Promise<HttpReply> {
    req.onSend?.();
    this.stats.requests++;
    const signal = AbortSignal.timeout(this.endpoint.requestTimeoutMs + this.endpoint.connectTimeoutMs);
    const res = await this.pool().request({
      method: req.method,
      path: req.path,
      headers: { host: this.endpoint.host, ...req.headers },
      body: req.body,
      signal,
    });
    const chunks: Buffer[] = [];
    for await (const chunk of res.body) chunks.push(chunk as Buffer);
    return { statusCode: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) };
  }

  private async oneShot(req: HttpRequest): Promise<HttpReply> {
    req.onSend?.();
    this.stats.requests++;
    const message = this.serialise(req);
    let socket: TLSSocket;
    try {
      socket = await this.tls.connect();
    } catch (err) {
      throw new NotSent(err);
    }
    if (this.closed) {
      socket.destroy();
      throw new NotSent(new Error('client closed'));
    }
    this.open.push(socket);
    try {
      return await readAnswer(socket, message, new HttpResponseReader(MAX_RESPONSE_BYTES, req.method === 'HEAD'), this.endpoint.requestTimeoutMs);
    } finally {
      const at = this.open.indexOf(socket);
      if (at >= 0) {
        this.open[at] = this.open[this.open.length - 1] as TLSSocket;
        this.open.pop();
      }
      socket.destroy();
    }
  }

  /** The request as bytes: request line, headers, body, in one write. */
  private serialise(req: HttpRequest): Buffer {
    const body = req.body === undefined ? undefined : typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : req.body;
    const ep = this.endpoint;
    let head = `${req.method} ${req.path} HTTP/1.1\r\nHost: ${ep.origin.slice('https://'.length)}\r\n`;
    for (const [name, value] of Object.entries(req.headers ?? {})) {
      const lower = name.toLowerCase();
      if (lower === 'host' || lower === 'content-length' || lower === 'connection') continue;
      if (HEADER_UNSAFE.test(name) || HEADER_UNSAFE.test(value) || name.includes(':')) throw new TypeError(`HTTP header ${JSON.stringify(name)}: line breaks are not allowed`);
      head += `${name}: ${value}\r\n`;
    }
    if (HEADER_UNSAFE.test(req.path) || req.path.includes(' ')) throw new TypeError(`HTTP path ${JSON.stringify(req.path)}: spaces and line breaks are not allowed`);
    head += `Content-Length: ${body?.length ?? 0}\r\nConnection: close\r\n\r\n`;
    return body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.open) s.destroy();
    const pool = this.keepAlive;
    this.keepAlive = undefined;
    if (pool) await closePool(pool);
  }
}

async function closePool(pool: Pool): Promise<void> {
  try {
    await pool.close();
  } catch {
    await pool.destroy().catch(() => undefined);
  }
}

/** Write the request, then read until the answer is complete, the connection ends, or the time is up. */
function readAnswer(socket: TLSSocket, message: Buffer, reader: HttpResponseReader, timeoutMs: number): Promise<HttpReply> {
  return new Promise<HttpReply>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, reply?: HttpReply): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      if (err) reject(err);
      else resolve(reply as HttpReply);
    };
    const onData = (chunk: Buffer): void => {
      try {
        if (reader.push(chunk)) finish(undefined, reader.response());
      } catch (err) {
        finish(err as Error);
      }
    };
    const onEnd = (): void => {
      try {
        finish(undefined, reader.end());
      } catch (err) {
        finish(err as Error);
      }
    };
    const onError = (err: Error): void => finish(err);
    const timer = setTimeout(() => {
      const e = new Error(`no complete answer within ${timeoutMs} ms`) as NodeJS.ErrnoException;
      e.code = ANSWER_TIMEOUT;
      finish(e);
    }, timeoutMs);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
    socket.write(message);
  });
}

const TLS_HINT = 'set the TLS mode to "ca" with the iLO certificate, or pin its SHA-256 fingerprint';

function classify(err: unknown, target: string): { error: BmcError; sent: boolean; permanent: boolean } {
  if (err instanceof NotSent) return { ...classify(err.cause, target), sent: false };
  if (err instanceof BmcError) return { error: err, sent: true, permanent: true };
  const e = err as NodeJS.ErrnoException & { name?: string };
  const code = e?.code ?? '';
  const msg = e?.message ?? String(err);
  if (code === TLS_PIN_MISMATCH) {
    return { error: new BmcError('connection', `TLS: ${msg}`, { target, cause: err }), sent: false, permanent: true };
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME|ERR_SSL|EPROTO/.test(code) || /certificate|ssl|tls/i.test(code)) {
    return {
      error: new BmcError('connection', `TLS: the iLO's certificate was refused (${code}: ${msg}); ${TLS_HINT}`, { target, cause: err }),
      sent: false,
      permanent: true,
    };
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === CONNECT_TIMEOUT) {
    return { error: new BmcError('timeout', `iLO ${target} did not accept a connection in time`, { target, cause: err }), sent: false, permanent: false };
  }
  if (code === ANSWER_TIMEOUT || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return { error: new BmcError('timeout', `iLO ${target} did not answer in time`, { target, cause: err }), sent: true, permanent: false };
  }
  if (err instanceof HttpReadError) {
    return err.code === 'ERR_ILO_ANSWER_CUT'
      ? { error: new BmcError('connection', `iLO ${target}: ${err.message}`, { target, cause: err }), sent: true, permanent: false }
      : { error: new BmcError('protocol', `iLO ${target} sent an answer that cannot be read: ${err.message}`, { target }), sent: true, permanent: true };
  }
  if (err instanceof undiciErrors.ResponseExceededMaxSizeError) {
    return { error: new BmcError('protocol', `iLO ${target} sent an answer larger than ${MAX_RESPONSE_BYTES} bytes`, { target }), sent: true, permanent: true };
  }
  const sent = !NOT_SENT.has(code);
  return {
    error: new BmcError('connection', `cannot talk to iLO ${target}: ${code ? `${code} ` : ''}${msg}`, { target, cause: err }),
    sent,
    permanent: PERMANENT.has(code),
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
