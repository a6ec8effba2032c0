/**
 * Finds iLOs among the addresses an operator names, without credentials:
 * for each address, read the TLS certificate (as "test connection" shows
 * it, for trust on first use), then, over connections that must present
 * that same certificate, ask the two documents every iLO answers without a
 * login: the Redfish service root (/redfish/v1/: ManagerType, firmware,
 * product, UUID, host name) and the identity XML (/xmldata?item=all: serial
 * number, product, management processor and firmware). Nothing is sent but
 * those two GETs; no redirect is followed; only the given addresses are
 * contacted, at most `concurrency` at a time, each step bounded by
 * `timeoutMs`.
 */
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { generationOf } from '../bmc/boot-devices';
import { fetchIloCertificate, formatFingerprint, type IloCertificate } from '../bmc/certificate';
import { BmcError } from '../bmc/errors';
import { child, parseXmlLenient, type XmlElement } from '../bmc/ribcl/xml';
import type { BmcProtocol } from '../bmc/types';
import type { ProbeTarget } from './targets';

export type DiscoveryStatus = 'ilo' | 'not-ilo' | 'unreachable';

export interface DiscoveredAddress {
  host: string;
  port: number;
  status: DiscoveryStatus;
  /** Why it is not an iLO, or not reachable. */
  reason?: string;
  /** What "auto" would use: Redfish from iLO 5 on, RIBCL before. */
  protocol?: BmcProtocol;
  /** "iLO 4", "iLO 5"... */
  managerType?: string;
  productName?: string;
  /** "Gen10", from the product name. */
  generation?: string;
  serialNumber?: string;
  uuid?: string;
  iloFirmware?: string;
  /** The iLO's own host name, when its service root says it. */
  hostName?: string;
  certificate?: IloCertificate;
}

export interface DiscoveryOptions {
  /** Addresses probed at once (default 16, at most 256). */
  concurrency?: number;
  /** Bound of each step: TLS handshake, each GET (ms, default 3000). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called as each address is done (in completion order). */
  onResult?: (r: DiscoveredAddress) => void;
  /** Accept TLS 1.0 and legacy ciphers (old iLO firmware). */
  legacyTls?: boolean;
}

const MAX_BODY = 512 * 1024;
const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EADDRNOTAVAIL']);

interface Fetched {
  status: number;
  body: string;
}

/** One GET that must meet the certificate already read; undefined when it could not be had. */
function get(target: ProbeTarget, path: string, fingerprint: string, opts: { timeoutMs: number; signal?: AbortSignal; legacyTls?: boolean }): Promise<Fetched | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (v: Fetched | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const req = httpsRequest({
      host: target.host,
      port: target.port,
      path,
      method: 'GET',
      headers: { accept: path.startsWith('/redfish') ? 'application/json' : 'text/xml', connection: 'close' },
      agent: false,
      servername: isIP(target.host) ? undefined : target.host,
      // Trust is what the fingerprint check below establishes: the same certificate the operator is shown.
      rejectUnauthorized: false,
      ...(opts.legacyTls ? { minVersion: 'TLSv1' as const, ciphers: 'DEFAULT:@SECLEVEL=0' } : {}),
    });
    const timer = setTimeout(() => {
      req.destroy();
      done(undefined);
    }, opts.timeoutMs);
    const onAbort = (): void => {
      req.destroy();
      done(undefined);
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('socket', (s) => {
      s.once('secureConnect', () => {
        const cert = (s as TLSSocket).getPeerCertificate();
        if (!cert?.fingerprint256 || formatFingerprint(cert.fingerprint256) !== fingerprint) {
          req.destroy();
          done(undefined);
        }
      });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) {
          req.destroy();
          done(undefined);
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => done(undefined));
    });
    req.on('error', () => done(undefined));
    req.end();
  });
}

function text(el: XmlElement | undefined): string | undefined {
  const t = el?.text.trim();
  return t ? t : undefined;
}

/** What a service root and an identity document say about the server; status "ilo" when either is an iLO's. */
export function interpretIdentity(root: unknown, xml: string | undefined): Omit<DiscoveredAddress, 'host' | 'port' | 'certificate'> {
  const out: Omit<DiscoveredAddress, 'host' | 'port' | 'certificate'> = { status: 'not-ilo' };
  if (root && typeof root === 'object') {
    const r = root as Record<string, unknown>;
    const oem = (r.Oem ?? {}) as Record<string, { Manager?: Array<Record<string, unknown>> }>;
    const manager = oem.Hpe?.Manager?.[0] ?? oem.Hp?.Manager?.[0];
    if (manager && typeof manager.ManagerType === 'string' && /iLO/i.test(manager.ManagerType)) {
      out.status = 'ilo';
      out.managerType = manager.ManagerType;
      if (typeof manager.ManagerFirmwareVersion === 'string') out.iloFirmware = manager.ManagerFirmwareVersion;
      if (typeof manager.FQDN === 'string' && manager.FQDN) out.hostName = manager.FQDN;
      else if (typeof manager.HostName === 'string' && manager.HostName) out.hostName = manager.HostName;
    }
    if (out.status === 'ilo') {
      if (typeof r.Product === 'string' && r.Product) out.productName = r.Product;
      if (typeof r.UUID === 'string' && r.UUID) out.uuid = r.UUID.toLowerCase();
    }
  }
  const rimp = xml ? parseXmlLenient(xml).find((e) => e.name === 'RIMP') : undefined;
  const mp = child(rimp, 'MP');
  const pn = text(child(mp, 'PN'));
  if (pn && /Integrated Lights-Out|\biLO\b/i.test(pn)) {
    out.status = 'ilo';
    const hsi = child(rimp, 'HSI');
    out.serialNumber = text(child(hsi, 'SBSN')) ?? out.serialNumber;
    out.productName ??= text(child(hsi, 'SPN'));
    const cuuid = text(child(hsi, 'cUUID'));
    if (!out.uuid && cuuid) out.uuid = cuuid.toLowerCase();
    out.iloFirmware ??= text(child(mp, 'FWRI'));
    const gen = /iLO\s*(\d+)/i.exec(pn)?.[1];
    if (!out.managerType && gen) out.managerType = `iLO ${gen}`;
  }
  if (out.status === 'ilo') {
    const gen = Number(/iLO\s*(\d+)/i.exec(out.managerType ?? '')?.[1] ?? 0);
    out.protocol = gen >= 5 ? 'redfish' : 'ribcl';
    if (out.productName) {
      const g = generationOf(out.productName);
      if (g) out.generation = g;
    }
  } else {
    out.reason = 'answers HTTPS, but neither an iLO\'s Redfish service root nor its /xmldata';
  }
  return out;
}

/** Probes one address. Never rejects: every outcome is a result. */
export async function probeAddress(target: ProbeTarget, opts: Omit<DiscoveryOptions, 'concurrency' | 'onResult'> = {}): Promise<DiscoveredAddress> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  let certificate: IloCertificate;
  try {
    certificate = await fetchIloCertificate({ host: target.host, port: target.port, timeoutMs, legacy: opts.legacyTls });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    if (err instanceof BmcError && err.code === 'timeout') return { ...target, status: 'unreachable', reason: `no TLS handshake within ${timeoutMs} ms` };
    if (cause?.code && UNREACHABLE.has(cause.code)) return { ...target, status: 'unreachable', reason: cause.code === 'ECONNREFUSED' ? 'connection refused' : cause.code };
    return { ...target, status: 'not-ilo', reason: `no TLS on this port (${cause?.code ?? (err as Error).message})` };
  }
  if (opts.signal?.aborted) return { ...target, status: 'unreachable', reason: 'discovery stopped', certificate };
  const step = { timeoutMs, signal: opts.signal, legacyTls: opts.legacyTls };
  const [rootReply, xmlReply] = await Promise.all([get(target, '/redfish/v1/', certificate.fingerprint256, step), get(target, '/xmldata?item=all', certificate.fingerprint256, step)]);
  let root: unknown;
  if (rootReply?.status === 200) {
    try {
      root = JSON.parse(rootReply.body);
    } catch {
      root = undefined;
    }
  }
  const identity = interpretIdentity(root, xmlReply?.status === 200 ? xmlReply.body : undefined);
  if (identity.status !== 'ilo' && !rootReply && !xmlReply) identity.reason = `TLS, but no HTTP answer within ${timeoutMs} ms`;
  return { host: target.host, port: target.port, ...identity, certificate };
}

/**
 * Probes every target, at most `concurrency` at once, and returns one
 * result per target in the targets' order. Stops starting new probes when
 * the signal aborts (the remaining ones are reported as "discovery stopped").
 */
export async function discoverIlos(targets: readonly ProbeTarget[], opts: DiscoveryOptions = {}): Promise<DiscoveredAddress[]> {
  const concurrency = Math.max(1, Math.min(256, Math.floor(opts.concurrency ?? 16)));
  const results: DiscoveredAddress[] = new Array(targets.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= targets.length) return;
      const t = targets[i]!;
      const r = opts.signal?.aborted ? { ...t, status: 'unreachable' as const, reason: 'discovery stopped' } : await probeAddress(t, opts);
      results[i] = r;
      opts.onResult?.(r);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, () => worker()));
  return results;
}

/** A name for a found iLO: its own host name (without the "-ilo" suffix iLOs often carry), else its serial, else its address. */
export function suggestedName(r: DiscoveredAddress): string {
  const fromHost = r.hostName?.split('.')[0]?.replace(/[-_]ilo$/i, '');
  const base = fromHost || r.serialNumber?.toLowerCase() || `${r.host}${r.port === 443 ? '' : `-${r.port}`}`;
  return base.replace(/[^A-Za-z0-9._:@-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64) || 'ilo';
}
