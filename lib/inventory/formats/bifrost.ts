/**
 * JSON and YAML inventories in Bifrost's shape: a mapping from node name to
 * an Ironic-like node (name, uuid, driver, driver_info, nics, properties,
 * host_groups, description). The iLO fields are Ironic's ilo driver_info
 * keys (ilo_address, client_port, ilo_username, ilo_password,
 * ilo_verify_ca); redfish_address/_username/_password/_verify_ca are read for
 * the redfish driver. Fields this package adds: driver_info.ilo_protocol
 * (auto, ribcl, redfish) and driver_info.ilo_tls_fingerprint (pin the iLO's
 * certificate). The nested driver_info.power block of older Bifrost files
 * is read too. Other Bifrost and Ironic fields (instance_info, ipv4_address,
 * properties.cpu_arch...) are allowed and ignored; an unknown ilo_* key is
 * refused, as it is most likely a typo. A list of such nodes is accepted too.
 *
 * JSON is read through the YAML parser (JSON is YAML 1.2) so that every
 * value has a line; JSON.parse checks it first so its errors read as JSON's.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Node as YamlNode, type Pair } from 'yaml';
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
const REDFISH_KEYS: Record<string, DraftKey> = {
  redfish_username: 'username',
  redfish_password: 'password',
  redfish_verify_ca: 'verifyCa',
};
/** Ironic ilo keys this package has no use for, which are not typos. */
const ILO_IGNORED = new Set(['ilo_deploy_iso', 'ilo_rescue_iso', 'ilo_bootloader', 'ilo_kernel', 'ilo_ramdisk', 'ilo_change_password', 'ilo_add_certificates', 'ilo_boot_iso', 'ilo_deploy_kernel', 'ilo_deploy_ramdisk', 'ilo_rescue_kernel', 'ilo_rescue_ramdisk']);

interface Ctx {
  lines: LineCounter;
}

function lineOf(ctx: Ctx, node: { range?: [number, number, number] | null } | null | undefined): number | undefined {
  const start = node?.range?.[0];
  return start === undefined ? undefined : ctx.lines.linePos(start).line;
}

function keyText(pair: Pair): string {
  const k = pair.key;
  return isScalar(k) ? String(k.value) : String(k);
}

function sourced(ctx: Ctx, node: unknown, field: string): Sourced {
  const n = node as YamlNode | null;
  const value = isScalar(n) ? n.value : n && typeof (n as { toJSON?: unknown }).toJSON === 'function' ? (n as { toJSON(): unknown }).toJSON() : n;
  return { value, field, line: lineOf(ctx, n as { range?: [number, number, number] }) };
}

/** `https://host:port/...` or a bare host: host and port as drafts. */
function redfishAddress(ctx: Ctx, node: unknown, field: string): { host: Sourced; port?: Sourced } {
  const s = sourced(ctx, node, field);
  if (typeof s.value !== 'string') return { host: s };
  const v = s.value.trim();
  if (!v.includes('://')) return { host: { ...s, value: v } };
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new InventoryError(field, `expected an https:// URL or a host (got "${v.slice(0, 60)}")`, { line: s.line });
  }
  if (url.protocol !== 'https:') throw new InventoryError(field, 'expected an https:// URL (iLOs answer Redfish over HTTPS only)', { line: s.line });
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return { host: { ...s, value: host }, ...(url.port ? { port: { ...s, value: Number(url.port) } } : {}) };
}

function draftFrom(ctx: Ctx, entry: unknown, key: string | undefined, entryLine: number | undefined, where: string): ServerDraft {
  if (!isMap(entry)) throw new InventoryError(where, 'expected a mapping with the node\'s fields (name, driver_info, nics...)', { line: entryLine });
  const fields: ServerDraft['fields'] = {};
  let driver: string | undefined;
  let driverInfo: Array<{ pair: Pair; nestedIn?: string }> = [];
  let driverInfoField = `${where}.driver_info`;
  for (const pair of entry.items) {
    const k = keyText(pair);
    const f = `${where}.${k}`;
    switch (k) {
      case 'name':
      case 'uuid':
      case 'pool':
        fields[k] = sourced(ctx, pair.value, f);
        break;
      case 'description':
      case 'notes':
        fields.notes = sourced(ctx, pair.value, f);
        break;
      case 'driver': {
        const d = sourced(ctx, pair.value, f);
        if (typeof d.value !== 'string' || !DRIVERS.includes(d.value.trim())) {
          throw new InventoryError(f, `expected ${DRIVERS.join(', ')} (this inventory is for HPE iLOs)${typeof d.value === 'string' ? ` (got "${d.value.slice(0, 40)}")` : ''}`, { line: d.line });
        }
        driver = d.value.trim();
        break;
      }
      case 'driver_info': {
        if (!isMap(pair.value)) throw new InventoryError(f, 'expected a mapping (ilo_address, ilo_username, ...)', { line: lineOf(ctx, pair.value as YamlNode) ?? lineOf(ctx, pair.key as YamlNode) });
        driverInfoField = f;
        driverInfo = pair.value.items.map((p) => ({ pair: p }));
        // Older Bifrost files nest the fields under power/management/deploy/console.
        for (const inner of pair.value.items) {
          const block = keyText(inner);
          if (['power', 'management', 'deploy', 'console'].includes(block) && isMap(inner.value)) driverInfo.push(...inner.value.items.map((p) => ({ pair: p, nestedIn: block })));
        }
        break;
      }
      case 'nics': {
        if (!isSeq(pair.value)) throw new InventoryError(f, 'expected a list of {mac: ...}', { line: lineOf(ctx, pair.key as YamlNode) });
        const macs: string[] = [];
        for (const [i, nic] of pair.value.items.entries()) {
          const field = `${f}[${i}].mac`;
          const mac = sourced(ctx, isMap(nic) ? nic.get('mac', true) : undefined, field);
          const line = mac.line ?? lineOf(ctx, nic as YamlNode);
          if (typeof mac.value !== 'string' || !MAC.test(mac.value.trim())) {
            throw new InventoryError(field, `expected the port's MAC address, such as 94:18:82:6e:4a:10${typeof mac.value === 'string' ? ` (got "${mac.value.slice(0, 40)}")` : ''}`, { line, server: key });
          }
          macs.push(mac.value);
        }
        fields.macs = { value: macs, field: f, line: lineOf(ctx, pair.key as YamlNode) };
        break;
      }
      case 'properties': {
        if (isMap(pair.value)) {
          const caps = pair.value.get('capabilities', true);
          if (caps !== undefined) fields.capabilities = sourced(ctx, caps, `${f}.capabilities`);
        }
        break;
      }
      case 'host_groups': {
        if (isSeq(pair.value)) {
          const group = pair.value.items.find((g) => isScalar(g) && g.value !== 'baremetal');
          if (group) fields.pool = fields.pool ?? sourced(ctx, group, `${f}[${pair.value.items.indexOf(group)}]`);
        } else if (pair.value !== null && pair.value !== undefined) {
          throw new InventoryError(f, 'expected a list of group names', { line: lineOf(ctx, pair.key as YamlNode) });
        }
        break;
      }
      default:
        break; // other Bifrost/Ironic fields: not ours
    }
  }
  let redfishHost: { host: Sourced; port?: Sourced } | undefined;
  for (const { pair, nestedIn: nested } of driverInfo) {
    const k = keyText(pair);
    const f = `${driverInfoField}.${nested ? `${nested}.` : ''}${k}`;
    const model = ILO_KEYS[k];
    if (model) {
      fields[model] = sourced(ctx, pair.value, f);
    } else if (k === 'redfish_address') {
      redfishHost = redfishAddress(ctx, pair.value, f);
    } else if (REDFISH_KEYS[k]) {
      const m = REDFISH_KEYS[k]!;
      if (!fields[m]) fields[m] = sourced(ctx, pair.value, f);
    } else if (k.startsWith('ilo_') && !ILO_IGNORED.has(k)) {
      throw new InventoryError(f, `expected one of ${Object.keys(ILO_KEYS).join(', ')} (an unknown ilo_ key is most likely a typo)`, { line: lineOf(ctx, pair.key as YamlNode) });
    }
  }
  if (!fields.host && redfishHost) {
    fields.host = redfishHost.host;
    if (redfishHost.port && !fields.port) fields.port = redfishHost.port;
  }
  if (!fields.host) fields.host = { value: undefined, field: `${driverInfoField}.ilo_address`, line: entryLine };
  if (!fields.protocol && driver === 'redfish') fields.protocol = { value: 'redfish', field: `${where}.driver`, line: entryLine };
  if (!fields.name && key !== undefined) fields.name = { value: key, field: where, line: entryLine };
  return { fields, line: entryLine, entry: key ?? where };
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
  let source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (format === 'json') {
    try {
      JSON.parse(source);
    } catch (err) {
      const m = (err as Error).message;
      failParse(`not valid JSON: ${m.replace(/\s*\(line \d+ column \d+\)/, '')}`, jsonErrorLine(source, m), 'json');
    }
    // Outside strings JSON whitespace may be a tab, which YAML refuses as indentation; inside strings JSON has no raw tab.
    source = source.replace(/\t/g, ' ');
  }
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, strict: true });
  const err = doc.errors[0];
  if (err) failParse(`not valid ${format === 'json' ? 'JSON' : 'YAML'}: ${err.message}`, err.linePos?.[0]?.line, format);
  const ctx: Ctx = { lines };
  // An inventory has no need of YAML's aliases, and they are how "billion laughs" documents grow: none is expanded.
  visit(doc, {
    Alias(_key, node) {
      throw new InventoryError('YAML', 'expected no aliases (*name): write each value out', { line: lineOf(ctx, node) });
    },
  });
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) return [];
  const drafts: ServerDraft[] = [];
  if (isMap(root)) {
    for (const pair of root.items) {
      const key = keyText(pair);
      const line = lineOf(ctx, pair.key as YamlNode);
      drafts.push(draftFrom(ctx, pair.value, key, line, key));
    }
  } else if (isSeq(root)) {
    for (const [i, item] of root.items.entries()) drafts.push(draftFrom(ctx, item, undefined, lineOf(ctx, item as YamlNode), `[${i}]`));
  } else {
    throw new InventoryError(format === 'json' ? 'JSON' : 'YAML', 'expected a mapping of node name to node (as Bifrost\'s inventory) or a list of nodes', { line: lineOf(ctx, root as YamlNode) ?? 1 });
  }
  return drafts;
}

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
    const node: Record<string, unknown> = { name: s.name };
    if (s.uuid) node.uuid = s.uuid;
    node.driver = 'ilo';
    node.driver_info = driverInfo;
    if (s.macs.length > 0) node.nics = s.macs.map((mac) => ({ mac }));
    if (s.capabilities) node.properties = { capabilities: s.capabilities };
    if (s.pool) node.host_groups = [s.pool];
    if (s.notes) node.description = s.notes;
    out[s.name] = node;
  }
  return out;
}
