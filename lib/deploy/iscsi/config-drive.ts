/**
 * The config drive of a whole-disk deploy over iSCSI (Ironic's
 * `deploy_disk_image` then `create_config_drive_partition`): planned from the
 * image's own partition table before anything is written (an image without
 * one, or without room, is refused with the disk untouched), then, after the
 * image is copied, the table entries and the drive written through windows
 * of the LUN.
 */
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { driveLabel } from '../config-drive/check';
import { LABEL_PROBE_BYTES, TABLE_PROBE_BYTES, planConfigDrivePartition, readDiskTable, type ConfigDrivePartitionPlan } from '../disk/config-drive-partition';
import { copyInto, readBytes, type ImageFormat, type QemuImgContext } from './qemu-img';
import { rawOver, type Window } from './target';

/** Bytes of the image (what the disk will hold) from `offset`: read from the file (raw) or through qemu-img (qcow2). */
export async function readImageRange(ctx: QemuImgContext, image: string, info: { format: ImageFormat; virtualSize: number }, offset: number, length: number): Promise<Buffer> {
  const size = Math.max(0, Math.min(length, info.virtualSize - offset));
  if (size === 0) return Buffer.alloc(0);
  if (info.format === 'raw') {
    const fh = await open(image, 'r');
    try {
      const buf = Buffer.alloc(size);
      const { bytesRead } = await fh.read(buf, 0, size, offset);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }
  // qemu-img reads whole 512-byte sectors of a window.
  const start = Math.floor(offset / 512) * 512;
  const end = Math.min(info.virtualSize, Math.ceil((offset + size) / 512) * 512);
  const opts = rawOver([['driver', info.format], ['file.driver', 'file'], ['file.filename', image]], { offset: start, size: end - start });
  return (await readBytes(ctx, 'reading the image', { imageOpts: opts })).subarray(offset - start, offset - start + size);
}

/** Where the config drive goes, from the image's table and the disk's size; nothing is written yet. */
export async function planWholeDiskConfigDrive(ctx: QemuImgContext, image: string, info: { format: ImageFormat; virtualSize: number }, diskBytes: number, driveBytes: number): Promise<ConfigDrivePartitionPlan> {
  const head = await readImageRange(ctx, image, info, 0, TABLE_PROBE_BYTES);
  const table = readDiskTable(head);
  // A partition of the image already labelled config-2 is where the drive goes (ironic-python-agent looks with lsblk).
  const labelled: number[] = [];
  for (const p of table.partitions) {
    const probe = await readImageRange(ctx, image, info, p.startBytes, Math.min(LABEL_PROBE_BYTES, p.sizeBytes));
    if (driveLabel(probe)?.label.toLowerCase() === 'config-2') labelled.push(p.number);
  }
  return planConfigDrivePartition(head, diskBytes, driveBytes, { labelled });
}

/** The table changes, then the drive into its partition (the rest of the partition is left as it was, as dd leaves it). */
export async function writeWholeDiskConfigDrive(
  ctx: QemuImgContext,
  plan: ConfigDrivePartitionPlan,
  drive: { path: string; size: number },
  target: (w?: Window) => string,
  scratch: string,
  onProgress?: (p: { percent: number }) => void,
): Promise<void> {
  for (const [i, w] of plan.writes.entries()) {
    const file = join(scratch, `configdrive-table-${i}.bin`);
    await writeFile(file, w.data);
    await copyInto(ctx, 'adding the config drive partition', { file, format: 'raw' }, target({ offset: w.offset, size: w.data.length }));
  }
  await copyInto(ctx, 'writing the config drive', { file: drive.path, format: 'raw' }, target({ offset: plan.startBytes, size: Math.ceil(drive.size / 512) * 512 }), onProgress);
}
