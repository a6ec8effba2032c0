/**
 * FAT layout: which FAT type, cluster size, FAT size and root directory size
 * a volume gets. The FAT type follows from the cluster count (Microsoft's
 * rule: fewer than 4085 clusters is FAT12, fewer than 65525 is FAT16, else
 * FAT32), so the choices here keep the count inside the type's range.
 */
import { MediaError, invalidMediaInput } from '../errors';

export type FatType = 12 | 16 | 32;

export const SECTOR = 512;

export interface FatGeometry {
  type: FatType;
  totalSectors: number;
  sectorsPerCluster: number;
  reservedSectors: number;
  fatCount: number;
  sectorsPerFat: number;
  /** Root directory slots (FAT12/16); 0 on FAT32, whose root is a cluster chain. */
  rootEntries: number;
  rootDirSectors: number;
  firstDataSector: number;
  clusterCount: number;
  mediaDescriptor: number;
  sectorsPerTrack: number;
  heads: number;
}

const CLUSTER_LIMITS: Record<FatType, [number, number]> = {
  12: [1, 4084],
  16: [4085, 65524],
  32: [65525, 0x0ffffff5 - 2],
};

/** Standard diskette formats: a 1.44 MB image gets the geometry a floppy drive expects. */
const DISKETTES: Record<number, { spt: number; heads: number; media: number; rootEntries: number; spc: number }> = {
  720: { spt: 9, heads: 2, media: 0xf9, rootEntries: 112, spc: 2 },
  1440: { spt: 18, heads: 2, media: 0xf0, rootEntries: 224, spc: 1 },
  2880: { spt: 36, heads: 2, media: 0xf0, rootEntries: 240, spc: 2 },
};

function fatBytes(type: FatType, clusters: number): number {
  const entries = clusters + 2;
  return type === 12 ? Math.ceil((entries * 3) / 2) : entries * (type / 8);
}

/** The layout for a given size, type, cluster size and root size, or undefined if it does not work. */
function tryLayout(type: FatType, totalSectors: number, spc: number, rootEntries: number): FatGeometry | undefined {
  const reserved = type === 32 ? 32 : 1;
  const rootDirSectors = type === 32 ? 0 : Math.ceil((rootEntries * 32) / SECTOR);
  const fatCount = 2;
  const clustersWith = (spf: number): number => Math.floor((totalSectors - reserved - rootDirSectors - fatCount * spf) / spc);
  // Smallest FAT that can describe the clusters left beside it.
  let sectorsPerFat = Math.max(1, Math.ceil(fatBytes(type, Math.max(0, clustersWith(0))) / SECTOR));
  while (sectorsPerFat > 1 && fatBytes(type, clustersWith(sectorsPerFat - 1)) <= (sectorsPerFat - 1) * SECTOR) sectorsPerFat--;
  const clusters = clustersWith(sectorsPerFat);
  if (clusters < 1) return undefined;
  const [min, max] = CLUSTER_LIMITS[type];
  if (clusters < min || clusters > max) return undefined;
  const diskette = DISKETTES[(totalSectors * SECTOR) / 1024];
  return {
    type,
    totalSectors,
    sectorsPerCluster: spc,
    reservedSectors: reserved,
    fatCount,
    sectorsPerFat,
    rootEntries: type === 32 ? 0 : rootEntries,
    rootDirSectors,
    firstDataSector: reserved + fatCount * sectorsPerFat + rootDirSectors,
    clusterCount: clusters,
    mediaDescriptor: diskette?.media ?? 0xf8,
    sectorsPerTrack: diskette?.spt ?? (totalSectors <= 8192 ? 16 : 32),
    heads: diskette?.heads ?? (totalSectors <= 8192 ? 2 : 64),
  };
}

export interface GeometryRequest {
  /** Wanted size in bytes; undefined: the smallest that holds the content. */
  size?: number;
  type?: FatType;
  /** Root directory entries the content needs (FAT12/16 root region). */
  rootEntriesNeeded: number;
  /** Data clusters the content needs at a given cluster size (sectors per cluster). */
  clustersNeeded(sectorsPerCluster: number): number;
}

const SPC_SMALL_FIRST = [1, 2, 4, 8, 16, 32, 64];
const SPC_FAT32 = [8, 4, 2, 1, 16, 32, 64];

function defaultRootEntries(totalSectors: number | undefined, needed: number): number {
  const diskette = totalSectors === undefined ? undefined : DISKETTES[(totalSectors * SECTOR) / 1024];
  const base = diskette?.rootEntries ?? 512;
  // The root region grows to hold the content (up to the 16-bit field's limit).
  return Math.min(0xfff0, Math.max(base, Math.ceil(needed / 16) * 16));
}

function typeFor(totalSectors: number): FatType[] {
  const bytes = totalSectors * SECTOR;
  if (bytes < 16 * 1024 * 1024) return [12, 16, 32];
  if (bytes < 512 * 1024 * 1024) return [16, 32, 12];
  return [32, 16];
}

/** Chooses the geometry; throws `too-large` / `invalid-input` naming the option at fault. */
export function chooseGeometry(req: GeometryRequest): FatGeometry {
  if (req.size !== undefined) {
    if (!Number.isSafeInteger(req.size) || req.size <= 0 || req.size % SECTOR !== 0) {
      throw invalidMediaInput('size', `a positive multiple of ${SECTOR} bytes`, req.size);
    }
    const totalSectors = req.size / SECTOR;
    if (totalSectors > 0xffffffff) throw invalidMediaInput('size', 'at most 2 TiB', req.size);
    const types = req.type ? [req.type] : typeFor(totalSectors);
    const rootEntries = defaultRootEntries(totalSectors, req.rootEntriesNeeded);
    const diskette = DISKETTES[req.size / 1024];
    let fitsSomeLayout = false;
    for (const type of types) {
      const spcs = diskette && type === 12 ? [diskette.spc, ...SPC_SMALL_FIRST] : type === 32 ? SPC_FAT32 : SPC_SMALL_FIRST;
      for (const spc of spcs) {
        const g = tryLayout(type, totalSectors, spc, rootEntries);
        if (!g) continue;
        fitsSomeLayout = true;
        if (g.clusterCount >= req.clustersNeeded(spc)) return g;
      }
    }
    if (fitsSomeLayout) {
      throw new MediaError('too-large', `size: the files do not fit in ${req.size} bytes${req.type ? ` as FAT${req.type}` : ''}; give a larger size`, { field: 'size' });
    }
    throw invalidMediaInput('size', `a size that can hold a FAT${types.join('/FAT')} file system`, req.size);
  }

  // No size given: the smallest volume that holds the content.
  const types: FatType[] = req.type ? [req.type] : [12, 16, 32];
  for (const type of types) {
    for (const spc of SPC_SMALL_FIRST) {
      if (type === 12 && spc > 8 && !req.type) continue; // prefer FAT16 over huge FAT12 clusters
      const rootEntries = defaultRootEntries(undefined, req.rootEntriesNeeded);
      const [min, max] = CLUSTER_LIMITS[type];
      const clusters = Math.max(req.clustersNeeded(spc), min);
      if (clusters > max) continue;
      const reserved = type === 32 ? 32 : 1;
      const rootDirSectors = type === 32 ? 0 : Math.ceil((rootEntries * 32) / SECTOR);
      const sectorsPerFat = Math.ceil(fatBytes(type, clusters) / SECTOR);
      const total = reserved + 2 * sectorsPerFat + rootDirSectors + clusters * spc;
      // Rounding of the FAT size can cost a few clusters: grow until it fits.
      for (let extra = 0; extra < 64; extra++) {
        const g = tryLayout(type, total + extra * spc, spc, rootEntries);
        if (g && g.clusterCount >= req.clustersNeeded(spc)) return g;
      }
    }
  }
  throw new MediaError('too-large', 'files: the content is too large for a FAT file system', { field: 'files' });
}
