/**
 * A request's config drive in the form each writer needs: the string
 * ironic-python-agent takes in `standby.prepare_image` (`configdrive`: gzip
 * then base64, or a URL), or the raw image we write ourselves over iSCSI.
 */
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { buildConfigDriveImage } from '../../media/config-drive';
import { badInput } from '../errors';
import { checkDriveImage, decodeConfigDrive, isConfigDriveUrl } from './check';
import { configDriveContent, type DriveOwner } from './content';
import { MAX_CONFIG_DRIVE_BYTES, type ConfigDrive } from './types';

const gzipAsync = promisify(gzip);
const FIELD = 'configDrive';

/** The ISO built from the parts, as bytes (a drive is at most 64 MiB, and usually a few hundred KiB). */
async function builtImage(drive: Exclude<ConfigDrive, string>, owner: DriveOwner): Promise<Buffer> {
  return buildConfigDriveImage(configDriveContent(drive, owner)).toBuffer();
}

/** standby.prepare_image's `configdrive`: Ironic's string as given, or the parts built into an ISO, gzipped and base64-encoded. */
export async function agentConfigDrive(drive: ConfigDrive, owner: DriveOwner): Promise<string> {
  if (typeof drive === 'string') return drive.trim();
  return (await gzipAsync(await builtImage(drive, owner))).toString('base64');
}

/**
 * The drive as a raw image in `path`, for a partition of its own: built from
 * the parts, decoded from Ironic's base64 gzip, or fetched from its URL by
 * `download` (then, as ironic-python-agent does, decoded when the body is
 * base64 text and taken as the image itself otherwise). Checked: at most
 * 64 MiB, an ISO 9660 or VFAT volume labelled config-2.
 */
export async function configDriveFile(drive: ConfigDrive, owner: DriveOwner, path: string, download: (url: string, path: string) => Promise<void>): Promise<{ path: string; size: number }> {
  let image: Buffer;
  if (typeof drive !== 'string') {
    image = await builtImage(drive, owner);
  } else if (isConfigDriveUrl(drive.trim())) {
    const fetched = `${path}.download`;
    try {
      await download(drive.trim(), fetched);
      const { size } = await stat(fetched);
      if (size > (MAX_CONFIG_DRIVE_BYTES * 4) / 3 + 1024 * 1024) throw badInput(FIELD, 'a config drive of at most 64 MiB at its URL');
      const body = await readFile(fetched);
      const text = body.toString('latin1');
      image = /^[A-Za-z0-9+/=\s]+$/.test(text) ? await decodeConfigDrive(text, FIELD) : body;
    } finally {
      await rm(fetched, { force: true });
    }
  } else {
    image = await decodeConfigDrive(drive, FIELD);
  }
  checkDriveImage(image, FIELD);
  await writeFile(path, image, { mode: 0o600 });
  return { path, size: image.length };
}
