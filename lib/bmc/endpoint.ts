/**
 * How to reach one iLO: address, credentials, TLS trust and timeouts, with
 * validation that names the offending field.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { invalidInput } from './errors';

export type TlsMode = 'verify' | 'ca' | 'pinned' | 'insecure';
export const TLS_MODES: readonly TlsMode[] = ['verify', 'ca', 'pinned', 'insecure'];

export interface TlsOptions {
  /**
   * verify: the system's CAs and the host name (default).
   * ca: a CA (or the iLO's own certificate) given as PEM, and the host name.
   * pinned: exactly the certificate whose SHA-256 fingerprint is given.
   * insecure: anything (logs a warning); for labs only.
   */
  mode: TlsMode;
  /** PEM text of the CA (mode "ca"); alternatively caFile. */
  ca?: string;
  caFile?: string;
  /** SHA-256 fingerprint, hex, colons optional (mode "pinned"). */
  fingerprint?: string;
  /** Name to check the certificate against instead of the host (mode "ca"/"verify"). */
  servername?: string;
  /** Allow TLS 1.0 and legacy ciphers for old iLO firmware. */
  legacy?: boolean;
  /**
   * Offer the last TLS session again on the next connection (default true):
   * an iLO that resumes it skips most of a handshake. Off for firmware whose
   * resumption is broken.
   */
  resume?: boolean;
}

export interface BmcLogger {
  warn(message: string): void;
  debug?(message: string): void;
}

export interface IloEndpoint {
  host: string;
  port?: number;
  username: string;
  password: string;
  tls?: TlsOptions;
  /** TCP + TLS connect timeout (ms), default 10 s. */
  connectTimeoutMs?: number;
  /** Whole-request timeout (ms), default 60 s (Ironic's client_timeout). */
  requestTimeoutMs?: number;
  /** Extra attempts after a transport failure where repeating is safe. Default 2. */
  retries?: number;
  /** Concurrent connections to this iLO. Default 4: iLOs are small. */
  maxConnections?: number;
  /** Redfish authentication: one session per client, deleted on close (default), or basic auth on every request. */
  redfishAuth?: 'session' | 'basic';
  /** Local IP address the connections to the iLO are made from (a host on several networks: the management one). Default: the system's choice. */
  localAddress?: string;
  logger?: BmcLogger;
}

export interface ResolvedEndpoint extends Required<Omit<IloEndpoint, 'tls' | 'logger' | 'localAddress'>> {
  tls: TlsOptions & { caPem?: string; fingerprintHex?: string };
  localAddress?: string;
  logger?: BmcLogger;
  /** host:port for messages. */
  target: string;
  /** https://host:port (IPv6 bracketed). */
  origin: string;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export function normaliseHost(host: unknown): string {
  if (typeof host !== 'string' || host.trim() === '') throw invalidInput('host', 'the iLO host name or IP address', host);
  let h = host.trim();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (isIP(h) || HOSTNAME.test(h)) return h;
  throw invalidInput('host', 'a host name, IPv4 or IPv6 address', host);
}

export function normaliseFingerprint(fp: unknown): string {
  const hex = typeof fp === 'string' ? fp.replace(/[\s:]/g, '').toUpperCase() : '';
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw invalidInput('tls.fingerprint', 'a SHA-256 certificate fingerprint: 64 hex digits, colons optional', fp);
  }
  return hex;
}

function positiveInt(field: string, v: unknown, dflt: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined || v === null || v === '') return dflt;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) {
    throw invalidInput(field, `a whole number between 0 and ${max}`, v);
  }
  return n;
}

/** `host:port` of an iLO as messages and deploy records name it (IPv6 bracketed), known without connecting. */
export function endpointTarget(host: unknown, port: unknown): string {
  const h = normaliseHost(host);
  const p = positiveInt('port', port, 443, 65535);
  return `${isIP(h) === 6 ? `[${h}]` : h}:${p}`;
}

export function resolveEndpoint(ep: IloEndpoint): ResolvedEndpoint {
  const host = normaliseHost(ep.host);
  const port = positiveInt('port', ep.port, 443, 65535);
  if (port === 0) throw invalidInput('port', 'a TCP port between 1 and 65535', ep.port);
  if (typeof ep.username !== 'string' || ep.username === '') throw invalidInput('username', 'the iLO user name');
  if (typeof ep.password !== 'string') throw invalidInput('password', 'the iLO password');
  const tlsIn = ep.tls ?? { mode: 'verify' };
  if (!TLS_MODES.includes(tlsIn.mode)) throw invalidInput('tls.mode', `one of ${TLS_MODES.join(', ')}`, tlsIn.mode);
  const tls: ResolvedEndpoint['tls'] = { ...tlsIn };
  if (tlsIn.mode === 'ca') {
    if (tlsIn.ca) tls.caPem = tlsIn.ca;
    else if (tlsIn.caFile) {
      try {
        tls.caPem = readFileSync(tlsIn.caFile, 'utf8');
      } catch (err) {
        throw invalidInput('tls.caFile', `a readable PEM file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`, tlsIn.caFile);
      }
    } else throw invalidInput('tls.ca', 'a CA certificate (PEM text or file) when the TLS mode is "ca"');
    if (!tls.caPem.includes('-----BEGIN CERTIFICATE-----')) throw invalidInput('tls.ca', 'PEM text with a BEGIN CERTIFICATE block');
  }
  if (tlsIn.mode === 'pinned') tls.fingerprintHex = normaliseFingerprint(tlsIn.fingerprint);
  if (tlsIn.resume !== undefined && typeof tlsIn.resume !== 'boolean') throw invalidInput('tls.resume', 'true or false', tlsIn.resume);
  const redfishAuth = ep.redfishAuth ?? 'session';
  if (redfishAuth !== 'session' && redfishAuth !== 'basic') throw invalidInput('redfishAuth', 'session or basic', redfishAuth);
  if (ep.localAddress !== undefined && ep.localAddress !== '' && (typeof ep.localAddress !== 'string' || !isIP(ep.localAddress))) {
    throw invalidInput('localAddress', 'an IPv4 or IPv6 address of this machine', ep.localAddress);
  }
  const target = endpointTarget(host, port);
  return {
    host,
    port,
    username: ep.username,
    password: ep.password,
    tls,
    connectTimeoutMs: positiveInt('connectTimeoutMs', ep.connectTimeoutMs, 10_000),
    requestTimeoutMs: positiveInt('requestTimeoutMs', ep.requestTimeoutMs, 60_000),
    retries: positiveInt('retries', ep.retries, 2, 10),
    maxConnections: Math.max(1, positiveInt('maxConnections', ep.maxConnections, 4, 64)),
    redfishAuth,
    localAddress: ep.localAddress || undefined,
    logger: ep.logger,
    target,
    origin: `https://${target}`,
  };
}
