/**
 * Image sources: an http(s) URL, a local file, a Swift object or a Glance
 * image, streamed into a media store with their checksum verified.
 */
export { publishImage, openImage } from './publish';
export type { ImageSources, PublishImageOptions, PublishedImage } from './publish';
export { parseImage, parseChecksum, CHECKSUM_ALGORITHMS } from './reference';
export type { ImageInput, ImageObject, ImageSpec, ImageSource, Checksum, ChecksumAlgorithm } from './reference';
export { GlanceClient, glanceChecksum } from './glance';
export type { GlanceImage, GlanceClientOptions } from './glance';
export { VerifyingStream } from './verify';
export type { OpenedImage } from './source';
export { MediaService } from './service';
export type { MediaServiceConfig, ServicePublishOptions } from './service';
export { checkStoreConfig } from './check';
export type { StoreCheckReport } from './check';
