/**
 * The virtual floppy of an iLO virtual-media deploy: a small FAT12 volume
 * labelled `ir-vfd-dev` holding `parameters.txt` (and, for Kilo-era
 * ramdisks, optional extra files such as `token`). Same layout as Ironic's
 * `mkfs -t vfat -n ir-vfd-dev` + copy, default size 100 KiB.
 */
import { invalidMediaInput } from './errors';
import { buildFatImage, type FatImage } from './fat/writer';
import { formatParameters, type DeployParameters } from './parameters';

export const FLOPPY_LABEL = 'ir-vfd-dev';
export const FLOPPY_SIZE_KIB = 100;
export const PARAMETERS_FILE = 'parameters.txt';

export interface FloppyOptions {
  /** Volume label the ramdisk looks for. Default `ir-vfd-dev`. */
  label?: string;
  /** Image size in KiB. Default 100 (Ironic's iLO floppy); 1440 gives a standard 1.44 MB diskette. */
  sizeKiB?: number;
  /** More files in the root, by name; a string is written as UTF-8 text (e.g. `{ token: '...' }`). */
  extraFiles?: Record<string, Buffer | string>;
  /** Timestamp of the entries. Default: now. */
  date?: Date;
  /** Volume serial number. Default: derived from `date`. */
  volumeId?: number;
}

/** The floppy as a FAT image object (exact `size`, `stream()`). */
export function buildFloppyImage(parameters: DeployParameters, options: FloppyOptions = {}): FatImage {
  const text = formatParameters(parameters);
  const sizeKiB = options.sizeKiB ?? FLOPPY_SIZE_KIB;
  if (!Number.isInteger(sizeKiB) || sizeKiB < 8 || sizeKiB > 32 * 1024) throw invalidMediaInput('sizeKiB', 'an integer from 8 to 32768', options.sizeKiB);
  const files: { path: string; data: Buffer }[] = [{ path: PARAMETERS_FILE, data: Buffer.from(text, 'ascii') }];
  for (const [name, content] of Object.entries(options.extraFiles ?? {})) {
    if (name.toLowerCase() === PARAMETERS_FILE) throw invalidMediaInput(`extraFiles.${name}`, `a name other than ${PARAMETERS_FILE}`, name);
    if (!Buffer.isBuffer(content) && typeof content !== 'string') throw invalidMediaInput(`extraFiles.${name}`, 'a Buffer or a string', content);
    files.push({ path: name, data: Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8') });
  }
  return buildFatImage({
    files,
    label: options.label ?? FLOPPY_LABEL,
    size: sizeKiB * 1024,
    fatType: 12,
    date: options.date,
    volumeId: options.volumeId,
  });
}

/** The floppy image bytes, ready to publish (100 KiB by default). */
export function buildFloppy(parameters: DeployParameters, options: FloppyOptions = {}): Buffer {
  return buildFloppyImage(parameters, options).toBufferSync();
}
