/**
 * FAT12/16/32 writer: a volume ("superfloppy", no partition table) holding a
 * tree of files, with a volume label and VFAT long names, built without
 * mkfs, mount or root. Files are laid out contiguously; their contents are
 * only read when the image is streamed, so a large file costs no memory.
 */
import { MediaError, invalidMediaInput } from '../errors';
import { SegmentList, SegmentedImage, type Segment } from '../image';
import { bufferSource, isMediaSource, type MediaSource } from '../source';
import { chooseGeometry, SECTOR, type FatGeometry, type FatType } from './geometry';
import { checkLongName, checkVolumeLabel, longNameEntries, longNameEntryCount, makeShortName, shortNameSuffices, type ShortName } from './names';

export interface FatFile {
  /** Path inside the volume, `/`-separated (`EFI/BOOT/BOOTX64.EFI`); directories are created as needed. */
  path: string;
  data: Buffer | MediaSource;
}

export interface FatOptions {
  files: FatFile[];
  /** Extra (possibly empty) directories. */
  directories?: string[];
  /** Volume label, 1-11 characters, case kept (`ir-vfd-dev`). None when omitted. */
  label?: string;
  /** Image size in bytes (a multiple of 512). Default: the smallest that holds the files. */
  size?: number;
  /** FAT type. Default: from the size (FAT12 below 16 MiB, FAT16 below 512 MiB, else FAT32). */
  fatType?: FatType;
  /** Volume serial number. Default: derived from `date`, as mkfs.fat derives it from the clock. */
  volumeId?: number;
  /** Timestamp of every entry (stored as UTC). Default: now. */
  date?: Date;
}

const MAX_FILE = 0xffffffff;
const ATTR_DIR = 0x10;
const ATTR_ARCHIVE = 0x20;
const ATTR_VOLUME = 0x08;

interface FileNode {
  kind: 'file';
  name: string;
  short: ShortName;
  source: MediaSource;
  field: string;
  firstCluster: number;
  clusters: number;
}

interface DirNode {
  kind: 'dir';
  name: string;
  short: ShortName;
  parent?: DirNode;
  children: (FileNode | DirNode)[];
  byName: Map<string, FileNode | DirNode>;
  firstCluster: number;
  clusters: number;
}

function newDir(name: string, parent?: DirNode): DirNode {
  return { kind: 'dir', name, short: '', parent, children: [], byName: new Map(), firstCluster: 0, clusters: 0 };
}

function splitPath(path: unknown, field: string): string[] {
  if (typeof path !== 'string') throw invalidMediaInput(field, 'a path string', path);
  const parts = path.replace(/^(::)?\/+/, '').split('/');
  if (parts.length === 1 && parts[0] === '') throw invalidMediaInput(field, 'a non-empty path', path);
  parts.forEach((p) => checkLongName(p, field));
  return parts;
}

function ensureDir(root: DirNode, parts: string[], field: string): DirNode {
  let dir = root;
  for (const part of parts) {
    const key = part.toLowerCase();
    const existing = dir.byName.get(key);
    if (existing?.kind === 'file') throw invalidMediaInput(field, `a path whose parent "${part}" is not also a file`, parts.join('/'));
    if (existing) {
      dir = existing;
      continue;
    }
    const sub = newDir(part, dir);
    dir.byName.set(key, sub);
    dir.children.push(sub);
    dir = sub;
  }
  return dir;
}

function buildTree(opts: FatOptions): DirNode {
  const root = newDir('');
  (opts.directories ?? []).forEach((d, i) => ensureDir(root, splitPath(d, `directories[${i}]`), `directories[${i}]`));
  opts.files.forEach((f, i) => {
    const field = `files[${i}]`;
    const parts = splitPath(f?.path, `${field}.path`);
    const name = parts.pop() as string;
    const dir = ensureDir(root, parts, `${field}.path`);
    if (dir.byName.has(name.toLowerCase())) {
      throw invalidMediaInput(`${field}.path`, 'a path not already used (FAT names ignore case)', f.path);
    }
    const data = f.data;
    const source = Buffer.isBuffer(data) ? bufferSource(data) : isMediaSource(data) ? data : undefined;
    if (!source) throw invalidMediaInput(`${field}.data`, 'a Buffer or a MediaSource', data);
    if (source.size > MAX_FILE) throw new MediaError('too-large', `${field}: ${source.description} is larger than FAT's 4 GiB file limit`, { field });
    const node: FileNode = { kind: 'file', name, short: '', source, field, firstCluster: 0, clusters: 0 };
    dir.byName.set(name.toLowerCase(), node);
    dir.children.push(node);
  });
  assignShortNames(root);
  return root;
}

function assignShortNames(dir: DirNode): void {
  const taken = new Set<ShortName>();
  // Names that are already valid 8.3 names keep them; the rest get generated ones after.
  const exact = dir.children.filter((c) => {
    const s = makeShortName(c.name, new Set());
    return shortNameSuffices(c.name, s);
  });
  for (const c of exact) {
    c.short = makeShortName(c.name, taken);
    taken.add(c.short);
  }
  for (const c of dir.children) {
    if (!exact.includes(c)) {
      c.short = makeShortName(c.name, taken);
      taken.add(c.short);
    }
    if (c.kind === 'dir') assignShortNames(c);
  }
}

function entrySlots(node: FileNode | DirNode): number {
  return shortNameSuffices(node.name, node.short) ? 1 : longNameEntryCount(node.name) + 1;
}

function dirSlots(dir: DirNode, isRoot: boolean, hasLabel: boolean): number {
  let n = isRoot ? (hasLabel ? 1 : 0) : 2;
  for (const c of dir.children) n += entrySlots(c);
  return n;
}

function allDirs(root: DirNode): DirNode[] {
  const out: DirNode[] = [];
  const queue = [root];
  while (queue.length) {
    const d = queue.shift() as DirNode;
    out.push(d);
    for (const c of d.children) if (c.kind === 'dir') queue.push(c);
  }
  return out;
}

function allFiles(root: DirNode): FileNode[] {
  const out: FileNode[] = [];
  for (const d of allDirs(root)) for (const c of d.children) if (c.kind === 'file') out.push(c);
  return out;
}

/** DOS date and time (2-second resolution), from the UTC fields of `d`. */
function dosDateTime(d: Date): { date: number; time: number; tenths: number } {
  const year = Math.min(Math.max(d.getUTCFullYear(), 1980), 2107);
  return {
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
    tenths: (d.getUTCSeconds() % 2) * 100 + Math.floor(d.getUTCMilliseconds() / 10),
  };
}

function writeShortEntry(buf: Buffer, at: number, short: string, attr: number, cluster: number, size: number, when: ReturnType<typeof dosDateTime>): void {
  buf.write(short, at, 11, 'latin1');
  buf[at + 11] = attr;
  buf[at + 13] = when.tenths;
  buf.writeUInt16LE(when.time, at + 14);
  buf.writeUInt16LE(when.date, at + 16);
  buf.writeUInt16LE(when.date, at + 18);
  buf.writeUInt16LE(cluster >>> 16, at + 20);
  buf.writeUInt16LE(when.time, at + 22);
  buf.writeUInt16LE(when.date, at + 24);
  buf.writeUInt16LE(cluster & 0xffff, at + 26);
  buf.writeUInt32LE(size, at + 28);
}

function serializeDir(dir: DirNode, bytes: number, isRoot: boolean, label: string | undefined, when: ReturnType<typeof dosDateTime>): Buffer {
  const buf = Buffer.alloc(bytes);
  let at = 0;
  if (isRoot && label) {
    writeShortEntry(buf, at, label, ATTR_VOLUME, 0, 0, when);
    at += 32;
  }
  if (!isRoot) {
    writeShortEntry(buf, at, '.'.padEnd(11), ATTR_DIR, dir.firstCluster, 0, when);
    const parent = dir.parent?.parent ? dir.parent.firstCluster : 0; // ".." of a root child is cluster 0
    writeShortEntry(buf, at + 32, '..'.padEnd(11), ATTR_DIR, parent, 0, when);
    at += 64;
  }
  for (const c of dir.children) {
    if (!shortNameSuffices(c.name, c.short)) {
      const lfn = longNameEntries(c.name, c.short);
      lfn.copy(buf, at);
      at += lfn.length;
    }
    const size = c.kind === 'file' ? c.source.size : 0;
    writeShortEntry(buf, at, c.short, c.kind === 'dir' ? ATTR_DIR : ATTR_ARCHIVE, c.firstCluster, size, when);
    at += 32;
  }
  return buf;
}

function eocValue(type: FatType): number {
  return type === 12 ? 0xfff : type === 16 ? 0xffff : 0x0fffffff;
}

function setFatEntry(fat: Buffer, type: FatType, n: number, value: number): void {
  if (type === 16) fat.writeUInt16LE(value, n * 2);
  else if (type === 32) fat.writeUInt32LE(value, n * 4);
  else {
    const off = Math.floor((n * 3) / 2);
    if (n % 2 === 0) {
      fat[off] = value & 0xff;
      fat[off + 1] = (fat[off + 1] & 0xf0) | ((value >> 8) & 0x0f);
    } else {
      fat[off] = (fat[off] & 0x0f) | ((value & 0x0f) << 4);
      fat[off + 1] = (value >> 4) & 0xff;
    }
  }
}

function bootSector(g: FatGeometry, volumeId: number, label: string | undefined): Buffer {
  const b = Buffer.alloc(SECTOR);
  const fat32 = g.type === 32;
  b.set(fat32 ? [0xeb, 0x58, 0x90] : [0xeb, 0x3c, 0x90], 0);
  b.write('MSWIN4.1', 3, 8, 'latin1');
  b.writeUInt16LE(SECTOR, 11);
  b[13] = g.sectorsPerCluster;
  b.writeUInt16LE(g.reservedSectors, 14);
  b[16] = g.fatCount;
  b.writeUInt16LE(g.rootEntries, 17);
  const small = !fat32 && g.totalSectors < 0x10000;
  b.writeUInt16LE(small ? g.totalSectors : 0, 19);
  b[21] = g.mediaDescriptor;
  b.writeUInt16LE(fat32 ? 0 : g.sectorsPerFat, 22);
  b.writeUInt16LE(g.sectorsPerTrack, 24);
  b.writeUInt16LE(g.heads, 26);
  b.writeUInt32LE(0, 28); // hidden sectors: no partition table
  b.writeUInt32LE(small ? 0 : g.totalSectors, 32);
  let ext = 36;
  if (fat32) {
    b.writeUInt32LE(g.sectorsPerFat, 36);
    b.writeUInt16LE(0, 40); // FATs mirrored
    b.writeUInt16LE(0, 42); // version 0.0
    b.writeUInt32LE(2, 44); // root directory cluster
    b.writeUInt16LE(1, 48); // FSInfo sector
    b.writeUInt16LE(6, 50); // backup boot sector
    ext = 64;
  }
  b[ext] = g.mediaDescriptor === 0xf8 ? 0x80 : 0x00; // BIOS drive number: hard disk or floppy
  b[ext + 2] = 0x29; // extended boot signature: the next three fields are valid
  b.writeUInt32LE(volumeId >>> 0, ext + 3);
  b.write(label ?? 'NO NAME    ', ext + 7, 11, 'latin1');
  b.write(`FAT${g.type}`.padEnd(8, ' '), ext + 18, 8, 'latin1');
  // Boot code for a volume that is not bootable: halt.
  b.set([0xfa, 0xf4, 0xeb, 0xfd], ext + 26);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

function fsInfoSector(freeClusters: number, nextFree: number): Buffer {
  const b = Buffer.alloc(SECTOR);
  b.writeUInt32LE(0x41615252, 0);
  b.writeUInt32LE(0x61417272, 484);
  b.writeUInt32LE(freeClusters, 488);
  b.writeUInt32LE(nextFree, 492);
  b.writeUInt32LE(0xaa550000, 508);
  return b;
}

/** A laid-out FAT volume: an image plus the geometry chosen for it. */
export class FatImage extends SegmentedImage {
  constructor(
    segments: readonly Segment[],
    readonly geometry: FatGeometry,
  ) {
    super(segments);
  }
}

/**
 * Lays out a FAT volume. The returned image knows its exact size; file
 * contents held in MediaSources are read only when it is streamed.
 */
export function buildFatImage(opts: FatOptions): FatImage {
  if (typeof opts !== 'object' || opts === null || !Array.isArray(opts.files)) throw invalidMediaInput('files', 'an array of { path, data }', opts?.files);
  if (opts.directories !== undefined && !Array.isArray(opts.directories)) throw invalidMediaInput('directories', 'an array of paths', opts.directories);
  if (opts.fatType !== undefined && ![12, 16, 32].includes(opts.fatType)) throw invalidMediaInput('fatType', '12, 16 or 32', opts.fatType);
  const label = opts.label === undefined ? undefined : checkVolumeLabel(opts.label, 'label');
  const date = opts.date ?? new Date();
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw invalidMediaInput('date', 'a valid Date', opts.date);
  const when = dosDateTime(date);
  const volumeId = opts.volumeId ?? (Math.floor(date.getTime() / 1000) ^ 0x5a5a5a5a) >>> 0;
  if (!Number.isInteger(volumeId) || volumeId < 0 || volumeId > 0xffffffff) throw invalidMediaInput('volumeId', 'an integer from 0 to 0xFFFFFFFF', opts.volumeId);

  const root = buildTree(opts);
  const dirs = allDirs(root);
  const files = allFiles(root);
  const rootSlots = dirSlots(root, true, label !== undefined);

  const clustersNeeded = (spc: number, fat32: boolean): number => {
    const cb = spc * SECTOR;
    let n = 0;
    for (const d of dirs) {
      if (d === root && !fat32) continue;
      n += Math.max(1, Math.ceil((dirSlots(d, d === root, label !== undefined) * 32) / cb));
    }
    for (const f of files) n += Math.ceil(f.source.size / cb);
    return n;
  };
  // FAT32's root is a cluster chain; count it for every type (a FAT12/16 layout only over-reserves a cluster).
  const g = chooseGeometry({
    size: opts.size,
    type: opts.fatType,
    rootEntriesNeeded: rootSlots,
    clustersNeeded: (spc) => clustersNeeded(spc, true),
  });
  if (g.type !== 32 && rootSlots > g.rootEntries) {
    throw new MediaError('too-large', `files: the root directory needs ${rootSlots} entries and holds ${g.rootEntries}`, { field: 'files' });
  }
  const clusterBytes = g.sectorsPerCluster * SECTOR;

  // Allocate clusters: directories (breadth first), then files, each contiguous.
  let next = 2;
  for (const d of dirs) {
    if (d === root && g.type !== 32) continue;
    d.clusters = Math.max(1, Math.ceil((dirSlots(d, d === root, label !== undefined) * 32) / clusterBytes));
    d.firstCluster = next;
    next += d.clusters;
  }
  for (const f of files) {
    f.clusters = Math.ceil(f.source.size / clusterBytes);
    f.firstCluster = f.clusters ? next : 0;
    next += f.clusters;
  }
  const used = next - 2;
  if (used > g.clusterCount) {
    throw new MediaError('too-large', `size: the files need ${used} clusters of ${clusterBytes} bytes and the volume has ${g.clusterCount}`, { field: 'size' });
  }

  const fat = Buffer.alloc(g.sectorsPerFat * SECTOR);
  setFatEntry(fat, g.type, 0, (eocValue(g.type) & ~0xff) | g.mediaDescriptor);
  setFatEntry(fat, g.type, 1, eocValue(g.type));
  for (const o of [...dirs, ...files]) {
    if (o.clusters === 0) continue;
    for (let c = o.firstCluster; c < o.firstCluster + o.clusters - 1; c++) setFatEntry(fat, g.type, c, c + 1);
    setFatEntry(fat, g.type, o.firstCluster + o.clusters - 1, eocValue(g.type));
  }

  const out = new SegmentList();
  const boot = bootSector(g, volumeId, label);
  out.bytes(boot);
  if (g.type === 32) {
    const info = fsInfoSector(g.clusterCount - used, next);
    out.bytes(info).zero(4 * SECTOR).bytes(boot).bytes(info);
  }
  out.zero(g.reservedSectors * SECTOR - out.offset);
  for (let i = 0; i < g.fatCount; i++) out.bytes(fat);
  if (g.type !== 32) out.bytes(serializeDir(root, g.rootDirSectors * SECTOR, true, label, when));
  for (const d of dirs) {
    if (d.clusters) out.bytes(serializeDir(d, d.clusters * clusterBytes, d === root, label, when));
  }
  for (const f of files) {
    out.source(f.source, f.field);
    out.zero(f.clusters * clusterBytes - f.source.size);
  }
  out.zero(g.totalSectors * SECTOR - out.offset);
  if (opts.size !== undefined) out.zero(opts.size - out.offset);

  return new FatImage(out.segments, g);
}
