/**
 * The simulated server's disk as a deploy ramdisk and the installed OS see
 * it: its partitions (sfdisk's view) with what blkid finds in each, a
 * partition image laid out the way ironic-python-agent lays one out
 * (ironic-lib's work_on_disk: partitions from 1 MiB, a 200 MiB FAT EFI
 * system partition labelled `efi-part` first for a UEFI local boot on a GPT
 * label, the root partition last, the image copied into it), and the boot
 * loader a ramdisk installs, checked the way grub-install and the DIB
 * script would refuse it. The real tools (sfdisk, mkfs.fat, blkid) do the
 * work, on the disk file itself.
 */
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const SECTOR = 512;
export const SIM_ESP_MB = 200;

export interface SimPartition {
  /** 1-based, as /dev/sdaN. */
  number: number;
  startBytes: number;
  sizeBytes: number;
  /** GPT partition type GUID, or the msdos type byte in hex. */
  type: string;
  /** GPT partition GUID (lower case), when the label is GPT. */
  partUuid?: string;
  bootable: boolean;
  /** What blkid finds inside: filesystem UUID, label and type. */
  fsUuid?: string;
  fsLabel?: string;
  fsType?: string;
}

export interface SimDiskLayout {
  label?: 'gpt' | 'dos';
  partitions: SimPartition[];
}

/** A boot loader some ramdisk installed on the disk. */
export interface SimBootloader {
  mode: 'bios' | 'uefi';
  /** The root filesystem it boots. */
  rootUuid: string;
  /** UEFI: the EFI system partition it went to. */
  espUuid?: string;
  by: 'ipa' | 'dib';
}

/** The partitions of the disk and what is in them; no label: no partitions. */
export async function readDisk(diskFile: string): Promise<SimDiskLayout> {
  let json: string;
  try {
    json = (await run('sfdisk', ['--json', diskFile])).stdout;
  } catch {
    return { partitions: [] }; // sfdisk finds no partition table
  }
  const table = (JSON.parse(json) as { partitiontable: { label: string; sectorsize?: number; partitions?: Array<{ start: number; size: number; type: string; uuid?: string; bootable?: boolean }> } }).partitiontable;
  const sector = table.sectorsize ?? SECTOR;
  const partitions: SimPartition[] = [];
  for (const [i, p] of (table.partitions ?? []).entries()) {
    const part: SimPartition = { number: i + 1, startBytes: p.start * sector, sizeBytes: p.size * sector, type: p.type, partUuid: p.uuid?.toLowerCase(), bootable: p.bootable === true };
    Object.assign(part, await probe(diskFile, part.startBytes, part.sizeBytes));
    partitions.push(part);
  }
  return { label: table.label === 'gpt' ? 'gpt' : 'dos', partitions };
}

async function probe(diskFile: string, offset: number, size: number): Promise<Pick<SimPartition, 'fsUuid' | 'fsLabel' | 'fsType'>> {
  try {
    const { stdout } = await run('blkid', ['-p', '-O', String(offset), '-S', String(size), '-o', 'export', diskFile]);
    const v = Object.fromEntries(stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    return { fsUuid: v.UUID, fsLabel: v.LABEL, fsType: v.TYPE };
  } catch {
    return {}; // nothing blkid recognises (exit status 2)
  }
}

export interface PartitionImageRequest {
  /** A raw filesystem image. */
  image: string;
  rootMb: number;
  bootMode: 'bios' | 'uefi';
  bootOption: 'local' | 'netboot';
  diskLabel?: 'gpt' | 'msdos';
}

export interface WrittenPartitionImage {
  /** As the agent's get_partition_uuids names them. */
  'root uuid': string;
  'efi system partition uuid'?: string;
  partitions: SimPartition[];
}

/**
 * Lay out the disk for a partition image and copy the image into the root
 * partition, as ironic-lib's work_on_disk does for the agent. Errors carry
 * the agent's words.
 */
export async function writePartitionImage(diskFile: string, r: PartitionImageRequest): Promise<WrittenPartitionImage> {
  const diskBytes = (await stat(diskFile)).size;
  const imageBytes = (await stat(r.image)).size;
  const imageMb = Math.ceil(imageBytes / MiB);
  if (imageMb > r.rootMb) throw new Error(`Root partition is too small for requested image. Image virtual size: ${imageMb} MB, Root size: ${r.rootMb} MB`);
  const uefiLocal = r.bootMode === 'uefi' && r.bootOption === 'local';
  const label = r.diskLabel === 'gpt' || uefiLocal ? 'gpt' : 'dos';
  const lines = [`label: ${label}`];
  let start = MiB;
  if (uefiLocal) {
    lines.push(`start=${start / SECTOR}, size=${(SIM_ESP_MB * MiB) / SECTOR}, type=${label === 'gpt' ? 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B' : 'ef'}`);
    start += SIM_ESP_MB * MiB;
  }
  const rootStart = start;
  const bootable = r.bootMode === 'bios' && r.bootOption === 'local' && label === 'dos';
  lines.push(`start=${rootStart / SECTOR}, size=${(r.rootMb * MiB) / SECTOR}, type=${label === 'gpt' ? '0FC63DAF-8483-4772-8E79-3D69D8477DE4' : '83'}${bootable ? ', bootable' : ''}`);
  const end = rootStart + r.rootMb * MiB + (label === 'gpt' ? 33 * SECTOR : 0);
  if (end > diskBytes) throw new Error(`Disk /dev/sda (${Math.floor(diskBytes / MiB)} MiB) is too small for the partitions asked for (${Math.ceil(end / MiB)} MiB)`);
  await tool('sfdisk', ['-q', '--wipe', 'always', diskFile], lines.join('\n'));
  if (uefiLocal) await tool('mkfs.fat', ['-F', '32', '--offset', String(MiB / SECTOR), '-n', 'efi-part', diskFile, String((SIM_ESP_MB * MiB) / 1024)]);
  await pipeline(createReadStream(r.image), createWriteStream(diskFile, { flags: 'r+', start: rootStart }));
  const layout = await readDisk(diskFile);
  const root = layout.partitions.at(-1);
  const esp = uefiLocal ? layout.partitions[0] : undefined;
  const rootUuid = root?.fsUuid ?? root?.partUuid;
  if (!rootUuid) throw new Error(`No filesystem found in the root partition /dev/sda${root?.number ?? ''} after writing the image`);
  return { 'root uuid': rootUuid, ...(esp?.fsUuid ? { 'efi system partition uuid': esp.fsUuid } : {}), partitions: layout.partitions };
}

/**
 * ironic-python-agent's image.install_bootloader on this disk: the root
 * (and in UEFI the EFI system partition) found by UUID as its
 * _get_partition does (filesystem UUID or partition UUID), and refused as
 * grub-install refuses a UEFI install without an EFI system partition.
 */
export async function agentInstallBootloader(diskFile: string, p: { rootUuid: unknown; espUuid: unknown; mode: 'bios' | 'uefi' }): Promise<SimBootloader> {
  if (typeof p.rootUuid !== 'string' || p.rootUuid === '') throw new Error('install_bootloader: root_uuid is required for a partition image');
  const { partitions } = await readDisk(diskFile);
  const find = (uuid: string): SimPartition | undefined => partitions.find((x) => x.fsUuid?.toLowerCase() === uuid.toLowerCase() || x.partUuid === uuid.toLowerCase());
  const root = find(p.rootUuid);
  if (!root) throw Object.assign(new Error(`No partition with UUID ${p.rootUuid} found on device /dev/sda`), { type: 'DeviceNotFound' });
  if (!root.fsType) throw new Error(`Installing GRUB2 boot loader to device /dev/sda failed with mount: /dev/sda${root.number}: wrong fs type, bad option, bad superblock`);
  let espUuid: string | undefined;
  if (p.mode === 'uefi') {
    if (typeof p.espUuid !== 'string' || p.espUuid === '') {
      throw new Error('Installing GRUB2 boot loader to device /dev/sda failed with grub-install: error: cannot find EFI directory.');
    }
    const esp = find(p.espUuid);
    if (!esp) throw Object.assign(new Error(`No partition with UUID ${p.espUuid} found on device /dev/sda`), { type: 'DeviceNotFound' });
    if (esp.fsType !== 'vfat') throw new Error(`Installing GRUB2 boot loader to device /dev/sda failed with mount: /dev/sda${esp.number}: not a FAT filesystem, so not an EFI system partition`);
    espUuid = esp.fsUuid;
  }
  return { mode: p.mode, rootUuid: (root.fsUuid ?? root.partUuid) as string, espUuid, by: 'ipa' };
}

/**
 * The DIB deploy-ironic script's install_bootloader: the root partition is
 * the disk's last one, the EFI system partition the one labelled
 * `efi-part`; each must mount. Throws the script's message.
 */
export async function dibInstallBootloader(diskFile: string, mode: 'bios' | 'uefi'): Promise<SimBootloader> {
  const { partitions } = await readDisk(diskFile);
  const root = partitions.at(-1);
  if (!root?.fsType) throw new Error(`Failed to mount root partition /dev/sda${root?.number ?? ''} on /mnt/rootfs`);
  let espUuid: string | undefined;
  if (mode === 'uefi') {
    const esp = partitions.find((x) => x.fsLabel === 'efi-part');
    if (!esp) throw new Error('Failed to mount efi system partition /dev/ on /mnt/rootfs/boot/efi');
    espUuid = esp.fsUuid;
  }
  return { mode, rootUuid: (root.fsUuid ?? root.partUuid) as string, espUuid, by: 'dib' };
}

async function tool(cmd: string, args: string[], input?: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = execFile(cmd, args, (err, _out, stderr) => (err ? reject(new Error(`${cmd} failed: ${String(stderr).trim() || err.message}`)) : resolve()));
    child.on('error', reject);
    if (input !== undefined) child.stdin?.end(input);
  });
}
