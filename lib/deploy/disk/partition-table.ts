/**
 * MBR (msdos) and GPT partition tables as bytes, for a disk we can only reach
 * through a userspace iSCSI initiator (no kernel block device, so no parted).
 * Formats: the MBR layout of the IBM PC, and UEFI 2.x chapter 5 for GPT.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { MiB, gptBackupBytes, type Layout, type PartitionRole } from './layout';

/** MBR partition type per role. */
const MBR_TYPE: Record<PartitionRole, number> = { esp: 0xef, ephemeral: 0x83, swap: 0x82, configdrive: 0x83, root: 0x83 };

/** GPT partition type GUID per role. */
export const GPT_TYPE: Record<PartitionRole, string> = {
  esp: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b',
  ephemeral: '0fc63daf-8483-4772-8e79-3d69d8477de4',
  swap: '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f',
  configdrive: '0fc63daf-8483-4772-8e79-3d69d8477de4',
  root: '0fc63daf-8483-4772-8e79-3d69d8477de4',
};

/** GPT partition names (the ESP keeps the label Ironic gives its filesystem). */
const GPT_NAME: Record<PartitionRole, string> = { esp: 'efi-part', ephemeral: 'ephemeral0', swap: 'swap1', configdrive: 'config-2', root: 'root' };

export interface TableWrite {
  /** Byte offset on the disk. */
  offset: number;
  data: Buffer;
}

export interface PartitionTable {
  /**
   * What to write. The head covers everything before the first partition (so
   * the old MBR/GPT and the first 18 KiB Ironic wipes are overwritten); the
   * tail covers at least the last 18 KiB (old backup GPT, RAID/LVM metadata).
   */
  writes: TableWrite[];
  /** msdos: the disk signature as chain.c32 and Ironic print it, e.g. `0x1a2b3c4d`. */
  diskIdentifier?: string;
  /** gpt: the disk GUID and each partition's unique GUID (by partition number). */
  diskGuid?: string;
  partitionGuids?: Record<number, string>;
}

/** What Ironic zeroes at each end of the disk: 36 sectors of 512 bytes. */
export const WIPE_BYTES = 36 * 512;

export interface TableOptions {
  /** Fixed identifiers, for reproducible output (tests); random otherwise. */
  diskSignature?: number;
  diskGuid?: string;
  partitionGuids?: string[];
}

export function buildPartitionTable(layout: Layout, options: TableOptions = {}): PartitionTable {
  const first = layout.partitions[0]?.startBytes ?? MiB;
  const tailBytes = roundUp(Math.max(WIPE_BYTES, layout.label === 'gpt' ? gptBackupBytes(layout.sectorSize) : 0), layout.sectorSize);
  const head = Buffer.alloc(first);
  const tail = Buffer.alloc(tailBytes);
  const tailOffset = alignDown(layout.diskBytes, layout.sectorSize) - tailBytes;
  if (layout.label === 'msdos') {
    const signature = options.diskSignature ?? randomBytes(4).readUInt32LE(0);
    writeMbr(head, layout, signature);
    return { writes: [{ offset: 0, data: head }, { offset: tailOffset, data: tail }], diskIdentifier: formatDiskIdentifier(signature) };
  }
  const diskGuid = options.diskGuid ?? randomUUID();
  const guids = layout.partitions.map((_, i) => options.partitionGuids?.[i] ?? randomUUID());
  writeGpt(head, tail, layout, diskGuid, guids);
  return {
    writes: [{ offset: 0, data: head }, { offset: tailOffset, data: tail }],
    diskGuid,
    partitionGuids: Object.fromEntries(layout.partitions.map((p, i) => [p.number, guids[i] as string])),
  };
}

/** `0x` and 8 hex digits of the little-endian word at MBR offset 440 (`hexdump -e '"0x%08x"'`). */
export function formatDiskIdentifier(signature: number): string {
  return `0x${(signature >>> 0).toString(16).padStart(8, '0')}`;
}

export function readDiskIdentifier(mbr: Buffer): string {
  return formatDiskIdentifier(mbr.readUInt32LE(440));
}

function writeMbr(head: Buffer, layout: Layout, signature: number): void {
  if (layout.partitions.length > 4) throw new Error('an msdos label holds at most 4 primary partitions');
  head.writeUInt32LE(signature >>> 0, 440);
  layout.partitions.forEach((p, i) => {
    const lba = p.startBytes / layout.sectorSize;
    const sectors = p.sizeBytes / layout.sectorSize;
    mbrEntry(head, 446 + 16 * i, p.bootable ? 0x80 : 0, MBR_TYPE[p.role], lba, sectors);
  });
  head.writeUInt16LE(0xaa55, 510);
}

/** One 16-byte MBR partition entry at `at`: status, CHS start, type, CHS end, LBA start, sector count. */
export function mbrEntry(buf: Buffer, at: number, status: number, type: number, lba: number, sectors: number): void {
  buf[at] = status;
  chs(lba).copy(buf, at + 1);
  buf[at + 4] = type;
  chs(lba + sectors - 1).copy(buf, at + 5);
  buf.writeUInt32LE(Math.min(lba, 0xffffffff), at + 8);
  buf.writeUInt32LE(Math.min(sectors, 0xffffffff), at + 12);
}

/** CHS address in the 255-head, 63-sector geometry, or the "beyond 8 GiB" marker. */
function chs(lba: number): Buffer {
  const heads = 255;
  const spt = 63;
  const c = Math.floor(lba / (heads * spt));
  if (c > 1023) return Buffer.from([0xfe, 0xff, 0xff]);
  const h = Math.floor(lba / spt) % heads;
  const s = (lba % spt) + 1;
  return Buffer.from([h, (s & 0x3f) | ((c >> 2) & 0xc0), c & 0xff]);
}

const ENTRIES = 128;
const ENTRY_SIZE = 128;

function writeGpt(head: Buffer, tail: Buffer, layout: Layout, diskGuid: string, guids: string[]): void {
  const ss = layout.sectorSize;
  const totalSectors = Math.floor(layout.diskBytes / ss);
  const lastLba = totalSectors - 1;
  const entrySectors = (ENTRIES * ENTRY_SIZE) / ss;
  const firstUsable = 2 + entrySectors;
  const lastUsable = lastLba - entrySectors - 1;

  // Protective MBR: one 0xEE partition over the whole disk.
  mbrEntry(head, 446, 0, 0xee, 1, Math.min(totalSectors - 1, 0xffffffff));
  head.writeUInt16LE(0xaa55, 510);

  const entries = Buffer.alloc(ENTRIES * ENTRY_SIZE);
  layout.partitions.forEach((p, i) => {
    const e = i * ENTRY_SIZE;
    guidBytes(GPT_TYPE[p.role]).copy(entries, e);
    guidBytes(guids[i] as string).copy(entries, e + 16);
    entries.writeBigUInt64LE(BigInt(p.startBytes / ss), e + 32);
    entries.writeBigUInt64LE(BigInt((p.startBytes + p.sizeBytes) / ss - 1), e + 40);
    entries.writeBigUInt64LE(0n, e + 48); // attributes
    entries.write(GPT_NAME[p.role], e + 56, 72, 'utf16le');
  });
  const entriesCrc = crc32(entries);

  const header = (current: number, backup: number, entriesLba: number): Buffer => {
    const h = Buffer.alloc(ss);
    h.write('EFI PART', 0, 'latin1');
    h.writeUInt32LE(0x00010000, 8);
    h.writeUInt32LE(92, 12);
    h.writeBigUInt64LE(BigInt(current), 24);
    h.writeBigUInt64LE(BigInt(backup), 32);
    h.writeBigUInt64LE(BigInt(firstUsable), 40);
    h.writeBigUInt64LE(BigInt(lastUsable), 48);
    guidBytes(diskGuid).copy(h, 56);
    h.writeBigUInt64LE(BigInt(entriesLba), 72);
    h.writeUInt32LE(ENTRIES, 80);
    h.writeUInt32LE(ENTRY_SIZE, 84);
    h.writeUInt32LE(entriesCrc, 88);
    h.writeUInt32LE(crc32(h.subarray(0, 92)), 16);
    return h;
  };

  header(1, lastLba, 2).copy(head, ss);
  entries.copy(head, 2 * ss);
  // The tail buffer ends at the last sector: entries, then the backup header.
  const backupEntriesLba = lastLba - entrySectors;
  entries.copy(tail, tail.length - ss - entries.length);
  header(lastLba, 1, backupEntriesLba).copy(tail, tail.length - ss);
}

/** A GUID in its on-disk form: the first three fields little-endian. */
export function guidBytes(guid: string): Buffer {
  const hex = guid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a GUID: ${guid}`);
  const b = Buffer.from(hex, 'hex');
  return Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)]);
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

function alignDown(n: number, to: number): number {
  return Math.floor(n / to) * to;
}
