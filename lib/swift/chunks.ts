/**
 * Reading an upload source piece by piece: a bounded slice of it at a time
 * (one Swift segment, one PUT), with a look-ahead to tell whether more data
 * follows. Failures of the source surface as a LibError 'source' (or 'size'), which
 * the media store above reports as its own.
 */
import type { Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { LibError } from '../errors';

export type UploadSource = Readable | Buffer;

export class ChunkReader {
  private readonly it: AsyncIterator<Buffer>;
  private held?: Buffer;
  private finished = false;

  constructor(source: UploadSource) {
    const iterable: AsyncIterable<Buffer> = Buffer.isBuffer(source) ? oneChunk(source) : (source as AsyncIterable<Buffer>);
    this.it = iterable[Symbol.asyncIterator]();
  }

  /** Up to `max` bytes, or null at the end of the source. */
  async next(max: number): Promise<Buffer | null> {
    let chunk = this.held;
    this.held = undefined;
    while (!chunk || chunk.length === 0) {
      if (this.finished) return null;
      chunk = await this.pull();
      if (!chunk) return null;
    }
    if (chunk.length > max) {
      this.held = chunk.subarray(max);
      return chunk.subarray(0, max);
    }
    return chunk;
  }

  /** Whether the source has no more data (reads ahead one chunk if needed). */
  async atEnd(): Promise<boolean> {
    while (!this.held || this.held.length === 0) {
      if (this.finished) return true;
      const c = await this.pull();
      if (!c) return true;
      this.held = c;
    }
    return false;
  }

  /** Stops reading the source (after an error elsewhere). */
  async cancel(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.it.return?.().catch(() => undefined);
  }

  private async pull(): Promise<Buffer | undefined> {
    let r: IteratorResult<Buffer>;
    try {
      r = await this.it.next();
    } catch (err) {
      this.finished = true;
      if (err instanceof LibError) throw err;
      const msg = (err as Error)?.message ?? String(err);
      throw new LibError('source', `reading the data to upload failed: ${msg}`, { cause: err });
    }
    if (r.done) {
      this.finished = true;
      return undefined;
    }
    const v = r.value as Buffer | string | Uint8Array;
    return Buffer.isBuffer(v) ? v : Buffer.from(v);
  }
}

async function* oneChunk(b: Buffer): AsyncGenerator<Buffer> {
  if (b.length > 0) yield b;
}

export interface SliceCount {
  bytes: number;
}

/**
 * Yields at most `limit` bytes of `reader`, hashing them and counting them
 * in `count`. With `exact`, fewer bytes is an error. With `lastOfDeclared`,
 * the source must end right after: that is checked BEFORE the final bytes
 * go out, so a server waiting for a Content-Length never gets a complete
 * body from a source that turned out too long.
 */
export async function* slice(
  reader: ChunkReader,
  limit: number,
  opts: { hash: Hash; count: SliceCount; exact: boolean; lastOfDeclared: boolean; declared?: number; onBytes?: (n: number) => void },
): AsyncGenerator<Buffer> {
  let sent = 0;
  while (sent < limit) {
    const chunk = await reader.next(limit - sent);
    if (!chunk) break;
    sent += chunk.length;
    if (sent === limit && opts.lastOfDeclared && !(await reader.atEnd())) {
      throw new LibError('size', `the data is longer than its declared size of ${opts.declared ?? limit} bytes`, { field: 'size' });
    }
    opts.hash.update(chunk);
    opts.count.bytes += chunk.length;
    yield chunk;
    opts.onBytes?.(chunk.length);
  }
  if (opts.exact && sent < limit) {
    throw new LibError('size', `the data ended before its declared size of ${opts.declared ?? limit} bytes`, { field: 'size' });
  }
}
