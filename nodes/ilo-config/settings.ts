/**
 * The ilo-config editor fields and credentials as a BmcConfig: one mapping
 * for the running node and for the editor's "test connection" button.
 */
import { invalidInput, type BmcConfig, type BmcLogger, type BmcProtocolChoice, type TlsMode } from '../../lib/bmc';
import type { ConsoleConfig, ConsoleMethod } from '../../lib/console';

/** What the editor saves (defaults in ilo-config.html). */
export interface IloConfigFields {
  host?: string;
  port?: string | number;
  protocol?: BmcProtocolChoice;
  redfishAuth?: 'session' | 'basic';
  tlsMode?: TlsMode;
  caFile?: string;
  fingerprint?: string;
  legacyTls?: boolean;
  /** Seconds. */
  timeout?: string | number;
  /** Serial console: `auto` (IPMI, then SSH), `ipmi`, `ssh` or `off`. */
  consoleMethod?: ConsoleMethod;
  /** IPMI over LAN UDP port (empty: 623). */
  ipmiPort?: string | number;
  /** iLO CLI SSH port (empty: 22). */
  sshPort?: string | number;
  /** Pinned SHA-256 of the iLO's SSH host key. */
  sshHostKey?: string;
  /** The pool a pool deploy picks this server from (empty: none). */
  pool?: string;
  /** Ironic's capabilities, "boot_mode:uefi,secure_boot:true". */
  capabilities?: string;
  /** Ironic's properties, "memory_mb:65536,cpus:16" (inspection finds them too). */
  properties?: string;
}

export interface IloConfigCredentials {
  username?: string;
  password?: string;
}

const DEFAULT_TIMEOUT_S = 60;

/** The port as the config means it: empty is 443; anything else is checked by lib/bmc (naming the field). */
export function portOf(v: string | number | undefined): number {
  return v === '' || v === undefined ? 443 : Number(v);
}

export function bmcConfigFromFields(f: IloConfigFields, c: IloConfigCredentials, opts: { logger?: BmcLogger; maxTimeoutS?: number; retries?: number } = {}): BmcConfig {
  let timeoutS = f.timeout === '' || f.timeout === undefined ? DEFAULT_TIMEOUT_S : Number(f.timeout);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw invalidInput('timeout', 'a number of seconds greater than 0', f.timeout);
  if (opts.maxTimeoutS !== undefined) timeoutS = Math.min(timeoutS, opts.maxTimeoutS);
  return {
    host: typeof f.host === 'string' ? f.host : '',
    port: portOf(f.port),
    username: c.username ?? '',
    password: c.password ?? '',
    protocol: f.protocol || 'auto',
    redfishAuth: f.redfishAuth === 'basic' ? 'basic' : 'session',
    tls: {
      mode: f.tlsMode || 'verify',
      caFile: f.caFile || undefined,
      fingerprint: f.fingerprint || undefined,
      legacy: f.legacyTls === true || (f.legacyTls as unknown) === 'true',
    },
    requestTimeoutMs: Math.round(timeoutS * 1000),
    ...(opts.retries !== undefined ? { retries: opts.retries } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  };
}

/** The console part of the configuration (validated by lib/console, naming the field). */
export function consoleConfigFromFields(f: IloConfigFields, c: IloConfigCredentials): ConsoleConfig {
  const num = (v: string | number | undefined): number | undefined => (v === '' || v === undefined ? undefined : Number(v));
  return {
    host: typeof f.host === 'string' ? f.host.trim() : '',
    username: c.username ?? '',
    password: c.password ?? '',
    method: f.consoleMethod || 'auto',
    ipmiPort: num(f.ipmiPort),
    sshPort: num(f.sshPort),
    sshHostKey: f.sshHostKey || undefined,
  };
}

const POOL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const PAIRS = /^[A-Za-z0-9_.-]+:[^,:]*$/;

/** The scheduling fields as the node keeps them; a malformed one is left out with a warning naming it (the server is then not picked by it). */
export function schedulingOf(f: IloConfigFields, warn: (m: string) => void): { pool?: string; capabilities?: string; properties?: string } {
  const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');
  const out: { pool?: string; capabilities?: string; properties?: string } = {};
  const pool = text(f.pool);
  if (pool && POOL.test(pool)) out.pool = pool;
  else if (pool) warn(`pool: expected a pool name of letters, digits, . _ - (got ${JSON.stringify(pool.slice(0, 40))}); this server is in no pool`);
  for (const k of ['capabilities', 'properties'] as const) {
    const t = text(f[k]);
    if (t && t.split(',').every((p) => PAIRS.test(p.trim()))) out[k] = t;
    else if (t) warn(`${k}: expected key:value,key:value (got ${JSON.stringify(t.slice(0, 40))}); left out`);
  }
  return out;
}
