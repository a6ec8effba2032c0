/**
 * A small FAT12/16/32 reader for the simulated ramdisk: it finds the volume
 * label and reads files (long VFAT names included) out of the raw bytes of a
 * floppy image, as a Linux ramdisk mounting /dev/disk/by-label/ir-vfd-dev
 * would. Written separately from lib/media's writer so they check each other.
 */

export interface FatEntry {
  name: string;
  shortName: string;
  isDirectory: boolean;
  size: number;
  firstCluster: number;
}

export class FatImage {
  readonly bytesPerSector: number;
  readonly sectorsPerCluster: number;
  readonly fatType: 12 | 16 | 32;
  readonly label: string;
  private readonly fatStart: number;
  private readonly rootStart: number;
  private readonly rootEntries: number;
  private readonly dataStart: number;
  private readonly rootCluster: number;

  constructor(private readonly img: Buffer) {
    if (img.length < 512 || img.readUInt16LE(510) !== 0xaa55) throw new Error('not a FAT image: no boot sector signature');
    this.bytesPerSector = img.readUInt16LE(11);
    this.sectorsPerCluster = img.readUInt8(13);
    const reserved = img.readUInt16LE(14);
    const fats = img.readUInt8(16);
    this.rootEntries = img.readUInt16LE(17);
    const total = img.readUInt16LE(19) || img.readUInt32LE(32);
    const fatSize = img.readUInt16LE(22) || img.readUInt32LE(36);
    if (![512, 1024, 2048, 4096].includes(this.bytesPerSector) || this.sectorsPerCluster === 0 || fats === 0) {
      throw new Error('not a FAT image: implausible BIOS parameter block');
    }
    const rootSectors = Math.ceil((this.rootEntries * 32) / this.bytesPerSector);
    const dataSectors = total - (reserved + fats * fatSize + rootSectors);
    const clusters = Math.floor(dataSectors / this.sectorsPerCluster);
    this.fatType = clusters < 4085 ? 12 : clusters < 65525 ? 16 : 32;
    this.fatStart = reserved * this.bytesPerSector;
    this.rootStart = (reserved + fats * fatSize) * this.bytesPerSector;
    this.dataStart = this.rootStart + rootSectors * this.bytesPerSector;
    this.rootCluster = this.fatType === 32 ? img.readUInt32LE(44) : 0;
    const labelInRoot = this.rawEntries(undefined).find((e) => e.attr & 0x08 && !(e.attr & 0x10) && e.attr !== 0x0f);
    const bsLabel = img.toString('latin1', this.fatType === 32 ? 71 : 43, this.fatType === 32 ? 82 : 54).trimEnd();
    this.label = labelInRoot ? labelInRoot.short.trimEnd() : bsLabel;
  }

  private next(cluster: number): number {
    if (this.fatType === 12) {
      const off = this.fatStart + Math.floor(cluster * 1.5);
      const v = this.img.readUInt16LE(off);
      return cluster & 1 ? v >> 4 : v & 0xfff;
    }
    if (this.fatType === 16) return this.img.readUInt16LE(this.fatStart + cluster * 2);
    return this.img.readUInt32LE(this.fatStart + cluster * 4) & 0x0fffffff;
  }

  private isEnd(cluster: number): boolean {
    const eoc = this.fatType === 12 ? 0xff8 : this.fatType === 16 ? 0xfff8 : 0x0ffffff8;
    return cluster >= eoc || cluster < 2;
  }

  private chain(first: number): Buffer {
    const size = this.bytesPerSector * this.sectorsPerCluster;
    const parts: Buffer[] = [];
    const seen = new Set<number>();
    for (let c = first; !this.isEnd(c); c = this.next(c)) {
      if (seen.has(c)) throw new Error('FAT chain loops');
      seen.add(c);
      const off = this.dataStart + (c - 2) * size;
      parts.push(this.img.subarray(off, off + size));
    }
    return Buffer.concat(parts);
  }

  private rawEntries(dirCluster: number | undefined): Array<{ short: string; attr: number; raw: Buffer }> {
    const region =
      dirCluster === undefined
        ? this.fatType === 32
          ? this.chain(this.rootCluster)
          : this.img.subarray(this.rootStart, this.rootStart + this.rootEntries * 32)
        : this.chain(dirCluster);
    const out: Array<{ short: string; attr: number; raw: Buffer }> = [];
    for (let off = 0; off + 32 <= region.length; off += 32) {
      const first = region[off];
      if (first === 0x00) break;
      if (first === 0xe5) continue;
      out.push({ short: region.toString('latin1', off, off + 11), attr: region[off + 11] as number, raw: region.subarray(off, off + 32) });
    }
    return out;
  }

  /** Entries of a directory (root when undefined), with long names resolved. */
  list(dirCluster?: number): FatEntry[] {
    const entries: FatEntry[] = [];
    let lfn: string[] = [];
    let lfnSum = -1;
    for (const e of this.rawEntries(dirCluster)) {
      if (e.attr === 0x0f) {
        const r = e.raw;
        const seq = (r[0] as number) & 0x1f;
        const chars = [...range(1, 11), ...range(14, 26), ...range(28, 32)];
        let part = '';
        for (let i = 0; i < chars.length; i += 2) {
          const code = r.readUInt16LE(chars[i] as number);
          if (code === 0x0000 || code === 0xffff) break;
          part += String.fromCharCode(code);
        }
        if ((r[0] as number) & 0x40) {
          lfn = [];
          lfnSum = r[13] as number;
        }
        lfn[seq - 1] = part;
        continue;
      }
      if (e.attr & 0x08) {
        lfn = [];
        continue; // volume label
      }
      const base = e.short.slice(0, 8).trimEnd();
      const ext = e.short.slice(8, 11).trimEnd();
      const shortName = ext ? `${base}.${ext}` : base;
      const long = lfn.length && lfnSum === shortChecksum(e.raw.subarray(0, 11)) ? lfn.join('') : undefined;
      lfn = [];
      if (shortName === '.' || shortName === '..') continue;
      const hi = this.fatType === 32 ? e.raw.readUInt16LE(20) << 16 : 0;
      entries.push({
        name: long ?? shortName,
        shortName,
        isDirectory: !!(e.attr & 0x10),
        size: e.raw.readUInt32LE(28),
        firstCluster: hi | e.raw.readUInt16LE(26),
      });
    }
    return entries;
  }

  /** Read a file by path ("parameters.txt", "EFI/BOOT/grub.cfg"); names match case-insensitively, as vfat mounts do. */
  readFile(path: string): Buffer {
    const parts = path.split('/').filter(Boolean);
    let dir: number | undefined;
    for (let i = 0; i < parts.length; i++) {
      const want = (parts[i] as string).toLowerCase();
      const hit = this.list(dir).find((e) => e.name.toLowerCase() === want || e.shortName.toLowerCase() === want);
      if (!hit) throw new Error(`no file ${path} on the FAT image`);
      if (i === parts.length - 1) {
        if (hit.isDirectory) throw new Error(`${path} is a directory`);
        return hit.size === 0 ? Buffer.alloc(0) : this.chain(hit.firstCluster).subarray(0, hit.size);
      }
      if (!hit.isDirectory) throw new Error(`${parts.slice(0, i + 1).join('/')} is not a directory`);
      dir = hit.firstCluster;
    }
    throw new Error('empty path');
  }
}

function range(a: number, b: number): number[] {
  const out: number[] = [];
  for (let i = a; i < b; i++) out.push(i);
  return out;
}

function shortChecksum(name: Buffer): number {
  let sum = 0;
  for (const b of name) sum = (((sum & 1) << 7) + (sum >> 1) + b) & 0xff;
  return sum;
}

/** parameters.txt as both ramdisks read it: key=value tokens split on whitespace. */
export function parseParameters(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const token of text.split(/\s+/)) {
    const eq = token.indexOf('=');
    if (eq > 0) out[token.slice(0, eq)] = token.slice(eq + 1);
  }
  return out;
}
