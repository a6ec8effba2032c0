/**
 * The certificate an iLO presents, read without sending anything: for an
 * operator to check before pinning it (trust on first use), and for a
 * "test connection" report.
 */
import { isIP } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { BmcError } from './errors';
import { normaliseHost } from './endpoint';

export interface IloCertificate {
  /** SHA-256 of the DER certificate, upper-case hex with colons (as the iLO web UI and openssl show it). */
  fingerprint256: string;
  /** e.g. "CN=ilo-server-1.example, O=Hewlett Packard Enterprise". */
  subject: string;
  issuer: string;
  validFrom: string;
  /** Expiry, as the certificate states it (e.g. "Jan  1 00:00:00 2030 GMT"). */
  validTo: string;
  /** Issued by itself (the iLO's factory certificate is). */
  selfSigned: boolean;
  /** The chain is trusted (system CAs, or the given CA) and it names the host. */
  trusted: boolean;
  /** Why it is not trusted, when it is not. */
  trustProblem?: string;
}

export interface CertificateProbe {
  host: string;
  port?: number;
  /** PEM CA(s) to judge `trusted` against instead of the system's. */
  ca?: string;
  /** Accept TLS 1.0 and legacy ciphers (old iLO firmware). */
  legacy?: boolean;
  timeoutMs?: number;
}

function dn(part: PeerCertificate['subject'] | undefined): string {
  if (!part) return '';
  return Object.entries(part)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`)
    .join(', ');
}

/** Colon-separated upper-case hex, whatever the input's form. */
export function formatFingerprint(hex: string): string {
  const clean = hex.replace(/[^0-9A-Fa-f]/g, '').toUpperCase();
  return clean.match(/../g)?.join(':') ?? '';
}

/** Connects, reads the certificate, hangs up. No request is sent, so no credential is at risk. */
export function fetchIloCertificate(probe: CertificateProbe): Promise<IloCertificate> {
  const host = normaliseHost(probe.host);
  const port = probe.port ?? 443;
  const target = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  const timeoutMs = probe.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host,
      port,
      servername: isIP(host) ? undefined : host,
      // Only to read the certificate: whether it is trusted is reported, not enforced, and nothing is sent.
      rejectUnauthorized: false,
      ...(probe.ca ? { ca: probe.ca } : {}),
      ...(probe.legacy ? { minVersion: 'TLSv1' as const, ciphers: 'DEFAULT:@SECLEVEL=0' } : {}),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new BmcError('timeout', `iLO ${target} did not complete a TLS handshake within ${timeoutMs} ms`, { target }));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const cert = socket.getPeerCertificate();
      const chainProblem = socket.authorized ? undefined : String(socket.authorizationError ?? 'not trusted');
      socket.end();
      if (!cert || !cert.fingerprint256) {
        reject(new BmcError('connection', `iLO ${target} presented no certificate`, { target }));
        return;
      }
      const nameProblem = chainProblem ? undefined : checkServerIdentity(host, cert)?.message;
      const problem = chainProblem ?? nameProblem;
      resolve({
        fingerprint256: formatFingerprint(cert.fingerprint256),
        subject: dn(cert.subject),
        issuer: dn(cert.issuer),
        validFrom: cert.valid_from,
        validTo: cert.valid_to,
        selfSigned: dn(cert.subject) === dn(cert.issuer),
        trusted: problem === undefined,
        ...(problem ? { trustProblem: problem } : {}),
      });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new BmcError('connection', `cannot reach iLO ${target}: ${err.code ? `${err.code} ` : ''}${err.message}`, { target, cause: err }));
    });
  });
}
