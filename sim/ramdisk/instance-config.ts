/**
 * What the simulated instance finds on its disk at boot, the way cloud-init's
 * ConfigDrive data source looks: a partition holding a volume labelled
 * `config-2` (ISO 9660 or VFAT), then, under `openstack/`, the newest
 * metadata version it knows (else `latest`): meta_data.json (required),
 * user_data, network_data.json, vendor_data2.json.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { FatImage } from './fat';
import { IsoReader } from './iso';

export interface FoundConfigDrive {
  /** Partition number holding it. */
  partition: number;
  fs: 'iso9660' | 'vfat';
  /** The metadata version directory read. */
  version: string;
  uuid?: string;
  hostname?: string;
  name?: string;
  /** public_keys, whatever their form (Nova: { name: key }). */
  publicKeys?: unknown;
  userData?: string;
  networkData?: Record<string, unknown>;
  vendorData?: Record<string, unknown>;
}

/** cloud-init's known versions, newest first (it reads the newest present, else latest). */
const VERSIONS = ['2018-08-27', '2017-02-22', '2016-10-06', '2016-06-30', '2015-10-15', '2013-10-17', '2013-04-04', '2012-08-10'];

interface Part {
  number: number;
  start: number;
  size: number;
}

/** The partitions of an MBR (primaries) or GPT disk, from the raw bytes. */
function partitions(read: (offset: number, length: number) => Buffer): Part[] {
  const mbr = read(0, 512);
  if (mbr.readUInt16LE(510) !== 0xaa55) return [];
  const out: Part[] = [];
  if (mbr[446 + 4] === 0xee) {
    const hdr = read(512, 512);
    if (hdr.toString('latin1', 0, 8) !== 'EFI PART') return [];
    const lba = Number(hdr.readBigUInt64LE(72));
    const count = hdr.readUInt32LE(80);
    const size = hdr.readUInt32LE(84);
    const entries = read(lba * 512, count * size);
    for (let i = 0; i < count; i++) {
      const e = entries.subarray(i * size, (i + 1) * size);
      if (e.subarray(0, 16).every((b) => b === 0)) continue;
      const first = Number(e.readBigUInt64LE(32));
      out.push({ number: i + 1, start: first * 512, size: (Number(e.readBigUInt64LE(40)) - first + 1) * 512 });
    }
    return out;
  }
  for (let i = 0; i < 4; i++) {
    const at = 446 + 16 * i;
    if (mbr[at + 4] === 0) continue;
    out.push({ number: i + 1, start: mbr.readUInt32LE(at + 8) * 512, size: mbr.readUInt32LE(at + 12) * 512 });
  }
  return out;
}

function json(b: Buffer | undefined): Record<string, unknown> | undefined {
  return b === undefined ? undefined : (JSON.parse(b.toString('utf8')) as Record<string, unknown>);
}

/** The config drive on the disk image file, or undefined when there is none. Throws when one is found but unreadable (cloud-init would stop too). */
export function findConfigDrive(diskFile: string): FoundConfigDrive | undefined {
  const fd = openSync(diskFile, 'r');
  try {
    const diskSize = fstatSync(fd).size;
    const read = (offset: number, length: number): Buffer => {
      const buf = Buffer.alloc(Math.max(0, Math.min(length, diskSize - offset)));
      readSync(fd, buf, 0, buf.length, offset);
      return buf;
    };
    for (const p of partitions(read)) {
      const within = (offset: number, length: number): Buffer => read(p.start + offset, Math.min(length, p.size - offset));
      let files: { fs: FoundConfigDrive['fs']; readdir(path: string): string[] | undefined; readFile(path: string): Buffer | undefined } | undefined;
      const head = within(0, 0x8800);
      if (head.length >= 0x8006 && head.toString('latin1', 0x8001, 0x8006) === 'CD001') {
        const iso = new IsoReader(within);
        if (iso.label.toLowerCase() === 'config-2') files = { fs: 'iso9660', readdir: (d) => iso.readdir(d), readFile: (f) => iso.readFile(f) };
      } else if (head.length >= 512 && head.readUInt16LE(510) === 0xaa55) {
        let fat: FatImage | undefined;
        try {
          fat = new FatImage(within(0, p.size));
        } catch {
          fat = undefined;
        }
        const f = fat;
        if (f && f.label.toLowerCase() === 'config-2') {
          const tryRead = (path: string): Buffer | undefined => {
            try {
              return f.readFile(path);
            } catch {
              return undefined;
            }
          };
          files = { fs: 'vfat', readdir: (d) => listFatDir(f, d), readFile: tryRead };
        }
      }
      if (!files) continue;
      const present = files.readdir('openstack') ?? [];
      const version = VERSIONS.find((v) => present.includes(v)) ?? 'latest';
      const dir = `openstack/${version}`;
      const meta = json(files.readFile(`${dir}/meta_data.json`));
      if (!meta) throw new Error(`config drive on partition ${p.number}: no ${dir}/meta_data.json`);
      const userData = files.readFile(`${dir}/user_data`);
      return {
        partition: p.number,
        fs: files.fs,
        version,
        uuid: meta.uuid as string | undefined,
        hostname: meta.hostname as string | undefined,
        name: meta.name as string | undefined,
        publicKeys: meta.public_keys,
        userData: userData?.toString('utf8'),
        networkData: json(files.readFile(`${dir}/network_data.json`)),
        vendorData: json(files.readFile(`${dir}/vendor_data2.json`)),
      };
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Names in a top-level directory of a FAT volume. */
function listFatDir(fat: FatImage, path: string): string[] | undefined {
  const dir = fat.list(undefined).find((e) => e.isDirectory && e.name.toLowerCase() === path.toLowerCase());
  return dir ? fat.list(dir.firstCluster).map((e) => e.name) : undefined;
}
