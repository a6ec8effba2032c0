/**
 * A config drive partition added to a whole-disk image's own partition
 * table, as ironic-python-agent (and, before it, Ironic's iSCSI deploy through
 * ironic-lib) does in `create_config_drive_partition`:
 * - a partition already holding a volume labelled `config-2` is reused;
 * - GPT: the backup header and entries moved to the end of the (larger) disk,
 *   then a new partition over the last 64 MiB of the usable space, its start
 *   aligned down to 1 MiB (`sgdisk -n 0:-64MB:0`), Linux filesystem type;
 * - MBR: refused when the four primary slots are taken (extended included),
 *   else a primary FAT32 (LBA) partition over the last 64 MiB of the disk
 *   (`parted mkpart primary fat32 -64MiB -0`), or just below 2 TiB on a
 *   larger disk, which MBR cannot address past.
 * Everything here works on bytes: the image's first sectors in, the table
 * writes out.
 */
import { randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { DeployError } from '../errors';
import { MiB } from './layout';
import { GPT_TYPE, guidBytes, mbrEntry, type TableWrite } from './partition-table';

/** The partition the agent adds: 64 MiB (IPA's MAX_CONFIG_DRIVE_SIZE_MB). */
export const CONFIG_DRIVE_PARTITION_MB = 64;
/** How much of the image's start to read: the MBR, and a GPT header with its entries (4K sectors included). */
export const TABLE_PROBE_BYTES = MiB;
/** How much of a partition's start shows its volume label: an ISO 9660 primary volume descriptor lies at 32 KiB. */
export const LABEL_PROBE_BYTES = 0x8000 + 2048;

const MBR_LIMIT_BYTES = 2 ** 32 * 512;
const FAT32_LBA = 0x0c;

export interface ExistingPartition {
  number: number;
  startBytes: number;
  sizeBytes: number;
}

interface GptInfo {
  header: Buffer;
  entriesLba: number;
  count: number;
  entrySize: number;
  entries: Buffer;
}

export interface DiskTable {
  label: 'msdos' | 'gpt';
  sectorSize: number;
  partitions: ExistingPartition[];
  /** msdos: the four primary slots (type byte, 0 = free). */
  mbrTypes?: number[];
  gpt?: GptInfo;
}

export interface ConfigDrivePartitionPlan {
  number: number;
  startBytes: number;
  sizeBytes: number;
  /** An existing partition labelled config-2, reused: no table change. */
  reused: boolean;
  label: DiskTable['label'];
  /** Table writes, in order (none when reused). */
  writes: TableWrite[];
}

function noTable(why: string): DeployError {
  return new DeployError('image', `a config drive partition cannot be added: ${why}`, { field: 'image' });
}

function readGpt(head: Buffer, ss: number): GptInfo | undefined {
  if (head.length < 2 * ss || head.toString('latin1', ss, ss + 8) !== 'EFI PART') return undefined;
  const size = head.readUInt32LE(ss + 12);
  if (size < 92 || size > ss) throw noTable('the image\'s GPT header has an invalid size');
  const header = Buffer.from(head.subarray(ss, ss + size));
  const crc = header.readUInt32LE(16);
  header.writeUInt32LE(0, 16);
  if (crc32(header) !== crc) throw noTable('the image\'s GPT header fails its CRC check');
  header.writeUInt32LE(crc, 16);
  const entriesLba = Number(header.readBigUInt64LE(72));
  const count = header.readUInt32LE(80);
  const entrySize = header.readUInt32LE(84);
  if (entrySize < 128 || entrySize % 8 !== 0 || count === 0 || count > 1024) throw noTable('the image\'s GPT has an implausible entry array');
  const end = entriesLba * ss + count * entrySize;
  if (end > head.length) throw noTable(`the image's GPT entries lie beyond its first ${head.length / MiB} MiB`);
  const entries = Buffer.from(head.subarray(entriesLba * ss, end));
  if (crc32(entries) !== header.readUInt32LE(88)) throw noTable('the image\'s GPT entry array fails its CRC check');
  return { header, entriesLba, count, entrySize, entries };
}

/** The partition table at the start of a whole-disk image: GPT (512 or 4096-byte sectors) or MBR. */
export function readDiskTable(head: Buffer): DiskTable {
  if (head.length < 512 || head.readUInt16LE(510) !== 0xaa55) throw noTable('the image has no MBR or GPT partition table');
  const types = [0, 1, 2, 3].map((i) => head[446 + 16 * i + 4] as number);
  if (types.includes(0xee)) {
    for (const ss of [512, 4096]) {
      const gpt = readGpt(head, ss);
      if (!gpt) continue;
      const partitions: ExistingPartition[] = [];
      for (let i = 0; i < gpt.count; i++) {
        const e = gpt.entries.subarray(i * gpt.entrySize, (i + 1) * gpt.entrySize);
        if (e.subarray(0, 16).every((b) => b === 0)) continue;
        const first = Number(e.readBigUInt64LE(32));
        const last = Number(e.readBigUInt64LE(40));
        partitions.push({ number: i + 1, startBytes: first * ss, sizeBytes: (last - first + 1) * ss });
      }
      return { label: 'gpt', sectorSize: ss, partitions, gpt };
    }
    throw noTable('the image has a protective MBR but no valid GPT header');
  }
  const partitions: ExistingPartition[] = [];
  types.forEach((t, i) => {
    if (t === 0) return;
    const at = 446 + 16 * i;
    partitions.push({ number: i + 1, startBytes: head.readUInt32LE(at + 8) * 512, sizeBytes: head.readUInt32LE(at + 12) * 512 });
  });
  return { label: 'msdos', sectorSize: 512, partitions, mbrTypes: types };
}

function overlaps(p: ExistingPartition, start: number, end: number): boolean {
  return p.startBytes < end && start < p.startBytes + p.sizeBytes;
}

function noRoom(table: DiskTable, start: number, diskBytes: number): DeployError {
  const last = Math.max(...table.partitions.map((p) => p.startBytes + p.sizeBytes));
  return new DeployError(
    'too-small',
    `no room for the 64 MiB config drive partition at the end of the disk (${Math.floor(diskBytes / MiB)} MiB): the image's partitions reach ${Math.ceil(last / MiB)} MiB, the config drive would start at ${Math.floor(start / MiB)} MiB`,
  );
}

/** The image's first sector with one MBR entry replaced (writes go in whole sectors). */
function mbrWith(head: Buffer, slot: number, type: number, lba: number, sectors: number): TableWrite {
  const sector = Buffer.from(head.subarray(0, 512));
  mbrEntry(sector, 446 + 16 * slot, 0, type, lba, sectors);
  return { offset: 0, data: sector };
}

function planMbr(table: DiskTable, head: Buffer, diskBytes: number): ConfigDrivePartitionPlan {
  const types = table.mbrTypes as number[];
  const used = types.filter((t) => t !== 0).length;
  if (used > 3) {
    // ironic-python-agent's words (it counts an extended partition as one of the four).
    throw new DeployError('not-supported', `Config drive cannot be created: the disk uses MBR partitioning and already has ${used} primary partitions`);
  }
  const size = CONFIG_DRIVE_PARTITION_MB * MiB;
  const start = diskBytes > MBR_LIMIT_BYTES ? MBR_LIMIT_BYTES - size - MiB : Math.floor((diskBytes - size) / MiB) * MiB;
  const end = diskBytes > MBR_LIMIT_BYTES ? start + size : Math.floor(diskBytes / 512) * 512;
  if (table.partitions.some((p) => overlaps(p, start, end))) throw noRoom(table, start, diskBytes);
  const slot = types.indexOf(0);
  return { number: slot + 1, startBytes: start, sizeBytes: end - start, reused: false, label: 'msdos', writes: [mbrWith(head, slot, FAT32_LBA, start / 512, (end - start) / 512)] };
}

function planGpt(table: DiskTable, head: Buffer, diskBytes: number, partitionGuid: string): ConfigDrivePartitionPlan {
  const ss = table.sectorSize;
  const g = table.gpt as GptInfo;
  const slot = [...Array(g.count).keys()].find((i) => g.entries.subarray(i * g.entrySize, i * g.entrySize + 16).every((b) => b === 0));
  if (slot === undefined) throw new DeployError('not-supported', `Config drive cannot be created: the image's GPT has no free entry (${g.count} in use)`);
  const totalSectors = Math.floor(diskBytes / ss);
  const lastLba = totalSectors - 1;
  const entrySectors = Math.ceil((g.count * g.entrySize) / ss);
  // sgdisk -e keeps the margin the table had at its start (34 sectors from sgdisk, 1 MiB from sfdisk) at the end too.
  const firstUsable = Number(g.header.readBigUInt64LE(40));
  const lastUsable = totalSectors - Math.max(firstUsable, entrySectors + 2);
  const backupEntriesLba = lastUsable + 1;
  const size = CONFIG_DRIVE_PARTITION_MB * MiB;
  const start = Math.floor(((lastUsable - size / ss) * ss) / MiB) * MiB;
  const end = (lastUsable + 1) * ss;
  if (table.partitions.some((p) => overlaps(p, start, end))) throw noRoom(table, start, diskBytes);

  const entries = Buffer.from(g.entries);
  const e = slot * g.entrySize;
  guidBytes(GPT_TYPE.configdrive).copy(entries, e);
  guidBytes(partitionGuid).copy(entries, e + 16);
  entries.writeBigUInt64LE(BigInt(start / ss), e + 32);
  entries.writeBigUInt64LE(BigInt(lastUsable), e + 40);
  const entriesCrc = crc32(entries);

  // Both headers as the image's, with the backup moved to the disk's last sector (sgdisk -e).
  const header = (current: number, backup: number, entriesLba: number): Buffer => {
    const h = Buffer.alloc(ss);
    g.header.copy(h);
    h.writeBigUInt64LE(BigInt(current), 24);
    h.writeBigUInt64LE(BigInt(backup), 32);
    h.writeBigUInt64LE(BigInt(lastUsable), 48);
    h.writeBigUInt64LE(BigInt(entriesLba), 72);
    h.writeUInt32LE(entriesCrc, 88);
    h.writeUInt32LE(0, 16);
    h.writeUInt32LE(crc32(h.subarray(0, g.header.length)), 16);
    return h;
  };
  const padded = Buffer.concat([entries, Buffer.alloc(entrySectors * ss - entries.length)]);
  const writes: TableWrite[] = [
    { offset: ss, data: header(1, lastLba, g.entriesLba) },
    { offset: g.entriesLba * ss, data: padded },
    { offset: backupEntriesLba * ss, data: padded },
    { offset: lastLba * ss, data: header(lastLba, 1, backupEntriesLba) },
  ];
  // The protective MBR, when it is only that, covers the whole (larger) disk again.
  const types = [0, 1, 2, 3].map((i) => head[446 + 16 * i + 4]);
  if (types[0] === 0xee && types.slice(1).every((t) => t === 0)) writes.unshift(mbrWith(head, 0, 0xee, 1, Math.min(lastLba, 0xffffffff)));
  return { number: slot + 1, startBytes: start, sizeBytes: end - start, reused: false, label: 'gpt', writes };
}

export interface PlanOptions {
  /** Partitions (by number) that already hold a volume labelled config-2 (found by the caller). */
  labelled?: number[];
  /** GPT: the new partition's unique GUID (random by default). */
  partitionGuid?: string;
}

/** Where the config drive goes on a disk of `diskBytes` that the image (whose first bytes are `head`) is copied onto. */
export function planConfigDrivePartition(head: Buffer, diskBytes: number, driveBytes: number, options: PlanOptions = {}): ConfigDrivePartitionPlan {
  const table = readDiskTable(head);
  const labelled = (options.labelled ?? []).map((n) => table.partitions.find((p) => p.number === n)).filter((p): p is ExistingPartition => p !== undefined);
  if (labelled.length > 1) {
    throw new DeployError('image', `More than one partition with label "config-2" exists in the image: partitions ${labelled.map((p) => p.number).join(' and ')}`, { field: 'image' });
  }
  const found = labelled[0];
  const plan = found
    ? { number: found.number, startBytes: found.startBytes, sizeBytes: found.sizeBytes, reused: true, label: table.label, writes: [] }
    : table.label === 'gpt'
      ? planGpt(table, head, diskBytes, options.partitionGuid ?? randomUUID())
      : planMbr(table, head, diskBytes);
  if (driveBytes > plan.sizeBytes) {
    throw new DeployError('too-small', `the config drive (${Math.ceil(driveBytes / MiB)} MiB) does not fit its partition ${plan.number} (${Math.floor(plan.sizeBytes / MiB)} MiB)`);
  }
  return plan;
}
