import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { BuiltinMediaStore, StoreError } from '../../lib/store';
import { createFleetCa } from '../../sim/certs';
import { iloFetch } from '../helpers/ilo-fetch';
import { mediaStoreBehaviour } from '../helpers/media-store-suite';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ilo-builtin-'));
  dirs.push(d);
  return d;
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const objectFiles = async (store: BuiltinMediaStore): Promise<string[]> => readdir(join(store.stateDir, 'objects'));

mediaStoreBehaviour(
  'built-in media server (http)',
  async () => {
    const store = await BuiltinMediaStore.open({ stateDir: await tempDir() });
    return { store, leftovers: () => objectFiles(store), close: () => store.close() };
  },
  { largeSize: 3 * 1024 * 1024 },
);

describe('built-in media server over HTTPS', () => {
  let ca: Awaited<ReturnType<typeof createFleetCa>>;
  let store: BuiltinMediaStore;
  before(async () => {
    ca = await createFleetCa('media test CA');
    const leaf = await ca.issue('media-server', ['127.0.0.1']);
    store = await BuiltinMediaStore.open({ stateDir: await tempDir(), tls: { cert: leaf.cert, key: leaf.key } });
  });
  after(() => store?.close());

  test('URLs are https and a client that verifies the certificate reads the object and ranges', async () => {
    const data = randomBytes(200_000);
    const p = await store.publish('boot.iso', data, { ttlSeconds: 60 });
    assert.match(p.url, /^https:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{43}\/boot\.iso$/);
    const whole = await iloFetch(p.url, { ca: ca.cert });
    assert.ok(whole.body.equals(data));
    const part = await iloFetch(p.url, { ca: ca.cert, range: 'bytes=4096-8191' });
    assert.equal(part.status, 206);
    assert.ok(part.body.equals(data.subarray(4096, 8192)));
    await assert.rejects(iloFetch(p.url, { ca: (await createFleetCa('another CA')).cert }), /certificate/);
  });
});

describe('built-in media server: what it never serves', () => {
  let store: BuiltinMediaStore;
  let url: string;
  before(async () => {
    store = await BuiltinMediaStore.open({ stateDir: await tempDir() });
    url = (await store.publish('secret-ok.iso', Buffer.from('published bytes'), { ttlSeconds: 60 })).url;
    await writeFile(join(store.stateDir, 'objects', 'planted'), 'a file nobody published');
  });
  after(() => store?.close());

  test('no path, encoded or not, reaches the state directory or anything else on disk', async () => {
    const base = new URL(url);
    const [, token] = base.pathname.split('/');
    const targets = [
      '/../../../../etc/passwd',
      '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      `/${token}/..%2f..%2fmanifest.json`,
      `/${token}/%2e%2e%2fsecret`,
      `/${token}/../secret`,
      `/${token}/../../objects/planted`,
      `/${token}/secret`,
      `/${token}/manifest.json`,
      '/manifest.json',
      '/secret',
      '/objects/planted',
      `/${token}`,
      `/${token}/`,
      `/${token}/secret-ok.iso/`,
      `/${token}/secret-ok.iso/..`,
      `//${token}/secret-ok.iso`,
      `/${token}/secret-ok.iso%00.txt`,
      `/${'A'.repeat(43)}/secret-ok.iso`,
      'http://127.0.0.1/etc/passwd',
      '*',
    ];
    for (const rawTarget of targets) {
      const r = await iloFetch(url, { rawTarget });
      assert.ok(r.status === 404 || r.status === 400, `${rawTarget} answered ${r.status}`);
      assert.doesNotMatch(r.body.toString('latin1'), /root:|nobody published|published bytes|records/, rawTarget);
    }
    const ok = await iloFetch(url);
    assert.equal(ok.body.toString(), 'published bytes');
  });

  test('methods other than GET and HEAD are refused with 405 and change nothing', async () => {
    for (const method of ['POST', 'PUT', 'DELETE'] as const) {
      const r = await iloFetch(url, { method });
      assert.equal(r.status, 405);
      assert.equal(r.headers.allow, 'GET, HEAD');
    }
    assert.equal((await iloFetch(url)).body.toString(), 'published bytes');
  });

  test('objects are stored under random file names, never under the published name', async () => {
    const files = await readdir(join(store.stateDir, 'objects'));
    assert.ok(files.every((f) => /^[0-9a-f]{32}$/.test(f) || f === 'planted'), files.join(', '));
    assert.ok(!files.includes('secret-ok.iso'));
  });
});

describe('built-in media server: clients that go away', () => {
  test('a client dropping mid-transfer, and many at once, leave the server serving byte-exact', async () => {
    const store = await BuiltinMediaStore.open({ stateDir: await tempDir() });
    try {
      const data = randomBytes(8 * 1024 * 1024);
      const p = await store.publish('big.iso', data, { ttlSeconds: 60 });
      const u = new URL(p.url);
      for (let i = 0; i < 5; i++) {
        await new Promise<void>((resolve, reject) => {
          const s = connect(Number(u.port), '127.0.0.1', () => s.write(`GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`));
          s.once('data', () => {
            s.destroy();
            resolve();
          });
          s.on('error', reject);
        });
      }
      const ranges = Array.from({ length: 32 }, (_, k) => k * 200_000);
      const answers = await Promise.all(ranges.map((start) => iloFetch(p.url, { range: `bytes=${start}-${start + 4095}` })));
      answers.forEach((r, k) => assert.ok(r.body.equals(data.subarray(ranges[k], (ranges[k] ?? 0) + 4096)), `range ${k}`));
      assert.ok((await iloFetch(p.url)).body.equals(data));
    } finally {
      await store.close();
    }
  });
});

describe('built-in media server: expiry', () => {
  test('an expired object is refused at request time even before its removal timer fires, then removed from disk', async () => {
    let now = Date.now();
    const store = await BuiltinMediaStore.open({ stateDir: await tempDir(), now: () => now });
    try {
      const p = await store.publish('clock.img', Buffer.from('tick'), { ttlSeconds: 3600 });
      assert.equal((await iloFetch(p.url)).status, 200);
      now += 3601 * 1000; // the timer is still an hour away in real time
      assert.equal((await iloFetch(p.url)).status, 404);
      assert.equal(await store.stat('clock.img'), undefined);
      for (let i = 0; i < 50 && (await objectFilesOf(store)).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(await objectFilesOf(store), []);
    } finally {
      await store.close();
    }
  });

  test('the removal timer deletes the file when the TTL runs out, with no request', async () => {
    const store = await BuiltinMediaStore.open({ stateDir: await tempDir() });
    try {
      await store.publish('timer.img', Buffer.from('tock'), { ttlSeconds: 1 });
      assert.equal((await objectFilesOf(store)).length, 1);
      await new Promise((r) => setTimeout(r, 1500));
      assert.deepEqual(await objectFilesOf(store), []);
      const manifest = JSON.parse(await readFile(join(store.stateDir, 'manifest.json'), 'utf8')) as { records: unknown[] };
      assert.deepEqual(manifest.records, []);
    } finally {
      await store.close();
    }
  });
});

const objectFilesOf = objectFiles;

describe('built-in media server across a restart', () => {
  test('valid objects keep their URL; expired, altered, foreign and half-written files are never served and are deleted', async () => {
    const stateDir = await tempDir();
    let now = Date.now();
    const first = await BuiltinMediaStore.open({ stateDir, now: () => now });
    const port = first.address.port;
    const keep = randomBytes(50_000);
    const pKeep = await first.publish('keep.iso', keep, { ttlSeconds: 3600 });
    const pShort = await first.publish('short.img', Buffer.from('short'), { ttlSeconds: 60 });
    const pGrown = await first.publish('grown.img', Buffer.from('original'), { ttlSeconds: 3600 });
    const pTouched = await first.publish('touched.img', Buffer.from('original'), { ttlSeconds: 3600 });
    // An active instance's boot ISO: served until unpublished, whatever time passes.
    const pForever = await first.publish('boot.iso', Buffer.from('boot iso'), { ttlSeconds: 60, untilUnpublished: true });
    const manifest = JSON.parse(await readFile(join(stateDir, 'manifest.json'), 'utf8')) as { records: Array<{ name: string; file: string }> };
    const fileOf = (n: string): string => join(stateDir, 'objects', manifest.records.find((r) => r.name === n)?.file ?? 'missing');
    await first.close();

    // while stopped: one record expires, two files are altered, strangers appear
    now += 120 * 1000;
    await appendFile(fileOf('grown.img'), ' and more');
    await writeFile(fileOf('touched.img'), 'ORIGINAL'); // same size and inode, other bytes
    await writeFile(join(stateDir, 'objects', '0123456789abcdef0123456789abcdef'), 'foreign');
    await writeFile(join(stateDir, 'objects', 'fedcba9876543210fedcba9876543210.part'), 'half written');

    const second = await BuiltinMediaStore.open({ stateDir, port, now: () => now });
    try {
      const r = await iloFetch(pKeep.url);
      assert.equal(r.status, 200, 'the valid object is served again at the same URL');
      assert.ok(r.body.equals(keep));
      for (const p of [pShort, pGrown, pTouched]) assert.equal((await iloFetch(p.url)).status, 404, p.name);
      const files = await readdir(join(stateDir, 'objects'));
      assert.deepEqual(files.sort(), [manifest.records.find((x) => x.name === 'keep.iso')?.file, manifest.records.find((x) => x.name === 'boot.iso')?.file].sort());
      now += 365 * 24 * 3600 * 1000;
      assert.equal((await iloFetch(pForever.url)).status, 200, 'the object published until unpublished is served a year later');
      assert.equal((await iloFetch(pKeep.url)).status, 404, 'the other expired meanwhile');
    } finally {
      await second.close();
    }
  });

  test('on an automatic port (the default) a restarted store listens on the port it had, so the URLs it handed out (inserted in iLOs) still work; when that port is taken, it says so and takes another', async () => {
    const stateDir = await tempDir();
    const first = await BuiltinMediaStore.open({ stateDir });
    const port = first.address.port;
    const p = await first.publish('floppy.img', Buffer.from('deploy parameters'), { ttlSeconds: 3600 });
    await first.close();
    const second = await BuiltinMediaStore.open({ stateDir });
    try {
      assert.equal(second.address.port, port);
      const r = await iloFetch(p.url);
      assert.equal(r.status, 200, 'the URL from before the restart is served');
      assert.equal(r.body.toString(), 'deploy parameters');
    } finally {
      await second.close();
    }
    // Someone else took the port meanwhile.
    const squatter = createServer();
    await new Promise<void>((res) => squatter.listen(port, '127.0.0.1', () => res()));
    const warnings: string[] = [];
    const third = await BuiltinMediaStore.open({ stateDir, logger: { warn: (m) => warnings.push(m), info: () => undefined } });
    const newPort = third.address.port;
    try {
      assert.notEqual(newPort, port);
      assert.match(warnings.join('\n'), new RegExp(`port ${port}, which its URLs named before the restart, is taken`));
    } finally {
      await third.close();
      await new Promise<void>((res) => squatter.close(() => res()));
    }
    // The new port is the one kept from now on.
    const fourth = await BuiltinMediaStore.open({ stateDir });
    try {
      assert.equal(fourth.address.port, newPort);
    } finally {
      await fourth.close();
    }
  });

  test('a manifest edited by hand (or copied from another store) is ignored: nothing is served, every file is deleted', async () => {
    const stateDir = await tempDir();
    const warnings: string[] = [];
    const first = await BuiltinMediaStore.open({ stateDir });
    const port = first.address.port;
    const p = await first.publish('edited.iso', Buffer.from('x'.repeat(1000)), { ttlSeconds: 60 });
    await first.close();
    const path = join(stateDir, 'manifest.json');
    const doc = JSON.parse(await readFile(path, 'utf8')) as { records: Array<{ expiresAt: number }> };
    for (const r of doc.records) r.expiresAt += 10 * 365 * 86400 * 1000;
    await writeFile(path, JSON.stringify(doc));
    const second = await BuiltinMediaStore.open({ stateDir, port, logger: { warn: (m) => warnings.push(m) } });
    try {
      assert.equal((await iloFetch(p.url)).status, 404);
      assert.deepEqual(await readdir(join(stateDir, 'objects')), []);
      assert.ok(warnings.some((w) => /signature does not match/.test(w)), warnings.join('\n'));
    } finally {
      await second.close();
    }
  });

  test('100 publishes and 50 unpublishes at once: each is in the manifest when it resolves, and a restart serves exactly the rest', async () => {
    const stateDir = await tempDir();
    const first = await BuiltinMediaStore.open({ stateDir });
    const port = first.address.port;
    const manifestNames = async (): Promise<Set<string>> =>
      new Set((JSON.parse(await readFile(join(stateDir, 'manifest.json'), 'utf8')) as { records: Array<{ name: string }> }).records.map((r) => r.name));
    const names = Array.from({ length: 100 }, (_, i) => `burst-${i}.img`);
    const published = await Promise.all(
      names.map(async (n) => {
        const p = await first.publish(n, Buffer.from(n), { ttlSeconds: 3600 });
        assert.ok((await manifestNames()).has(n), `${n} is in the manifest once its publish resolved`);
        return p;
      }),
    );
    const gone = names.filter((_, i) => i % 2 === 0);
    await Promise.all(
      gone.map(async (n) => {
        await first.unpublish(n);
        assert.ok(!(await manifestNames()).has(n), `${n} has left the manifest once its unpublish resolved`);
      }),
    );
    await first.close();
    const second = await BuiltinMediaStore.open({ stateDir, port });
    try {
      for (const [i, p] of published.entries()) {
        const r = await iloFetch(p.url);
        if (i % 2 === 0) assert.equal(r.status, 404, `${p.name} was unpublished`);
        else assert.equal(r.body.toString(), p.name, `${p.name} is served again`);
      }
      assert.equal((await readdir(join(stateDir, 'objects'))).length, 50);
    } finally {
      await second.close();
    }
  });

  test('two stores cannot share a state directory', async () => {
    const stateDir = await tempDir();
    const first = await BuiltinMediaStore.open({ stateDir });
    try {
      await assert.rejects(BuiltinMediaStore.open({ stateDir }), (err: unknown) => err instanceof StoreError && err.code === 'in-use' && err.field === 'stateDir');
    } finally {
      await first.close();
    }
    const again = await BuiltinMediaStore.open({ stateDir });
    await again.close();
  });
});

describe('built-in media server: configuration errors name the field', () => {
  test('port in use, bad port, bad host, bad publicUrl, missing stateDir', async () => {
    const busy = await BuiltinMediaStore.open({ stateDir: await tempDir() });
    try {
      const cases: Array<[string, () => Promise<unknown>]> = [
        ['port', async () => BuiltinMediaStore.open({ stateDir: await tempDir(), port: busy.address.port })],
        ['port', async () => BuiltinMediaStore.open({ stateDir: await tempDir(), port: 70000 })],
        ['host', async () => BuiltinMediaStore.open({ stateDir: await tempDir(), host: 'bad host!' })],
        ['publicUrl', async () => BuiltinMediaStore.open({ stateDir: await tempDir(), publicUrl: 'ftp://x' })],
        ['stateDir', async () => BuiltinMediaStore.open({ stateDir: '' })],
      ];
      for (const [field, call] of cases) {
        await assert.rejects(call(), (err: unknown) => err instanceof StoreError && err.field === field && err.message.startsWith(`${field}:`), field);
      }
    } finally {
      await busy.close();
    }
  });

  test('publicUrl is what the URLs start with', async () => {
    const store = await BuiltinMediaStore.open({ stateDir: await tempDir(), publicUrl: 'http://192.0.2.10:8089/' });
    try {
      const p = await store.publish('nat.iso', Buffer.from('x'), { ttlSeconds: 60 });
      assert.match(p.url, /^http:\/\/192\.0\.2\.10:8089\/[A-Za-z0-9_-]{43}\/nat\.iso$/);
      const res = await request(`http://127.0.0.1:${store.address.port}${new URL(p.url).pathname}`);
      assert.equal(await res.body.text(), 'x');
    } finally {
      await store.close();
    }
  });
});
