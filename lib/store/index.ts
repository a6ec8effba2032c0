/**
 * Where media lives for the iLO: the built-in HTTP(S) media server (the
 * default) or OpenStack Swift with temp URLs, behind one MediaStore
 * interface.
 */
export type { MediaStore, PublishOptions, Published, StoredObject, StoreLogger } from './types';
export { BuiltinMediaStore } from './builtin/store';
export type { BuiltinMediaStoreOptions } from './builtin/store';
export { SwiftMediaStore } from './swift-store';
export type { SwiftMediaStoreOptions } from './swift-store';
export { createMediaStore } from './create';
export type { MediaStoreConfig } from './create';
export { StoreError, isStoreError } from './errors';
export type { StoreErrorCode } from './errors';
export { ProgressMeter, formatProgress } from './progress';
export type { TransferProgress, ProgressListener } from './progress';
export { checkObjectName, sanitiseObjectName, checkTtl, NAME_RULE, MAX_TTL_SECONDS } from './names';
export { parseRange } from './range';
export type { RangeAnswer } from './range';
