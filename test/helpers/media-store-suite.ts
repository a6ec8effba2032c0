/**
 * The one behavioural test suite every MediaStore must pass (built-in
 * server and Swift alike): what the deploy engine and an iLO rely on.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { publishImage } from '../../lib/images';
import { StoreError, type MediaStore, type TransferProgress } from '../../lib/store';
import { iloFetch, type RawOptions } from './ilo-fetch';

export interface StoreUnderTest {
  store: MediaStore;
  /** Everything the backend holds (files, objects and segments), to prove nothing is left behind. */
  leftovers(): Promise<string[]>;
  /** Options for iloFetch (e.g. the CA for https). */
  fetchOptions?: RawOptions;
  close(): Promise<void>;
}

export interface SuiteOptions {
  /** A size that takes the store's large-object path (Swift: beyond max_file_size). */
  largeSize: number;
  /** `needTools(...)` result: the suite is reported as not run when tools are missing. */
  skip?: string | false;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A stream of `data` in chunks, with no size known up front. */
export function streamOf(data: Buffer, chunk = 64 * 1024): Readable {
  let at = 0;
  return new Readable({
    read() {
      if (at >= data.length) this.push(null);
      else {
        this.push(data.subarray(at, at + chunk));
        at += chunk;
      }
    },
  });
}

/** Sends `bytes` of random data, then fails like a source that went away. */
export function failingSource(bytes: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent < bytes) {
        const n = Math.min(64 * 1024, bytes - sent);
        sent += n;
        this.push(randomBytes(n));
      } else {
        this.destroy(new Error('the source disk vanished'));
      }
    },
  });
}

export function mediaStoreBehaviour(label: string, open: () => Promise<StoreUnderTest>, opts: SuiteOptions): void {
  describe(`MediaStore behaviour: ${label}`, { skip: opts.skip ?? false }, () => {
    let t: StoreUnderTest;
    let imageDir: string;
    const get = (url: string, o: RawOptions = {}): ReturnType<typeof iloFetch> => iloFetch(url, { ...t.fetchOptions, ...o });

    before(async () => {
      t = await open();
      imageDir = await mkdtemp(join(tmpdir(), 'ilo-suite-images-'));
    });
    after(async () => {
      await t?.close();
      if (imageDir) await rm(imageDir, { recursive: true, force: true });
    });

    test('a published buffer is served byte-exact at the returned URL; HEAD gives its length and Accept-Ranges: bytes', async () => {
      const data = randomBytes(100_000);
      const p = await t.store.publish('floppy-1.img', data, { ttlSeconds: 300 });
      assert.match(p.url, /^https?:\/\//);
      assert.equal(p.size, data.length);
      const expires = p.expiresAt?.getTime() ?? Infinity;
      assert.ok(expires > Date.now() + 290_000 && expires <= Date.now() + 301_000, `expiresAt ${p.expiresAt?.toISOString() ?? 'never'}`);
      const r = await get(p.url);
      assert.equal(r.status, 200);
      assert.equal(sha256(r.body), sha256(data));
      const h = await get(p.url, { method: 'HEAD' });
      assert.equal(h.status, 200);
      assert.equal(h.headers['content-length'], String(data.length));
      assert.equal(h.headers['accept-ranges'], 'bytes');
      const s = await t.store.stat('floppy-1.img');
      assert.equal(s?.size, data.length);
    });

    test('a large stream is served byte-exact, and random 2-4 KiB ranges read the iLO way (Host without port, Range only) match', async () => {
      const data = randomBytes(opts.largeSize);
      const p = await t.store.publish('deploy-large.iso', streamOf(data), { ttlSeconds: 300, size: data.length });
      assert.equal(p.size, data.length);
      const whole = await get(p.url);
      assert.equal(whole.status, 200);
      assert.equal(whole.body.length, data.length);
      assert.equal(sha256(whole.body), sha256(data));
      for (let i = 0; i < 40; i++) {
        const len = 2048 + Math.floor(Math.random() * 2049);
        const start = Math.floor(Math.random() * (data.length - len));
        const r = await get(p.url, { range: `bytes=${start}-${start + len - 1}`, hostWithoutPort: true });
        assert.equal(r.status, 206, `range ${start}+${len}`);
        assert.equal(r.headers['content-range'], `bytes ${start}-${start + len - 1}/${data.length}`);
        assert.ok(r.body.equals(data.subarray(start, start + len)), `bytes of range ${start}+${len}`);
      }
    });

    test('a stream of unknown size is published byte-exact', async () => {
      const data = randomBytes(Math.floor(opts.largeSize * 1.3));
      const p = await t.store.publish('unknown-size.iso', streamOf(data, 100_000), { ttlSeconds: 300 });
      assert.equal(p.size, data.length);
      const r = await get(p.url);
      assert.equal(sha256(r.body), sha256(data));
    });

    test('ranges: suffix, open-ended and past-the-end are answered 206; a range past the end is 416 with Content-Range */size', async () => {
      const data = randomBytes(10_000);
      const p = await t.store.publish('ranges.img', data, { ttlSeconds: 300 });
      const suffix = await get(p.url, { range: 'bytes=-100' });
      assert.equal(suffix.status, 206);
      assert.equal(suffix.headers['content-range'], `bytes 9900-9999/10000`);
      assert.ok(suffix.body.equals(data.subarray(9900)));
      const open = await get(p.url, { range: 'bytes=9000-' });
      assert.equal(open.status, 206);
      assert.ok(open.body.equals(data.subarray(9000)));
      const clipped = await get(p.url, { range: 'bytes=9990-20000' });
      assert.equal(clipped.status, 206);
      assert.equal(clipped.headers['content-range'], `bytes 9990-9999/10000`);
      assert.ok(clipped.body.equals(data.subarray(9990)));
      const beyond = await get(p.url, { range: 'bytes=10000-10100' });
      assert.equal(beyond.status, 416);
      assert.equal(beyond.headers['content-range'], 'bytes */10000');
    });

    test('URLs are unguessable: each publication gets a different URL, and a tampered one is refused', async () => {
      const a = await t.store.publish('same.img', Buffer.from('first'), { ttlSeconds: 300 });
      const b = await t.store.publish('other.img', Buffer.from('second'), { ttlSeconds: 300 });
      assert.notEqual(new URL(a.url).pathname + new URL(a.url).search, new URL(b.url).pathname + new URL(b.url).search);
      // flip one character of the secret part (the token in the path or the signature in the query)
      const u = new URL(a.url);
      const tampered = u.search
        ? a.url.replace(/temp_url_sig=([0-9a-f])/, (_m, c: string) => `temp_url_sig=${c === 'a' ? 'b' : 'a'}`)
        : a.url.replace(/\/([A-Za-z0-9_-])([A-Za-z0-9_-]{42})\//, (_m, c: string, rest: string) => `/${c === 'A' ? 'B' : 'A'}${rest}/`);
      assert.notEqual(tampered, a.url);
      const r = await get(tampered);
      assert.ok(r.status === 401 || r.status === 404, `tampered URL answered ${r.status}`);
      assert.notEqual(r.body.toString(), 'first');
    });

    test('publishing a name again replaces it: the new URL serves the new bytes, the old URL never serves the old bytes', async () => {
      const v1 = randomBytes(5000);
      const v2 = randomBytes(7000);
      const p1 = await t.store.publish('replace.img', v1, { ttlSeconds: 300 });
      const p2 = await t.store.publish('replace.img', v2, { ttlSeconds: 300 });
      const now = await get(p2.url);
      assert.equal(now.status, 200);
      assert.ok(now.body.equals(v2));
      const old = await get(p1.url);
      assert.ok(!(old.status === 200 && old.body.equals(v1)), 'the old URL still serves the old bytes');
      assert.equal((await t.store.stat('replace.img'))?.size, 7000);
    });

    test('unpublish removes the object: its URL is refused, nothing is left, and unpublishing again (or something never published) is no error', async () => {
      const before = await t.leftovers();
      const p = await t.store.publish('gone.img', streamOf(randomBytes(opts.largeSize)), { ttlSeconds: 300 });
      assert.equal((await get(p.url, { range: 'bytes=0-1' })).status, 206);
      await t.store.unpublish('gone.img');
      const r = await get(p.url);
      assert.ok(r.status === 401 || r.status === 404, `unpublished URL answered ${r.status}`);
      assert.equal(await t.store.stat('gone.img'), undefined);
      assert.deepEqual((await t.leftovers()).sort(), before.sort(), 'the backend holds exactly what it held before');
      await t.store.unpublish('gone.img');
      await t.store.unpublish('never-published.img');
    });

    test('a source that fails mid-way rejects the publish and leaves nothing published, not even the earlier version', async () => {
      const before = await t.leftovers();
      const earlier = await t.store.publish('failing.iso', Buffer.from('earlier'), { ttlSeconds: 300 });
      for (const size of [undefined, opts.largeSize * 2]) {
        await assert.rejects(
          t.store.publish('failing.iso', failingSource(Math.floor(opts.largeSize * 1.5)), { ttlSeconds: 300, size }),
          (err: unknown) => err instanceof StoreError && err.code === 'source' && /source disk vanished/.test(err.message),
        );
        assert.equal(await t.store.stat('failing.iso'), undefined);
        const r = await get(earlier.url);
        assert.ok(r.status === 401 || r.status === 404, `the earlier URL answered ${r.status}`);
        assert.deepEqual((await t.leftovers()).sort(), before.sort(), `nothing left behind (declared size ${size})`);
      }
    });

    test('data shorter or longer than the declared size is refused and nothing is published', async () => {
      const before = await t.leftovers();
      const data = randomBytes(opts.largeSize);
      for (const size of [data.length + 10, data.length - 10]) {
        await assert.rejects(t.store.publish('sized.iso', streamOf(data), { ttlSeconds: 300, size }), (err: unknown) => err instanceof StoreError && err.code === 'size');
        assert.equal(await t.store.stat('sized.iso'), undefined);
      }
      await assert.rejects(t.store.publish('sized.iso', data, { ttlSeconds: 300, size: 3 }), (err: unknown) => err instanceof StoreError && err.code === 'size');
      assert.deepEqual((await t.leftovers()).sort(), before.sort());
    });

    test('an image whose checksum does not match fails the publish and leaves nothing published; a matching one is published', async () => {
      const data = randomBytes(opts.largeSize);
      const file = join(imageDir, 'deploy.iso');
      await writeFile(file, data);
      const before = await t.leftovers();
      const wrong = createHash('sha256').update('something else').digest('hex');
      await assert.rejects(
        publishImage(t.store, { file, checksum: `sha256:${wrong}` }, { ttlSeconds: 300, sources: { fileRoots: [imageDir] } }),
        (err: unknown) => err instanceof StoreError && err.code === 'checksum' && err.message.includes(wrong),
      );
      assert.equal(await t.store.stat('deploy.iso'), undefined);
      assert.deepEqual((await t.leftovers()).sort(), before.sort());
      const good = createHash('sha512').update(data).digest('hex');
      const p = await publishImage(t.store, { file, checksum: `sha512:${good}` }, { ttlSeconds: 300, sources: { fileRoots: [imageDir] } });
      assert.equal(p.name, 'deploy.iso');
      assert.equal(p.verified, true);
      assert.deepEqual(p.checksum, { algorithm: 'sha512', value: good });
      assert.equal(sha256((await get(p.url)).body), sha256(data));
    });

    test('objects expire by themselves after the TTL', async () => {
      const p = await t.store.publish('short-lived.img', randomBytes(1000), { ttlSeconds: 2 });
      assert.equal((await get(p.url)).status, 200);
      await new Promise((r) => setTimeout(r, 3200));
      const r = await get(p.url);
      assert.ok(r.status === 401 || r.status === 404, `expired URL answered ${r.status}`);
      assert.equal(await t.store.stat('short-lived.img'), undefined);
    });

    test('renew keeps an object past its first TTL, at the URL it returns; a renewed expired or unpublished object is "not-found"', async () => {
      const data = randomBytes(5000);
      const p = await t.store.publish('renewed.img', data, { ttlSeconds: 2 });
      const r = await t.store.renew('renewed.img', { ttlSeconds: 600 });
      assert.ok((r.expiresAt?.getTime() ?? Infinity) > Date.now() + 590_000, 'the new expiry is counted from now');
      await new Promise((res) => setTimeout(res, 3200));
      assert.ok((await get(r.url)).body.equals(data), 'the renewed URL still serves the object after the first TTL');
      if (r.url !== p.url) assert.ok([401, 404].includes((await get(p.url)).status), 'a newly signed URL replaces the expired one');
      assert.ok(await t.store.stat('renewed.img'));
      await t.store.unpublish('renewed.img');
      await assert.rejects(t.store.renew('renewed.img', { ttlSeconds: 600 }), (err: unknown) => err instanceof StoreError && err.code === 'not-found');
      await t.store.publish('gone.img', data, { ttlSeconds: 1 });
      await new Promise((res) => setTimeout(res, 2200));
      await assert.rejects(t.store.renew('gone.img', { ttlSeconds: 600 }), (err: unknown) => err instanceof StoreError && err.code === 'not-found');
    });

    test('untilUnpublished: a store that can serves it without expiry; one whose URLs expire says when', async () => {
      const p = await t.store.publish('instance-boot.iso', randomBytes(3000), { ttlSeconds: 2, untilUnpublished: true });
      await new Promise((res) => setTimeout(res, 3200));
      if (t.store.kind === 'builtin') {
        assert.equal(p.expiresAt, undefined);
        assert.equal((await get(p.url)).status, 200, 'still served after the TTL');
        assert.equal((await t.store.stat('instance-boot.iso'))?.expiresAt, undefined);
        assert.equal((await t.store.renew('instance-boot.iso', { ttlSeconds: 60 })).expiresAt, undefined, 'renewing keeps it without expiry');
      } else {
        assert.ok(p.expiresAt, 'Swift temp URLs always expire');
        assert.ok([401, 404].includes((await get(p.url)).status));
      }
      await t.store.unpublish('instance-boot.iso');
    });

    test('progress is reported as the bytes go: increasing, ending with every byte and 100%', async () => {
      const data = randomBytes(opts.largeSize);
      const seen: TransferProgress[] = [];
      await t.store.publish('progress.iso', streamOf(data), { ttlSeconds: 300, size: data.length, onProgress: (p) => seen.push(p) });
      assert.ok(seen.length >= 1);
      for (let i = 1; i < seen.length; i++) assert.ok((seen[i]?.bytes ?? 0) >= (seen[i - 1]?.bytes ?? 0));
      assert.deepEqual(seen.at(-1), { bytes: data.length, total: data.length, percent: 100, done: true });
      assert.equal(seen.filter((p) => p.done).length, 1);
    });

    test('bad input is refused with an error naming the field, and creates nothing', async () => {
      const before = await t.leftovers();
      const bad: Array<[string, () => Promise<unknown>]> = [
        ['name', () => t.store.publish('../../etc/passwd', Buffer.from('x'), { ttlSeconds: 60 })],
        ['name', () => t.store.publish('a/b.iso', Buffer.from('x'), { ttlSeconds: 60 })],
        ['name', () => t.store.publish('.hidden', Buffer.from('x'), { ttlSeconds: 60 })],
        ['name', () => t.store.publish('', Buffer.from('x'), { ttlSeconds: 60 })],
        ['name', () => t.store.publish('x'.repeat(129), Buffer.from('x'), { ttlSeconds: 60 })],
        ['ttlSeconds', () => t.store.publish('ok.img', Buffer.from('x'), { ttlSeconds: 0 })],
        ['ttlSeconds', () => t.store.publish('ok.img', Buffer.from('x'), { ttlSeconds: 1.5 })],
        ['size', () => t.store.publish('ok.img', Buffer.from('x'), { ttlSeconds: 60, size: -1 })],
        ['contentType', () => t.store.publish('ok.img', Buffer.from('x'), { ttlSeconds: 60, contentType: 'text/html\r\nX-Evil: 1' })],
        ['name', () => t.store.unpublish('../x')],
      ];
      for (const [field, call] of bad) {
        await assert.rejects(call(), (err: unknown) => err instanceof StoreError && err.code === 'invalid-input' && err.field === field && err.message.startsWith(`${field}:`));
      }
      assert.deepEqual((await t.leftovers()).sort(), before.sort());
    });

    test('several names publish at the same time', async () => {
      const items = [1, 2, 3, 4].map((i) => ({ name: `parallel-${i}.img`, data: randomBytes(50_000 * i) }));
      const published = await Promise.all(items.map((i) => t.store.publish(i.name, streamOf(i.data), { ttlSeconds: 300 })));
      for (const [k, p] of published.entries()) assert.ok((await get(p.url)).body.equals(items[k]?.data as Buffer));
    });

    test('after close, publishing fails with "closed"', async () => {
      const other = await open();
      await other.close();
      await assert.rejects(other.store.publish('late.img', Buffer.from('x'), { ttlSeconds: 60 }), (err: unknown) => err instanceof StoreError && err.code === 'closed');
    });
  });
}
