/**
 * TLS connections to one iLO with the project's trust modes (verify, ca,
 * pinned, insecure) and TLS session resumption: the session of the last
 * connection that passed the trust check is offered on the next one, so an
 * iLO that resumes skips the certificate, signature and key exchange of a
 * full handshake (every RIBCL reply closes its connection, so RIBCL pays a
 * handshake per call). An iLO that does not resume simply answers with a
 * full handshake; `stats` tells which happened.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, createSecureContext, type PeerCertificate, type SecureContext, type TLSSocket } from 'node:tls';
import type { ResolvedEndpoint } from './endpoint';

/** Counters the connector keeps up to date (the client's BmcStats). */
export interface TlsConnectStats {
  tlsConnections?: number;
  tlsResumed?: number;
}

/** Error codes a connector reports (the transport classifies them). */
export const TLS_PIN_MISMATCH = 'ERR_TLS_PIN_MISMATCH';
export const CONNECT_TIMEOUT = 'ERR_ILO_CONNECT_TIMEOUT';

/**
 * Secure contexts shared by every client with the same trust settings: a
 * context holds an OpenSSL SSL_CTX (and, for "ca", the parsed CA), which
 * a fleet of a thousand iLOs would otherwise hold a thousand times. A
 * context carries no per-peer state (sessions are kept by the connector).
 */
const contexts = new Map<string, SecureContext>();

function sharedContext(caPem: string | undefined, legacy: boolean): SecureContext {
  const key = `${legacy ? 'legacy' : 'modern'}:${caPem ? createHash('sha256').update(caPem).digest('hex') : 'system'}`;
  let ctx = contexts.get(key);
  if (!ctx) {
    ctx = createSecureContext({
      ...(caPem ? { ca: caPem } : {}),
      ...(legacy ? { minVersion: 'TLSv1' as const, ciphers: 'DEFAULT:@SECLEVEL=0' } : {}),
    });
    contexts.set(key, ctx);
  }
  return ctx;
}

export class IloTlsConnector {
  private readonly context: SecureContext;
  /** The last session from a connection that passed the trust check. */
  private session?: Buffer;

  constructor(
    private readonly ep: ResolvedEndpoint,
    readonly stats: TlsConnectStats = {},
  ) {
    this.context = sharedContext(ep.tls.caPem, ep.tls.legacy === true);
  }

  /** Forget the cached session (the next connection does a full handshake). */
  forgetSession(): void {
    this.session = undefined;
  }

  /**
   * A TLS connection whose peer passed the trust check, or a rejection with
   * an errno-style error: ECONNREFUSED and the like, CONNECT_TIMEOUT,
   * TLS_PIN_MISMATCH, or OpenSSL's certificate codes.
   */
  connect(alpn = false): Promise<TLSSocket> {
    const ep = this.ep;
    const tls = ep.tls;
    const resume = tls.resume !== false;
    return new Promise<TLSSocket>((resolve, reject) => {
      let settled = false;
      let pending: Buffer | undefined;
      let verified = false;
      const socket = tlsConnect({
        host: ep.host,
        port: ep.port,
        // SNI only for names: an IP address in SNI is not allowed (RFC 6066).
        servername: isIP(ep.host) ? undefined : ep.host,
        secureContext: this.context,
        rejectUnauthorized: tls.mode === 'verify' || tls.mode === 'ca',
        ...(tls.servername
          ? { checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(tls.servername as string, cert) }
          : {}),
        session: resume ? this.session : undefined,
        ...(alpn ? { ALPNProtocols: ['http/1.1'] } : {}),
        ...(ep.localAddress ? { localAddress: ep.localAddress } : {}),
      });
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        // A session that led to a failure is not offered again.
        this.session = undefined;
        reject(err);
      };
      const timer = setTimeout(() => {
        const e = new Error(`connect timeout after ${ep.connectTimeoutMs} ms`) as NodeJS.ErrnoException;
        e.code = CONNECT_TIMEOUT;
        fail(e);
      }, ep.connectTimeoutMs);
      if (resume) {
        // TLS 1.2 hands the session over during the handshake, TLS 1.3 after
        // it: either way it is kept only once the peer has passed the check.
        socket.on('session', (s: Buffer) => {
          if (verified) this.session = s;
          else pending = s;
        });
      }
      socket.once('secureConnect', () => {
        if (settled) return;
        if (tls.mode === 'pinned' && !socket.isSessionReused()) {
          // A resumed session carries no new certificate: it is one that
          // passed this check before (only those are cached).
          const got = (socket.getPeerCertificate()?.fingerprint256 ?? '').replace(/:/g, '').toUpperCase();
          if (got !== tls.fingerprintHex) {
            const e = new Error(
              `the iLO's certificate does not match the pinned fingerprint (expected ${tls.fingerprintHex}, got ${got || 'no certificate'})`,
            ) as NodeJS.ErrnoException;
            e.code = TLS_PIN_MISMATCH;
            return fail(e);
          }
        }
        verified = true;
        if (pending) this.session = pending;
        settled = true;
        clearTimeout(timer);
        this.stats.tlsConnections = (this.stats.tlsConnections ?? 0) + 1;
        if (socket.isSessionReused()) this.stats.tlsResumed = (this.stats.tlsResumed ?? 0) + 1;
        socket.setNoDelay(true);
        // `fail` stays attached and is a no-op from now on: an error emitted
        // before the caller listens cannot go unhandled.
        resolve(socket);
      });
      socket.once('error', fail);
    });
  }
}
