/**
 * How the deploy ramdisks pick the disk to write from root device hints,
 * as ironic-python-agent's device_hints does (the DIB ramdisk's exact-match
 * hints are the operator-less case): every hint must hold; strings compare
 * lower-cased (`s==` when no operator, `s!=`, `<in>`, `<or>`), the size in
 * whole GiB (`==` when no operator, `!=`, `>=`, `<=`, `>`, `<`, `=` meaning
 * at least), rotational as a boolean. The first matching disk is used.
 */
import type { SimBlockDevice } from '../inventory';

/** A disk the ramdisk sees, and the file that holds its bytes. */
export interface SimHostDisk extends SimBlockDevice {
  file: string;
}

const FIELDS: Record<string, keyof SimBlockDevice> = {
  name: 'name',
  model: 'model',
  vendor: 'vendor',
  serial: 'serial',
  wwn: 'wwn',
  wwn_with_extension: 'wwnWithExtension',
  wwn_vendor_extension: 'wwnVendorExtension',
  hctl: 'hctl',
  by_path: 'byPath',
};

function numberHolds(expr: string, have: number): boolean {
  const m = /^\s*(==|!=|>=|<=|>|<|=)?\s*(\d+)\s*$/.exec(expr);
  if (!m) return false;
  const want = Number(m[2]);
  switch (m[1] ?? '==') {
    case '==':
      return have === want;
    case '!=':
      return have !== want;
    case '>=':
    case '=':
      return have >= want;
    case '<=':
      return have <= want;
    case '>':
      return have > want;
    default:
      return have < want;
  }
}

function stringHolds(expr: string, have: string, key: string): boolean {
  const fix = (v: string): string => {
    const t = v.trim().toLowerCase();
    return key === 'name' && !t.startsWith('/dev/') ? `/dev/${t}` : t;
  };
  const h = have.toLowerCase();
  const t = expr.trim();
  if (t.startsWith('<or>')) return t.split('<or>').map((s) => s.trim()).filter(Boolean).map(fix).includes(h);
  if (t.startsWith('<in>')) return h.includes(fix(t.slice(4)));
  if (t.startsWith('s!=')) return h !== fix(t.slice(3));
  if (t.startsWith('s==')) return h === fix(t.slice(3));
  return h === fix(t);
}

export function diskMatches(hints: Record<string, unknown>, d: SimBlockDevice): boolean {
  return Object.entries(hints).every(([key, v]) => {
    if (key === 'size') return numberHolds(String(v), Math.floor(d.sizeBytes / 1024 ** 3));
    if (key === 'rotational') return ['true', '1', 'yes', 'on'].includes(String(v).toLowerCase()) === d.rotational;
    const field = FIELDS[key];
    return field !== undefined && stringHolds(String(v), String(d[field]), key);
  });
}

/** The DIB command-line form: key=value pairs, URL-encoded values, comma-separated. */
export function parseRootDeviceParam(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const i = pair.indexOf('=');
    if (i > 0) out[pair.slice(0, i)] = decodeURIComponent(pair.slice(i + 1));
  }
  return out;
}

/** The disk to write: the first the hints match; with no hints, the first disk. Undefined when none matches. */
export function pickDisk<T extends SimBlockDevice>(disks: T[], hints: Record<string, unknown> | undefined): T | undefined {
  if (!hints || Object.keys(hints).length === 0) return disks[0];
  return disks.find((d) => diskMatches(hints, d));
}
