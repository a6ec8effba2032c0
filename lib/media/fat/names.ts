/**
 * FAT file names: the 8.3 short name every FAT reader understands, and the
 * VFAT long-name entries that carry the real name (`parameters.txt` is stored
 * as `PARAME~1.TXT` plus a long name, as mkfs + mcopy do).
 */
import { invalidMediaInput } from '../errors';

/** Characters allowed in a short name besides A-Z and 0-9. */
const SHORT_EXTRA = new Set("!#$%&'()-@^_`{}~");
/** Characters no FAT name may hold (plus control characters). */
const LONG_FORBIDDEN_CHARS = new Set('"*/:<>?\\|');
const isForbidden = (name: string): boolean => [...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f || LONG_FORBIDDEN_CHARS.has(c));

export const MAX_LONG_NAME = 255;

/** Checks a long name for one directory level; throws naming `field`. */
export function checkLongName(name: string, field: string): void {
  if (name.length === 0 || name === '.' || name === '..') throw invalidMediaInput(field, 'a non-empty file name other than "." and ".."', name);
  if (name.length > MAX_LONG_NAME) throw invalidMediaInput(field, `a name of at most ${MAX_LONG_NAME} characters`, name);
  if (isForbidden(name)) throw invalidMediaInput(field, 'a name without control characters or any of " * / : < > ? \\ |', name);
  if (/[. ]$/.test(name)) throw invalidMediaInput(field, 'a name that does not end with a dot or a space', name);
}

function shortChar(c: string): { ch: string; lossy: boolean } {
  const up = c.toUpperCase();
  if (up.length === 1 && ((up >= 'A' && up <= 'Z') || (up >= '0' && up <= '9') || SHORT_EXTRA.has(up))) return { ch: up, lossy: false };
  return { ch: '_', lossy: true };
}

/** The 11-byte short name, space padded ("PARAME~1TXT"), as stored in the entry. */
export type ShortName = string;

/**
 * Picks a short name for `long` that no name in `taken` already uses, the
 * way Windows and mtools do: upper case, invalid characters to `_`, base cut
 * to 8 and extension to 3, and a `~N` tail when anything was lost.
 */
export function makeShortName(long: string, taken: ReadonlySet<ShortName>): ShortName {
  let lossy = false;
  let stripped = long.replace(/ /g, '');
  if (stripped !== long) lossy = true;
  const lead = stripped.replace(/^\.+/, '');
  if (lead !== stripped) lossy = true;
  stripped = lead;
  const dot = stripped.lastIndexOf('.');
  const baseRaw = dot >= 0 ? stripped.slice(0, dot).replace(/\./g, '') : stripped;
  if (dot >= 0 && baseRaw.length !== stripped.slice(0, dot).length) lossy = true;
  const extRaw = dot >= 0 ? stripped.slice(dot + 1) : '';

  const conv = (s: string): string =>
    [...s]
      .map((c) => {
        const r = shortChar(c);
        if (r.lossy) lossy = true;
        return r.ch;
      })
      .join('');
  let base = conv(baseRaw);
  let ext = conv(extRaw);
  if (base.length > 8 || ext.length > 3) lossy = true;
  base = base.slice(0, 8);
  ext = ext.slice(0, 3);
  if (base.length === 0) {
    base = '_';
    lossy = true;
  }

  const pack = (b: string, e: string): ShortName => b.padEnd(8, ' ') + e.padEnd(3, ' ');
  const plain = pack(base, ext);
  if (!lossy && !taken.has(plain)) return plain;
  for (let n = 1; n < 1_000_000; n++) {
    const tail = `~${n}`;
    const candidate = pack(base.slice(0, 8 - tail.length) + tail, ext);
    if (!taken.has(candidate)) return candidate;
  }
  throw invalidMediaInput('name', 'fewer than a million files with the same short name', long);
}

/** "PARAME~1TXT" -> "PARAME~1.TXT", the form `mdir` prints. */
export function displayShortName(short: ShortName): string {
  const base = short.slice(0, 8).trimEnd();
  const ext = short.slice(8).trimEnd();
  return ext ? `${base}.${ext}` : base;
}

/** Whether the short name alone reproduces `long` exactly (then no long-name entries are needed). */
export function shortNameSuffices(long: string, short: ShortName): boolean {
  return displayShortName(short) === long;
}

/** The checksum of the short name that each long-name entry carries. */
export function shortNameChecksum(short: ShortName): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + short.charCodeAt(i)) & 0xff;
  return sum;
}

const LFN_CHARS = 13;
/** Offsets of the 13 UTF-16 characters inside a long-name entry. */
const LFN_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

export function longNameEntryCount(long: string): number {
  return Math.ceil(long.length / LFN_CHARS);
}

/** The long-name entries for `long`, in on-disk order (last part first), 32 bytes each. */
export function longNameEntries(long: string, short: ShortName): Buffer {
  const count = longNameEntryCount(long);
  const out = Buffer.alloc(count * 32);
  const sum = shortNameChecksum(short);
  for (let part = 0; part < count; part++) {
    const e = out.subarray((count - 1 - part) * 32, (count - part) * 32);
    e[0] = (part + 1) | (part === count - 1 ? 0x40 : 0);
    e[11] = 0x0f; // attribute: long-name entry
    e[12] = 0;
    e[13] = sum;
    for (let k = 0; k < LFN_CHARS; k++) {
      const idx = part * LFN_CHARS + k;
      const unit = idx < long.length ? long.charCodeAt(idx) : idx === long.length ? 0x0000 : 0xffff;
      e.writeUInt16LE(unit, LFN_OFFSETS[k]);
    }
  }
  return out;
}

/** 11-byte volume label field: the label as given (case kept, as mkfs.fat does), space padded. */
export function checkVolumeLabel(label: string, field: string): string {
  if (!/^[A-Za-z0-9 !#$%&'()@^_`{}~-]{1,11}$/.test(label) || label.startsWith(' ')) {
    throw invalidMediaInput(field, '1 to 11 characters from A-Z a-z 0-9 space ! # $ % & \' ( ) - @ ^ _ ` { } ~, not starting with a space', label);
  }
  return label.padEnd(11, ' ');
}
