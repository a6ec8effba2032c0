/**
 * ilo-virtual-media with an ilo-media-store: a local file (or any image the
 * store can read) is published first, under a name stable per iLO and
 * drive, then inserted; the simulated iLO reads it with Range requests.
 * Progress goes to output 2 and the status.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { Node, NodeMessage } from 'node-red';
import { Fleet, type SimIlo } from '../../sim/fleet';
import { startMediaServer, type MediaServer } from '../../sim/media-server';
import { freePort } from '../helpers/daemons';
import { iloFetch } from '../helpers/ilo-fetch';
import { helper, nextMessage } from '../helpers/node-red';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled node modules are CommonJS `export =` functions
const iloConfig = require('../../nodes/ilo-config/ilo-config');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
const iloVirtualMedia = require('../../nodes/ilo-virtual-media/ilo-virtual-media');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
const mediaStore = require('../../nodes/ilo-media-store/ilo-media-store');

type Drive = { inserted: boolean; connected: boolean; imageUrl?: string };
type Out = { payload: { status: Drive; published?: { name: string; size: number; verified: boolean; checksum: { value: string }; source: string } }; topic?: string };
type Progress = { topic: string; payload: { bytes: number; total?: number; percent?: number; done: boolean } };
type Caught = { error: { message: string } };

let fleet: Fleet;
let media: MediaServer;
let dir = '';
let images = '';
let caFile = '';
let storePort = 0;
const first = randomBytes(3_000_000);
const second = randomBytes(1_500_000);

function flow(ilo: SimIlo, vm: Record<string, unknown>): unknown[] {
  return [
    { id: 'tab', type: 'tab', label: 'vmedia' },
    { id: 'cfg', type: 'ilo-config', z: 'tab', name: ilo.name, host: ilo.host, port: ilo.port, protocol: 'auto', tlsMode: 'ca', caFile, timeout: 10 },
    { id: 'store', type: 'ilo-media-store', z: 'tab', storeType: 'builtin', host: '127.0.0.1', port: String(storePort), stateDir: join(dir, 'state'), fileRoots: images },
    { id: 'vm', type: 'ilo-virtual-media', z: 'tab', server: 'cfg', store: 'store', device: 'cdrom', url: 'payload', urlType: 'msg', bootOnce: false, wires: [['out'], ['progress']], ...vm },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'progress', type: 'helper', z: 'tab' },
    { id: 'catch', type: 'catch', z: 'tab', scope: null, uncaught: false, x: 100, y: 200, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ];
}

async function load(ilo: SimIlo, vm: Record<string, unknown>): Promise<void> {
  await helper.load([iloConfig, mediaStore, iloVirtualMedia], flow(ilo, vm) as never, { cfg: { username: ilo.username, password: ilo.password } } as never);
}

/** Sends `msg` and collects output 1 (or the Catch) and every progress message. */
async function send(msg: Record<string, unknown>): Promise<{ out?: Out; caught?: Caught; progress: Progress[] }> {
  const progress: Progress[] = [];
  const onProgress = (m: Progress): number => progress.push(m);
  const progressNode = helper.getNode('progress') as unknown as { on(e: 'input', f: (m: Progress) => void): void; off(e: 'input', f: (m: Progress) => void): void };
  progressNode.on('input', onProgress);
  const out = nextMessage<Out>(helper.getNode('out') as Node).then((m) => ({ out: m }));
  const caught = nextMessage<Caught>(helper.getNode('caught') as Node).then((m) => ({ caught: m }));
  helper.getNode('vm').receive(msg as NodeMessage);
  const r = await Promise.race([out, caught]);
  progressNode.off('input', onProgress);
  return { ...r, progress };
}

function statuses(id: string): Array<{ fill?: string; text?: string }> {
  return (helper.getNode(id).status as unknown as { args: Array<[{ fill?: string; text?: string }]> }).args.map((a) => a[0]);
}

before(async () => {
  fleet = await Fleet.start({ servers: 2, models: ['gen9', 'gen10'] });
  media = await startMediaServer();
  media.put('remote.iso', second);
  dir = mkdtempSync(join(tmpdir(), 'ilo-vm-store-'));
  images = join(dir, 'images');
  caFile = join(dir, 'fleet-ca.pem');
  writeFileSync(caFile, fleet.ca.cert);
  mkdirSync(images);
  writeFileSync(join(images, 'first.iso'), first);
  writeFileSync(join(images, 'second.iso'), second);
  await helper.startServer();
});
beforeEach(async () => {
  storePort = await freePort();
});
afterEach(async () => {
  await helper.unload();
});
after(async () => {
  await helper.stopServer();
  await fleet?.stop();
  await media?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('ilo-virtual-media publishing through an ilo-media-store', () => {
  test('a local file is published, inserted, and read by the iLO with Range requests; progress on output 2 and the status', async () => {
    const ilo = fleet.ilos[0]!;
    await load(ilo, { action: 'insert' });
    const r = await send({ payload: join(images, 'first.iso') });
    assert.equal(r.caught, undefined, r.caught?.error.message);
    const status = r.out!.payload.status;
    assert.equal(status.inserted, true);
    assert.equal(status.connected, true);
    assert.match(status.imageUrl ?? '', new RegExp(`^http://127\\.0\\.0\\.1:${storePort}/[A-Za-z0-9_-]{43}/vmedia-cfg-cdrom\\.iso$`));
    const published = r.out!.payload.published!;
    assert.equal(published.name, 'vmedia-cfg-cdrom.iso');
    assert.equal(published.size, first.length);
    assert.match(published.checksum.value, /^[0-9a-f]{64}$/);
    assert.match(published.source, /first\.iso/);
    const fetched = ilo.server.drives.cdrom.lastFetch;
    assert.ok(fetched?.ok, JSON.stringify(fetched));
    if (fetched?.ok) {
      assert.equal(fetched.size, first.length, 'the iLO saw the whole image size (Content-Range)');
      assert.ok(fetched.bytesRead < first.length, 'by Range requests, not the whole image');
      assert.deepEqual(fetched.ranges[0], [0, 32 * 1024 - 1]);
    }
    const reader = await ilo.server.openVirtualMedia('cdrom');
    assert.ok((await reader.read(1_000_000, 4096)).equals(first.subarray(1_000_000, 1_004_096)), 'the bytes the host reads are the file');
    assert.ok(r.progress.length >= 1);
    assert.deepEqual(r.progress.at(-1)?.payload, { bytes: first.length, total: first.length, percent: 100, done: true });
    assert.equal(r.progress.at(-1)?.topic, ilo.name);
    assert.ok(statuses('vm').some((s) => s.text === '100% 3.0/3.0 MB'), JSON.stringify(statuses('vm')));
    assert.deepEqual(statuses('vm').at(-1), { fill: 'green', shape: 'dot', text: 'cdrom: vmedia-cfg-cdrom.iso' });
  });

  test('inserting again replaces the object under the same name: the old URL is gone, the iLO reads the new image; eject removes it', async () => {
    const ilo = fleet.ilos[1]!;
    await load(ilo, { action: 'msg' });
    const one = await send({ action: 'insert', payload: join(images, 'first.iso') });
    const oldUrl = one.out!.payload.status.imageUrl as string;
    const two = await send({ action: 'insert', payload: { file: join(images, 'second.iso') } });
    assert.equal(two.caught, undefined, two.caught?.error.message);
    const newUrl = two.out!.payload.status.imageUrl as string;
    assert.equal(two.out!.payload.published?.name, 'vmedia-cfg-cdrom.iso');
    assert.notEqual(newUrl, oldUrl);
    assert.equal((await iloFetch(oldUrl).catch((e: Error) => ({ status: e.message }))).status !== 200, true, 'the first object is no longer served');
    const reader = await ilo.server.openVirtualMedia('cdrom');
    assert.equal(reader.size, second.length);
    assert.ok((await reader.read(0, 4096)).equals(second.subarray(0, 4096)));

    const ejected = await send({ action: 'eject' });
    assert.equal(ejected.out!.payload.status.inserted, false);
    const svc = await (helper.getNode('store') as unknown as { ready: Promise<{ store: { stat(n: string): Promise<unknown> } }> }).ready;
    assert.equal(await svc.store.stat('vmedia-cfg-cdrom.iso'), undefined, 'eject unpublished it');
  });

  test('"publish through the store" also copies an http(s) URL into the store', async () => {
    const ilo = fleet.ilos[0]!;
    await load(ilo, { action: 'insert', publish: true, ttl: '120' });
    const r = await send({ payload: media.url('remote.iso') });
    assert.equal(r.caught, undefined, r.caught?.error.message);
    assert.ok(r.out!.payload.status.imageUrl?.startsWith(`http://127.0.0.1:${storePort}/`), 'the iLO reads from the store, not the original server');
    assert.equal(r.out!.payload.published?.size, second.length);
    const expires = Date.parse((r.out!.payload.published as unknown as { expiresAt: string }).expiresAt);
    assert.ok(expires > Date.now() + 100_000 && expires <= Date.now() + 121_000, 'the node\'s URL lifetime was used');
  });

  test('a file outside the store\'s image directories is refused and nothing is inserted; without a store a path is refused naming the field', async () => {
    const ilo = fleet.ilos[0]!;
    ilo.server.drives.cdrom.eject();
    await load(ilo, { action: 'insert' });
    const outside = await send({ payload: caFile });
    assert.match(outside.caught?.error.message ?? '', /is outside the directories images may be read from/);
    assert.equal(ilo.server.drives.cdrom.inserted, false);
    await helper.unload();
    await load(ilo, { action: 'insert', store: '' });
    const noStore = await send({ payload: join(images, 'first.iso') });
    assert.match(noStore.caught?.error.message ?? '', /^BmcError: msg\.payload: expected an http:\/\/ or https:\/\/ URL \(select a media store/);
  });
});
