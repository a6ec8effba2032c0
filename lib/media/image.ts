/**
 * A built medium (FAT image, ISO) as a list of segments: metadata the writer
 * computed (small Buffers), runs of zeros, and file contents still on disk.
 * Its exact size is known before any byte is produced, and any byte range can
 * be streamed without reading what lies before it (HTTP Range requests).
 */
import { createWriteStream } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MediaError, invalidMediaInput } from './errors';
import type { MediaSource } from './source';

export type Segment =
  | { kind: 'bytes'; data: Buffer }
  | { kind: 'zero'; length: number }
  | { kind: 'source'; source: MediaSource; field: string };

/** Byte range, both ends inclusive (as in HTTP `Range` and `fs.createReadStream`). */
export interface ByteRange {
  start?: number;
  end?: number;
}

export interface MediaImage {
  /** Exact size in bytes of what `stream()` yields. */
  readonly size: number;
  /** The image's bytes (or a range of them), read lazily: memory stays flat whatever the size. */
  stream(range?: ByteRange): Readable;
  /** The whole image in memory. Meant for small images (floppies, ESPs). */
  toBuffer(): Promise<Buffer>;
  /** Streams the image into a file. */
  writeToFile(path: string): Promise<void>;
}

const ZERO_CHUNK = 1 << 16;
/** Copy buffer of writeToFile: large enough for few system calls, small enough to keep memory flat. */
const COPY_CHUNK = 1 << 20;

async function writeAllAt(out: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let p = position;
  let rest = buffers;
  while (rest.length) {
    const { bytesWritten } = await out.writev(rest, p);
    if (bytesWritten === 0) throw new MediaError('io', `cannot write the image: the file took no bytes at offset ${p}`, {});
    p += bytesWritten;
    // A short write: drop what went out and go on with the rest.
    let skip = bytesWritten;
    const left: Buffer[] = [];
    for (const b of rest) {
      if (skip >= b.length) skip -= b.length;
      else {
        left.push(skip ? b.subarray(skip) : b);
        skip = 0;
      }
    }
    rest = left;
  }
}

function segmentLength(s: Segment): number {
  return s.kind === 'bytes' ? s.data.length : s.kind === 'zero' ? s.length : s.source.size;
}

/** Collects segments in order and keeps track of the offset. */
export class SegmentList {
  readonly segments: Segment[] = [];
  private length = 0;

  get offset(): number {
    return this.length;
  }

  bytes(data: Buffer): this {
    if (data.length > 0) {
      this.segments.push({ kind: 'bytes', data });
      this.length += data.length;
    }
    return this;
  }

  zero(length: number): this {
    if (length > 0) {
      const last = this.segments[this.segments.length - 1];
      if (last?.kind === 'zero') last.length += length;
      else this.segments.push({ kind: 'zero', length });
      this.length += length;
    }
    return this;
  }

  source(source: MediaSource, field: string): this {
    if (source.size > 0) {
      if (source.bytes) return this.bytes(source.bytes);
      this.segments.push({ kind: 'source', source, field });
      this.length += source.size;
    }
    return this;
  }

  /** Zero-fill up to the next multiple of `unit`. */
  padTo(unit: number): this {
    const rem = this.length % unit;
    return rem === 0 ? this : this.zero(unit - rem);
  }
}

export class SegmentedImage implements MediaImage {
  readonly size: number;
  private readonly segments: readonly Segment[];
  /** Offset of each segment in the image. */
  private readonly starts: number[];

  constructor(segments: readonly Segment[]) {
    this.segments = segments;
    this.starts = [];
    let at = 0;
    for (const s of segments) {
      this.starts.push(at);
      at += segmentLength(s);
    }
    this.size = at;
  }

  /** Whether every byte is already in memory (then `toBufferSync` works). */
  get inMemory(): boolean {
    return this.segments.every((s) => s.kind !== 'source');
  }

  stream(range: ByteRange = {}): Readable {
    const [start, endExcl] = this.checkRange(range);
    return Readable.from(this.chunks(start, endExcl), { objectMode: false, highWaterMark: 1 << 20 });
  }

  async toBuffer(): Promise<Buffer> {
    if (this.inMemory) return this.toBufferSync();
    const out = Buffer.allocUnsafe(this.size);
    let at = 0;
    for await (const chunk of this.chunks(0, this.size)) {
      chunk.copy(out, at);
      at += chunk.length;
    }
    return out;
  }

  /** The whole image, built synchronously; only for images whose contents are all in memory. */
  toBufferSync(): Buffer {
    const out = Buffer.alloc(this.size);
    this.segments.forEach((s, i) => {
      if (s.kind === 'bytes') s.data.copy(out, this.starts[i]);
      else if (s.kind === 'source') throw new MediaError('invalid-input', `${s.field}: ${s.source.description} is not in memory; use toBuffer() or stream()`, { field: s.field });
    });
    return out;
  }

  /**
   * Into a regular file: positional writes, no stream (metadata in runs,
   * file contents copied through one buffer, zero runs left as holes).
   * Anything else (a device, a pipe) is streamed to, every byte written.
   */
  async writeToFile(path: string): Promise<void> {
    const existing = await stat(path).catch(() => undefined);
    if (existing && !existing.isFile()) {
      await pipeline(this.stream(), createWriteStream(path));
      return;
    }
    const out = await open(path, 'w');
    try {
      let buffer: Buffer | undefined;
      let run: Buffer[] = [];
      let runAt = 0;
      const flush = async (): Promise<void> => {
        if (run.length) await writeAllAt(out, run, runAt);
        run = [];
      };
      for (const [i, s] of this.segments.entries()) {
        const at = this.starts[i] as number;
        if (s.kind === 'bytes') {
          if (run.length === 0) runAt = at;
          run.push(s.data);
          continue;
        }
        await flush();
        if (s.kind === 'zero') continue; // a hole reads as zeros
        if (s.source.copyTo) {
          buffer ??= Buffer.allocUnsafe(COPY_CHUNK);
          await s.source.copyTo(out, at, buffer);
        } else {
          let p = at;
          for await (const chunk of s.source.read(0, s.source.size)) {
            if (p + chunk.length > at + s.source.size) break;
            await writeAllAt(out, [chunk], p);
            p += chunk.length;
          }
          if (p !== at + s.source.size) {
            throw new MediaError('source-changed', `${s.field}: ${s.source.description} gave ${p - at} bytes where ${s.source.size} were expected`, { field: s.field });
          }
        }
      }
      await flush();
      // The last segments may be holes: the file ends where the image does.
      await out.truncate(this.size);
    } finally {
      await out.close();
    }
  }

  private checkRange(range: ByteRange): [number, number] {
    const start = range.start ?? 0;
    const end = range.end ?? this.size - 1;
    if (!Number.isSafeInteger(start) || start < 0) throw invalidMediaInput('range.start', 'an integer >= 0', start);
    if (!Number.isSafeInteger(end) || end >= this.size || end < start - 1) {
      throw invalidMediaInput('range.end', `an integer from range.start - 1 to ${this.size - 1} (inclusive end)`, end);
    }
    return [start, end + 1];
  }

  private async *chunks(start: number, endExcl: number): AsyncGenerator<Buffer> {
    if (endExcl <= start) return;
    let i = this.findSegment(start);
    let at = start;
    while (at < endExcl && i < this.segments.length) {
      const seg = this.segments[i];
      const segStart = this.starts[i];
      const from = at - segStart;
      const to = Math.min(segmentLength(seg), endExcl - segStart);
      if (seg.kind === 'bytes') {
        yield seg.data.subarray(from, to);
      } else if (seg.kind === 'zero') {
        for (let p = from; p < to; p += ZERO_CHUNK) yield Buffer.alloc(Math.min(ZERO_CHUNK, to - p));
      } else {
        yield* seg.source.read(from, to);
      }
      at = segStart + to;
      i++;
    }
  }

  /** Index of the segment holding byte `offset` (binary search; segments may be empty-free). */
  private findSegment(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/** Lets one image be placed inside another (an ESP image inside an ISO). */
export function imageSource(image: MediaImage, description: string): MediaSource {
  const bytes = image instanceof SegmentedImage && image.inMemory ? image.toBufferSync() : undefined;
  return {
    size: image.size,
    description,
    bytes,
    async *read(start: number, end: number): AsyncIterable<Buffer> {
      if (end <= start) return;
      for await (const chunk of image.stream({ start, end: end - 1 })) yield chunk as Buffer;
    },
  };
}
