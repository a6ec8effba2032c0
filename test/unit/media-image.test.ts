import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { appendFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SegmentList, SegmentedImage, bufferSource, fileSource, isMediaError, toSource } from '../../lib/media';

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('SegmentedImage', () => {
  let dir: string;
  let filePath: string;
  const fileBytes = randomBytes(3000);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ilo-media-image-'));
    filePath = join(dir, 'part.bin');
    await writeFile(filePath, fileBytes);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function sample(): Promise<{ image: SegmentedImage; expected: Buffer }> {
    const head = randomBytes(700);
    const list = new SegmentList().bytes(head).zero(333).source(await fileSource(filePath), 'file').padTo(512).bytes(Buffer.from('tail'));
    const expected = Buffer.concat([head, Buffer.alloc(333), fileBytes, Buffer.alloc(list.offset - 4 - 700 - 333 - 3000), Buffer.from('tail')]);
    return { image: new SegmentedImage(list.segments), expected };
  }

  test('its size is known up front and the stream yields exactly those bytes', async () => {
    const { image, expected } = await sample();
    assert.equal(image.size, expected.length);
    assert.deepEqual(await collect(image.stream()), expected);
    assert.deepEqual(await image.toBuffer(), expected);
  });

  test('any byte range (inclusive end, as HTTP Range) yields that slice', async () => {
    const { image, expected } = await sample();
    const points = [0, 1, 699, 700, 701, 1032, 1033, 1034, 4032, 4033, 4095, expected.length - 5, expected.length - 1];
    for (const start of points) {
      for (const end of points) {
        if (end < start) continue;
        assert.deepEqual(await collect(image.stream({ start, end })), expected.subarray(start, end + 1), `range ${start}-${end}`);
      }
    }
  });

  test('a range outside the image is refused, naming the bound', async () => {
    const { image } = await sample();
    assert.throws(() => image.stream({ start: 0, end: image.size }), (e: unknown) => isMediaError(e, 'invalid-input') && e.field === 'range.end');
    assert.throws(() => image.stream({ start: -1 }), (e: unknown) => isMediaError(e, 'invalid-input') && e.field === 'range.start');
  });

  test('toBufferSync refuses an image whose contents are still on disk', async () => {
    const { image } = await sample();
    assert.throws(() => image.toBufferSync(), (e: unknown) => isMediaError(e) && e.message.includes(filePath));
  });

  test('a stream destroyed early (a client that hung up) closes the files it had opened', { skip: process.platform !== 'linux' && 'needs /proc/self/fd' }, async () => {
    const big = join(dir, 'big.bin');
    await writeFile(big, Buffer.alloc(8 << 20, 7));
    const image = new SegmentedImage(new SegmentList().bytes(Buffer.alloc(10)).source(await fileSource(big), 'ramdisk').segments);
    const fds = async (): Promise<number> => (await readdir('/proc/self/fd')).length;
    const before = await fds();
    for (let i = 0; i < 20; i++) {
      const s = image.stream({ start: 5 });
      await new Promise<void>((resolve) => s.once('data', () => resolve()));
      s.destroy();
      await new Promise((r) => setImmediate(r));
    }
    // Closing is asynchronous: wait (up to a generous bound) for every descriptor to be released.
    const deadline = Date.now() + 10_000;
    while ((await fds()) !== before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await fds(), before);
  });

  test('a file that changed size after the layout fails the stream instead of corrupting it', async () => {
    const p = join(dir, 'changing.bin');
    await writeFile(p, Buffer.alloc(100, 1));
    const image = new SegmentedImage(new SegmentList().source(await fileSource(p, 'kernel'), 'kernel').segments);
    await appendFile(p, 'more');
    await assert.rejects(collect(image.stream()), (e: unknown) => isMediaError(e, 'source-changed') && e.field === 'kernel' && e.message.includes(p));
    await assert.rejects(image.writeToFile(join(dir, 'changed.img')), (e: unknown) => isMediaError(e, 'source-changed') && e.field === 'kernel');
  });

  test('writeToFile: the same bytes as the stream, over a larger old file, and with a source that is neither a file nor a Buffer', async () => {
    const { image, expected } = await sample();
    const out = join(dir, 'out.img');
    await writeFile(out, randomBytes(expected.length * 3)); // an older, larger image in the way
    await image.writeToFile(out);
    assert.deepEqual(await readFile(out), expected);

    const custom = {
      size: 5000,
      description: 'a generator',
      async *read(start: number, end: number): AsyncIterable<Buffer> {
        for (let p = start; p < end; p += 1000) yield Buffer.alloc(Math.min(1000, end - p), p / 1000 + 1);
      },
    };
    const mixed = new SegmentList().source(custom, 'custom').zero(10).bytes(Buffer.from('end'));
    await new SegmentedImage(mixed.segments).writeToFile(out);
    assert.deepEqual(await readFile(out), Buffer.concat([...[1, 2, 3, 4, 5].map((v) => Buffer.alloc(1000, v)), Buffer.alloc(10), Buffer.from('end')]));

    // Says 6000 bytes, gives 5000.
    const short = { ...custom, size: 6000, read: () => custom.read(0, 5000) };
    await assert.rejects(new SegmentedImage(new SegmentList().source(short, 'custom').segments).writeToFile(out), (e: unknown) => isMediaError(e, 'source-changed') && e.field === 'custom');
  });

  test('writeToFile to something that is not a regular file (a pipe) streams every byte', { skip: process.platform === 'win32' && 'needs mkfifo' }, async () => {
    const { image, expected } = await sample();
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const [got] = await Promise.all([readFile(fifo), image.writeToFile(fifo)]);
    assert.deepEqual(got, expected);
  });
});

describe('media sources', () => {
  test('a missing file is a missing-file error naming the path', async () => {
    await assert.rejects(toSource('/nonexistent/vmlinuz', 'kernel'), (e: unknown) => isMediaError(e, 'missing-file') && e.field === 'kernel' && e.message.includes('/nonexistent/vmlinuz'));
  });

  test('a directory is not a file', async () => {
    await assert.rejects(toSource(tmpdir(), 'ramdisk'), /ramdisk: expected a path to a regular file/);
  });

  test('a Buffer source yields the Buffer', async () => {
    const s = bufferSource(Buffer.from('abcdef'));
    const parts: Buffer[] = [];
    for await (const c of s.read(1, 4)) parts.push(c);
    assert.equal(Buffer.concat(parts).toString(), 'bcd');
  });

  test('anything else is refused', async () => {
    await assert.rejects(toSource(42 as unknown as string, 'kernel'), /kernel: expected a file path, a Buffer or a MediaSource/);
  });
});
