/**
 * Root device hints: which disk a deploy writes, in Ironic's `root_device`
 * terms (ironic-lib's parse_root_device_hints / find_devices_by_hints, now
 * in ironic-python-agent's device_hints). Checked before a deploy starts,
 * handed to the agent as Ironic hands them (the lookup's
 * node.properties.root_device) and to the DIB ramdisk on its command line
 * (`root_device=key=value,…`, values URL-encoded, as Kilo's iscsi deploy did).
 */
import type { InspectedDisk, InspectedVolume } from '../bmc/inspection';
import { badInput } from './errors';

export const ROOT_DEVICE_HINT_KEYS = ['size', 'serial', 'wwn', 'wwn_with_extension', 'wwn_vendor_extension', 'model', 'vendor', 'name', 'rotational', 'hctl', 'by_path'] as const;
export type RootDeviceHintKey = (typeof ROOT_DEVICE_HINT_KEYS)[number];

/** As Ironic stores them: size a number or "<op> n", strings with an optional operator, rotational a boolean. */
export type RootDeviceHints = Partial<Record<RootDeviceHintKey, string | number | boolean>>;

/** Numeric operators ("=" is oslo's "at least"), then the string ones. */
type Op = '==' | '!=' | '>=' | '<=' | '>' | '<' | '=' | 's==' | 's!=' | '<in>' | '<or>';

interface Hint {
  key: RootDeviceHintKey;
  op: Op;
  /** One value, or the alternatives of `<or>`. */
  values: Array<string | number | boolean>;
}

/** What is known of one disk; an unknown field (undefined) neither matches nor refuses. */
export interface DiskFacts {
  name?: string;
  sizeBytes?: number;
  model?: string;
  vendor?: string;
  serial?: string | string[];
  wwn?: string;
  wwn_with_extension?: string;
  wwn_vendor_extension?: string;
  rotational?: boolean;
  hctl?: string;
  by_path?: string;
}

const FIELD = 'rootDeviceHints';

function parseBool(key: string, v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  const t = String(v).trim().toLowerCase();
  if (['true', '1', 'yes', 'on', 'y', 't'].includes(t)) return true;
  if (['false', '0', 'no', 'off', 'n', 'f'].includes(t)) return false;
  throw badInput(`${FIELD}.${key}`, 'true or false', v);
}

function parseHint(key: RootDeviceHintKey, raw: unknown): Hint {
  const where = `${FIELD}.${key}`;
  if (key === 'rotational') return { key, op: '==', values: [parseBool(key, raw)] };
  if (key === 'size') {
    if (typeof raw === 'number') {
      if (!Number.isInteger(raw) || raw <= 0) throw badInput(where, 'a size in GiB: a whole number above 0, optionally after an operator (==, !=, >=, <=, >, <), e.g. ">= 100"', raw);
      return { key, op: '==', values: [raw] };
    }
    if (typeof raw !== 'string') throw badInput(where, 'a size in GiB (a number, or a string like ">= 100")', raw);
    const m = /^\s*(==|!=|>=|<=|>|<|=)?\s*(\d+)\s*$/.exec(raw);
    if (!m || Number(m[2]) <= 0) throw badInput(where, 'a size in GiB: a whole number above 0, optionally after an operator (==, !=, >=, <=, >, <), e.g. ">= 100"', raw);
    return { key, op: (m[1] as Op | undefined) ?? '==', values: [Number(m[2])] };
  }
  if (typeof raw !== 'string' || raw.trim() === '') throw badInput(where, 'a non-empty string, optionally after an operator (s==, s!=, <in>, <or>)', raw);
  const text = raw.trim();
  if (text.startsWith('<or>')) {
    const values = text
      .split('<or>')
      .map((s) => s.trim())
      .filter(Boolean);
    if (!values.length) throw badInput(where, 'alternatives after <or>, e.g. "<or> samsung <or> winsys"', raw);
    return { key, op: '<or>', values };
  }
  const m = /^(s==|s!=|<in>)\s*(.*)$/s.exec(text);
  if (m) {
    if (!m[2]) throw badInput(where, `a value after ${m[1]}`, raw);
    return { key, op: m[1] as Op, values: [m[2]] };
  }
  if (/^(<[a-z-]+>|s?[<>=!]=?)\s/.test(text)) throw badInput(where, 'one of the operators s==, s!=, <in>, <or> (or none) before a string value', raw);
  return { key, op: 's==', values: [text] };
}

/** Checked hints; an unknown key, a wrong type or operator throws a bad-input error naming `rootDeviceHints.<key>`. */
export function parseRootDeviceHints(hints: unknown): Hint[] {
  if (hints === undefined) return [];
  if (typeof hints !== 'object' || hints === null || Array.isArray(hints)) throw badInput(FIELD, `an object of root device hints (${ROOT_DEVICE_HINT_KEYS.join(', ')})`, hints);
  const out: Hint[] = [];
  for (const [key, raw] of Object.entries(hints)) {
    if (!(ROOT_DEVICE_HINT_KEYS as readonly string[]).includes(key)) throw badInput(`${FIELD}.${key}`, `one of the root device hints ${ROOT_DEVICE_HINT_KEYS.join(', ')}`, key);
    out.push(parseHint(key as RootDeviceHintKey, raw));
  }
  return out;
}

/** Throws the first problem; nothing when the hints are absent or good. */
export function checkRootDeviceHints(hints: unknown): void {
  parseRootDeviceHints(hints);
}

const norm = (v: unknown): string => String(v).trim().toLowerCase();

function compareNumbers(op: Op, a: number, b: number): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '>=':
    case '=': // oslo's specs matcher: "=" means at least
      return a >= b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '<':
      return a < b;
    default:
      return false;
  }
}

function matchOne(h: Hint, disk: DiskFacts): boolean | undefined {
  if (h.key === 'size') {
    if (disk.sizeBytes === undefined) return undefined;
    return compareNumbers(h.op, Math.floor(disk.sizeBytes / 1024 ** 3), h.values[0] as number);
  }
  if (h.key === 'rotational') return disk.rotational === undefined ? undefined : disk.rotational === h.values[0];
  const raw = h.key === 'by_path' ? disk.by_path : disk[h.key];
  if (raw === undefined) return undefined;
  const have = (Array.isArray(raw) ? raw : [raw]).map(norm);
  const want = h.values.map((v) => {
    const n = norm(v);
    return h.key === 'name' && !n.startsWith('/dev/') ? `/dev/${n}` : n;
  });
  switch (h.op) {
    case 's==':
      return have.includes(want[0]!);
    case 's!=':
      return !have.includes(want[0]!);
    case '<in>':
      return have.some((x) => x.includes(want[0]!));
    case '<or>':
      return have.some((x) => want.includes(x));
    default:
      return false;
  }
}

/** true: every hint matches; false: one does not; undefined: none refuses, but a hinted field is unknown for this disk. */
export function matchDisk(hints: Hint[], disk: DiskFacts): boolean | undefined {
  let unknown = false;
  for (const h of hints) {
    const r = matchOne(h, disk);
    if (r === false) return false;
    if (r === undefined) unknown = true;
  }
  return unknown ? undefined : true;
}

/** Ironic's refusal when no disk matches. */
export function noDeviceMessage(hints: unknown): string {
  return `No suitable device was found for deployment using these hints ${JSON.stringify(hints)}`;
}

/**
 * Early refusal from inspection data: the disks the iLO reported (logical
 * drives where there are any, else physical disks). Returns the reason when
 * none can match, undefined when one may.
 */
export function refuseByInspection(hints: unknown, disks: DiskFacts[]): string | undefined {
  const parsed = parseRootDeviceHints(hints);
  if (!parsed.length || !disks.length) return undefined;
  if (disks.some((d) => matchDisk(parsed, d) !== false)) return undefined;
  return `${noDeviceMessage(hints)} (none of the ${disks.length} disk(s) found by the last inspection matches)`;
}

/**
 * The disks the host's OS will see, from an out-of-band inspection: the
 * logical drives where a RAID controller has any (its member disks are hidden
 * behind them, and all an iLO knows of one is its size and media), else the
 * physical disks (model, serial, size, rotational).
 */
export function inspectedDisks(r: { disks: readonly InspectedDisk[]; volumes: readonly InspectedVolume[] }): DiskFacts[] {
  const rotational = (mediaType: 'HDD' | 'SSD' | undefined): boolean | undefined => (mediaType === undefined ? undefined : mediaType === 'HDD');
  if (r.volumes.length) return r.volumes.map((v) => ({ sizeBytes: v.sizeBytes, rotational: rotational(v.mediaType) }));
  return r.disks.map((d) => ({ sizeBytes: d.sizeBytes, model: d.model, serial: d.serial, rotational: rotational(d.mediaType) }));
}

/** The DIB ramdisk's `root_device` parameter: key=value pairs, values URL-encoded, comma-separated. */
export function rootDeviceParam(hints: RootDeviceHints | undefined): string | undefined {
  const entries = Object.entries(hints ?? {});
  if (!entries.length) return undefined;
  return entries.map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`).join(',');
}
