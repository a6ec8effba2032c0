/**
 * Where the bytes of a file placed on a medium come from: a Buffer already in
 * memory, or a file on disk that is read only while the image is streamed.
 * Either way the size is known up front, so an image's total size is known
 * before a single byte is produced.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { MediaError, invalidMediaInput } from './errors';

export interface MediaSource {
  /** Size in bytes, fixed when the source was created. */
  readonly size: number;
  /** For error messages: the file path, or "a Buffer of N bytes". */
  readonly description: string;
  /** The bytes, when they are in memory (lets small images be built synchronously). */
  readonly bytes?: Buffer;
  /** Bytes `[start, end)`, in chunks. */
  read(start: number, end: number): AsyncIterable<Buffer>;
  /**
   * Copy all the bytes into `out` at `position`, through `buffer` (optional:
   * a file on disk does it with positional reads and writes, without a
   * stream's bookkeeping per chunk).
   */
  copyTo?(out: FileHandle, position: number, buffer: Buffer): Promise<void>;
}

/** A file path (streamed from disk when the image is read), a Buffer, or a ready source. */
export type MediaInput = string | Buffer | MediaSource;

/** Chunk size for reading files: large enough to keep per-chunk overhead low, small enough to keep memory flat. */
const READ_CHUNK = 1 << 20;

export function bufferSource(data: Buffer): MediaSource {
  return {
    size: data.length,
    description: `a Buffer of ${data.length} bytes`,
    bytes: data,
    async *read(start: number, end: number): AsyncIterable<Buffer> {
      if (end > start) yield data.subarray(start, end);
    },
  };
}

/**
 * A regular file, streamed when read. The size is taken now; if the file has
 * another size when it is read, reading fails with `source-changed` rather
 * than producing an image whose layout no longer matches its contents.
 */
export async function fileSource(path: string, field = 'file'): Promise<MediaSource> {
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw invalidMediaInput(field, 'a path to a regular file', path);
    size = st.size;
  } catch (err) {
    if (err instanceof MediaError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MediaError('missing-file', `${field}: no such file: ${path}`, { field, searched: [path], cause: err });
    throw new MediaError('io', `${field}: cannot read ${path}: ${(err as Error).message}`, { field, cause: err });
  }
  return {
    size,
    description: path,
    read(start: number, end: number): AsyncIterable<Buffer> {
      return readFileRange(path, size, start, end, field);
    },
    copyTo(out: FileHandle, position: number, buffer: Buffer): Promise<void> {
      return copyFileInto(path, size, field, out, position, buffer);
    },
  };
}

async function openSized(path: string, size: number, field: string): Promise<FileHandle> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new MediaError('io', `${field}: cannot open ${path}: ${(err as Error).message}`, { field, cause: err });
  }
  const now = (await handle.stat()).size;
  if (now !== size) {
    await handle.close();
    throw new MediaError('source-changed', `${field}: ${path} was ${size} bytes when the image was laid out and is now ${now}`, { field });
  }
  return handle;
}

async function copyFileInto(path: string, size: number, field: string, out: FileHandle, position: number, buffer: Buffer): Promise<void> {
  const handle = await openSized(path, size, field);
  try {
    let got = 0;
    while (got < size) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - got), got);
      if (bytesRead === 0) break;
      let written = 0;
      while (written < bytesRead) written += (await out.write(buffer, written, bytesRead - written, position + got + written)).bytesWritten;
      got += bytesRead;
    }
    if (got !== size) {
      throw new MediaError('source-changed', `${field}: ${path} gave ${got} bytes where ${size} were expected (truncated while reading?)`, { field });
    }
  } finally {
    await handle.close();
  }
}

async function* readFileRange(path: string, size: number, start: number, end: number, field: string): AsyncIterable<Buffer> {
  if (end <= start) return;
  const handle = await openSized(path, size, field);
  try {
    let got = 0;
    const stream = handle.createReadStream({ start, end: end - 1, highWaterMark: READ_CHUNK, autoClose: false });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      got += chunk.length;
      yield chunk;
    }
    if (got !== end - start) {
      throw new MediaError('source-changed', `${field}: ${path} gave ${got} bytes where ${end - start} were expected (truncated while reading?)`, { field });
    }
  } finally {
    await handle.close();
  }
}

/** Turns a path, Buffer or source into a source; a path is checked (and sized) now. */
export async function toSource(input: MediaInput, field: string): Promise<MediaSource> {
  if (Buffer.isBuffer(input)) return bufferSource(input);
  if (typeof input === 'string') {
    if (input.length === 0) throw invalidMediaInput(field, 'a file path, a Buffer or a MediaSource', input);
    return fileSource(input, field);
  }
  if (isMediaSource(input)) return input;
  throw invalidMediaInput(field, 'a file path, a Buffer or a MediaSource', input);
}

export function isMediaSource(v: unknown): v is MediaSource {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Partial<MediaSource>;
  return typeof s.size === 'number' && Number.isSafeInteger(s.size) && s.size >= 0 && typeof s.read === 'function';
}
