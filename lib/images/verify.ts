/**
 * Checks length and checksum while the data flows through. The last chunk
 * is held back until the end has been checked, so a store receiving this
 * stream never gets the complete data when it is wrong: a server waiting
 * for Content-Length bytes (Swift) never commits, and a file never
 * completes.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { StoreError } from '../store/errors';
import type { Checksum, ChecksumAlgorithm } from './reference';

export interface VerifyOptions {
  /** Expected length in bytes. */
  size?: number;
  /** Expected checksum. */
  checksum?: Checksum;
  /** Digest to compute when there is nothing to check (default sha256). */
  algorithm?: ChecksumAlgorithm;
  /** What is being read, for messages ("https://host/deploy.iso"). */
  what: string;
}

export class VerifyingStream extends Transform {
  bytes = 0;
  /** Hex digest, once the stream has ended. */
  digest?: string;
  readonly algorithm: ChecksumAlgorithm;
  private readonly hash: Hash;
  private held?: Buffer;

  constructor(private readonly opts: VerifyOptions) {
    super();
    this.algorithm = opts.checksum?.algorithm ?? opts.algorithm ?? 'sha256';
    this.hash = createHash(this.algorithm);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.opts.size !== undefined && this.bytes > this.opts.size) {
      cb(new StoreError('size', `${this.opts.what} is longer than its declared size of ${this.opts.size} bytes`));
      return;
    }
    this.hash.update(chunk);
    const previous = this.held;
    this.held = chunk;
    cb(null, previous);
  }

  override _flush(cb: TransformCallback): void {
    this.digest = this.hash.digest('hex');
    if (this.opts.size !== undefined && this.bytes !== this.opts.size) {
      cb(new StoreError('size', `${this.opts.what} ended after ${this.bytes} bytes, short of its declared size of ${this.opts.size}`));
      return;
    }
    const want = this.opts.checksum;
    if (want && want.value !== this.digest) {
      cb(new StoreError('checksum', `${this.opts.what}: ${want.algorithm} is ${this.digest}, expected ${want.value}`));
      return;
    }
    cb(null, this.held);
  }
}
