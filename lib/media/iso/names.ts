/**
 * ISO 9660 identifiers. The primary names are upper-case d-characters
 * (`VMLINUZ.;1`, level 2 lengths) for firmware and boot loaders that read
 * nothing else; the real names travel in Rock Ridge `NM` entries.
 */
import { invalidMediaInput } from '../errors';

/** Longest real (Rock Ridge) name accepted, in UTF-8 bytes: keeps every directory record (identifier, PX, TF, NM) within 255 bytes. */
export const MAX_RR_NAME = 120;
const MAX_FILE_ID = 30; // name + "." + extension, without ";1"
const MAX_DIR_ID = 31;

export function checkRealName(name: string, field: string): void {
  if (name.length === 0 || name === '.' || name === '..') throw invalidMediaInput(field, 'a non-empty name other than "." and ".."', name);
  if ([...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) throw invalidMediaInput(field, 'a name without control characters', name);
  if (Buffer.byteLength(name, 'utf8') > MAX_RR_NAME) throw invalidMediaInput(field, `a name of at most ${MAX_RR_NAME} bytes`, name);
}

function dchars(s: string): string {
  return [...s.toUpperCase()].map((c) => (/^[A-Z0-9_]$/.test(c) ? c : '_')).join('');
}

/**
 * The primary identifier for a name, unique among `taken` (which holds
 * identifiers without the `;1`). Files: `BASE.EXT`; directories: `BASE`.
 */
export function isoIdentifier(name: string, isDir: boolean, taken: ReadonlySet<string>): string {
  let base: string;
  let ext = '';
  if (isDir) {
    base = dchars(name).slice(0, MAX_DIR_ID);
  } else {
    const dot = name.lastIndexOf('.');
    base = dchars(dot > 0 ? name.slice(0, dot) : name);
    ext = dot > 0 ? dchars(name.slice(dot + 1)).slice(0, 8) : '';
    base = base.slice(0, MAX_FILE_ID - 1 - ext.length);
  }
  if (base.length === 0) base = '_';
  const join = (b: string): string => (isDir ? b : `${b}.${ext}`);
  let id = join(base);
  const limit = isDir ? MAX_DIR_ID : MAX_FILE_ID - 1 - ext.length;
  for (let n = 1; taken.has(id); n++) {
    const tail = `_${n}`;
    id = join(base.slice(0, limit - tail.length) + tail);
  }
  return id;
}

/**
 * ECMA-119 9.3 order: by name, then extension, each padded with spaces
 * (0x20) for the comparison. Identifiers here are ASCII d-characters.
 */
export function compareIdentifiers(a: string, b: string): number {
  const [an, ae = ''] = a.split('.');
  const [bn, be = ''] = b.split('.');
  return comparePadded(an, bn) || comparePadded(ae, be);
}

function comparePadded(a: string, b: string): number {
  const n = Math.max(a.length, b.length);
  const pa = a.padEnd(n, ' ');
  const pb = b.padEnd(n, ' ');
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

/** Volume identifier: 1-32 characters a boot loader can match with `search --label`. */
export function checkVolumeId(id: string, field: string): string {
  if (typeof id !== 'string' || !/^[A-Za-z0-9_.-]{1,32}$/.test(id)) {
    throw invalidMediaInput(field, '1 to 32 characters from A-Z a-z 0-9 _ . -', id);
  }
  return id;
}
