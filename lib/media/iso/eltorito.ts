/**
 * El Torito: the boot record volume descriptor, the boot catalogue (a BIOS
 * no-emulation entry and/or a UEFI entry), and the boot information table
 * ISOLINUX expects to find patched into its own image.
 */
import { BLOCK } from './bytes';

export const PLATFORM_X86 = 0x00;
export const PLATFORM_EFI = 0xef;

export interface CatalogEntry {
  platform: typeof PLATFORM_X86 | typeof PLATFORM_EFI;
  /** LBA (2048-byte blocks) of the boot image. */
  lba: number;
  /** 512-byte sectors the firmware loads: 4 for ISOLINUX; the whole image for an ESP. */
  sectorCount: number;
}

export function bootRecordDescriptor(catalogLba: number): Buffer {
  const b = Buffer.alloc(BLOCK);
  b[0] = 0; // boot record
  b.write('CD001', 1, 'ascii');
  b[6] = 1;
  b.write('EL TORITO SPECIFICATION', 7, 'ascii'); // rest of the 32 bytes stays zero
  b.writeUInt32LE(catalogLba, 0x47);
  return b;
}

function entry(e: CatalogEntry): Buffer {
  const b = Buffer.alloc(32);
  b[0] = 0x88; // bootable
  b[1] = 0; // no emulation
  b.writeUInt16LE(0, 2); // load segment: default (0x7C0)
  b[4] = 0; // system type
  // Above 0xFFFF sectors the count cannot be stored; 0 tells UEFI firmware to use the image up to the volume's end.
  b.writeUInt16LE(e.sectorCount > 0xffff ? 0 : e.sectorCount, 6);
  b.writeUInt32LE(e.lba, 8);
  return b;
}

/**
 * The catalogue: validation entry, default entry (the first given), then one
 * section per further entry. Section headers carry the platform.
 */
export function bootCatalog(entries: CatalogEntry[]): Buffer {
  if (entries.length === 0) throw new Error('bootCatalog: no entries');
  const b = Buffer.alloc(BLOCK);
  const validation = b.subarray(0, 32);
  validation[0] = 1;
  validation[1] = entries[0].platform;
  validation[30] = 0x55;
  validation[31] = 0xaa;
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum = (sum + validation.readUInt16LE(i)) & 0xffff;
  validation.writeUInt16LE((0x10000 - sum) & 0xffff, 28); // all 16 words sum to zero
  entry(entries[0]).copy(b, 32);
  let at = 64;
  entries.slice(1).forEach((e, i, rest) => {
    b[at] = i === rest.length - 1 ? 0x91 : 0x90; // last section header or more to follow
    b[at + 1] = e.platform;
    b.writeUInt16LE(1, at + 2);
    entry(e).copy(b, at + 32);
    at += 64;
  });
  return b;
}

/**
 * A copy of a BIOS boot image with its boot information table (bytes 8-63)
 * filled in: LBA of the primary volume descriptor, LBA and length of the
 * image, and the 32-bit sum of the image's words from byte 64 on.
 */
export function patchBootInfoTable(image: Buffer, pvdLba: number, imageLba: number): Buffer {
  const out = Buffer.alloc(Math.ceil(image.length / 4) * 4);
  image.copy(out);
  let csum = 0;
  for (let i = 64; i < out.length; i += 4) csum = (csum + out.readUInt32LE(i)) >>> 0;
  out.fill(0, 8, 64);
  out.writeUInt32LE(pvdLba, 8);
  out.writeUInt32LE(imageLba, 12);
  out.writeUInt32LE(image.length, 16);
  out.writeUInt32LE(csum, 20);
  return out.subarray(0, image.length);
}
