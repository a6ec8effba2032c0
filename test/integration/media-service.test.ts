/**
 * MediaService: a store plus its image sources from one configuration (what
 * the ilo-media-store config node owns), including HTTPS from PEM files.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MediaService } from '../../lib/images';
import { StoreError } from '../../lib/store';
import { createFleetCa } from '../../sim/certs';
import { iloFetch } from '../helpers/ilo-fetch';

describe('MediaService', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ilo-service-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('built-in store over HTTPS from PEM files; images from the allowed directory; the default TTL applies', async () => {
    const ca = await createFleetCa('service CA');
    const leaf = await ca.issue('media', ['127.0.0.1']);
    await writeFile(join(dir, 'cert.pem'), leaf.cert);
    await writeFile(join(dir, 'key.pem'), leaf.key);
    await mkdir(join(dir, 'images'));
    const data = randomBytes(700_000);
    await writeFile(join(dir, 'images', 'ramdisk.iso'), data);
    const svc = await MediaService.open({
      store: 'builtin',
      builtin: { stateDir: join(dir, 'state'), host: '127.0.0.1', port: 0, tlsCertFile: join(dir, 'cert.pem'), tlsKeyFile: join(dir, 'key.pem') },
      images: { fileRoots: [join(dir, 'images')] },
    });
    try {
      const p = await svc.publishImage(join(dir, 'images', 'ramdisk.iso'));
      assert.match(p.url, /^https:\/\/127\.0\.0\.1:\d+\//);
      assert.ok(Math.abs((p.expiresAt?.getTime() ?? Infinity) - (Date.now() + 900_000)) < 5000, 'Ironic\'s 900 s by default');
      assert.ok((await iloFetch(p.url, { ca: ca.cert, range: 'bytes=0-4095' })).body.equals(data.subarray(0, 4096)));
      const floppy = await svc.publish('floppy-node1.img', Buffer.from('ipa-api-url=http://x'), { ttlSeconds: 60 });
      assert.equal((await iloFetch(floppy.url, { ca: ca.cert })).body.toString(), 'ipa-api-url=http://x');
      await svc.unpublish('floppy-node1.img');
      assert.equal((await iloFetch(floppy.url, { ca: ca.cert })).status, 404);
    } finally {
      await svc.close();
    }
    assert.throws(() => svc.publishImage('/x'), (e: unknown) => e instanceof StoreError && e.code === 'closed');
  });

  test('configuration errors name the field', async () => {
    const cases: Array<[string, Parameters<typeof MediaService.open>[0]]> = [
      ['tlsKeyFile', { store: 'builtin', builtin: { stateDir: join(dir, 's1'), tlsCertFile: '/nonexistent/cert.pem' } }],
      ['tlsCertFile', { store: 'builtin', builtin: { stateDir: join(dir, 's2'), tlsCertFile: '/nonexistent/c.pem', tlsKeyFile: '/nonexistent/k.pem' } }],
      ['caFile', { store: 'builtin', builtin: { stateDir: join(dir, 's3') }, openstack: { auth: { type: 'token', token: 't' }, caFile: '/nonexistent/ca.pem' } }],
      ['authType', { store: 'swift' }],
      ['fileRoots', { store: 'builtin', builtin: { stateDir: join(dir, 's4') }, images: { fileRoots: ['relative/dir'] } }],
      ['defaultTtl', { store: 'builtin', builtin: { stateDir: join(dir, 's5') }, defaultTtlSeconds: 0 }],
      ['store', { store: 'ftp' as 'builtin' }],
    ];
    for (const [field, cfg] of cases) {
      await assert.rejects(MediaService.open(cfg), (e: unknown) => e instanceof StoreError && e.field === field && e.message.startsWith(`${field}:`), field);
    }
  });
});
