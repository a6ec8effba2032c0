/**
 * JSON and YAML inventories in Bifrost's shape: a mapping from node name to
 * an Ironic-like node (name, uuid, driver, driver_info, nics, properties,
 * host_groups, description). The iLO fields are Ironic's ilo driver_info
 * keys (ilo_address, client_port, ilo_username, ilo_password,
 * ilo_verify_ca); redfish_address/_username/_password/_verify_ca are read for
 * the redfish driver. Fields this package adds: driver_info.ilo_protocol
 * (auto, ribcl, redfish) and driver_info.ilo_tls_fingerprint (pin the iLO's
 * certificate), and the serial console's driver_info.console_method (auto,
 * ipmi, ssh, off), ipmi_port (Ironic's name), ssh_port and ssh_host_key
 * (also read as ilo-config names them: consoleMethod, ipmiPort...). The
 * nested driver_info.power block of older Bifrost files
 * is read too. Other Bifrost and Ironic fields (instance_info, ipv4_address,
 * properties.cpu_arch...) are allowed and ignored; an unknown ilo_* key is
 * refused, as it is most likely a typo. A list of such nodes is accepted too.
 *
 * Values are read as plain data (JSON.parse, or the YAML parser), and the
 * line of every key is kept beside them in a map by path, so that an error
 * names its line: for JSON by one linear scan of the text, for YAML from
 * the parser's node positions.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Node as YamlNode } from 'yaml';
import { InventoryError } from '../errors';
import type { DraftKey, InventoryServer, ServerDraft, Sourced } from '../model';

const DRIVERS = ['ilo', 'ilo5', 'redfish'];
const MAC = /^[0-9a-f]{2}([:-]?[0-9a-f]{2}){5}$/i;

/** driver_info keys read, by the model field they fill. */
const ILO_KEYS: Record<string, DraftKey> = {
  ilo_address: 'host',
  client_port: 'port',
  ilo_username: 'username',
  ilo_password: 'password',
  ilo_verify_ca: 'verifyCa',
  ca_file: 'caFile',
  ilo_protocol: 'protocol',
  ilo_tls_fingerprint: 'fingerprint',
};
/** The serial console's driver_info keys (Ironic's ipmi_port; the others this package's). */
const CONSOLE_KEYS: Record<string, DraftKey> = {
  console_method: 'consoleMethod',
  consoleMethod: 'consoleMethod',
  ipmi_port: 'ipmiPort',
  ipmiPort: 'ipmiPort',
  ssh_port: 'sshPort',
  sshPort: 'sshPort',
  ssh_host_key: 'sshHostKey',
  sshHostKey: 'sshHostKey',
};
const REDFISH_KEYS: Record<string, DraftKey> = {
  redfish_username: 'username',
  redfish_password: 'password',
  redfish_verify_ca: 'verifyCa',
};
/** Ironic ilo keys this package has no use for, which are not typos. */
const ILO_IGNORED = new Set(['ilo_deploy_iso', 'ilo_rescue_iso', 'ilo_bootloader', 'ilo_kernel', 'ilo_ramdisk', 'ilo_change_password', 'ilo_add_certificates', 'ilo_boot_iso', 'ilo_deploy_kernel', 'ilo_deploy_ramdisk', 'ilo_rescue_kernel', 'ilo_rescue_ramdisk']);

/** Line of each key (or list item) by its path. */
type Lines = Map<string, number>;
const pathKey = (path: readonly (string | number)[]): string => path.join('\u0000');

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

class Reader {
  constructor(private readonly lines: Lines) {}

  line(path: readonly (string | number)[]): number | undefined {
    // The nearest path that has a line: a value on the line of its key.
    for (let n = path.length; n > 0; n--) {
      const l = this.lines.get(pathKey(path.slice(0, n)));
      if (l !== undefined) return l;
    }
    return undefined;
  }

  sourced(value: unknown, path: readonly (string | number)[], field: string): Sourced {
    return { value, field, line: this.line(path) };
  }
}

function fieldName(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** `https://host:port/...` or a bare host: host and port as drafts. */
function redfishAddress(s: Sourced): { host: Sourced; port?: Sourced } {
  if (typeof s.value !== 'string') return { host: s };
  const v = s.value.trim();
  if (!v.includes('://')) return { host: { ...s, value: v } };
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new InventoryError(s.field, `expected an https:// URL or a host (got "${v.slice(0, 60)}")`, { line: s.line });
  }
  if (url.protocol !== 'https:') throw new InventoryError(s.field, 'expected an https:// URL (iLOs answer Redfish over HTTPS only)', { line: s.line });
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return { host: { ...s, value: host }, ...(url.port ? { port: { ...s, value: Number(url.port) } } : {}) };
}

function draftFrom(r: Reader, entry: unknown, base: Array<string | number>, key: string | undefined): ServerDraft {
  const where = fieldName(base);
  const entryLine = r.line(base);
  if (!isObj(entry)) throw new InventoryError(where, "expected a mapping with the node's fields (name, driver_info, nics...)", { line: entryLine });
  const fields: ServerDraft['fields'] = {};
  const at = (...p: Array<string | number>): { path: Array<string | number>; field: string } => ({ path: [...base, ...p], field: fieldName([...base, ...p]) });
  const src = (value: unknown, ...p: Array<string | number>): Sourced => {
    const a = at(...p);
    return r.sourced(value, a.path, a.field);
  };
  for (const k of ['name', 'uuid', 'pool'] as const) if (entry[k] !== undefined) fields[k] = src(entry[k], k);
  for (const k of ['description', 'notes']) if (entry[k] !== undefined) fields.notes = src(entry[k], k);
  let driver: string | undefined;
  if (entry.driver !== undefined) {
    const d = src(entry.driver, 'driver');
    if (typeof d.value !== 'string' || !DRIVERS.includes(d.value.trim())) {
      throw new InventoryError(d.field, `expected ${DRIVERS.join(', ')} (this inventory is for HPE iLOs)${typeof d.value === 'string' ? ` (got "${d.value.slice(0, 40)}")` : ''}`, { line: d.line });
    }
    driver = d.value.trim();
  }
  // driver_info, with the nested blocks of older Bifrost files (power, management, deploy, console).
  const info: Array<{ key: string; value: unknown; path: Array<string | number> }> = [];
  if (entry.driver_info !== undefined) {
    if (!isObj(entry.driver_info)) throw new InventoryError(at('driver_info').field, 'expected a mapping (ilo_address, ilo_username, ...)', { line: r.line(at('driver_info').path) });
    for (const [k, v] of Object.entries(entry.driver_info)) {
      info.push({ key: k, value: v, path: ['driver_info', k] });
      if (['power', 'management', 'deploy', 'console'].includes(k) && isObj(v)) for (const [k2, v2] of Object.entries(v)) info.push({ key: k2, value: v2, path: ['driver_info', k, k2] });
    }
  }
  let redfish: { host: Sourced; port?: Sourced } | undefined;
  for (const { key: k, value, path } of info) {
    const s = src(value, ...path);
    const model = ILO_KEYS[k];
    if (model) fields[model] = s;
    else if (CONSOLE_KEYS[k]) fields[CONSOLE_KEYS[k]!] = s;
    else if (k === 'redfish_address') redfish = redfishAddress(s);
    else if (REDFISH_KEYS[k]) fields[REDFISH_KEYS[k]!] ??= s;
    else if (k.startsWith('ilo_') && !ILO_IGNORED.has(k)) throw new InventoryError(s.field, `expected one of ${Object.keys(ILO_KEYS).join(', ')} (an unknown ilo_ key is most likely a typo)`, { line: s.line });
  }
  if (!fields.host && redfish) {
    fields.host = redfish.host;
    if (redfish.port && !fields.port) fields.port = redfish.port;
  }
  fields.host ??= { value: undefined, field: at('driver_info', 'ilo_address').field, line: entryLine };
  if (!fields.protocol && driver === 'redfish') fields.protocol = src('redfish', 'driver');
  if (entry.nics !== undefined) {
    if (!Array.isArray(entry.nics)) throw new InventoryError(at('nics').field, 'expected a list of {mac: ...}', { line: r.line(at('nics').path) });
    const macs: string[] = [];
    entry.nics.forEach((nic: unknown, i: number) => {
      const mac = src(isObj(nic) ? nic.mac : undefined, 'nics', i, 'mac');
      if (typeof mac.value !== 'string' || !MAC.test(mac.value.trim())) {
        throw new InventoryError(mac.field, `expected the port's MAC address, such as 94:18:82:6e:4a:10${typeof mac.value === 'string' ? ` (got "${mac.value.slice(0, 40)}")` : ''}`, { line: mac.line, server: key });
      }
      macs.push(mac.value);
    });
    fields.macs = src(macs, 'nics');
  }
  if (isObj(entry.properties)) {
    if (entry.properties.capabilities !== undefined) fields.capabilities = src(entry.properties.capabilities, 'properties', 'capabilities');
    // The rest are the node's properties, under Ironic's names (Bifrost writes ram and disk_size for memory_mb and local_gb);
    // structured ones (root_device hints) are not facts a pool matches, and are left out.
    const props: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(entry.properties)) {
      if (k !== 'capabilities' && v !== '' && ['string', 'number', 'boolean'].includes(typeof v)) props[BIFROST_PROPERTY_NAMES[k] ?? k] = v;
    }
    if (Object.keys(props).length > 0) fields.properties = src(props, 'properties');
  }
  if (entry.host_groups !== undefined && entry.host_groups !== null) {
    if (!Array.isArray(entry.host_groups)) throw new InventoryError(at('host_groups').field, 'expected a list of group names', { line: r.line(at('host_groups').path) });
    const i = entry.host_groups.findIndex((g) => g !== 'baremetal');
    if (i >= 0) fields.pool ??= src(entry.host_groups[i], 'host_groups', i);
  }
  if (!fields.name && key !== undefined) fields.name = { value: key, field: where, line: entryLine };
  return { fields, line: entryLine, entry: key ?? where };
}

/**
 * The line of every object key and array item of a JSON text (already
 * known to be valid), in one linear pass; and the first key that appears
 * twice in one object (JSON.parse would silently keep the last).
 */
export function jsonLines(text: string): { lines: Lines; duplicate?: { field: string; line: number } } {
  const lines: Lines = new Map();
  let duplicate: { field: string; line: number } | undefined;
  const stack: Array<{ array: boolean; key: string | number; path: Array<string | number> }> = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  let expectKey = false;
  const valueStart = (): void => {
    const top = stack[stack.length - 1];
    if (top?.array) lines.set(pathKey([...top.path, top.key as number]), line);
  };
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top && !top.array) {
        top.key = JSON.parse(text.slice(i, j + 1)) as string;
        const k = pathKey([...top.path, top.key]);
        if (lines.has(k)) duplicate ??= { field: fieldName([...top.path, top.key]), line };
        lines.set(k, line);
        expectKey = false;
      } else valueStart();
      i = j + 1;
    } else if (c === '{' || c === '[') {
      valueStart();
      const top = stack[stack.length - 1];
      const path = top ? [...top.path, top.key] : [];
      stack.push({ array: c === '[', key: c === '[' ? 0 : '', path });
      expectKey = c === '{';
      i++;
    } else if (c === '}' || c === ']') {
      stack.pop();
      i++;
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.array) top.key = (top.key as number) + 1;
      else expectKey = true;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === ':') {
      i++;
    } else {
      // A number or a literal.
      valueStart();
      while (i < n && !/[,\]}\s]/.test(text[i]!)) i++;
    }
  }
  return { lines, ...(duplicate ? { duplicate } : {}) };
}

/** The line of every key and list item of a YAML document, from the parser's positions. */
function yamlLines(doc: ReturnType<typeof parseDocument>, counter: LineCounter): Lines {
  const lines: Lines = new Map();
  const lineOf = (node: unknown): number | undefined => {
    const start = (node as { range?: [number, number, number] } | null)?.range?.[0];
    return start === undefined ? undefined : counter.linePos(start).line;
  };
  const walk = (node: unknown, path: Array<string | number>): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const k = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const l = lineOf(pair.key);
        if (l !== undefined) lines.set(pathKey([...path, k]), l);
        walk(pair.value, [...path, k]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const l = lineOf(item);
        if (l !== undefined) lines.set(pathKey([...path, i]), l);
        walk(item, [...path, i]);
      });
    }
  };
  walk(doc.contents, []);
  return lines;
}

function failParse(message: string, line: number | undefined, format: 'json' | 'yaml'): never {
  throw new InventoryError(format === 'json' ? 'JSON' : 'YAML', message.replace(/\s+at line \d+, column \d+:?[\s\S]*$/, ''), { line });
}

/** The position JSON.parse reports, as a line. */
function jsonErrorLine(text: string, message: string): number | undefined {
  const lc = /\(line (\d+) column \d+\)/.exec(message);
  if (lc) return Number(lc[1]);
  const pos = /at position (\d+)/.exec(message);
  if (!pos) return undefined;
  const upTo = text.slice(0, Number(pos[1]));
  let line = 1;
  for (let k = upTo.indexOf('\n'); k >= 0; k = upTo.indexOf('\n', k + 1)) line++;
  return line;
}

/** Drafts from a Bifrost-style JSON or YAML document. */
export function documentDrafts(text: string, format: 'json' | 'yaml'): ServerDraft[] {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let root: unknown;
  let lines: Lines;
  if (format === 'json') {
    try {
      root = JSON.parse(source);
    } catch (err) {
      const m = (err as Error).message;
      failParse(`not valid JSON: ${m.replace(/\s*\(line \d+ column \d+\)/, '')}`, jsonErrorLine(source, m), 'json');
    }
    const scanned = jsonLines(source);
    if (scanned.duplicate) throw new InventoryError(scanned.duplicate.field, 'expected each key once in its object (JSON would keep only the last)', { line: scanned.duplicate.line });
    lines = scanned.lines;
  } else {
    const counter = new LineCounter();
    const doc = parseDocument(source, { lineCounter: counter, uniqueKeys: true, prettyErrors: false, strict: true });
    const err = doc.errors[0];
    if (err) failParse(`not valid YAML: ${err.message}`, err.linePos?.[0]?.line ?? counter.linePos(err.pos[0]).line, format);
    // An inventory has no need of YAML's aliases, and they are how "billion laughs" documents grow: none is expanded.
    visit(doc, {
      Alias(_key, node) {
        throw new InventoryError('YAML', 'expected no aliases (*name): write each value out', { line: counter.linePos((node as YamlNode).range?.[0] ?? 0).line });
      },
    });
    root = doc.toJS();
    lines = yamlLines(doc, counter);
  }
  const r = new Reader(lines);
  if (root === null || root === undefined || root === '') return [];
  if (Array.isArray(root)) return root.map((item, i) => draftFrom(r, item, [i], undefined));
  if (isObj(root)) return Object.entries(root).map(([key, value]) => draftFrom(r, value, [key], key));
  throw new InventoryError(format === 'json' ? 'JSON' : 'YAML', "expected a mapping of node name to node (as Bifrost's inventory) or a list of nodes", { line: 1 });
}

/** Bifrost's names of node properties, and Ironic's for them. */
const BIFROST_PROPERTY_NAMES: Record<string, string> = { ram: 'memory_mb', disk_size: 'local_gb' };

/** The inventory as a Bifrost-style object (name -> node); never a credential. */
export function toBifrost(servers: readonly InventoryServer[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const s of servers) {
    const driverInfo: Record<string, unknown> = { ilo_address: s.host, client_port: s.port };
    if (s.protocol !== 'auto') driverInfo.ilo_protocol = s.protocol;
    if (s.tlsMode === 'verify') driverInfo.ilo_verify_ca = true;
    else if (s.tlsMode === 'insecure') driverInfo.ilo_verify_ca = false;
    else if (s.tlsMode === 'ca') driverInfo.ilo_verify_ca = s.caFile;
    else if (s.tlsMode === 'pinned') driverInfo.ilo_tls_fingerprint = s.fingerprint;
    if (s.consoleMethod) driverInfo.console_method = s.consoleMethod;
    if (s.ipmiPort !== undefined) driverInfo.ipmi_port = s.ipmiPort;
    if (s.sshPort !== undefined) driverInfo.ssh_port = s.sshPort;
    if (s.sshHostKey) driverInfo.ssh_host_key = s.sshHostKey; // public: the iLO shows it to anyone who connects
    const node: Record<string, unknown> = { name: s.name };
    if (s.uuid) node.uuid = s.uuid;
    node.driver = 'ilo';
    node.driver_info = driverInfo;
    if (s.macs.length > 0) node.nics = s.macs.map((mac) => ({ mac }));
    const properties: Record<string, string> = {};
    for (const part of (s.properties ?? '').split(',').filter(Boolean)) {
      const at = part.indexOf(':');
      const name = part.slice(0, at);
      properties[Object.keys(BIFROST_PROPERTY_NAMES).find((b) => BIFROST_PROPERTY_NAMES[b] === name) ?? name] = part.slice(at + 1);
    }
    if (s.capabilities) properties.capabilities = s.capabilities;
    if (Object.keys(properties).length > 0) node.properties = properties;
    if (s.pool) node.host_groups = [s.pool];
    if (s.notes) node.description = s.notes;
    out[s.name] = node;
  }
  return out;
}
