/**
 * Where each partition of a partition-image deploy goes, in Ironic's order:
 * partitions start at 1 MiB and follow each other with no
 * gap; a UEFI local boot gets a GPT label and a 200 MiB ESP first, anything
 * else an msdos label; then ephemeral, swap, config drive, and root last (so
 * the instance can grow it).
 */
import { DeployError, badInput } from '../errors';

export const MiB = 1024 * 1024;
export const ESP_SIZE_MB = 200;

export type BootMode = 'bios' | 'uefi';
export type BootOption = 'local' | 'netboot';
export type PartitionRole = 'esp' | 'ephemeral' | 'swap' | 'configdrive' | 'root';

export interface LayoutInput {
  diskBytes: number;
  /** Logical sector size of the disk (default 512). */
  sectorSize?: number;
  bootMode: BootMode;
  bootOption: BootOption;
  rootMb: number;
  /** Virtual size of the root image; it must fit in rootMb. */
  imageBytes: number;
  swapMb?: number;
  ephemeralMb?: number;
  configdriveBytes?: number;
}

export interface PlannedPartition {
  /** 1-based partition number, as the OS will name it. */
  number: number;
  role: PartitionRole;
  startBytes: number;
  sizeBytes: number;
  /** msdos "active" flag: root, for a BIOS local boot only. */
  bootable: boolean;
}

export interface Layout {
  label: 'msdos' | 'gpt';
  sectorSize: number;
  diskBytes: number;
  partitions: PlannedPartition[];
}

/** Bytes a GPT keeps at the end of the disk: 128 entries of 128 bytes, then the backup header sector. */
export function gptBackupBytes(sectorSize: number): number {
  return 128 * 128 + sectorSize;
}

export function planLayout(input: LayoutInput): Layout {
  const sectorSize = input.sectorSize ?? 512;
  if (sectorSize !== 512 && sectorSize !== 4096) throw badInput('sectorSize', '512 or 4096', sectorSize);
  wholeMb('rootMb', input.rootMb, 1);
  const swapMb = wholeMb('swapMb', input.swapMb ?? 0, 0);
  const ephemeralMb = wholeMb('ephemeralMb', input.ephemeralMb ?? 0, 0);
  const imageMb = Math.ceil(input.imageBytes / MiB);
  if (imageMb > input.rootMb) {
    // Ironic's words, so operators recognise it.
    throw new DeployError('too-small', `Root partition is too small for requested image. Image size: ${imageMb} MB, Root size: ${input.rootMb} MB`, { field: 'rootMb' });
  }
  const label = input.bootMode === 'uefi' && input.bootOption === 'local' ? 'gpt' : 'msdos';
  const sizes: Array<[PartitionRole, number]> = [];
  if (label === 'gpt') sizes.push(['esp', ESP_SIZE_MB]);
  if (ephemeralMb > 0) sizes.push(['ephemeral', ephemeralMb]);
  if (swapMb > 0) sizes.push(['swap', swapMb]);
  if (input.configdriveBytes !== undefined && input.configdriveBytes > 0) sizes.push(['configdrive', Math.ceil(input.configdriveBytes / MiB)]);
  sizes.push(['root', input.rootMb]);

  let start = MiB;
  const partitions = sizes.map(([role, mb], i): PlannedPartition => {
    const p = { number: i + 1, role, startBytes: start, sizeBytes: mb * MiB, bootable: role === 'root' && input.bootMode === 'bios' && input.bootOption === 'local' };
    start += mb * MiB;
    return p;
  });
  const tail = label === 'gpt' ? gptBackupBytes(sectorSize) : 0;
  const usableEnd = input.diskBytes - tail;
  if (start > usableEnd) {
    const needMb = Math.ceil((start + tail) / MiB);
    throw new DeployError('too-small', `the disk (${Math.floor(input.diskBytes / MiB)} MiB) cannot hold the partitions asked for (${needMb} MiB: ${sizes.map(([r, mb]) => `${r} ${mb}`).join(', ')})`);
  }
  if (label === 'msdos' && start / sectorSize > 0xffffffff) {
    throw new DeployError('not-supported', 'an msdos partition table cannot address past 2 TiB (512-byte sectors); use UEFI with local boot for a GPT label');
  }
  return { label, sectorSize, diskBytes: input.diskBytes, partitions };
}

function wholeMb(field: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw badInput(field, `a whole number of MiB of at least ${min}`, v);
  return v;
}
