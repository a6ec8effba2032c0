/**
 * Import and export of a fleet inventory as CSV, JSON or YAML.
 *
 * An import is all or nothing: the whole file is read and checked (every
 * field, names and iLO addresses unique, the size of the result) before a
 * plan is returned, and the caller applies the plan in one step. The first
 * problem stops it, with its line and field. An export never carries a
 * credential.
 */
import { stringify } from 'yaml';
import { InventoryError } from './errors';
import { documentDrafts, toBifrost } from './formats/bifrost';
import { csvDrafts, writeCsv } from './formats/csv';
import { addressKey, checkServer, newServerId, type CheckedServer, type InventoryServer, type ServerDraft, type ServerSecret } from './model';

export type InventoryFormat = 'csv' | 'json' | 'yaml';
export const FORMATS: readonly InventoryFormat[] = ['csv', 'json', 'yaml'];

export type ImportMode = 'merge' | 'replace';

export const IMPORT_LIMITS = {
  /** Bytes of an import file. */
  bytes: 8 * 1024 * 1024,
  /** Servers in one fleet. */
  servers: 10_000,
};

export interface ParsedInventory {
  format: InventoryFormat;
  servers: CheckedServer[];
}

/** The format from the text itself: JSON starts with { or [, CSV has a comma before any colon on its first line, else YAML. */
export function detectFormat(text: string): InventoryFormat {
  const body = text.replace(/^\uFEFF/, '');
  const first = /^\s*(\S)/.exec(body)?.[1];
  if (first === '{' || first === '[') return 'json';
  const line = body.split(/\r?\n/).find((l) => l.trim() !== '' && !l.trim().startsWith('#')) ?? '';
  const comma = line.indexOf(',');
  const colon = line.indexOf(':');
  return comma >= 0 && (colon < 0 || comma < colon) ? 'csv' : 'yaml';
}

export function parseFormat(v: unknown, field = 'format'): InventoryFormat | 'auto' {
  if (v === undefined || v === null || v === '' || v === 'auto') return 'auto';
  const t = typeof v === 'string' ? v.trim().toLowerCase().replace(/^\./, '') : '';
  if (t === 'yml') return 'yaml';
  if ((FORMATS as readonly string[]).includes(t)) return t as InventoryFormat;
  throw new InventoryError(field, `expected one of auto, ${FORMATS.join(', ')}${typeof v === 'string' ? ` (got "${v.slice(0, 20)}")` : ''}`);
}

/**
 * Reads and checks a whole inventory file. Throws an InventoryError (with
 * line and field) at the first problem.
 */
export function parseInventory(input: string | Buffer, opts: { format?: InventoryFormat | 'auto'; maxBytes?: number; maxServers?: number; quoteValues?: boolean } = {}): ParsedInventory {
  if (opts.quoteValues === false) {
    // Where the error travels on (logs, Catch nodes), the file's values stay out of it: a shifted CSV row can put a password under any column.
    try {
      return parseInventory(input, { ...opts, quoteValues: true });
    } catch (err) {
      throw err instanceof InventoryError ? err.withoutValue() : err;
    }
  }
  const maxBytes = opts.maxBytes ?? IMPORT_LIMITS.bytes;
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > maxBytes) throw new InventoryError('file', `expected at most ${maxBytes} bytes (got ${size})`);
  const text = typeof input === 'string' ? input : input.toString('utf8');
  if (text.includes('\u0000')) throw new InventoryError('file', 'expected a text file (CSV, JSON or YAML), not binary data');
  const format = !opts.format || opts.format === 'auto' ? detectFormat(text) : opts.format;
  const drafts: ServerDraft[] = format === 'csv' ? csvDrafts(text) : documentDrafts(text, format);
  const maxServers = opts.maxServers ?? IMPORT_LIMITS.servers;
  if (drafts.length > maxServers) throw new InventoryError('file', `expected at most ${maxServers} servers (got ${drafts.length})`, { line: drafts[maxServers]?.line });
  const servers: CheckedServer[] = [];
  const names = new Map<string, CheckedServer>();
  const addresses = new Map<string, CheckedServer>();
  // A row with a value too few or too many puts a password under another column, whose error shows the value: never the password.
  const passwords = drafts.map((d) => d.fields.password?.value).filter((p): p is string => typeof p === 'string' && p.length >= 3);
  const check = (d: ServerDraft): CheckedServer => {
    try {
      return checkServer(d);
    } catch (err) {
      if (err instanceof InventoryError) for (const p of passwords) if (err.message.includes(p)) err.message = err.message.split(p).join('***');
      throw err;
    }
  };
  for (const d of drafts) {
    const c = check(d);
    const sameName = names.get(c.server.name);
    if (sameName) {
      throw new InventoryError(d.fields.name?.field ?? 'name', `"${c.server.name}" is already the name of the server at line ${sameName.line ?? '?'} (names must be unique)`, { line: d.fields.name?.line ?? d.line, server: c.server.name });
    }
    const key = addressKey(c.server);
    const sameAddress = addresses.get(key);
    if (sameAddress) {
      throw new InventoryError(d.fields.host?.field ?? 'host', `${key} is already the iLO of "${sameAddress.server.name}" (line ${sameAddress.line ?? '?'})`, { line: d.fields.host?.line ?? d.line, server: c.server.name });
    }
    names.set(c.server.name, c);
    addresses.set(key, c);
    servers.push(c);
  }
  return { format, servers };
}

export interface ImportPlan {
  /** The whole inventory after the import. */
  servers: InventoryServer[];
  /** Credentials the file gave, by server id (others keep what is stored). */
  secrets: Map<string, ServerSecret>;
  added: string[];
  updated: string[];
  /** Servers that a "replace" import leaves out. */
  removed: string[];
}

/**
 * What the inventory becomes: "merge" adds the file's new servers and
 * updates those it names; "replace" makes the file the whole inventory. A
 * server keeps its id (so its stored credentials) whenever its name stays.
 */
export function planImport(current: readonly InventoryServer[], parsed: ParsedInventory, mode: ImportMode = 'merge', maxServers = IMPORT_LIMITS.servers): ImportPlan {
  if (mode !== 'merge' && mode !== 'replace') throw new InventoryError('mode', `expected merge or replace (got "${String(mode).slice(0, 20)}")`);
  const byName = new Map(current.map((s) => [s.name, s]));
  const incoming = new Map<string, InventoryServer>();
  const secrets = new Map<string, ServerSecret>();
  const added: string[] = [];
  const updated: string[] = [];
  const usedIds = new Set(current.map((s) => s.id));
  for (const c of parsed.servers) {
    const existing = byName.get(c.server.name);
    let id = existing?.id ?? c.server.id;
    if (!existing) {
      while (usedIds.has(id)) id = newServerId();
      usedIds.add(id);
      added.push(c.server.name);
    } else updated.push(c.server.name);
    incoming.set(c.server.name, { ...c.server, id });
    if (c.secret.username !== undefined || c.secret.password !== undefined) secrets.set(id, c.secret);
  }
  let servers: InventoryServer[];
  let removed: string[] = [];
  if (mode === 'replace') {
    servers = [...incoming.values()];
    removed = current.filter((s) => !incoming.has(s.name)).map((s) => s.name);
  } else {
    servers = current.map((s) => incoming.get(s.name) ?? s);
    for (const name of added) servers.push(incoming.get(name)!);
  }
  if (servers.length > maxServers) throw new InventoryError('file', `expected an inventory of at most ${maxServers} servers (the import would make ${servers.length})`);
  // A kept server and an imported one must not be the same iLO.
  const byAddress = new Map<string, InventoryServer>();
  for (const s of servers) {
    const key = addressKey(s);
    const other = byAddress.get(key);
    if (other) {
      const imported = incoming.get(s.name) === s ? s : other;
      const kept = imported === s ? other : s;
      const at = parsed.servers.find((x) => x.server.name === imported.name)?.hostAt;
      throw new InventoryError(at?.field ?? 'host', `${key} is already the iLO of "${kept.name}" in the inventory`, { line: at?.line, server: imported.name });
    }
    byAddress.set(key, s);
  }
  return { servers, secrets, added, updated, removed };
}

/** The inventory as text; never a credential. */
export function exportInventory(servers: readonly InventoryServer[], format: InventoryFormat): string {
  switch (format) {
    case 'csv':
      return writeCsv(servers);
    case 'json':
      return `${JSON.stringify(toBifrost(servers), null, 2)}\n`;
    case 'yaml':
      return stringify(toBifrost(servers), { lineWidth: 0 });
    default:
      throw new InventoryError('format', `expected one of ${FORMATS.join(', ')}`);
  }
}
