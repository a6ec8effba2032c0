/**
 * Against a real Swift (tempauth + tempurl + slo + memcached) started on
 * 127.0.0.1 by this file, with max_file_size lowered to 2 MiB so large
 * objects take the segmented path with little data.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { publishImage } from '../../lib/images';
import { StoreError, SwiftMediaStore } from '../../lib/store';
import { OpenStackError, OpenStackSession, SwiftClient, createHttpAgent, signTempUrl, type TempUrlDigest } from '../../lib/swift';
import { needTools } from '../helpers/env';
import { iloFetch } from '../helpers/ilo-fetch';
import { mediaStoreBehaviour, streamOf } from '../helpers/media-store-suite';
import { SAIO_TOOLS, startSaio, type Saio } from '../helpers/swift-saio';

const MAX_FILE_SIZE = 2 * 1024 * 1024;
const skip = needTools(...SAIO_TOOLS);
const ACCOUNT_KEY = randomBytes(16).toString('hex');

let saio: Promise<Saio> | undefined;
/** One Swift for the whole file, started on first use. */
function swift(): Promise<Saio> {
  saio ??= (async () => {
    const s = await startSaio({ maxFileSize: MAX_FILE_SIZE });
    const c = new SwiftClient({ auth: { type: 'tempauth', authUrl: s.authUrl, user: s.user, key: s.key } });
    await c.setTempUrlKey(ACCOUNT_KEY);
    await c.close();
    return s;
  })();
  return saio;
}
after(async () => {
  if (saio) await (await saio).stop();
});

const clients: SwiftClient[] = [];
async function client(user?: { user: string; key: string }): Promise<SwiftClient> {
  const s = await swift();
  const c = new SwiftClient({ auth: { type: 'tempauth', authUrl: s.authUrl, user: user?.user ?? s.user, key: user?.key ?? s.key } });
  clients.push(c);
  return c;
}
after(async () => {
  for (const c of clients) await c.close();
});

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
let containerSeq = 0;
const uniqueContainer = (): string => `media-${process.pid}-${++containerSeq}`;

mediaStoreBehaviour(
  'Swift with temp URLs (real Swift, tempauth)',
  async () => {
    const c = await client();
    const container = uniqueContainer();
    const store = new SwiftMediaStore({ client: c, container });
    return {
      store,
      leftovers: async () => ((await c.headContainer(container)) ? c.listObjects(container) : []),
      close: () => store.close(),
    };
  },
  { largeSize: Math.floor(MAX_FILE_SIZE * 2.5), skip },
);

describe('Swift client against a real Swift', { skip }, () => {
  test('tempauth: a token and the storage URL; the token is reused, not fetched per request', async () => {
    const c = await client();
    const s = await swift();
    assert.equal(await c.storageUrl(), s.storageUrl);
    await c.putContainer('reuse');
    await c.headContainer('reuse');
    await c.listObjects('reuse');
    assert.equal(c.session.stats.logins, 1);
  });

  test('tempauth: a wrong key is refused with an auth error that does not contain the key', async () => {
    const s = await swift();
    const c = await client({ user: s.user, key: 'not-the-key-9f3e' });
    await assert.rejects(c.headAccount(), (err: unknown) => err instanceof OpenStackError && err.code === 'auth' && err.service === 'tempauth' && !err.message.includes('not-the-key-9f3e'));
  });

  test('a token Swift no longer accepts (memcached flushed) is renewed on the 401 and the request succeeds', async () => {
    const c = await client();
    await c.putContainer('renew');
    assert.equal(c.session.stats.logins, 1);
    await (await swift()).flushTokens();
    await c.putObject('renew', 'after-flush', Buffer.from('still works'));
    assert.equal(c.session.stats.logins, 2);
    const { body } = await c.getObject('renew', 'after-flush');
    assert.equal(await streamText(body), 'still works');
  });

  test('a token near its expiry is renewed before use', async () => {
    const s = await swift();
    let skew = 0;
    const agent = createHttpAgent();
    const session = new OpenStackSession({ auth: { type: 'tempauth', authUrl: s.authUrl, user: s.user, key: s.key }, agent, now: () => Date.now() + skew });
    const c = new SwiftClient({ auth: session.auth, session, agent });
    try {
      await c.headAccount();
      await c.headAccount();
      assert.equal(session.stats.logins, 1);
      skew = 86_400_000 - 60_000; // tempauth tokens live a day: one minute left
      await c.headAccount();
      assert.equal(session.stats.logins, 2);
    } finally {
      await agent.close();
    }
  });

  test('Swift refuses one PUT beyond max_file_size, so larger objects are segmented: an SLO whose segments are listed, read back byte-exact, and deleted with it', async () => {
    const c = await client();
    const s = await swift();
    await c.putContainer('big');
    const grant = await c.session.grant();
    const direct = await fetch(`${s.storageUrl}/big/direct`, { method: 'PUT', headers: { 'x-auth-token': grant.token }, body: randomBytes(MAX_FILE_SIZE + 1) });
    assert.equal(direct.status, 413, 'the lowered limit is in force');

    const data = randomBytes(MAX_FILE_SIZE * 2 + 12345);
    const put = await c.putObject('big', 'disk.img', streamOf(data), { size: data.length });
    assert.equal(put.size, data.length);
    assert.equal(put.segments.length, 3);
    const head = await c.headObject('big', 'disk.img');
    assert.equal(head?.largeObject, 'slo');
    assert.equal(head?.size, data.length);
    const listed = await c.listObjects('big');
    assert.deepEqual(listed.filter((n) => n.startsWith('.segments/disk.img/')).sort(), [...put.segments].sort());
    const { body } = await c.getObject('big', 'disk.img');
    assert.equal(sha256(await streamBuffer(body)), sha256(data));
    const range = await c.getObject('big', 'disk.img', { range: `bytes=${MAX_FILE_SIZE - 100}-${MAX_FILE_SIZE + 99}` });
    assert.equal(range.status, 206);
    assert.ok((await streamBuffer(range.body)).equals(data.subarray(MAX_FILE_SIZE - 100, MAX_FILE_SIZE + 100)), 'a range across two segments');
    assert.equal(await c.deleteObject('big', 'disk.img'), true);
    assert.deepEqual(await c.listObjects('big'), []);
    assert.equal(await c.deleteObject('big', 'disk.img'), false);
  });

  test('a stream of unknown size goes up as chunked segments; up to the limit with a known size it is one object', async () => {
    const c = await client();
    await c.putContainer('chunked');
    const data = randomBytes(MAX_FILE_SIZE + 1000);
    const put = await c.putObject('chunked', 'unknown', streamOf(data));
    assert.equal(put.segments.length, 2);
    assert.equal(sha256(await streamBuffer((await c.getObject('chunked', 'unknown')).body)), sha256(data));
    const exact = randomBytes(MAX_FILE_SIZE);
    const one = await c.putObject('chunked', 'exact', streamOf(exact), { size: exact.length });
    assert.deepEqual(one.segments, []);
    assert.equal(one.etag, createHash('md5').update(exact).digest('hex'));
    assert.equal((await c.headObject('chunked', 'exact'))?.largeObject, undefined);
    const empty = await c.putObject('chunked', 'empty', streamOf(Buffer.alloc(0)));
    assert.equal(empty.size, 0);
    assert.equal((await c.headObject('chunked', 'empty'))?.size, 0);
  });

  test('X-Delete-After: Swift sets the expiry from it, and the object is gone once that time has passed', async () => {
    // No assertion depends on how fast this machine is: the expiry is checked against the clock read
    // around the request, and the short-lived object is waited for, not timed.
    const c = await client();
    await c.putContainer('expiring');
    const before = Math.floor(Date.now() / 1000);
    await c.putObject('expiring', 'later', Buffer.from('bye'), { deleteAfterSeconds: 600 });
    const after = Math.ceil(Date.now() / 1000);
    const head = await c.headObject('expiring', 'later');
    assert.equal(head?.size, 3);
    assert.ok(head?.deleteAt !== undefined && head.deleteAt >= before + 600 && head.deleteAt <= after + 600, `X-Delete-At ${head?.deleteAt} is 600 s after the upload (${before}..${after})`);

    await c.putObject('expiring', 'soon', Buffer.from('bye'), { deleteAfterSeconds: 1 });
    const deadline = Date.now() + 60_000;
    while ((await c.headObject('expiring', 'soon')) !== undefined) {
      assert.ok(Date.now() < deadline, 'the object expiring after 1 s is still there a minute later');
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(await c.headObject('expiring', 'later').then((h) => h?.size), 3, 'the other object is still there');
  });

  test('temp URLs signed with sha1, sha256 and sha512 are accepted; a wrong key, a past expiry, another path or another method are refused', async () => {
    const c = await client();
    await c.putContainer('signed');
    const data = randomBytes(5000);
    await c.putObject('signed', 'boot.iso', data);
    const objectUrl = `${await c.storageUrl()}/signed/boot.iso`;
    const expires = Math.floor(Date.now() / 1000) + 60;
    for (const digest of ['sha1', 'sha256', 'sha512'] as TempUrlDigest[]) {
      const url = signTempUrl({ objectUrl, key: ACCOUNT_KEY, expires, digest });
      const r = await iloFetch(url, { hostWithoutPort: false });
      assert.equal(r.status, 200, digest);
      assert.ok(r.body.equals(data), digest);
      assert.equal((await iloFetch(url, { method: 'HEAD' })).status, 200, `${digest} HEAD`);
      assert.equal((await iloFetch(url, { range: 'bytes=100-199' })).body.length, 100);
    }
    const refused = [
      signTempUrl({ objectUrl, key: 'wrong-key', expires }),
      signTempUrl({ objectUrl, key: ACCOUNT_KEY, expires: Math.floor(Date.now() / 1000) - 1 }),
      signTempUrl({ objectUrl, key: ACCOUNT_KEY, expires, method: 'PUT' }),
      signTempUrl({ objectUrl, key: ACCOUNT_KEY, expires }).replace('/boot.iso?', '/other.iso?'),
    ];
    for (const url of refused) {
      const r = await iloFetch(url);
      assert.equal(r.status, 401, url.replace(/temp_url_sig=[^&]*/, 'temp_url_sig=…'));
      assert.match(r.body.toString(), /Temp URL invalid/);
    }
  });

  test('container temp URL keys: read back, and a store signing with one is accepted (segments included)', async () => {
    const c = await client();
    const container = uniqueContainer();
    await c.putContainer(container);
    const key = randomBytes(16).toString('hex');
    await c.setTempUrlKey(key, container);
    assert.deepEqual(await c.tempUrlKeys(container), [key]);
    assert.deepEqual(await c.tempUrlKeys(), [ACCOUNT_KEY]);
    const store = new SwiftMediaStore({ client: c, container, tempUrl: { keyScope: 'container', digest: 'sha512' } });
    const data = randomBytes(MAX_FILE_SIZE * 2);
    const p = await store.publish('segmented.iso', streamOf(data), { ttlSeconds: 60, size: data.length });
    const r = await iloFetch(p.url);
    assert.equal(r.status, 200);
    assert.equal(sha256(r.body), sha256(data));
  });

  test('an account without a temp URL key: a clear error naming the field; with createContainerKey the store makes a container key', async () => {
    const s = await swift();
    const admin = await client({ user: 'admin:admin', key: 'admin' });
    assert.deepEqual(await admin.tempUrlKeys(), []);
    const noKey = new SwiftMediaStore({ client: admin, container: uniqueContainer() });
    await assert.rejects(noKey.publish('x.img', Buffer.from('x'), { ttlSeconds: 60 }), (err: unknown) => {
      return err instanceof StoreError && err.field === 'tempUrl.key' && /require a shared secret/.test(err.message);
    });
    const withKey = new SwiftMediaStore({ client: admin, container: uniqueContainer(), tempUrl: { keyScope: 'container', createContainerKey: true } });
    const p = await withKey.publish('x.img', Buffer.from('made a key'), { ttlSeconds: 60 });
    assert.ok(p.url.startsWith(`${s.proxyUrl}/v1/AUTH_admin/`));
    assert.equal((await iloFetch(p.url)).body.toString(), 'made a key');
  });

  test('publicStorageUrl: temp URLs name the address iLOs use, signed for the same path', async () => {
    const c = await client();
    const s = await swift();
    const container = uniqueContainer();
    const store = new SwiftMediaStore({ client: c, container, publicStorageUrl: 'https://swift.example.net/v1/AUTH_test' });
    const p = await store.publish('public.iso', Buffer.from('abc'), { ttlSeconds: 60 });
    assert.ok(p.url.startsWith(`https://swift.example.net/v1/AUTH_test/${container}/public.iso?temp_url_sig=`));
    const local = p.url.replace('https://swift.example.net', s.proxyUrl);
    assert.equal((await iloFetch(local)).body.toString(), 'abc');
  });

  test('errors never carry the token', async () => {
    const c = await client();
    const { token } = await c.session.grant();
    const errors: unknown[] = [];
    await c.getObject('no-such-container', 'x').catch((e: unknown) => errors.push(e));
    await c.putObject('no-such-container', 'x', Buffer.from('x')).catch((e: unknown) => errors.push(e));
    assert.equal(errors.length, 2);
    for (const e of errors) {
      assert.ok(e instanceof OpenStackError && e.code === 'not-found', String(e));
      assert.ok(!JSON.stringify({ m: e.message, j: e.toJSON(), s: e.stack }).includes(token));
    }
  });

  test('image source swift:container/object: the ETag (md5) is checked while streaming; a given checksum must match', async () => {
    const c = await client();
    await c.putContainer('images');
    const data = randomBytes(300_000);
    await c.putObject('images', 'os/ubuntu.img', data);
    const container = uniqueContainer();
    const store = new SwiftMediaStore({ client: c, container });
    const p = await publishImage(store, 'swift:images/os/ubuntu.img', { ttlSeconds: 60, sources: { swift: c } });
    assert.equal(p.name, 'ubuntu.img');
    assert.equal(p.verified, true);
    assert.deepEqual(p.checksum, { algorithm: 'md5', value: createHash('md5').update(data).digest('hex') });
    assert.equal(sha256((await iloFetch(p.url)).body), sha256(data));
    await assert.rejects(
      publishImage(store, { swift: 'images/os/ubuntu.img', checksum: 'md5:00000000000000000000000000000000', name: 'bad.img' }, { ttlSeconds: 60, sources: { swift: c } }),
      (err: unknown) => err instanceof StoreError && err.code === 'checksum',
    );
    assert.equal(await store.stat('bad.img'), undefined);
    assert.deepEqual((await c.listObjects(container)).sort(), ['ubuntu.img']);
    await assert.rejects(publishImage(store, 'swift:images/missing', { ttlSeconds: 60, sources: { swift: c } }), (err: unknown) => err instanceof StoreError && err.code === 'source');
  });
});

async function streamBuffer(s: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
async function streamText(s: AsyncIterable<unknown>): Promise<string> {
  return (await streamBuffer(s)).toString();
}
