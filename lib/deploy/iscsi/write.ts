/**
 * iscsi_ilo's disk step, run from the controller against the
 * LUN a deploy ramdisk exports: a whole-disk image copied onto the LUN, or a
 * partition image deployed as Ironic does (table, ESP, ephemeral, swap,
 * config drive, root last). qemu-img does the copying through its userspace
 * iSCSI initiator (libiscsi), so no kernel iSCSI support is needed; the
 * partition table is written from TypeScript and each partition through a
 * window (offset + size) of the LUN.
 */
import { mkdtemp, open, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool, type ToolRunner } from '../../exec/run';
import { DeployError, badInput } from '../errors';
import { SUPERBLOCK_PROBE_BYTES, identifyFilesystem } from '../disk/fs-uuid';
import { EPHEMERAL_FORMATS, makeEphemeral, makeEsp, makeSwap, prepareConfigdrive, type Configdrive, type EphemeralFormat } from '../disk/filesystems';
import { MiB, planLayout, type BootMode, type BootOption, type Layout, type PartitionRole } from '../disk/layout';
import { buildPartitionTable, readDiskIdentifier } from '../disk/partition-table';
import { planWholeDiskConfigDrive, writeWholeDiskConfigDrive } from './config-drive';
import { openIscsiLogin } from './open-iscsi';
import { copyInto, inspectImage, readBytes, targetSize, type ImageFormat, type QemuImgContext } from './qemu-img';
import { hostDeviceNode, libiscsiNode, rawOver, resolveLun, type IscsiPortal, type Window } from './target';

export type IscsiInitiator = 'libiscsi' | 'open-iscsi';

export interface PartitionImageOptions {
  rootMb: number;
  swapMb?: number;
  ephemeralMb?: number;
  /** Default ext4. */
  ephemeralFormat?: EphemeralFormat;
  configdrive?: Configdrive;
  bootMode: BootMode;
  bootOption: BootOption;
}

export type WriteStep = 'inspect' | 'connect' | 'partition-table' | PartitionRole | 'whole-disk' | 'verify' | 'disconnect';

export interface WriteProgress {
  step: WriteStep;
  /** Of the current step, 0 to 100, when the step reports it (image copies do). */
  percent?: number;
}

export interface WriteImageOptions {
  portal: IscsiPortal;
  iqn: string;
  /** Default 1. */
  lun?: number;
  /** Path of the image on this machine. */
  image: string;
  /** Detected with `qemu-img info` when absent. */
  imageFormat?: ImageFormat;
  imageType: 'whole-disk' | 'partition';
  /** Required for a partition image. */
  partition?: PartitionImageOptions;
  /**
   * The config drive: a partition of its own at the end of the disk (a
   * whole-disk image: added to the image's table; a partition image: in
   * Ironic's layout, unless `partition.configdrive` gives one).
   */
  configdrive?: Configdrive;
  /** Default `libiscsi` (userspace). `open-iscsi` needs a kernel with iSCSI support. */
  initiator?: IscsiInitiator;
  /** CHAP, libiscsi only: the secret goes to qemu in a 0600 file, never on a command line. */
  chap?: { username: string; password: string };
  onProgress?: (p: WriteProgress) => void;
  signal?: AbortSignal;
  /** Scratch space for the small filesystems and the table (default: the OS temp dir). */
  workDir?: string;
  tools?: { qemuImg?: string; iscsiadm?: string };
  /** For tests: what runs the tools (default: execa). */
  run?: ToolRunner;
}

export interface WrittenPartition {
  number: number;
  role: PartitionRole;
  startBytes: number;
  sizeBytes: number;
}

export interface WriteImageResult {
  /** Partition image: the root filesystem's UUID (from inside the image, checked on the LUN). */
  rootUuid?: string;
  /** UEFI local boot: the ESP's volume ID. */
  efiSystemPartitionUuid?: string;
  /** MBR disk signature (`0x1a2b3c4d`), for chain.c32: whole-disk images, and msdos labels. */
  diskIdentifier?: string;
  label?: Layout['label'];
  /** Partition image: every partition written. Whole-disk image: the config drive partition, when one was asked for. */
  partitions?: WrittenPartition[];
}

export async function writeImageToIscsi(options: WriteImageOptions): Promise<WriteImageResult> {
  const lun = resolveLun({ portal: options.portal, iqn: options.iqn, lun: options.lun });
  const initiator = options.initiator ?? 'libiscsi';
  if (initiator !== 'libiscsi' && initiator !== 'open-iscsi') throw badInput('initiator', '"libiscsi" or "open-iscsi"', initiator);
  if (typeof options.image !== 'string' || options.image.length === 0) throw badInput('image', 'the path of an image file', options.image);
  if (options.imageFormat !== undefined && options.imageFormat !== 'raw' && options.imageFormat !== 'qcow2') throw badInput('imageFormat', '"raw" or "qcow2"', options.imageFormat);
  if (options.imageType !== 'whole-disk' && options.imageType !== 'partition') throw badInput('imageType', '"whole-disk" or "partition"', options.imageType);
  if (options.imageType === 'partition') checkPartitionOptions(options.partition);
  if (options.chap) {
    if (initiator === 'open-iscsi') throw new DeployError('not-supported', 'CHAP with open-iscsi would put the secret on iscsiadm\'s command line; use the libiscsi initiator', { field: 'chap' });
    if (typeof options.chap.username !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(options.chap.username) || options.chap.username.includes(',')) {
      throw badInput('chap.username', 'printable characters without spaces or commas', options.chap.username);
    }
    if (typeof options.chap.password !== 'string' || options.chap.password.length === 0) throw badInput('chap.password', 'a non-empty string');
  }

  const progress = (step: WriteStep, percent?: number): void => options.onProgress?.(percent === undefined ? { step } : { step, percent });
  const scratch = await mkdtemp(join(options.workDir ?? tmpdir(), 'iscsi-write-'));
  const run = options.run ?? runTool;
  const ctx: QemuImgContext = { qemuImg: options.tools?.qemuImg ?? 'qemu-img', run, objects: [], signal: options.signal, workDir: scratch };
  let logout: (() => Promise<void>) | undefined;
  try {
    let chapSecret: string | undefined;
    if (options.chap) {
      const file = join(scratch, 'chap.secret');
      await writeFile(file, options.chap.password, { mode: 0o600 });
      await chmod(file, 0o600);
      chapSecret = 'chap0';
      ctx.objects.push(`secret,id=${chapSecret},file=${file.replace(/,/g, ',,')},format=raw`);
    }

    progress('inspect');
    const info = await inspectImage(ctx, options.image, options.imageFormat);
    let rootUuid: string | undefined;
    if (options.imageType === 'partition') {
      const head = await readImageHead(ctx, options.image, info);
      const fs = identifyFilesystem(head);
      if (!fs) {
        throw new DeployError('image', `no ext2/3/4, xfs, btrfs or FAT filesystem at the start of ${options.image}: a partition image must be one filesystem (is it a whole-disk image?)`, { field: 'image' });
      }
      rootUuid = fs.uuid;
    }

    progress('connect');
    let fileNode: Array<[string, string | number | undefined]>;
    if (initiator === 'open-iscsi') {
      const session = await openIscsiLogin(lun, { iscsiadm: options.tools?.iscsiadm ?? 'iscsiadm', run, signal: options.signal });
      logout = session.logout;
      fileNode = hostDeviceNode(session.device);
    } else {
      fileNode = libiscsiNode(lun, options.chap && chapSecret ? { username: options.chap.username, secretId: chapSecret } : undefined);
    }
    const target = (window?: Window): string => rawOver(fileNode, window);

    let result: WriteImageResult;
    if (options.imageType === 'whole-disk') {
      // Planned before anything is written: an image with no table, or no room at the end, leaves the disk untouched.
      const drive = options.configdrive === undefined ? undefined : await prepareConfigdrive({ run, signal: options.signal, dir: scratch }, options.configdrive);
      const plan = drive && (await planWholeDiskConfigDrive(ctx, options.image, info, await targetSize(ctx, target()), drive.size));
      // qemu-img itself refuses, before writing anything, an image larger than the disk ("too-small").
      progress('whole-disk', 0);
      await copyInto(ctx, 'writing the whole-disk image', { file: options.image, format: info.format }, target(), (p) => progress('whole-disk', p.percent));
      if (drive && plan) {
        progress('configdrive', 0);
        await writeWholeDiskConfigDrive(ctx, plan, drive, target, scratch, (p) => progress('configdrive', p.percent));
      }
      progress('verify');
      const mbr = await readBytes(ctx, 'reading the disk signature back', { imageOpts: target({ offset: 0, size: 512 }) });
      result = { diskIdentifier: readDiskIdentifier(mbr), ...(plan ? { label: plan.label, partitions: [{ number: plan.number, role: 'configdrive' as const, startBytes: plan.startBytes, sizeBytes: plan.sizeBytes }] } : {}) };
    } else {
      const diskBytes = await targetSize(ctx, target());
      result = await writePartitionImage(ctx, options, info, diskBytes, rootUuid as string, target, scratch, progress);
    }

    if (logout) {
      progress('disconnect');
      const l = logout;
      logout = undefined;
      await l();
    }
    return result;
  } finally {
    if (logout) await logout().catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
  }
}

async function writePartitionImage(
  ctx: QemuImgContext,
  options: WriteImageOptions,
  info: { format: ImageFormat; virtualSize: number },
  diskBytes: number,
  rootUuid: string,
  target: (w?: Window) => string,
  scratch: string,
  progress: (step: WriteStep, percent?: number) => void,
): Promise<WriteImageResult> {
  const p = options.partition as PartitionImageOptions;
  const tools = { run: ctx.run, signal: ctx.signal, dir: scratch };
  const given = p.configdrive ?? options.configdrive;
  const drive = given === undefined ? undefined : await prepareConfigdrive(tools, given);
  const layout = planLayout({
    diskBytes,
    bootMode: p.bootMode,
    bootOption: p.bootOption,
    rootMb: p.rootMb,
    imageBytes: info.virtualSize,
    swapMb: p.swapMb,
    ephemeralMb: p.ephemeralMb,
    configdriveBytes: drive?.size,
  });

  progress('partition-table');
  const table = buildPartitionTable(layout);
  for (const [i, w] of table.writes.entries()) {
    const file = join(scratch, `table-${i}.bin`);
    await writeFile(file, w.data);
    await copyInto(ctx, 'writing the partition table', { file, format: 'raw' }, target({ offset: w.offset, size: w.data.length }));
  }

  let efiSystemPartitionUuid: string | undefined;
  for (const part of layout.partitions) {
    const window = { offset: part.startBytes, size: part.sizeBytes };
    const onProgress = (x: { percent: number }): void => progress(part.role, x.percent);
    progress(part.role, 0);
    switch (part.role) {
      case 'esp': {
        const esp = await makeEsp(tools, part.sizeBytes);
        efiSystemPartitionUuid = esp.uuid;
        await copyInto(ctx, 'writing the EFI system partition', { file: esp.path, format: 'raw' }, target(window), onProgress);
        break;
      }
      case 'ephemeral': {
        const eph = await makeEphemeral(tools, part.sizeBytes, p.ephemeralFormat ?? 'ext4');
        await copyInto(ctx, 'writing the ephemeral partition', { file: eph.path, format: 'raw' }, target(window), onProgress);
        break;
      }
      case 'swap': {
        const swap = await makeSwap(tools, part.sizeBytes);
        const head = Math.min(MiB, part.sizeBytes);
        await copyInto(ctx, 'writing the swap signature', { imageOpts: rawOver([['driver', 'file'], ['filename', swap.path]], { offset: 0, size: head }) }, target({ offset: part.startBytes, size: head }), onProgress);
        break;
      }
      case 'configdrive':
        await copyInto(ctx, 'writing the config drive', { file: (drive as { path: string }).path, format: 'raw' }, target(window), onProgress);
        break;
      case 'root':
        await copyInto(ctx, 'writing the root partition', { file: options.image, format: info.format }, target(window), onProgress);
        break;
    }
  }

  // What Ironic's blkid on the new partition would say, read back through the initiator.
  progress('verify');
  const root = layout.partitions.at(-1) as { startBytes: number };
  const written = identifyFilesystem(await readBytes(ctx, 'reading the root superblock back', { imageOpts: target({ offset: root.startBytes, size: SUPERBLOCK_PROBE_BYTES }) }));
  if (written?.uuid !== rootUuid) {
    throw new DeployError('tool-failed', `the root partition on the LUN shows filesystem UUID ${written?.uuid ?? 'none'} instead of the image's ${rootUuid}`);
  }
  return {
    rootUuid,
    ...(efiSystemPartitionUuid ? { efiSystemPartitionUuid } : {}),
    ...(table.diskIdentifier ? { diskIdentifier: table.diskIdentifier } : {}),
    label: layout.label,
    partitions: layout.partitions.map(({ number, role, startBytes, sizeBytes }) => ({ number, role, startBytes, sizeBytes })),
  };
}

/** The first bytes of the filesystem in the image (raw: read directly; qcow2: through qemu-img). */
async function readImageHead(ctx: QemuImgContext, image: string, info: { format: ImageFormat; virtualSize: number }): Promise<Buffer> {
  const { format } = info;
  if (format === 'raw') {
    const fh = await open(image, 'r');
    try {
      const buf = Buffer.alloc(SUPERBLOCK_PROBE_BYTES);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }
  const size = Math.min(SUPERBLOCK_PROBE_BYTES, Math.floor(info.virtualSize / 512) * 512);
  const opts = rawOver([['driver', format], ['file.driver', 'file'], ['file.filename', image]], { offset: 0, size });
  return readBytes(ctx, 'reading the image superblock', { imageOpts: opts });
}

function checkPartitionOptions(p: PartitionImageOptions | undefined): void {
  if (!p || typeof p !== 'object') throw badInput('partition', 'partition options { rootMb, bootMode, bootOption, ... } for a partition image');
  if (p.bootMode !== 'bios' && p.bootMode !== 'uefi') throw badInput('partition.bootMode', '"bios" or "uefi"', p.bootMode);
  if (p.bootOption !== 'local' && p.bootOption !== 'netboot') throw badInput('partition.bootOption', '"local" or "netboot"', p.bootOption);
  for (const f of ['rootMb', 'swapMb', 'ephemeralMb'] as const) {
    const v = p[f];
    if (v === undefined && f !== 'rootMb') continue;
    if (!Number.isInteger(v) || (v as number) < (f === 'rootMb' ? 1 : 0)) throw badInput(`partition.${f}`, `a whole number of MiB${f === 'rootMb' ? ' of at least 1' : ''}`, v);
  }
  if (p.ephemeralFormat !== undefined && !EPHEMERAL_FORMATS.includes(p.ephemeralFormat)) throw badInput('partition.ephemeralFormat', EPHEMERAL_FORMATS.join(', '), p.ephemeralFormat);
}
