/**
 * One server of a fleet inventory: what is needed to reach its iLO (address,
 * port, protocol, TLS trust) and what an operator knows about it (MACs, pool,
 * capabilities, notes). Credentials are not part of it: they travel beside it
 * as a `ServerSecret` and are kept in Node-RED's credential store.
 *
 * Every input (an import file, the editor's table, a message) is turned into
 * a `ServerDraft` whose values remember the field and line they came from,
 * and checked here, so that an error always names them.
 */
import { randomBytes } from 'node:crypto';
import { formatFingerprint } from '../bmc/certificate';
import { normaliseFingerprint, normaliseHost, TLS_MODES, type TlsMode } from '../bmc/endpoint';
import { BmcError } from '../bmc/errors';
import type { BmcProtocolChoice } from '../bmc/connect';
import { CONSOLE_METHODS, type ConsoleMethod } from '../console/config';
import { parseHostKeyFingerprint } from '../console/host-key';
import { InventoryError } from './errors';

export const PROTOCOLS: readonly BmcProtocolChoice[] = ['auto', 'ribcl', 'redfish'];

export interface InventoryServer {
  /** Stable key of the server's credentials: a rename keeps them. Not shown to operators. */
  id: string;
  /** What flows call the server by (msg.server). */
  name: string;
  host: string;
  port: number;
  protocol: BmcProtocolChoice;
  tlsMode: TlsMode;
  /** PEM file of the CA that signed the iLO's certificate (tlsMode "ca"). */
  caFile?: string;
  /** SHA-256 of the iLO's certificate, colon-separated upper-case hex (tlsMode "pinned"). */
  fingerprint?: string;
  /** Host NIC MAC addresses, lower-case, colon-separated. */
  macs: string[];
  pool?: string;
  /** Ironic's capabilities string: "boot_mode:uefi,secure_boot:true". */
  capabilities?: string;
  /**
   * Ironic's node properties the operator states, in the same form:
   * "memory_mb:262144,cpus:64,local_gb:1787,cpu_arch:x86_64". A pool deploy
   * reads them before what an inspection found.
   */
  properties?: string;
  notes?: string;
  /** The Ironic/Bifrost node UUID, kept when an import carries one. */
  uuid?: string;
  /**
   * Serial console, as an ilo-config sets it: `auto` (IPMI serial-over-LAN,
   * then the iLO's SSH virtual serial port), `ipmi`, `ssh` or `off`. Absent:
   * auto. The console logs in with the server's iLO account.
   */
  consoleMethod?: ConsoleMethod;
  /** IPMI over LAN UDP port (absent: 623). */
  ipmiPort?: number;
  /** iLO CLI SSH port (absent: 22). */
  sshPort?: number;
  /** Pinned SHA-256 of the iLO's SSH host key, as written (64 hex digits or SHA256:<base64>); required for `ssh`. */
  sshHostKey?: string;
}

/** A server's own iLO account; absent parts come from the fleet's default account. */
export interface ServerSecret {
  username?: string;
  password?: string;
}

/** A value with where it came from. */
export interface Sourced {
  value: unknown;
  /** The field as the input names it. */
  field: string;
  line?: number;
}

export type DraftKey =
  | 'id'
  | 'name'
  | 'uuid'
  | 'host'
  | 'port'
  | 'protocol'
  | 'username'
  | 'password'
  | 'tlsMode'
  | 'caFile'
  | 'fingerprint'
  /** Ironic's ilo_verify_ca: true (verify), false (insecure) or a CA file path. */
  | 'verifyCa'
  | 'macs'
  | 'pool'
  | 'capabilities'
  | 'properties'
  | 'notes'
  | 'consoleMethod'
  | 'ipmiPort'
  | 'sshPort'
  | 'sshHostKey';

export interface ServerDraft {
  fields: Partial<Record<DraftKey, Sourced>>;
  /** Line of the entry (its first line), for errors about the entry as a whole. */
  line?: number;
  /** How the input names the entry when the name itself is missing (e.g. a mapping key). */
  entry?: string;
}

export interface CheckedServer {
  server: InventoryServer;
  secret: ServerSecret;
  line?: number;
  /** Where the address came from, for "this iLO is already X" errors found later. */
  hostAt?: { field: string; line?: number };
}

export const LIMITS = {
  name: 64,
  pool: 64,
  notes: 2000,
  capabilities: 1024,
  properties: 1024,
  macs: 64,
  username: 128,
  password: 256,
  caFile: 1024,
};

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;
const POOL = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const CAPABILITY = /^[A-Za-z0-9_.-]+:[^,:]*$/;
const MAC = /^[0-9a-f]{2}([:-]?[0-9a-f]{2}){5}$/i;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** A fresh server id (12 hex digits). */
export function newServerId(): string {
  return randomBytes(6).toString('hex');
}

function fail(s: Sourced, expected: string, server?: string): never {
  const v = s.value;
  const shown = typeof v === 'string' ? (v.length > 40 ? ` (got "${v.slice(0, 40)}…")` : ` (got "${v}")`) : typeof v === 'number' || typeof v === 'boolean' ? ` (got ${String(v)})` : v === null ? ' (got null)' : ` (got ${typeof v})`;
  throw new InventoryError(s.field, `expected ${expected}`, { line: s.line, server, got: shown });
}

/** A text value: strings trimmed, numbers as their text; empty is undefined. */
function textOf(s: Sourced | undefined, server?: string): string | undefined {
  if (!s || s.value === undefined || s.value === null) return undefined;
  if (typeof s.value === 'number' && Number.isFinite(s.value)) return String(s.value);
  if (typeof s.value !== 'string') fail(s, 'a text value', server);
  // Lone surrogates and control characters have no place in any of these fields.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s.value) || LONE_SURROGATE.test(s.value)) fail(s, 'text without control characters', server);
  const t = s.value.trim();
  return t === '' ? undefined : t;
}

function limited(s: Sourced, t: string, max: number, what: string, server?: string): string {
  if (t.length > max) fail(s, `${what} of at most ${max} characters`, server);
  return t;
}

function portOf(s: Sourced | undefined, server?: string): number {
  if (!s || s.value === undefined || s.value === null || s.value === '') return 443;
  const n = typeof s.value === 'string' && /^\s*\d+\s*$/.test(s.value) ? Number(s.value) : s.value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) fail(s, 'a TCP port between 1 and 65535', server);
  return n;
}

/** An optional port (UDP or TCP): absent or empty is undefined. */
function optionalPortOf(s: Sourced | undefined, server?: string): number | undefined {
  if (!s || s.value === undefined || s.value === null || s.value === '') return undefined;
  if (typeof s.value === 'string' && s.value.trim() === '') return undefined;
  return portOf(s, server);
}

function macsOf(s: Sourced | undefined, server?: string): string[] {
  if (!s || s.value === undefined || s.value === null || s.value === '') return [];
  const items: unknown[] = Array.isArray(s.value) ? s.value : typeof s.value === 'string' ? s.value.split(/[\s,;]+/).filter((m) => m !== '') : [s.value];
  if (items.length > LIMITS.macs) fail(s, `at most ${LIMITS.macs} MAC addresses`, server);
  const out: string[] = [];
  for (const m of items) {
    if (typeof m !== 'string' || !MAC.test(m.trim())) fail({ ...s, value: m }, 'MAC addresses such as 94:18:82:6e:4a:10', server);
    const hex = m.trim().replace(/[:-]/g, '').toLowerCase();
    const mac = hex.match(/../g)!.join(':');
    if (!out.includes(mac)) out.push(mac);
  }
  return out;
}

/** Ironic's capabilities (or properties): "k:v,k:v" or a mapping {k: v}; returned as the string, keys in the given order. */
function capabilitiesOf(s: Sourced | undefined, server?: string, what: 'capabilities' | 'properties' = 'capabilities'): string | undefined {
  if (!s || s.value === undefined || s.value === null || s.value === '') return undefined;
  let parts: string[];
  if (typeof s.value === 'object' && !Array.isArray(s.value)) {
    parts = Object.entries(s.value as Record<string, unknown>).map(([k, v]) => `${k}:${typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '?'}`);
  } else {
    const t = textOf(s, server);
    if (t === undefined) return undefined;
    parts = t.split(',').map((p) => p.trim()).filter((p) => p !== '');
  }
  const example = what === 'capabilities' ? 'boot_mode:uefi,secure_boot:true' : 'memory_mb:262144,cpus:64';
  for (const p of parts) if (!CAPABILITY.test(p)) fail(s, `${what} as Ironic writes them: "${example}"`, server);
  const joined = parts.join(',');
  return joined === '' ? undefined : limited(s, joined, LIMITS[what], what, server);
}

function booleanish(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v !== 'string') return undefined;
  const t = v.trim().toLowerCase();
  if (['true', 'yes', '1', 'on'].includes(t)) return true;
  if (['false', 'no', '0', 'off'].includes(t)) return false;
  return undefined;
}

/** TLS trust from either the explicit mode or Ironic's ilo_verify_ca, plus a fingerprint that means "pinned". */
function tlsOf(f: ServerDraft['fields'], server?: string): Pick<InventoryServer, 'tlsMode' | 'caFile' | 'fingerprint'> {
  const fpText = textOf(f.fingerprint, server);
  let fingerprint: string | undefined;
  if (fpText !== undefined) {
    try {
      fingerprint = formatFingerprint(normaliseFingerprint(fpText));
    } catch {
      fail(f.fingerprint!, 'a SHA-256 certificate fingerprint: 64 hex digits, colons optional', server);
    }
  }
  let caFile = textOf(f.caFile, server);
  let mode: TlsMode | undefined;
  const modeText = textOf(f.tlsMode, server);
  if (modeText !== undefined) {
    if (!(TLS_MODES as readonly string[]).includes(modeText)) fail(f.tlsMode!, `one of ${TLS_MODES.join(', ')}`, server);
    mode = modeText as TlsMode;
  } else if (fingerprint) {
    mode = 'pinned';
  } else if (f.verifyCa && f.verifyCa.value !== undefined && f.verifyCa.value !== null && f.verifyCa.value !== '') {
    const b = booleanish(f.verifyCa.value);
    if (b !== undefined) mode = b ? 'verify' : 'insecure';
    else {
      const path = textOf(f.verifyCa, server);
      if (!path || !path.startsWith('/')) fail(f.verifyCa, 'true, false, or the absolute path of a CA file', server);
      mode = 'ca';
      caFile = path;
    }
  }
  mode ??= 'verify';
  if (mode === 'pinned' && !fingerprint) {
    throw new InventoryError(f.fingerprint?.field ?? f.tlsMode?.field ?? 'fingerprint', 'expected the certificate fingerprint to pin (TLS mode "pinned")', { line: (f.fingerprint ?? f.tlsMode)?.line, server });
  }
  if (mode === 'ca') {
    const src = f.caFile ?? f.verifyCa ?? f.tlsMode;
    if (!caFile || !caFile.startsWith('/')) throw new InventoryError(src?.field ?? 'caFile', 'expected the absolute path of the CA file (TLS mode "ca")', { line: src?.line, server });
    limited(src!, caFile, LIMITS.caFile, 'a path', server);
  }
  return { tlsMode: mode, ...(mode === 'ca' ? { caFile } : {}), ...(mode === 'pinned' ? { fingerprint } : {}) };
}

/** The serial console settings; `ssh` needs the pinned host key (an unknown key is never trusted). */
function consoleOf(f: ServerDraft['fields'], server: string): Pick<InventoryServer, 'consoleMethod' | 'ipmiPort' | 'sshPort' | 'sshHostKey'> {
  const out: Pick<InventoryServer, 'consoleMethod' | 'ipmiPort' | 'sshPort' | 'sshHostKey'> = {};
  const methodText = textOf(f.consoleMethod, server)?.toLowerCase();
  if (methodText !== undefined) {
    // "none" reads as "off", the word ilo-config uses.
    const m = methodText === 'none' ? 'off' : methodText;
    if (!(CONSOLE_METHODS as readonly string[]).includes(m)) fail(f.consoleMethod!, `one of ${CONSOLE_METHODS.join(', ')} (or none)`, server);
    out.consoleMethod = m as ConsoleMethod;
  }
  const ipmiPort = optionalPortOf(f.ipmiPort, server);
  if (ipmiPort !== undefined) out.ipmiPort = ipmiPort;
  const sshPort = optionalPortOf(f.sshPort, server);
  if (sshPort !== undefined) out.sshPort = sshPort;
  const key = textOf(f.sshHostKey, server);
  if (key !== undefined) {
    try {
      parseHostKeyFingerprint(key);
    } catch {
      fail(f.sshHostKey!, "the SHA-256 fingerprint of the iLO's SSH host key: 64 hex digits (colons allowed) or SHA256:<base64> as ssh-keygen -l prints it", server);
    }
    out.sshHostKey = key;
  }
  if (out.consoleMethod === 'ssh' && out.sshHostKey === undefined) {
    const src = f.sshHostKey ?? f.consoleMethod!;
    throw new InventoryError(src.field, `expected the SHA-256 fingerprint of the iLO's SSH host key (console method "ssh": an unknown host key is never trusted)`, { line: src.line, server });
  }
  return out;
}

/**
 * Checks one draft and returns the server and its secret, or throws an
 * InventoryError naming the line and field. `id` is kept when valid, else a
 * new one is made (the caller may replace it with an existing server's).
 */
export function checkServer(draft: ServerDraft): CheckedServer {
  const f = draft.fields;
  const nameText = textOf(f.name, draft.entry);
  if (nameText === undefined) throw new InventoryError(f.name?.field ?? 'name', 'expected the server name', { line: f.name?.line ?? draft.line, server: draft.entry });
  const name = limited(f.name!, nameText, LIMITS.name, 'a name', draft.entry);
  if (!NAME.test(name)) fail(f.name!, 'a name of letters, digits and . _ : @ - (starting with a letter or digit)', draft.entry);
  const hostText = textOf(f.host, name);
  if (hostText === undefined) throw new InventoryError(f.host?.field ?? 'host', 'expected the iLO address (host name or IP address)', { line: f.host?.line ?? draft.line, server: name });
  let host: string;
  try {
    host = normaliseHost(hostText);
  } catch (err) {
    if (!(err instanceof BmcError)) throw err;
    fail(f.host!, 'a host name, IPv4 or IPv6 address', name);
  }
  const protocolText = textOf(f.protocol, name) ?? 'auto';
  if (!(PROTOCOLS as readonly string[]).includes(protocolText)) fail(f.protocol!, `one of ${PROTOCOLS.join(', ')}`, name);
  const server: InventoryServer = {
    id: typeof f.id?.value === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(f.id.value) ? f.id.value : newServerId(),
    name,
    host,
    port: portOf(f.port, name),
    protocol: protocolText as BmcProtocolChoice,
    ...tlsOf(f, name),
    macs: macsOf(f.macs, name),
    ...consoleOf(f, name),
  };
  const pool = textOf(f.pool, name);
  if (pool !== undefined) {
    if (!POOL.test(limited(f.pool!, pool, LIMITS.pool, 'a pool name', name))) fail(f.pool!, 'a pool name of letters, digits and . _ -', name);
    server.pool = pool;
  }
  const caps = capabilitiesOf(f.capabilities, name);
  if (caps !== undefined) server.capabilities = caps;
  const props = capabilitiesOf(f.properties, name, 'properties');
  if (props !== undefined) server.properties = props;
  const notes = textOf(f.notes, name);
  if (notes !== undefined) server.notes = limited(f.notes!, notes, LIMITS.notes, 'notes', name);
  const uuid = textOf(f.uuid, name);
  if (uuid !== undefined) {
    if (!UUID.test(uuid)) fail(f.uuid!, 'a UUID', name);
    server.uuid = uuid.toLowerCase();
  }
  const secret: ServerSecret = {};
  const username = textOf(f.username, name);
  if (username !== undefined) secret.username = limited(f.username!, username, LIMITS.username, 'a user name', name);
  if (f.password && f.password.value !== undefined && f.password.value !== null && f.password.value !== '') {
    // Passwords are taken as written (no trimming), and never shown in an error.
    const p = f.password.value;
    if (typeof p !== 'string' && typeof p !== 'number') throw new InventoryError(f.password.field, 'expected the password as text', { line: f.password.line, server: name });
    const password = String(p);
    if (password.length > LIMITS.password) throw new InventoryError(f.password.field, `expected a password of at most ${LIMITS.password} characters`, { line: f.password.line, server: name });
    secret.password = password;
  }
  return { server, secret, ...(draft.line !== undefined ? { line: draft.line } : {}), hostAt: { field: f.host!.field, line: f.host!.line } };
}

/** `host:port` as a key for "two servers are the same iLO" (IPv6 bracketed). */
export function addressKey(s: Pick<InventoryServer, 'host' | 'port'>): string {
  const h = s.host.toLowerCase();
  return `${h.includes(':') ? `[${h}]` : h}:${s.port}`;
}

/** A server row as the flow stores it (the fleet node's `servers` setting), checked like an import. */
export function draftFromRow(row: unknown, index: number, prefix = 'servers'): ServerDraft {
  const r = (typeof row === 'object' && row !== null && !Array.isArray(row) ? row : {}) as Record<string, unknown>;
  const fields: ServerDraft['fields'] = {};
  const keys: DraftKey[] = ['id', 'name', 'uuid', 'host', 'port', 'protocol', 'tlsMode', 'caFile', 'fingerprint', 'macs', 'pool', 'capabilities', 'properties', 'notes', 'consoleMethod', 'ipmiPort', 'sshPort', 'sshHostKey'];
  for (const k of keys) if (r[k] !== undefined) fields[k] = { value: r[k], field: `${prefix}[${index}].${k}` };
  return { fields, entry: typeof r.name === 'string' ? r.name : `${prefix}[${index}]` };
}
