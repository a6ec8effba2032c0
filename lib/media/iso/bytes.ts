/** ISO 9660 field encodings: both-endian integers and the two date formats. */

export const BLOCK = 2048;

export function both16(buf: Buffer, at: number, v: number): void {
  buf.writeUInt16LE(v, at);
  buf.writeUInt16BE(v, at + 2);
}

export function both32(buf: Buffer, at: number, v: number): void {
  buf.writeUInt32LE(v, at);
  buf.writeUInt32BE(v, at + 4);
}

/** 7-byte recording date of a directory record, in UTC. */
export function recordDate(d: Date): Buffer {
  return Buffer.from([d.getUTCFullYear() - 1900, d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), 0]);
}

/** 17-byte volume descriptor date ("YYYYMMDDHHMMSScc" + UTC offset), or the "not specified" form. */
export function volumeDate(d: Date | undefined): Buffer {
  const out = Buffer.alloc(17, 0);
  if (!d) {
    out.write('0000000000000000', 0, 'ascii');
    return out;
  }
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const s = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}${p(Math.floor(d.getUTCMilliseconds() / 10))}`;
  out.write(s, 0, 'ascii');
  return out;
}

/** Writes `s` into a fixed-width field padded with spaces. */
export function padded(buf: Buffer, at: number, width: number, s: string): void {
  buf.fill(0x20, at, at + width);
  buf.write(s.slice(0, width), at, width, 'ascii');
}
