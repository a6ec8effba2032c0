/**
 * Media for iLO virtual-media deploys, built in TypeScript with no external
 * tool and no root: the virtual floppy (FAT12 + parameters.txt), FAT images
 * in general (ESPs), ISO 9660 with Rock Ridge and El Torito, and the boot /
 * deploy ISO builders on top.
 */
export * from './errors';
export * from './source';
export * from './image';
export * from './parameters';
export * from './floppy';
export { buildFatImage, FatImage } from './fat/writer';
export type { FatFile, FatOptions } from './fat/writer';
export type { FatType, FatGeometry } from './fat/geometry';
export { buildIso } from './iso/writer';
export type { IsoFile, IsoOptions, IsoBootOptions, IsoImage } from './iso/writer';
export * from './bootloaders';
export * from './bootconfig';
export * from './esp';
export * from './boot-iso';
export * from './config-drive';
