/**
 * Ipmitool connection options: validation, defaults, and the global part of
 * every ipmitool command line. The password is never part of it: ipmitool
 * reads it from IPMI_PASSWORD (`-E`).
 */
import { invalidInput } from '../bmc/errors';

export type IpmiInterface = 'lanplus' | 'lan';
export type IpmiPrivilege = 'ADMINISTRATOR' | 'OPERATOR' | 'USER' | 'CALLBACK';

export interface IpmitoolOptions {
  /** BMC address: IPv4, IPv6 or host name. */
  host: string;
  /** UDP port (default 623). */
  port?: number;
  username: string;
  password: string;
  /** `lanplus` (IPMI 2.0 / RMCP+, default) or `lan` (IPMI 1.5). */
  interface?: IpmiInterface;
  /**
   * RMCP+ cipher suite (lanplus only). Default 3 (HMAC-SHA1/AES-128), which
   * every BMC of the iLO 3/4 era accepts. 17 is HMAC-SHA256/AES-128 (iLO 5+).
   * `'auto'` tries 17 and falls back to 3 when the BMC refuses 17, then keeps
   * whichever worked for this instance.
   */
  cipherSuite?: number | 'auto';
  /** Session privilege (default: ipmitool's, ADMINISTRATOR). */
  privilege?: IpmiPrivilege | Lowercase<IpmiPrivilege>;
  /** Limit for one ipmitool run, ms (default 60 000). */
  timeoutMs?: number;
  /**
   * ipmitool's own retransmissions of an unanswered request (`-R`, 1 to 20,
   * default 3). ipmitool backs off between them: 1 gives up after about 2 s
   * with the default interval, 2 after 6 s, 3 after 12 s. (ipmitool reads 0 as
   * "its default", about 20 s, so 0 is refused.)
   */
  retries?: number;
  /** Seconds between those retransmissions (`-N`, default 1). */
  retryIntervalSec?: number;
  /** Path of ipmitool (default `ipmitool` on PATH). */
  ipmitoolPath?: string;
  /** util-linux `script`, which gives `sol activate` the terminal it needs (default `script` on PATH). */
  scriptPath?: string;
}

export interface ResolvedIpmitoolOptions {
  host: string;
  port: number;
  username: string;
  password: string;
  interface: IpmiInterface;
  cipherSuite: number | 'auto';
  privilege?: IpmiPrivilege;
  timeoutMs: number;
  retries: number;
  retryIntervalSec: number;
  ipmitoolPath: string;
  scriptPath: string;
  /** `host:port`, for messages. */
  target: string;
}

const PRIVILEGES: readonly IpmiPrivilege[] = ['ADMINISTRATOR', 'OPERATOR', 'USER', 'CALLBACK'];
const HOST = /^[A-Za-z0-9._:%-]+$/;
/** IPMI limits: 16-byte user names; passwords of 20 bytes (2.0) or 16 bytes (1.5). */
const MAX_USERNAME_BYTES = 16;
const MAX_PASSWORD_BYTES: Record<IpmiInterface, number> = { lanplus: 20, lan: 16 };

export function resolveIpmitoolOptions(o: IpmitoolOptions): ResolvedIpmitoolOptions {
  if (o === null || typeof o !== 'object') throw invalidInput('options', 'an object with host, username and password', o);
  if (typeof o.host !== 'string' || !HOST.test(o.host) || o.host.startsWith('-')) {
    throw invalidInput('host', 'an IP address or host name (letters, digits, ".", "-", ":")', o.host);
  }
  const port = o.port ?? 623;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalidInput('port', 'an integer from 1 to 65535', port);
  const iface = o.interface ?? 'lanplus';
  if (iface !== 'lanplus' && iface !== 'lan') throw invalidInput('interface', '"lanplus" or "lan"', iface);
  if (typeof o.username !== 'string' || o.username.length === 0 || Buffer.byteLength(o.username) > MAX_USERNAME_BYTES || hasControl(o.username)) {
    throw invalidInput('username', `1 to ${MAX_USERNAME_BYTES} bytes without control characters`, o.username);
  }
  // Never echo the password back, not even its length.
  if (typeof o.password !== 'string') throw invalidInput('password', 'a string');
  if (Buffer.byteLength(o.password) > MAX_PASSWORD_BYTES[iface] || o.password.includes('\0')) {
    throw invalidInput('password', `at most ${MAX_PASSWORD_BYTES[iface]} bytes for interface ${iface} (IPMI limit), without NUL`);
  }
  const cipherSuite = o.cipherSuite ?? 3;
  if (cipherSuite !== 'auto' && (!Number.isInteger(cipherSuite) || cipherSuite < 0 || cipherSuite > 17)) {
    throw invalidInput('cipherSuite', 'an integer from 0 to 17, or "auto"', cipherSuite);
  }
  let privilege: IpmiPrivilege | undefined;
  if (o.privilege !== undefined) {
    privilege = String(o.privilege).toUpperCase() as IpmiPrivilege;
    if (!PRIVILEGES.includes(privilege)) throw invalidInput('privilege', PRIVILEGES.join(', '), o.privilege);
  }
  const timeoutMs = o.timeoutMs ?? 60_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100) throw invalidInput('timeoutMs', 'an integer of at least 100 (ms)', timeoutMs);
  const retries = o.retries ?? 3;
  if (!Number.isInteger(retries) || retries < 1 || retries > 20) throw invalidInput('retries', 'an integer from 1 to 20', retries);
  const retryIntervalSec = o.retryIntervalSec ?? 1;
  if (!Number.isInteger(retryIntervalSec) || retryIntervalSec < 1 || retryIntervalSec > 60) {
    throw invalidInput('retryIntervalSec', 'an integer from 1 to 60 (seconds)', retryIntervalSec);
  }
  const ipmitoolPath = o.ipmitoolPath ?? 'ipmitool';
  const scriptPath = o.scriptPath ?? 'script';
  for (const [field, v] of [['ipmitoolPath', ipmitoolPath], ['scriptPath', scriptPath]] as const) {
    if (typeof v !== 'string' || v.length === 0 || hasControl(v)) throw invalidInput(field, 'a program name or path', v);
  }
  return {
    host: o.host,
    port,
    username: o.username,
    password: o.password,
    interface: iface,
    cipherSuite,
    privilege,
    timeoutMs,
    retries,
    retryIntervalSec,
    ipmitoolPath,
    scriptPath,
    target: `${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`,
  };
}

/**
 * The connection part of an ipmitool command line, for one cipher suite.
 * `verbose` adds `-v`: ipmitool then says on stderr *why* a session failed
 * (wrong password vs. no answer), which its plain message does not.
 */
export function connectionArgs(o: ResolvedIpmitoolOptions, cipherSuite: number, verbose: boolean): string[] {
  const args = ['-I', o.interface, '-H', o.host, '-p', String(o.port), '-U', o.username];
  // An empty password is not a secret; ipmitool's -E refuses an empty variable.
  args.push(...(o.password === '' ? ['-P', ''] : ['-E']));
  if (o.interface === 'lanplus') args.push('-C', String(cipherSuite));
  if (o.privilege) args.push('-L', o.privilege);
  args.push('-N', String(o.retryIntervalSec), '-R', String(o.retries));
  if (verbose) args.push('-v');
  return args;
}

/** The environment that carries the password to ipmitool. */
export function passwordEnv(o: ResolvedIpmitoolOptions): Record<string, string> {
  return o.password === '' ? {} : { IPMI_PASSWORD: o.password };
}

function hasControl(s: string): boolean {
  // eslint-disable-next-line no-control-regex -- looking for control characters is the point
  return /[\u0000-\u001f\u007f]/.test(s);
}
