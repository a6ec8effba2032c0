/**
 * How to reach one server's serial console: IPMI serial-over-LAN (ipmitool,
 * as Ironic's console does), the iLO's virtual serial port over SSH (the iLO
 * CLI's `vsp`), or `auto` (IPMI first, SSH when IPMI over LAN is off, as it
 * often is on iLO 5 and 6). Both log in with the iLO account.
 */
import { invalidInput } from '../bmc/errors';
import { parseHostKeyFingerprint } from './host-key';

export type ConsoleMethod = 'auto' | 'ipmi' | 'ssh' | 'off';
export const CONSOLE_METHODS: readonly ConsoleMethod[] = ['auto', 'ipmi', 'ssh', 'off'];

export interface ConsoleConfig {
  /** The iLO's address (the same as for RIBCL / Redfish). */
  host: string;
  username: string;
  password: string;
  /** Default `auto`. `off`: this server has no console here. */
  method?: ConsoleMethod;
  /** IPMI's UDP port (default 623). */
  ipmiPort?: number;
  /** RMCP+ cipher suite (default `auto`: 17, else 3). */
  ipmiCipherSuite?: number | 'auto';
  /** SSH port of the iLO CLI (default 22). */
  sshPort?: number;
  /**
   * SHA-256 fingerprint of the iLO's SSH host key: 64 hex digits (colons
   * allowed, as the TLS pin) or OpenSSH's `SHA256:<base64>`. SSH is never
   * used without it: an unknown host key is refused, as an unpinned
   * certificate is.
   */
  sshHostKey?: string;
  /** How long opening the console may take, ms (default 20 000). */
  openTimeoutMs?: number;
  /** Paths of the tools IPMI needs (default: found on PATH). */
  ipmitoolPath?: string;
  scriptPath?: string;
}

export interface ResolvedConsoleConfig {
  host: string;
  username: string;
  password: string;
  method: ConsoleMethod;
  ipmiPort: number;
  ipmiCipherSuite: number | 'auto';
  sshPort: number;
  /** The pinned SHA-256 of the host key (32 bytes), when one is set. */
  sshHostKey?: Buffer;
  openTimeoutMs: number;
  ipmitoolPath?: string;
  scriptPath?: string;
}

const HOST = /^[A-Za-z0-9._:%-]+$/;

function port(v: unknown, field: string, dflt: number): number {
  const n = v === undefined || v === '' ? dflt : Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw invalidInput(field, 'a port number from 1 to 65535', v);
  return n;
}

export function resolveConsoleConfig(c: ConsoleConfig): ResolvedConsoleConfig {
  if (c === null || typeof c !== 'object') throw invalidInput('console', 'an object with host, username and password', c);
  if (typeof c.host !== 'string' || !HOST.test(c.host) || c.host.startsWith('-')) throw invalidInput('host', 'an IP address or host name', c.host);
  if (typeof c.username !== 'string' || c.username === '') throw invalidInput('username', 'the iLO user name');
  if (typeof c.password !== 'string') throw invalidInput('password', 'a string');
  const method = c.method ?? 'auto';
  if (!CONSOLE_METHODS.includes(method)) throw invalidInput('consoleMethod', CONSOLE_METHODS.map((m) => `"${m}"`).join(', '), method);
  const suite = c.ipmiCipherSuite ?? 'auto';
  if (suite !== 'auto' && (!Number.isInteger(suite) || suite < 0 || suite > 17)) throw invalidInput('ipmiCipherSuite', 'an integer from 0 to 17, or "auto"', suite);
  const sshHostKey = c.sshHostKey === undefined || c.sshHostKey.trim() === '' ? undefined : parseHostKeyFingerprint(c.sshHostKey);
  if (method === 'ssh' && !sshHostKey) {
    throw invalidInput('sshHostKey', "the SHA-256 fingerprint of the iLO's SSH host key (fetch it and compare it with the iLO's, as for the certificate)");
  }
  const openTimeoutMs = c.openTimeoutMs ?? 20_000;
  if (!Number.isInteger(openTimeoutMs) || openTimeoutMs < 100) throw invalidInput('openTimeoutMs', 'an integer of at least 100 (ms)', openTimeoutMs);
  return {
    host: c.host,
    username: c.username,
    password: c.password,
    method,
    ipmiPort: port(c.ipmiPort, 'ipmiPort', 623),
    ipmiCipherSuite: suite,
    sshPort: port(c.sshPort, 'sshPort', 22),
    ...(sshHostKey ? { sshHostKey } : {}),
    openTimeoutMs,
    ...(c.ipmitoolPath ? { ipmitoolPath: c.ipmitoolPath } : {}),
    ...(c.scriptPath ? { scriptPath: c.scriptPath } : {}),
  };
}

/** `host:port` for messages (IPv6 in brackets). */
export function targetOf(host: string, p: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${p}`;
}
