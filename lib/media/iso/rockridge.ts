/**
 * Rock Ridge (RRIP 1.10 over SUSP 1.10) entries: the real names (NM),
 * POSIX modes (PX) and times (TF) Linux, GRUB and ISOLINUX read from the
 * System Use area of each directory record.
 */
import { both32, recordDate } from './bytes';

export const RRIP_ID = 'RRIP_1991A';
const RRIP_DESCRIPTOR = 'THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS';
const RRIP_SOURCE = 'PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.';

export const MODE_DIR = 0o40555;
export const MODE_FILE = 0o100444;

function header(sig: string, len: number): Buffer {
  const b = Buffer.alloc(len);
  b.write(sig, 0, 2, 'ascii');
  b[2] = len;
  b[3] = 1; // entry version
  return b;
}

/** SP: marks the volume as using SUSP; only in the root's "." record, first. */
export function spEntry(): Buffer {
  const b = header('SP', 7);
  b[4] = 0xbe;
  b[5] = 0xef;
  b[6] = 0; // no bytes skipped before entries
  return b;
}

/** CE: the rest of the System Use entries live at `block`:`offset`, `length` bytes. */
export function ceEntry(block: number, offset: number, length: number): Buffer {
  const b = header('CE', 28);
  both32(b, 4, block);
  both32(b, 12, offset);
  both32(b, 20, length);
  return b;
}

/** ER: names the extension in use (Rock Ridge). */
export function erEntry(): Buffer {
  const id = Buffer.from(RRIP_ID, 'ascii');
  const des = Buffer.from(RRIP_DESCRIPTOR, 'ascii');
  const src = Buffer.from(RRIP_SOURCE, 'ascii');
  const b = header('ER', 8 + id.length + des.length + src.length);
  b[4] = id.length;
  b[5] = des.length;
  b[6] = src.length;
  b[7] = 1; // extension version
  Buffer.concat([id, des, src]).copy(b, 8);
  return b;
}

/** PX: mode, link count, uid and gid (root, read-only for everyone). */
export function pxEntry(mode: number, links: number): Buffer {
  const b = header('PX', 36);
  both32(b, 4, mode);
  both32(b, 12, links);
  both32(b, 20, 0);
  both32(b, 28, 0);
  return b;
}

/** TF: modification, access and attribute-change times. */
export function tfEntry(d: Date): Buffer {
  const stamp = recordDate(d);
  const b = header('TF', 5 + 3 * stamp.length);
  b[4] = 0x02 | 0x04 | 0x08;
  for (let i = 0; i < 3; i++) stamp.copy(b, 5 + i * stamp.length);
  return b;
}

/** NM: the real name. */
export function nmEntry(name: string): Buffer {
  const n = Buffer.from(name, 'utf8');
  const b = header('NM', 5 + n.length);
  b[4] = 0;
  n.copy(b, 5);
  return b;
}
