/**
 * The filesystem UUID of a root image, read from its superblock the way
 * blkid reports it. This is Ironic's "root uuid": the image is copied block
 * for block, so the UUID inside it is the one the instance boots with.
 */

export type FilesystemType = 'ext2/3/4' | 'xfs' | 'vfat' | 'btrfs';

export interface FilesystemId {
  type: FilesystemType;
  /** As blkid prints it: lower-case 8-4-4-4-12 hex, or `ABCD-1234` for FAT. */
  uuid: string;
}

/** How many bytes from the start of the filesystem `identifyFilesystem` needs. */
export const SUPERBLOCK_PROBE_BYTES = 128 * 1024;

export function identifyFilesystem(head: Buffer): FilesystemId | undefined {
  // ext2/3/4: superblock at 1024, magic 0xEF53 at +0x38, UUID at +0x68.
  if (head.length >= 1024 + 0x78 && head.readUInt16LE(1024 + 0x38) === 0xef53) {
    return { type: 'ext2/3/4', uuid: uuid(head.subarray(1024 + 0x68, 1024 + 0x78)) };
  }
  // XFS: "XFSB" at 0, sb_uuid at 32.
  if (head.length >= 48 && head.toString('latin1', 0, 4) === 'XFSB') {
    return { type: 'xfs', uuid: uuid(head.subarray(32, 48)) };
  }
  // btrfs: superblock at 64 KiB, magic "_BHRfS_M" at +0x40, fsid at +0x20.
  if (head.length >= 0x10048 && head.toString('latin1', 0x10040, 0x10048) === '_BHRfS_M') {
    return { type: 'btrfs', uuid: uuid(head.subarray(0x10020, 0x10030)) };
  }
  // FAT: boot signature, then the volume ID where the FAT32 or FAT12/16 extended BPB keeps it.
  if (head.length >= 512 && head.readUInt16LE(510) === 0xaa55 && head.readUInt16LE(11) >= 512) {
    if (head.toString('latin1', 0x52, 0x57) === 'FAT32' && head[0x42] === 0x29) return { type: 'vfat', uuid: fatSerial(head.readUInt32LE(0x43)) };
    if (head.toString('latin1', 0x36, 0x39) === 'FAT' && head[0x26] === 0x29) return { type: 'vfat', uuid: fatSerial(head.readUInt32LE(0x27)) };
  }
  return undefined;
}

function uuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function fatSerial(n: number): string {
  const h = n.toString(16).toUpperCase().padStart(8, '0');
  return `${h.slice(0, 4)}-${h.slice(4)}`;
}
