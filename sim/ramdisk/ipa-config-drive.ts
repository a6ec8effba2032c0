/**
 * The simulated agent's config drive, written the way ironic-python-agent's
 * `create_config_drive_partition` does after a whole-disk image, with the
 * same tools on the disk image file: a partition already labelled config-2
 * is reused; on GPT, `sgdisk -e` then `sgdisk -n 0:-64MB:0 -u 0:<uuid>`; on
 * MBR, refused with four primary partitions, else `parted -a optimal -s --
 * <disk> mkpart primary fat32 -64MiB -0`; then the drive is copied to the
 * start of the partition (dd). The drive comes base64 of gzip, or from a URL
 * (then decoded when base64, taken raw otherwise); over 64 MiB it is refused.
 */
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { open, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';

const exec = promisify(execFile);
const MiB = 1024 * 1024;
const MAX_MB = 64;
const MBR_MAX_MB = 2097152;

function failure(message: string): Error {
  return Object.assign(new Error(message), { type: 'InstanceDeployFailure' });
}

interface Part {
  number: number;
  start: number;
  size: number;
  uuid?: string;
}

async function tool(file: string, args: string[]): Promise<string> {
  try {
    return (await exec(file, args, { maxBuffer: 4 * MiB })).stdout;
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') throw failure(`${file} is not installed (Debian: ${file === 'parted' ? 'parted' : file === 'sgdisk' ? 'gdisk' : 'util-linux'})`);
    throw failure(`${file} ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim()}`);
  }
}

async function listPartitions(disk: string): Promise<{ label?: string; parts: Part[] }> {
  let out: string;
  try {
    out = (await exec('sfdisk', ['--json', disk])).stdout;
  } catch {
    return { parts: [] }; // no partition table
  }
  const t = (JSON.parse(out) as { partitiontable: { label: string; sectorsize?: number; partitions?: Array<{ node: string; start: number; size: number; uuid?: string }> } }).partitiontable;
  const ss = t.sectorsize ?? 512;
  return { label: t.label, parts: (t.partitions ?? []).map((p) => ({ number: Number(p.node.slice(disk.length)), start: p.start * ss, size: p.size * ss, uuid: p.uuid?.toLowerCase() })) };
}

async function labelOf(disk: string, p: Part): Promise<string> {
  try {
    return (await exec('blkid', ['-p', '-o', 'value', '-s', 'LABEL', '--offset', String(p.start), '--size', String(p.size), disk])).stdout.trim();
  } catch {
    return ''; // nothing blkid recognises
  }
}

/** The drive's bytes, as IPA's get_configdrive decodes them. */
function decode(data: string | Buffer, fromUrl: boolean): Buffer {
  const text = typeof data === 'string' ? data : data.toString('latin1');
  if (!/^[A-Za-z0-9+/=\s]+$/.test(text)) {
    if (fromUrl) return data as Buffer; // binary: written as is
    throw failure('Config drive is not base64 encoded or the content is malformed.');
  }
  try {
    return gunzipSync(Buffer.from(text.replace(/\s+/g, ''), 'base64'));
  } catch (err) {
    throw failure(`Encountered error while decompressing and writing config drive. Error: ${(err as Error).message}`);
  }
}

export interface ConfigDriveWriteResult {
  partition: number;
  reused: boolean;
}

/** Writes `configdrive` (the prepare_image parameter) into a partition of its own on `disk`. */
export async function writeConfigDrivePartition(disk: string, configdrive: string, fetchUrl: (url: string) => Promise<Buffer>): Promise<ConfigDriveWriteResult> {
  const isUrl = /^https?:\/\//i.test(configdrive);
  const image = decode(isUrl ? await fetchUrl(configdrive) : configdrive, isUrl);
  const mb = Math.ceil(image.length / MiB);
  if (mb > MAX_MB) throw failure(`Config drive size exceeds maximum limit of 64MiB. Size of the given config drive is ${mb} MiB.`);

  const before = await listPartitions(disk);
  const labelled: Part[] = [];
  for (const p of before.parts) if ((await labelOf(disk, p)).toUpperCase() === 'CONFIG-2') labelled.push(p);
  if (labelled.length > 1) throw failure(`More than one partition with label "config-2" exists on device ${disk}.`);
  let target = labelled[0];
  const reused = target !== undefined;
  if (!target) {
    if (before.label === 'gpt') {
      const uuid = randomUUID();
      await tool('sgdisk', ['-e', disk]);
      await tool('sgdisk', ['-n', `0:-${MAX_MB}MB:0`, '-u', `0:${uuid}`, disk]);
      const made = (await listPartitions(disk)).parts.find((p) => p.uuid === uuid);
      if (!made) throw failure(`Failed to create config drive: partition with UUID ${uuid} has not been found after creation.`);
      target = made;
    } else {
      if (before.label !== 'dos') throw failure(`Failed to check the number of primary partitions present on ${disk}. Error: The device ${disk} does not have a valid MBR partition table`);
      const primaries = before.parts.filter((p) => p.number < 5).length;
      if (primaries > 3) throw failure(`Config drive cannot be created. Disk (${disk}) uses MBR partitioning and already has ${primaries} primary partitions.`);
      const diskMb = Math.floor((await stat(disk)).size / MiB);
      const [start, end] = diskMb > MBR_MAX_MB ? [String(MBR_MAX_MB - MAX_MB - 1), String(MBR_MAX_MB - 1)] : [`-${MAX_MB}MiB`, '-0'];
      await tool('parted', ['-a', 'optimal', '-s', '--', disk, 'mkpart', 'primary', 'fat32', start, end]);
      const known = new Set(before.parts.map((p) => p.number));
      const added = (await listPartitions(disk)).parts.filter((p) => !known.has(p.number));
      if (added.length !== 1) throw failure(`Disk partitioning failed on device ${disk}. Unable to retrieve config drive partition information.`);
      target = added[0] as Part;
    }
  }
  if (image.length > target.size) throw failure(`the config drive (${mb} MiB) does not fit partition ${target.number}`);
  const fh = await open(disk, 'r+');
  try {
    await fh.write(image, 0, image.length, target.start);
  } finally {
    await fh.close();
  }
  return { partition: target.number, reused };
}
