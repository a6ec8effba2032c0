import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { parseChecksum, parseImage } from '../../lib/images';
import { ProgressMeter, StoreError, checkTtl, formatProgress, parseRange, sanitiseObjectName, type TransferProgress } from '../../lib/store';
import { OpenStackError, signTempUrl, validateAuthConfig, keystoneV3Base, redactTempUrl } from '../../lib/swift';
import { needTools } from '../helpers/env';

describe('Range header', () => {
  const cases: Array<[string | undefined, number, ReturnType<typeof parseRange>]> = [
    [undefined, 100, { kind: 'full' }],
    ['bytes=0-9', 100, { kind: 'partial', start: 0, end: 9 }],
    ['bytes=90-', 100, { kind: 'partial', start: 90, end: 99 }],
    ['bytes=-10', 100, { kind: 'partial', start: 90, end: 99 }],
    ['bytes=-500', 100, { kind: 'partial', start: 0, end: 99 }],
    ['bytes=95-200', 100, { kind: 'partial', start: 95, end: 99 }],
    ['Bytes = 4096 - 8191', 10000, { kind: 'partial', start: 4096, end: 8191 }],
    ['bytes=100-', 100, { kind: 'unsatisfiable' }],
    ['bytes=100-200', 100, { kind: 'unsatisfiable' }],
    ['bytes=-0', 100, { kind: 'unsatisfiable' }],
    ['bytes=0-0', 0, { kind: 'unsatisfiable' }],
    ['bytes=9-3', 100, { kind: 'full' }],
    ['bytes=0-1,5-6', 100, { kind: 'full' }],
    ['items=0-1', 100, { kind: 'full' }],
    ['bytes=abc', 100, { kind: 'full' }],
  ];
  for (const [header, size, want] of cases) {
    test(`${header ?? '(none)'} of ${size} bytes -> ${want.kind}`, () => assert.deepEqual(parseRange(header, size), want));
  }
});

describe('object names and TTLs', () => {
  test('names made from file names and URLs are safe and keep the extension', () => {
    assert.equal(sanitiseObjectName('/srv/images/my image (1).iso'), 'my-image-1-.iso');
    assert.equal(sanitiseObjectName('https://h/a/deploy%20kernel.iso?sig=x'), 'deploy-kernel.iso');
    assert.equal(sanitiseObjectName('../../.hidden'), 'hidden');
    assert.equal(sanitiseObjectName('...'), 'image');
    assert.equal(sanitiseObjectName('C:\\images\\win.iso'), 'win.iso');
    assert.equal(sanitiseObjectName('x'.repeat(300)).length, 128);
  });

  test('TTL must be whole seconds within range, and the error names the field', () => {
    assert.equal(checkTtl(900), 900);
    for (const bad of [0, -1, 1.5, NaN, '900', 10 * 367 * 86400]) {
      assert.throws(() => checkTtl(bad), (e: unknown) => e instanceof StoreError && e.field === 'ttlSeconds');
    }
  });
});

describe('progress', () => {
  test('reports are throttled, increasing, and the last one is complete', () => {
    let now = 0;
    const seen: TransferProgress[] = [];
    const m = new ProgressMeter(2_000_000_000, (p) => seen.push(p), 500, () => now);
    for (let i = 0; i < 100; i++) {
      now += 100;
      m.add(20_000_000);
    }
    m.done();
    m.done();
    assert.equal(seen.length, 21); // every 5th add (500 ms) plus the final report
    assert.deepEqual(seen.at(-1), { bytes: 2_000_000_000, total: 2_000_000_000, percent: 100, done: true });
  });

  test('a listener that throws does not break the transfer', () => {
    const m = new ProgressMeter(10, () => {
      throw new Error('listener bug');
    }, 0);
    m.add(5);
    m.done();
    assert.equal(m.transferred, 5);
  });

  test('status text', () => {
    assert.equal(formatProgress({ bytes: 840_000_000, total: 2_000_000_000, percent: 42 }), '42% 840/2000 MB');
    assert.equal(formatProgress({ bytes: 1_500_000, total: 3_000_000 }), '50% 1.5/3.0 MB');
    assert.equal(formatProgress({ bytes: 25_000_000 }), '25 MB');
  });
});

describe('image references', () => {
  test('every form parses to its source', () => {
    assert.deepEqual(parseImage('https://h/x.iso').source, { kind: 'url', url: 'https://h/x.iso' });
    assert.deepEqual(parseImage('/srv/x.iso').source, { kind: 'file', path: '/srv/x.iso' });
    assert.deepEqual(parseImage('file:///srv/x%20y.iso').source, { kind: 'file', path: '/srv/x y.iso' });
    assert.deepEqual(parseImage('swift:images/os/x.img').source, { kind: 'swift', container: 'images', object: 'os/x.img' });
    assert.deepEqual(parseImage('swift://images/x.img').source, { kind: 'swift', container: 'images', object: 'x.img' });
    assert.deepEqual(parseImage('glance:1234abcd').source, { kind: 'glance', id: '1234abcd' });
    assert.deepEqual(parseImage('6A1F3C2E-0D4B-4B8E-9A51-2F7E0C1D9B10').source, { kind: 'glance', id: '6a1f3c2e-0d4b-4b8e-9a51-2f7e0c1d9b10' });
    assert.deepEqual(parseImage({ swift: { container: 'c', object: 'o' }, size: 5, name: 'o.img' }), { source: { kind: 'swift', container: 'c', object: 'o' }, size: 5, name: 'o.img' });
  });

  test('checksums: prefixed or bare hex, the length must fit the algorithm', () => {
    assert.deepEqual(parseChecksum('sha256:' + 'A'.repeat(64)), { algorithm: 'sha256', value: 'a'.repeat(64) });
    assert.deepEqual(parseChecksum('b'.repeat(32)), { algorithm: 'md5', value: 'b'.repeat(32) });
    assert.deepEqual(parseChecksum('c'.repeat(128)), { algorithm: 'sha512', value: 'c'.repeat(128) });
    assert.deepEqual(parseChecksum({ algorithm: 'md5', value: 'd'.repeat(32) }), { algorithm: 'md5', value: 'd'.repeat(32) });
    for (const bad of ['sha256:abc', 'sha1:' + 'a'.repeat(40), 'a'.repeat(40), 'zz', 42]) {
      assert.throws(() => parseChecksum(bad, 'image.checksum'), (e: unknown) => e instanceof StoreError && e.field === 'image.checksum', String(bad));
    }
  });

  test('bad references name the field', () => {
    const cases: Array<[unknown, string]> = [
      ['relative/path.iso', 'image'],
      ['ftp://h/x.iso', 'image'],
      ['https://user:pw@h/x.iso', 'image'],
      ['swift:nocontainer', 'image'],
      ['glance:../../x', 'image'],
      [{ url: 'https://h/x', file: '/x' }, 'image'],
      [{}, 'image'],
      [{ url: '' }, 'image.url'],
      [{ file: 'https://h/x' }, 'image.file'],
      [{ url: 'https://h/x', checksum: 'nope' }, 'image.checksum'],
      [{ url: 'https://h/x', size: -3 }, 'image.size'],
      [42, 'image'],
    ];
    for (const [input, field] of cases) {
      assert.throws(() => parseImage(input), (e: unknown) => e instanceof StoreError && e.field === field && e.message.startsWith(`${field}:`), JSON.stringify(input));
    }
    assert.throws(() => parseImage('https://user:SECRET@h/x.iso'), (e: unknown) => !(e as Error).message.includes('SECRET'));
    assert.throws(() => parseImage('ftp://h/x.iso?token=SECRET'), (e: unknown) => !(e as Error).message.includes('SECRET'));
  });
});

describe('Swift auth configuration', () => {
  test('each type is checked field by field, without echoing secrets', () => {
    const cases: Array<[unknown, string]> = [
      [{ type: 'tempauth', authUrl: 'http://h/auth/v1.0', user: 'nocolon', key: 'SECRET-K' }, 'auth.user'],
      [{ type: 'tempauth', authUrl: 'not a url', user: 'a:b', key: 'SECRET-K' }, 'auth.authUrl'],
      [{ type: 'tempauth', authUrl: 'http://u:SECRET-P@h/auth', user: 'a:b', key: 'SECRET-K' }, 'auth.authUrl'],
      [{ type: 'keystone-password', authUrl: 'http://h:5000', username: 'u', password: 'SECRET-P' }, 'auth.projectName'],
      [{ type: 'keystone-password', authUrl: 'http://h:5000', username: 'u', password: 7, projectName: 'x' }, 'auth.password'],
      [{ type: 'keystone-application-credential', authUrl: 'http://h:5000', applicationCredentialId: 'i', applicationCredentialSecret: '' }, 'auth.applicationCredentialSecret'],
      [{ type: 'kerberos' }, 'auth.type'],
    ];
    for (const [cfg, field] of cases) {
      assert.throws(() => validateAuthConfig(cfg), (e: unknown) => e instanceof OpenStackError && e.field === field && !e.message.includes('SECRET'), field);
    }
  });

  test('the Keystone v3 base is found whatever form the URL takes', () => {
    assert.equal(keystoneV3Base('http://k:5000'), 'http://k:5000/v3');
    assert.equal(keystoneV3Base('http://k:5000/v3/'), 'http://k:5000/v3');
    assert.equal(keystoneV3Base('https://k/identity'), 'https://k/identity/v3');
  });
});

describe('temp URL signatures', () => {
  test('match python-swiftclient\'s generate_temp_url for sha1, sha256 and sha512', { skip: needTools('swift') }, () => {
    const path = '/v1/AUTH_test/ilo_media/boot-1234.iso';
    for (const digest of ['sha1', 'sha256', 'sha512'] as const) {
      const theirs = execFileSync('/usr/bin/python3', [
        '-c',
        'import sys; from swiftclient.utils import generate_temp_url as g; print(g(sys.argv[1], int(sys.argv[2]), sys.argv[3], "GET", absolute=True, digest=sys.argv[4]))',
        path,
        '1900000000',
        'secret-key',
        digest,
      ]).toString().trim();
      const sig = new URLSearchParams(theirs.split('?')[1]).get('temp_url_sig') ?? '';
      const theirHex = sig.includes(':') ? Buffer.from(sig.split(':')[1] as string, 'base64url').toString('hex') : sig;
      const ours = signTempUrl({ objectUrl: `http://swift:8080${path}`, key: 'secret-key', expires: 1900000000, digest });
      assert.equal(new URL(ours).searchParams.get('temp_url_sig'), theirHex, digest);
      assert.equal(new URL(ours).searchParams.get('temp_url_expires'), '1900000000');
    }
  });

  test('the signature can be hidden for logs', () => {
    const u = signTempUrl({ objectUrl: 'http://s/v1/AUTH_a/c/o', key: 'k', expires: 1900000000 });
    assert.equal(redactTempUrl(u), 'http://s/v1/AUTH_a/c/o?temp_url_sig=…&temp_url_expires=1900000000');
  });

  test('bad requests name the field', () => {
    assert.throws(() => signTempUrl({ objectUrl: 'http://s/v1/AUTH_a/c', key: 'k', expires: 1 }), (e: unknown) => e instanceof OpenStackError && e.field === 'tempUrl.objectUrl');
    assert.throws(() => signTempUrl({ objectUrl: 'http://s/v1/AUTH_a/c/o', key: '', expires: 1 }), (e: unknown) => e instanceof OpenStackError && e.field === 'tempUrl.key');
    assert.throws(() => signTempUrl({ objectUrl: 'http://s/v1/AUTH_a/c/o', key: 'k', expires: 1.5 }), (e: unknown) => e instanceof OpenStackError && e.field === 'tempUrl.expires');
  });
});
