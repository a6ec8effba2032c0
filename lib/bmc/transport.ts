/**
 * HTTPS to one iLO over an undici keep-alive pool, with the project's TLS
 * trust modes, timeouts, typed transport errors and safe retries. Shared by
 * the RIBCL and Redfish providers.
 */
import { isIP } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, createSecureContext, type PeerCertificate, type SecureContext, type TLSSocket } from 'node:tls';
import { Pool, buildConnector, errors as undiciErrors } from 'undici';
import { BmcError } from './errors';
import { IloEndpoint, ResolvedEndpoint, resolveEndpoint } from './endpoint';
import { withRequestSlot } from './request-slots';
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
}

const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** Error codes that mean the request never reached the iLO. */
const NOT_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);
/** Errors that will not go away by trying again. */
const PERMANENT = new Set(['ENOTFOUND', 'ERR_TLS_PIN_MISMATCH']);

export class IloHttpClient {
  readonly endpoint: ResolvedEndpoint;
  readonly stats: BmcStats = { requests: 0, retries: 0 };
  private readonly pool: Pool;
  private closed = false;

  constructor(endpoint: IloEndpoint | ResolvedEndpoint) {
    this.endpoint = 'origin' in endpoint ? endpoint : resolveEndpoint(endpoint);
    const ep = this.endpoint;
    if (ep.tls.mode === 'insecure') {
      ep.logger?.warn(`TLS verification is OFF for iLO ${ep.target}: anyone on the path can read its credentials`);
    }
    this.pool = new Pool(ep.origin, {
      connections: ep.maxConnections,
      pipelining: 1,
      keepAliveTimeout: 20_000,
      // undici keeps an idle connection for the server's hint minus this: with
      // the default (1 s) a server hinting 1 s would never be reused.
      keepAliveTimeoutThreshold: 300,
      headersTimeout: ep.requestTimeoutMs,
      bodyTimeout: ep.requestTimeoutMs,
      maxResponseSize: MAX_RESPONSE_BYTES,
      ...(ep.localAddress ? { localAddress: ep.localAddress } : {}),
      connect: makeConnector(ep),
    });
  }

  get target(): string {
    return this.endpoint.target;
  }

  async request(req: HttpRequest): Promise<HttpReply> {
    if (this.closed) throw new BmcError('connection', `the client for iLO ${this.target} was closed`, { target: this.target });
    const attempts = 1 + this.endpoint.retries;
    let lastError: BmcError | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) {
        this.stats.retries++;
        await delay(250 * 2 ** (attempt - 1));
      }
      try {
        return await withRequestSlot(() => this.once(req));
      } catch (err) {
        const { error, sent, permanent } = classify(err, this.target);
        lastError = error;
        if (sent && !permanent) this.stats.unansweredAt = Date.now();
        if (permanent || (sent && !req.idempotent)) throw error;
      }
    }
    throw lastError as BmcError;
  }

  private async once(req: HttpRequest): Promise<HttpReply> {
    this.stats.requests++;
    const signal = AbortSignal.timeout(this.endpoint.requestTimeoutMs + this.endpoint.connectTimeoutMs);
    const res = await this.pool.request({
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.pool.close();
    } catch {
      await this.pool.destroy().catch(() => undefined);
    }
  }
}

function makeConnector(ep: ResolvedEndpoint): buildConnector.connector {
  const tls = ep.tls;
  // One TLS context per iLO: building it per connection costs more CPU than
  // the rest of a RIBCL call (every RIBCL reply closes the connection).
  const secureContext = createSecureContext({
    ...(tls.caPem ? { ca: tls.caPem } : {}),
    ...(tls.legacy ? { minVersion: 'TLSv1' as const, ciphers: 'DEFAULT:@SECLEVEL=0' } : {}),
  });
  if (tls.mode === 'pinned') return pinnedConnector(ep, secureContext);
  return buildConnector({
    timeout: ep.connectTimeoutMs,
    rejectUnauthorized: tls.mode !== 'insecure',
    secureContext,
    ...(tls.servername
      ? { checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(tls.servername as string, cert) }
      : {}),
    maxCachedSessions: 16,
  });
}

/**
 * Pinned mode: the chain is not verified, the certificate's SHA-256 must
 * equal the pin. A resumed TLS session carries no certificate, so sessions
 * are cached only from handshakes that passed the pin check: resuming one
 * proves the peer is the server that showed the pinned certificate.
 */
function pinnedConnector(ep: ResolvedEndpoint, secureContext: SecureContext): buildConnector.connector {
  const expected = ep.tls.fingerprintHex as string;
  let verifiedSession: Buffer | undefined;
  return ((opts, cb) => {
    let settled = false;
    let verified = false;
    let pendingSession: Buffer | undefined;
    const done = (err: Error | null, socket?: TLSSocket): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) cb(err, null);
      else cb(null, socket as TLSSocket);
    };
    const socket = tlsConnect({
      host: opts.hostname,
      port: Number(opts.port) || 443,
      servername: isIP(opts.hostname) ? undefined : opts.hostname,
      rejectUnauthorized: false,
      session: verifiedSession,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      ALPNProtocols: ['http/1.1'],
      secureContext,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      const e = new Error(`connect timeout after ${ep.connectTimeoutMs} ms`) as NodeJS.ErrnoException;
      e.code = 'UND_ERR_CONNECT_TIMEOUT';
      done(e);
    }, ep.connectTimeoutMs);
    socket.on('session', (s: Buffer) => {
      if (verified) verifiedSession = s;
      else pendingSession = s;
    });
    socket.once('secureConnect', () => {
      if (!socket.isSessionReused()) {
        const got = (socket.getPeerCertificate()?.fingerprint256 ?? '').replace(/:/g, '').toUpperCase();
        if (got !== expected) {
          socket.destroy();
          const e = new Error(
            `the iLO's certificate does not match the pinned fingerprint (expected ${expected}, got ${got || 'no certificate'})`,
          ) as NodeJS.ErrnoException;
          e.code = 'ERR_TLS_PIN_MISMATCH';
          return done(e);
        }
      }
      verified = true;
      if (pendingSession) verifiedSession = pendingSession;
      socket.setNoDelay(true);
      done(null, socket);
    });
    socket.once('error', (err) => {
      // A session that fails is not offered again.
      if (!verified) verifiedSession = undefined;
      done(err);
    });
  }) as buildConnector.connector;
}

const TLS_HINT = 'set the TLS mode to "ca" with the iLO certificate, or pin its SHA-256 fingerprint';

function classify(err: unknown, target: string): { error: BmcError; sent: boolean; permanent: boolean } {
  if (err instanceof BmcError) return { error: err, sent: true, permanent: true };
  const e = err as NodeJS.ErrnoException & { name?: string };
  const code = e?.code ?? '';
  const msg = e?.message ?? String(err);
  if (code === 'ERR_TLS_PIN_MISMATCH') {
    return { error: new BmcError('connection', `TLS: ${msg}`, { target, cause: err }), sent: false, permanent: true };
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME|ERR_SSL|EPROTO/.test(code) || /certificate|ssl|tls/i.test(code)) {
    return {
      error: new BmcError('connection', `TLS: the iLO's certificate was refused (${code}: ${msg}); ${TLS_HINT}`, { target, cause: err }),
      sent: false,
      permanent: true,
    };
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return { error: new BmcError('timeout', `iLO ${target} did not accept a connection in time`, { target, cause: err }), sent: false, permanent: false };
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return { error: new BmcError('timeout', `iLO ${target} did not answer in time`, { target, cause: err }), sent: true, permanent: false };
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
