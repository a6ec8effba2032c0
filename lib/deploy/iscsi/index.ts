export { writeImageToIscsi } from './write';
export type { IscsiInitiator, PartitionImageOptions, WriteImageOptions, WriteImageResult, WriteProgress, WriteStep, WrittenPartition } from './write';
export type { IscsiLun, IscsiPortal } from './target';
export type { ImageFormat } from './qemu-img';
