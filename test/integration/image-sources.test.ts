/**
 * Image sources streamed into the built-in store: http(s) URLs (a local
 * server, with redirects and TLS), local files (inside allowed roots only),
 * and Glance v2 (a stand-in speaking its API; no real Glance here).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GlanceClient, publishImage } from '../../lib/images';
import { BuiltinMediaStore, StoreError, type TransferProgress } from '../../lib/store';
import { OpenStackError, OpenStackSession, createHttpAgent } from '../../lib/swift';
import { createFleetCa } from '../../sim/certs';
import { startGlanceStandIn, type GlanceStandIn } from '../helpers/glance-standin';
import { iloFetch } from '../helpers/ilo-fetch';

const hex = (algo: string, b: Buffer): string => createHash(algo).update(b).digest('hex');
const image = randomBytes(1_500_000);

let dir: string;
let store: BuiltinMediaStore;
let web: Server;
let webUrl: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ilo-images-'));
  store = await BuiltinMediaStore.open({ stateDir: join(dir, 'state') });
  web = createHttpServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/images/deploy%20kernel.iso' || u.pathname === '/images/deploy.iso') {
      res.writeHead(200, { 'content-type': 'application/x-iso9660-image', 'content-length': String(image.length) }).end(image);
    } else if (u.pathname.startsWith('/hop/')) {
      const n = Number(u.pathname.split('/')[2]);
      res.writeHead(302, { location: n > 0 ? `/hop/${n - 1}` : '/images/deploy.iso' }).end();
    } else if (u.pathname === '/truncated.iso') {
      res.writeHead(200, { 'content-length': String(image.length) });
      res.write(image.subarray(0, 500_000));
      setTimeout(() => res.destroy(), 20);
    } else {
      res.writeHead(404).end('no such image');
    }
  });
  web.listen(0, '127.0.0.1');
  await once(web, 'listening');
  webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
});
after(async () => {
  await store?.close();
  web?.closeAllConnections();
  await new Promise((r) => web?.close(r));
  await rm(dir, { recursive: true, force: true });
});

const isStoreError = (code: string, re?: RegExp) => (err: unknown) => err instanceof StoreError && err.code === code && (!re || re.test(err.message));

describe('image source: http(s) URL', () => {
  test('streams into the store with its checksum verified; the name comes from the URL path', async () => {
    const progress: TransferProgress[] = [];
    const p = await publishImage(store, { url: `${webUrl}/images/deploy%20kernel.iso?token=s3cret`, checksum: `sha256:${hex('sha256', image)}` }, { ttlSeconds: 60, onProgress: (e) => progress.push(e) });
    assert.equal(p.name, 'deploy-kernel.iso');
    assert.equal(p.verified, true);
    assert.equal(p.size, image.length);
    assert.equal(p.source, `${webUrl}/images/deploy%20kernel.iso`, 'the query string (a possible secret) is not repeated');
    assert.ok((await iloFetch(p.url)).body.equals(image));
    assert.deepEqual(progress.at(-1), { bytes: image.length, total: image.length, percent: 100, done: true });
  });

  test('md5 and bare-hex sha512 checksums are accepted; follows redirects', async () => {
    const a = await publishImage(store, { url: `${webUrl}/hop/3`, checksum: hex('md5', image), name: 'redirected.iso' }, { ttlSeconds: 60 });
    assert.deepEqual(a.checksum, { algorithm: 'md5', value: hex('md5', image) });
    const b = await publishImage(store, { url: `${webUrl}/images/deploy.iso`, checksum: hex('sha512', image) }, { ttlSeconds: 60 });
    assert.equal(b.checksum.algorithm, 'sha512');
    assert.ok((await iloFetch(a.url)).body.equals(image));
  });

  test('a wrong checksum, a missing image, a cut-off download and too many redirects fail, publishing nothing', async () => {
    const before = await store.stat('deploy.iso');
    await assert.rejects(publishImage(store, { url: `${webUrl}/images/deploy.iso`, checksum: `sha256:${hex('sha256', Buffer.from('x'))}`, name: 'bad.iso' }, { ttlSeconds: 60 }), isStoreError('checksum'));
    await assert.rejects(publishImage(store, `${webUrl}/missing.iso?sig=topsecret`, { ttlSeconds: 60 }), (err: unknown) => isStoreError('source', /answered 404/)(err) && !(err as Error).message.includes('topsecret'));
    await assert.rejects(publishImage(store, `${webUrl}/truncated.iso`, { ttlSeconds: 60 }), (err: unknown) => err instanceof StoreError && (err.code === 'source' || err.code === 'size'));
    await assert.rejects(publishImage(store, `${webUrl}/hop/9`, { ttlSeconds: 60 }), isStoreError('source', /redirects/));
    for (const n of ['bad.iso', 'missing.iso', 'truncated.iso', '9']) assert.equal(await store.stat(n), undefined, n);
    assert.deepEqual(await store.stat('deploy.iso'), before);
  });

  test('requireChecksum refuses an image that has none', async () => {
    await assert.rejects(publishImage(store, `${webUrl}/images/deploy.iso`, { ttlSeconds: 60, requireChecksum: true, name: 'unchecked.iso' }), (err: unknown) => err instanceof StoreError && err.field === 'image.checksum');
    assert.equal(await store.stat('unchecked.iso'), undefined);
  });

  test('https: verified against a given CA; refused without it', async () => {
    const ca = await createFleetCa('image server CA');
    const leaf = await ca.issue('images', ['127.0.0.1']);
    const tls = createHttpsServer({ key: leaf.key, cert: leaf.cert }, (_req, res) => res.writeHead(200, { 'content-length': '5' }).end('hello'));
    tls.listen(0, '127.0.0.1');
    await once(tls, 'listening');
    const url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/tiny.img`;
    const trusting = createHttpAgent({ tls: { caPem: ca.cert } });
    try {
      const p = await publishImage(store, url, { ttlSeconds: 60, sources: { http: trusting } });
      assert.equal((await iloFetch(p.url)).body.toString(), 'hello');
      await assert.rejects(publishImage(store, { url, name: 'untrusted.img' }, { ttlSeconds: 60 }), (err: unknown) => err instanceof OpenStackError && err.code === 'connection' && /certificate/.test(err.message));
    } finally {
      await trusting.close();
      tls.closeAllConnections();
      await new Promise((r) => tls.close(r));
    }
  });
});

describe('image source: local file', () => {
  let roots: string;
  let outside: string;
  before(async () => {
    roots = join(dir, 'images');
    outside = join(dir, 'private');
    await mkdir(roots);
    await mkdir(outside);
    await writeFile(join(roots, 'ok.img'), image);
    await writeFile(join(outside, 'secret.txt'), 'do not publish');
    await symlink(join(outside, 'secret.txt'), join(roots, 'sneaky.img'));
  });

  test('a file inside the allowed roots is published (path or file:// URL)', async () => {
    const p = await publishImage(store, join(roots, 'ok.img'), { ttlSeconds: 60, sources: { fileRoots: [roots] } });
    assert.equal(p.name, 'ok.img');
    assert.ok((await iloFetch(p.url)).body.equals(image));
    const q = await publishImage(store, { file: `file://${join(roots, 'ok.img')}`, name: 'via-url.img' }, { ttlSeconds: 60, sources: { fileRoots: [roots] } });
    assert.equal(q.size, image.length);
  });

  test('files outside the roots (directly, by .., or through a symlink), with no roots configured, or not regular files are refused', async () => {
    const sources = { fileRoots: [roots] };
    await assert.rejects(publishImage(store, join(outside, 'secret.txt'), { ttlSeconds: 60, sources }), isStoreError('not-allowed'));
    await assert.rejects(publishImage(store, join(roots, '..', 'private', 'secret.txt'), { ttlSeconds: 60, sources }), isStoreError('not-allowed'));
    await assert.rejects(publishImage(store, join(roots, 'sneaky.img'), { ttlSeconds: 60, sources }), isStoreError('not-allowed'));
    await assert.rejects(publishImage(store, join(roots, 'ok.img'), { ttlSeconds: 60 }), isStoreError('not-allowed', /fileRoots/));
    await assert.rejects(publishImage(store, { file: roots }, { ttlSeconds: 60, sources }), (err: unknown) => err instanceof StoreError && err.field === 'image.file');
    await assert.rejects(publishImage(store, join(roots, 'absent.img'), { ttlSeconds: 60, sources }), isStoreError('source', /ENOENT/));
    await assert.rejects(publishImage(store, { file: 'relative/ok.img' }, { ttlSeconds: 60, sources }), (err: unknown) => err instanceof StoreError && err.field === 'image.file');
    assert.equal(await store.stat('secret.txt'), undefined);
    assert.equal(await store.stat('sneaky.img'), undefined);
  });

  test('a declared size that differs from the file is refused', async () => {
    await assert.rejects(publishImage(store, { file: join(roots, 'ok.img'), size: 12, name: 'sized.img' }, { ttlSeconds: 60, sources: { fileRoots: [roots] } }), (err: unknown) => err instanceof StoreError && err.code === 'size' && err.field === 'image.size');
    assert.equal(await store.stat('sized.img'), undefined);
  });
});

describe('image source: Glance v2 (stand-in; not a real Glance)', () => {
  let glance: GlanceStandIn;
  let client: GlanceClient;
  const agent = createHttpAgent();
  const TOKEN = 'gAAAAA-standin-token';
  before(async () => {
    glance = await startGlanceStandIn((t) => t === TOKEN);
    const session = new OpenStackSession({ auth: { type: 'token', token: TOKEN, endpoints: { image: glance.url } }, agent });
    client = new GlanceClient({ session, agent });
    glance.add({ id: 'aaaaaaaa-0000-4000-8000-000000000001', name: 'centos', data: image, disk_format: 'iso' });
    glance.add({ id: 'aaaaaaaa-0000-4000-8000-000000000002', name: 'old-glance.img', data: image, os_hash_algo: null });
    glance.add({ id: 'aaaaaaaa-0000-4000-8000-000000000003', name: 'corrupt', data: image, served: Buffer.concat([image.subarray(0, 1000), Buffer.from('X'), image.subarray(1001)]) });
    glance.add({ id: 'aaaaaaaa-0000-4000-8000-000000000004', name: 'queued', data: Buffer.alloc(0), status: 'queued' });
    glance.add({ id: 'aaaaaaaa-0000-4000-8000-000000000005', name: 'sha256-hash', data: image, os_hash_algo: 'sha256' });
  });
  after(async () => {
    await glance?.close();
    await agent.close();
  });

  test('os_hash_value (sha512) is verified while streaming; the name gets the disk format', async () => {
    const p = await publishImage(store, 'glance:aaaaaaaa-0000-4000-8000-000000000001', { ttlSeconds: 60, sources: { glance: client } });
    assert.equal(p.name, 'centos.iso');
    assert.deepEqual(p.checksum, { algorithm: 'sha512', value: hex('sha512', image) });
    assert.ok((await iloFetch(p.url)).body.equals(image));
  });

  test('without os_hash the md5 `checksum` is verified; sha256 as os_hash_algo works too; a bare UUID means Glance', async () => {
    const a = await publishImage(store, 'glance://aaaaaaaa-0000-4000-8000-000000000002', { ttlSeconds: 60, sources: { glance: client } });
    assert.deepEqual(a.checksum, { algorithm: 'md5', value: hex('md5', image) });
    const b = await publishImage(store, 'aaaaaaaa-0000-4000-8000-000000000005', { ttlSeconds: 60, sources: { glance: client } });
    assert.deepEqual(b.checksum, { algorithm: 'sha256', value: hex('sha256', image) });
  });

  test('data that does not match Glance\'s checksum fails and publishes nothing', async () => {
    await assert.rejects(publishImage(store, { glance: 'aaaaaaaa-0000-4000-8000-000000000003' }, { ttlSeconds: 60, sources: { glance: client } }), isStoreError('checksum', /sha512/));
    assert.equal(await store.stat('corrupt.img'), undefined);
  });

  test('a queued image, an unknown image, a refused token and no Glance configured are clear errors', async () => {
    await assert.rejects(publishImage(store, 'glance:aaaaaaaa-0000-4000-8000-000000000004', { ttlSeconds: 60, sources: { glance: client } }), isStoreError('source', /"queued", not active/));
    await assert.rejects(publishImage(store, 'glance:bbbbbbbb-0000-4000-8000-000000000009', { ttlSeconds: 60, sources: { glance: client } }), isStoreError('source', /no such image/));
    const badSession = new OpenStackSession({ auth: { type: 'token', token: 'revoked', endpoints: { image: glance.url } }, agent });
    await assert.rejects(
      publishImage(store, 'glance:aaaaaaaa-0000-4000-8000-000000000001', { ttlSeconds: 60, sources: { glance: new GlanceClient({ session: badSession, agent }) } }),
      (err: unknown) => err instanceof OpenStackError && err.service === 'glance' && err.code === 'auth' && !err.message.includes('revoked'),
    );
    await assert.rejects(publishImage(store, 'glance:aaaaaaaa-0000-4000-8000-000000000001', { ttlSeconds: 60 }), isStoreError('not-allowed', /Keystone/));
  });
});
