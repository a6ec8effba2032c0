/**
 * isohybrid: an MBR in the ISO's first 512 bytes so the same image boots
 * from a USB stick. The boot code is ISOLINUX's `isohdpfx.bin`, which loads
 * isolinux.bin from the LBA stored at byte 432. Partition 1 covers the whole
 * image (type 0, so UEFI's partition driver ignores it); with a UEFI boot
 * image, partition 2 (type 0xEF) covers the ESP so UEFI finds it on a disk.
 */
import { invalidMediaInput } from '../errors';

const HEADS = 64;
const SECTORS = 32;
/** isohybrid images are a whole number of 64 x 32 x 512-byte cylinders (1 MiB). */
export const HYBRID_ALIGN = HEADS * SECTORS * 512;

function chs(lba: number): [number, number, number] {
  const c = Math.floor(lba / (HEADS * SECTORS));
  if (c > 1023) return [0xfe, 0xff, 0xff];
  const h = Math.floor(lba / SECTORS) % HEADS;
  const s = (lba % SECTORS) + 1;
  return [h, s | ((c >> 2) & 0xc0), c & 0xff];
}

export interface HybridLayout {
  /** isohdpfx.bin (432 bytes of MBR boot code). */
  mbrCode: Buffer;
  /** LBA (2048-byte blocks) of isolinux.bin. */
  bootFileLba: number;
  /** Total image size in bytes (a multiple of HYBRID_ALIGN). */
  imageSize: number;
  /** The ESP image on the ISO, when there is a UEFI entry. */
  esp?: { lba: number; size: number };
  /** Disk signature (bytes 440-443). */
  diskId: number;
}

export function hybridMbr(h: HybridLayout): Buffer {
  if (!Buffer.isBuffer(h.mbrCode) || h.mbrCode.length < 432 || h.mbrCode.length > 512) {
    throw invalidMediaInput('hybridMbr', 'the 432-byte isohybrid MBR code (isohdpfx.bin)', h.mbrCode);
  }
  const b = Buffer.alloc(512);
  h.mbrCode.copy(b, 0, 0, 432);
  b.writeUInt32LE(h.bootFileLba * 4, 432);
  b.writeUInt32LE(0, 436);
  b.writeUInt32LE(h.diskId >>> 0, 440);
  b.writeUInt16LE(0, 444);
  const total = h.imageSize / 512;
  const p1 = b.subarray(446, 462);
  p1[0] = 0x80;
  p1.set(chs(0), 1);
  p1[4] = h.esp ? 0x00 : 0x17;
  p1.set(chs(total - 1), 5);
  p1.writeUInt32LE(0, 8);
  p1.writeUInt32LE(total, 12);
  if (h.esp) {
    const p2 = b.subarray(462, 478);
    p2[0] = 0x00;
    p2.set([0xfe, 0xff, 0xff], 1);
    p2[4] = 0xef;
    p2.set([0xfe, 0xff, 0xff], 5);
    p2.writeUInt32LE(h.esp.lba * 4, 8);
    p2.writeUInt32LE(Math.ceil(h.esp.size / 512), 12);
  }
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}
