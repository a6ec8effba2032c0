/** What every image source resolves to. */
import type { Readable } from 'node:stream';
import type { Checksum } from './reference';

export interface OpenedImage {
  stream: Readable;
  /** Length in bytes, when the source says. */
  size?: number;
  /** Checksum the source itself vouches for (Glance, a Swift ETag). */
  checksum?: Checksum;
  contentType?: string;
  /** A file name to publish under when none is given. */
  suggestedName: string;
  /** For messages: where it comes from, without secrets. */
  what: string;
}
