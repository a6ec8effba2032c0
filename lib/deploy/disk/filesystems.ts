/**
 * The small filesystems a partition-image deploy creates next to the root
 * (ESP, swap, ephemeral) and the config drive, made as local files with the
 * usual tools, then copied into their partitions. Ironic runs the same mkfs
 * calls on the partition devices; we have no partition device, only the LUN.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { ToolRunner } from '../../exec/run';
import { DeployError, badInput } from '../errors';

export type EphemeralFormat = 'ext4' | 'ext3' | 'ext2' | 'xfs' | 'vfat';
export const EPHEMERAL_FORMATS: readonly EphemeralFormat[] = ['ext4', 'ext3', 'ext2', 'xfs', 'vfat'];

/** A config drive: Ironic's form (base64 of gzip), or a file holding the raw image. */
export type Configdrive = string | { path: string };

export interface ToolContext {
  run: ToolRunner;
  signal?: AbortSignal;
  /** Scratch directory for the files made here. */
  dir: string;
}

/** Debian package of each tool, for the "not installed" message. */
const PACKAGE: Record<string, string> = {
  'mkfs.vfat': 'dosfstools',
  mkswap: 'util-linux',
  'mkfs.ext4': 'e2fsprogs',
  'mkfs.ext3': 'e2fsprogs',
  'mkfs.ext2': 'e2fsprogs',
  'mkfs.xfs': 'xfsprogs',
};

async function tool(ctx: ToolContext, file: string, args: string[], what: string): Promise<void> {
  const r = await ctx.run(file, args, { signal: ctx.signal, timeoutMs: 10 * 60_000 });
  if (r.exitCode === 0 && !r.failure) return;
  if (r.notFound) throw new DeployError('not-supported', `${what}: ${file} is not installed (Debian: ${PACKAGE[file] ?? file})`);
  if (r.canceled) throw new DeployError('aborted', `${what}: cancelled`);
  const said = (r.stderr.trim() || r.stdout.trim() || r.failure || `exit code ${r.exitCode}`).split('\n').slice(-3).join('; ');
  throw new DeployError('tool-failed', `${what} failed: ${said}`, { toolMessage: said });
}

async function sparseFile(path: string, size: number): Promise<void> {
  await writeFile(path, '');
  await truncate(path, size);
}

/** FAT32 EFI system partition labelled `efi-part`; returns its volume ID as blkid shows it. */
export async function makeEsp(ctx: ToolContext, sizeBytes: number): Promise<{ path: string; uuid: string }> {
  const path = join(ctx.dir, 'esp.img');
  const id = randomBytes(4).toString('hex').toUpperCase();
  await sparseFile(path, sizeBytes);
  await tool(ctx, 'mkfs.vfat', ['-F', '32', '-n', 'efi-part', '-i', id, path], 'making the EFI system partition');
  return { path, uuid: `${id.slice(0, 4)}-${id.slice(4)}` };
}

/**
 * A swap area labelled `swap1`. mkswap writes one page; the caller copies the
 * first MiB, which also overwrites whatever signature was there before.
 */
export async function makeSwap(ctx: ToolContext, sizeBytes: number): Promise<{ path: string }> {
  const path = join(ctx.dir, 'swap.img');
  await sparseFile(path, sizeBytes);
  await tool(ctx, 'mkswap', ['-L', 'swap1', path], 'making the swap area');
  return { path };
}

/** The ephemeral filesystem, labelled `ephemeral0` as Ironic does. */
export async function makeEphemeral(ctx: ToolContext, sizeBytes: number, format: EphemeralFormat): Promise<{ path: string }> {
  if (!EPHEMERAL_FORMATS.includes(format)) throw badInput('partition.ephemeralFormat', EPHEMERAL_FORMATS.join(', '), format);
  const path = join(ctx.dir, 'ephemeral.img');
  await sparseFile(path, sizeBytes);
  const args: Record<EphemeralFormat, string[]> = {
    ext4: ['-F', '-q', '-L', 'ephemeral0', path],
    ext3: ['-F', '-q', '-L', 'ephemeral0', path],
    ext2: ['-F', '-q', '-L', 'ephemeral0', path],
    xfs: ['-f', '-q', '-L', 'ephemeral0', path],
    vfat: ['-n', 'EPHEMERAL0', path],
  };
  await tool(ctx, `mkfs.${format}`, args[format], `making the ${format} ephemeral filesystem`);
  return { path };
}

/** The config drive as a raw file: Ironic's base64 gzip decoded (streamed), or the caller's file. */
export async function prepareConfigdrive(ctx: ToolContext, drive: Configdrive): Promise<{ path: string; size: number }> {
  if (typeof drive === 'object' && drive !== null && typeof drive.path === 'string') {
    const s = await stat(drive.path).catch(() => undefined);
    if (!s?.isFile() || s.size === 0) throw badInput('partition.configdrive.path', 'a non-empty file', drive.path);
    return { path: drive.path, size: s.size };
  }
  if (typeof drive !== 'string' || drive.length === 0 || !/^[A-Za-z0-9+/=\s]+$/.test(drive)) {
    throw badInput('partition.configdrive', 'base64 of a gzip-compressed image (Ironic form), or { path }');
  }
  const path = join(ctx.dir, 'configdrive.img');
  try {
    await pipeline(Readable.from([Buffer.from(drive, 'base64')]), createGunzip(), createWriteStream(path));
  } catch (err) {
    throw new DeployError('invalid-input', `partition.configdrive: not base64 of gzip data (${(err as Error).message})`, { field: 'partition.configdrive' });
  }
  const { size } = await stat(path);
  if (size === 0) throw badInput('partition.configdrive', 'a config drive that is not empty');
  return { path, size };
}
