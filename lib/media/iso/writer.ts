/**
 * ISO 9660 writer with Rock Ridge names and El Torito boot entries (BIOS
 * no-emulation and UEFI), optionally isohybrid. The whole layout (every LBA,
 * the exact size) is computed from file sizes alone; file contents are read
 * only when the image is streamed, in LBA order.
 */
import { MediaError, invalidMediaInput } from '../errors';
import { SegmentList, SegmentedImage, type MediaImage, type Segment } from '../image';
import { bufferSource, isMediaSource, type MediaSource } from '../source';
import { BLOCK, both16, both32, padded, recordDate, volumeDate } from './bytes';
import { bootCatalog, bootRecordDescriptor, patchBootInfoTable, PLATFORM_EFI, PLATFORM_X86, type CatalogEntry } from './eltorito';
import { HYBRID_ALIGN, hybridMbr } from './hybrid';
import { checkRealName, checkVolumeId, compareIdentifiers, isoIdentifier } from './names';
import { ceEntry, erEntry, MODE_DIR, MODE_FILE, nmEntry, pxEntry, spEntry, tfEntry } from './rockridge';

export interface IsoFile {
  /** Path on the ISO, `/`-separated (`isolinux/isolinux.bin`); directories are created as needed. */
  path: string;
  data: Buffer | MediaSource;
}

export interface IsoBootOptions {
  /** BIOS no-emulation boot image (ISOLINUX), by its path among `files`. It gets a boot information table. */
  bios?: { path: string; /** 512-byte sectors the BIOS loads; default 4, as ISOLINUX wants. */ loadSectors?: number };
  /** EFI system partition image (FAT), by its path among `files`. */
  uefi?: { path: string };
  /** isohybrid MBR boot code (ISOLINUX's isohdpfx.bin): the ISO then also boots from a USB disk. Needs `bios`. */
  hybridMbr?: Buffer;
}

export interface IsoOptions {
  /** Volume identifier, 1-32 characters (what `search --label` and blkid see). Default `CDROM`. */
  volumeId?: string;
  files: IsoFile[];
  /** Extra (possibly empty) directories. */
  directories?: string[];
  /** Timestamp of the volume and of every entry. Default: now. */
  date?: Date;
  /** Publisher identifier (Ironic puts the node UUID here). */
  publisher?: string;
  boot?: IsoBootOptions;
}

export interface IsoImage extends MediaImage {
  readonly volumeId: string;
  /** Where each file landed: LBA (2048-byte blocks) and size, by path as given. */
  readonly extents: ReadonlyMap<string, { lba: number; size: number }>;
  /** LBA of the El Torito catalogue, when the ISO is bootable. */
  readonly bootCatalogLba?: number;
}

class IsoVolumeImage extends SegmentedImage implements IsoImage {
  constructor(
    segments: readonly Segment[],
    readonly volumeId: string,
    readonly extents: ReadonlyMap<string, { lba: number; size: number }>,
    readonly bootCatalogLba: number | undefined,
  ) {
    super(segments);
  }
}

const MAX_FILE = 0xffffffff;
const MAX_DEPTH = 8; // ECMA-119: at most eight directory levels, the root being the first
const PAD_BLOCKS = 150; // trailing zeros, as mkisofs/xorriso add, for readers that read ahead
const APPLICATION = 'NODE-RED-CONTRIB-ILO-DEPLOY';

interface FileNode {
  kind: 'file';
  name: string;
  id: string;
  path: string;
  field: string;
  source: MediaSource;
  lba: number;
}

interface DirNode {
  kind: 'dir';
  name: string;
  id: string;
  parent?: DirNode;
  children: (FileNode | DirNode)[];
  byName: Map<string, FileNode | DirNode>;
  depth: number;
  number: number;
  lba: number;
  blocks: number;
}

function newDir(name: string, parent?: DirNode): DirNode {
  return { kind: 'dir', name, id: '', parent, children: [], byName: new Map(), depth: parent ? parent.depth + 1 : 1, number: 0, lba: 0, blocks: 0 };
}

function splitPath(path: unknown, field: string): string[] {
  if (typeof path !== 'string') throw invalidMediaInput(field, 'a path string', path);
  const parts = path.replace(/^\/+/, '').split('/');
  if (parts.length === 1 && parts[0] === '') throw invalidMediaInput(field, 'a non-empty path', path);
  parts.forEach((p) => checkRealName(p, field));
  return parts;
}

function ensureDir(root: DirNode, parts: string[], field: string, path: string): DirNode {
  let dir = root;
  for (const part of parts) {
    const existing = dir.byName.get(part);
    if (existing?.kind === 'file') throw invalidMediaInput(field, `a path whose directory "${part}" is not also a file`, path);
    if (existing) {
      dir = existing;
      continue;
    }
    if (dir.depth >= MAX_DEPTH) throw invalidMediaInput(field, `at most ${MAX_DEPTH - 1} directory levels (ISO 9660)`, path);
    const sub = newDir(part, dir);
    dir.byName.set(part, sub);
    dir.children.push(sub);
    dir = sub;
  }
  return dir;
}

function buildTree(opts: IsoOptions): { root: DirNode; byPath: Map<string, FileNode> } {
  const root = newDir('');
  const byPath = new Map<string, FileNode>();
  (opts.directories ?? []).forEach((d, i) => ensureDir(root, splitPath(d, `directories[${i}]`), `directories[${i}]`, d));
  opts.files.forEach((f, i) => {
    const field = `files[${i}]`;
    const parts = splitPath(f?.path, `${field}.path`);
    const name = parts.pop() as string;
    const dir = ensureDir(root, parts, `${field}.path`, f.path);
    if (dir.byName.has(name)) throw invalidMediaInput(`${field}.path`, 'a path not already used', f.path);
    const source = Buffer.isBuffer(f.data) ? bufferSource(f.data) : isMediaSource(f.data) ? f.data : undefined;
    if (!source) throw invalidMediaInput(`${field}.data`, 'a Buffer or a MediaSource', f.data);
    if (source.size > MAX_FILE) throw new MediaError('too-large', `${field}: ${source.description} is 4 GiB or larger, which one ISO 9660 extent cannot hold`, { field });
    const node: FileNode = { kind: 'file', name, id: '', path: parts.concat(name).join('/'), field, source, lba: 0 };
    dir.byName.set(name, node);
    dir.children.push(node);
    byPath.set(node.path, node);
  });
  assignIds(root);
  return { root, byPath };
}

function assignIds(dir: DirNode): void {
  const taken = new Set<string>();
  for (const c of dir.children) {
    c.id = isoIdentifier(c.name, c.kind === 'dir', taken);
    taken.add(c.id);
  }
  dir.children.sort((a, b) => compareIdentifiers(a.id, b.id));
  for (const c of dir.children) if (c.kind === 'dir') assignIds(c);
}

/** Directories in path table order: by level, then parent number, then identifier. */
function pathTableOrder(root: DirNode): DirNode[] {
  const out: DirNode[] = [];
  const queue = [root];
  while (queue.length) {
    const d = queue.shift() as DirNode;
    out.push(d);
    d.number = out.length;
    for (const c of d.children) if (c.kind === 'dir') queue.push(c);
  }
  return out;
}

function subdirCount(d: DirNode): number {
  return d.children.filter((c) => c.kind === 'dir').length;
}

function dirRecord(id: Buffer, lba: number, size: number, isDir: boolean, date: Buffer, susp: Buffer): Buffer {
  const pad = id.length % 2 === 0 ? 1 : 0;
  let len = 33 + id.length + pad + susp.length;
  if (len % 2) len++;
  if (len > 255) throw new MediaError('invalid-input', `files: the directory record for "${id.toString('latin1')}" is too long (${len} bytes)`, { field: 'files' });
  const r = Buffer.alloc(len);
  r[0] = len;
  both32(r, 2, lba);
  both32(r, 10, size);
  date.copy(r, 18);
  r[25] = isDir ? 0x02 : 0x00;
  both16(r, 28, 1);
  r[32] = id.length;
  id.copy(r, 33);
  susp.copy(r, 33 + id.length + pad);
  return r;
}

interface Context {
  date: Date;
  recDate: Buffer;
  tf: Buffer;
  ceLba: number;
  erLength: number;
}

/** The records of one directory, packed into 2048-byte blocks (a record never straddles two). */
function serializeDir(d: DirNode, ctx: Context, root: DirNode): Buffer {
  const self = Buffer.concat([
    ...(d === root ? [spEntry()] : []),
    pxEntry(MODE_DIR, 2 + subdirCount(d)),
    ctx.tf,
    ...(d === root ? [ceEntry(ctx.ceLba, 0, ctx.erLength)] : []),
  ]);
  const parent = d.parent ?? d;
  const records = [
    dirRecord(Buffer.from([0]), d.lba, d.blocks * BLOCK, true, ctx.recDate, self),
    dirRecord(Buffer.from([1]), parent.lba, parent.blocks * BLOCK, true, ctx.recDate, Buffer.concat([pxEntry(MODE_DIR, 2 + subdirCount(parent)), ctx.tf])),
  ];
  for (const c of d.children) {
    const rr = Buffer.concat([pxEntry(c.kind === 'dir' ? MODE_DIR : MODE_FILE, c.kind === 'dir' ? 2 + subdirCount(c) : 1), ctx.tf, nmEntry(c.name)]);
    if (c.kind === 'dir') records.push(dirRecord(Buffer.from(c.id, 'ascii'), c.lba, c.blocks * BLOCK, true, ctx.recDate, rr));
    else records.push(dirRecord(Buffer.from(`${c.id};1`, 'ascii'), c.lba, c.source.size, false, ctx.recDate, rr));
  }
  const chunks: Buffer[] = [];
  let at = 0;
  for (const r of records) {
    const room = BLOCK - (at % BLOCK);
    if (r.length > room) {
      chunks.push(Buffer.alloc(room));
      at += room;
    }
    chunks.push(r);
    at += r.length;
  }
  const total = Math.ceil(at / BLOCK) * BLOCK;
  chunks.push(Buffer.alloc(total - at));
  return Buffer.concat(chunks);
}

function pathTable(dirs: DirNode[], bigEndian: boolean): Buffer {
  const parts: Buffer[] = [];
  for (const d of dirs) {
    const id = d.parent ? Buffer.from(d.id, 'ascii') : Buffer.from([0]);
    const r = Buffer.alloc(8 + id.length + (id.length % 2));
    r[0] = id.length;
    if (bigEndian) {
      r.writeUInt32BE(d.lba, 2);
      r.writeUInt16BE(d.parent?.number ?? 1, 6);
    } else {
      r.writeUInt32LE(d.lba, 2);
      r.writeUInt16LE(d.parent?.number ?? 1, 6);
    }
    id.copy(r, 8);
    parts.push(r);
  }
  return Buffer.concat(parts);
}

function primaryVolumeDescriptor(o: { volumeId: string; blocks: number; ptSize: number; lPath: number; mPath: number; rootRecord: Buffer; date: Date; publisher?: string }): Buffer {
  const b = Buffer.alloc(BLOCK);
  b[0] = 1;
  b.write('CD001', 1, 'ascii');
  b[6] = 1;
  padded(b, 8, 32, 'LINUX');
  padded(b, 40, 32, o.volumeId);
  both32(b, 80, o.blocks);
  both16(b, 120, 1); // volume set size
  both16(b, 124, 1); // volume sequence number
  both16(b, 128, BLOCK);
  both32(b, 132, o.ptSize);
  b.writeUInt32LE(o.lPath, 140);
  b.writeUInt32BE(o.mPath, 148);
  o.rootRecord.copy(b, 156);
  padded(b, 190, 128, o.volumeId); // volume set identifier
  padded(b, 318, 128, o.publisher ?? '');
  padded(b, 446, 128, '');
  padded(b, 574, 128, APPLICATION);
  padded(b, 702, 37, '');
  padded(b, 739, 37, '');
  padded(b, 776, 37, '');
  volumeDate(o.date).copy(b, 813);
  volumeDate(o.date).copy(b, 830);
  volumeDate(undefined).copy(b, 847);
  volumeDate(undefined).copy(b, 864);
  b[881] = 1; // file structure version
  return b;
}

function terminator(): Buffer {
  const b = Buffer.alloc(BLOCK);
  b[0] = 255;
  b.write('CD001', 1, 'ascii');
  b[6] = 1;
  return b;
}

/** Files in the order their data is written: boot images first, then the tree depth first. */
function dataOrder(root: DirNode, first: FileNode[]): FileNode[] {
  const out = [...first];
  const walk = (d: DirNode): void => {
    for (const c of d.children) {
      if (c.kind === 'dir') walk(c);
      else if (!first.includes(c)) out.push(c);
    }
  };
  walk(root);
  return out;
}

function checkOptions(opts: IsoOptions): void {
  if (typeof opts !== 'object' || opts === null || !Array.isArray(opts.files)) throw invalidMediaInput('files', 'an array of { path, data }', opts?.files);
  if (opts.directories !== undefined && !Array.isArray(opts.directories)) throw invalidMediaInput('directories', 'an array of paths', opts.directories);
  if (opts.date !== undefined && (!(opts.date instanceof Date) || Number.isNaN(opts.date.getTime()))) throw invalidMediaInput('date', 'a valid Date', opts.date);
  if (opts.publisher !== undefined && (typeof opts.publisher !== 'string' || !/^[\x20-\x7e]{0,128}$/.test(opts.publisher))) {
    throw invalidMediaInput('publisher', 'at most 128 printable ASCII characters', opts.publisher);
  }
  const b = opts.boot;
  if (b?.bios?.loadSectors !== undefined && (!Number.isInteger(b.bios.loadSectors) || b.bios.loadSectors < 1 || b.bios.loadSectors > 0xffff)) {
    throw invalidMediaInput('boot.bios.loadSectors', 'an integer from 1 to 65535', b.bios.loadSectors);
  }
  if (b?.hybridMbr !== undefined && !b.bios) throw invalidMediaInput('boot.hybridMbr', 'a BIOS boot image as well (boot.bios)', 'no boot.bios');
}

export function buildIso(opts: IsoOptions): IsoImage {
  checkOptions(opts);
  const volumeId = checkVolumeId(opts.volumeId ?? 'CDROM', 'volumeId');
  const date = opts.date ?? new Date();
  const { root, byPath } = buildTree(opts);
  const dirs = pathTableOrder(root);

  const bootFile = (which: 'bios' | 'uefi'): FileNode | undefined => {
    const p = opts.boot?.[which]?.path;
    if (p === undefined) return undefined;
    const node = typeof p === 'string' ? byPath.get(p.replace(/^\/+/, '')) : undefined;
    if (!node) throw invalidMediaInput(`boot.${which}.path`, 'the path of one of the files', p);
    return node;
  };
  const biosFile = bootFile('bios');
  const uefiFile = bootFile('uefi');
  if (biosFile && !biosFile.source.bytes) {
    throw invalidMediaInput('boot.bios.path', 'a boot image given as a Buffer (its boot information table is patched in memory)', biosFile.source.description);
  }
  if (biosFile && biosFile.source.size < 64) throw invalidMediaInput('boot.bios.path', 'a boot image of at least 64 bytes', biosFile.source.size);
  const bootable = Boolean(biosFile || uefiFile);

  const ctx: Context = { date, recDate: recordDate(date), tf: tfEntry(date), ceLba: 0, erLength: erEntry().length };

  // Layout: every LBA, from sizes only.
  let lba = 16;
  const pvdLba = lba++;
  if (bootable) lba++; // El Torito boot record
  lba++; // terminator
  const ptSize = pathTable(dirs, false).length;
  const ptBlocks = Math.ceil(ptSize / BLOCK);
  const lPath = lba;
  lba += ptBlocks;
  const mPath = lba;
  lba += ptBlocks;
  for (const d of dirs) d.blocks = serializeDir(d, ctx, root).length / BLOCK; // sizes do not depend on LBAs
  for (const d of dirs) {
    d.lba = lba;
    lba += d.blocks;
  }
  ctx.ceLba = lba++;
  const catalogLba = bootable ? lba++ : undefined;
  const files = dataOrder(root, [biosFile, uefiFile].filter((f): f is FileNode => f !== undefined));
  for (const f of files) {
    f.lba = lba;
    lba += Math.ceil(f.source.size / BLOCK);
  }
  let totalBlocks = lba + PAD_BLOCKS;
  if (opts.boot?.hybridMbr) totalBlocks = Math.ceil((totalBlocks * BLOCK) / HYBRID_ALIGN) * (HYBRID_ALIGN / BLOCK);

  if (biosFile?.source.bytes) {
    biosFile.source = bufferSource(patchBootInfoTable(biosFile.source.bytes, pvdLba, biosFile.lba));
  }

  // Serialization, in LBA order.
  const out = new SegmentList();
  if (opts.boot?.hybridMbr && biosFile) {
    out.bytes(
      hybridMbr({
        mbrCode: opts.boot.hybridMbr,
        bootFileLba: biosFile.lba,
        imageSize: totalBlocks * BLOCK,
        esp: uefiFile ? { lba: uefiFile.lba, size: uefiFile.source.size } : undefined,
        diskId: diskIdFor(volumeId, date),
      }),
    );
  }
  out.zero(16 * BLOCK - out.offset);
  const rootRecord = dirRecord(Buffer.from([0]), root.lba, root.blocks * BLOCK, true, ctx.recDate, Buffer.alloc(0));
  out.bytes(primaryVolumeDescriptor({ volumeId, blocks: totalBlocks, ptSize, lPath, mPath, rootRecord, date, publisher: opts.publisher }));
  if (bootable && catalogLba !== undefined) out.bytes(bootRecordDescriptor(catalogLba));
  out.bytes(terminator());
  out.bytes(pathTable(dirs, false)).padTo(BLOCK);
  out.bytes(pathTable(dirs, true)).padTo(BLOCK);
  for (const d of dirs) out.bytes(serializeDir(d, ctx, root));
  out.bytes(erEntry()).padTo(BLOCK);
  if (catalogLba !== undefined) {
    const entries: CatalogEntry[] = [];
    if (biosFile) entries.push({ platform: PLATFORM_X86, lba: biosFile.lba, sectorCount: opts.boot?.bios?.loadSectors ?? 4 });
    if (uefiFile) entries.push({ platform: PLATFORM_EFI, lba: uefiFile.lba, sectorCount: Math.ceil(uefiFile.source.size / 512) });
    out.bytes(bootCatalog(entries));
  }
  for (const f of files) {
    out.source(f.source, f.field);
    out.padTo(BLOCK);
  }
  out.zero(totalBlocks * BLOCK - out.offset);

  const extents = new Map([...byPath.values()].map((f) => [f.path, { lba: f.lba, size: f.source.size }]));
  return new IsoVolumeImage(out.segments, volumeId, extents, catalogLba);
}

/** A stable MBR disk signature for a volume (same inputs, same bytes). */
function diskIdFor(volumeId: string, date: Date): number {
  let h = 0x811c9dc5;
  for (const c of `${volumeId}@${date.toISOString()}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}
