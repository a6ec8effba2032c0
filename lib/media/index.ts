export * from './errors';
export * from './source';
export * from './image';
export * from './parameters';
export * from './floppy';
export { buildFatImage } from './fat/writer';
export type { FatFile, FatOptions, FatImage } from './fat/writer';
export type { FatType, FatGeometry } from './fat/geometry';
