/**
 * The `ilo-media-store` config node in a real Node-RED runtime
 * (node-red-node-test-helper), used by a small publishing node written
 * here the way `ilo-virtual-media` will use it.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import helper from 'node-red-node-test-helper';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import mediaStoreNode from '../../nodes/ilo-media-store/ilo-media-store';
import { progressReporter, type ProgressMessage } from '../../nodes/ilo-media-store/progress';
import type { MediaStoreNode } from '../../nodes/ilo-media-store/types';
import { SwiftClient } from '../../lib/swift';
import { StoreError } from '../../lib/store';
import { freePort } from '../helpers/daemons';
import { needTools, repoRoot } from '../helpers/env';
import { iloFetch } from '../helpers/ilo-fetch';
import { SAIO_TOOLS, startSaio, type Saio } from '../helpers/swift-saio';

helper.init(require.resolve('node-red'));

/** Publishes msg.payload (an image reference) through its store; progress on output 2. */
function testPublisher(RED: NodeAPI): void {
  function TestPublisher(this: Node, def: NodeDef & { store: string }): void {
    RED.nodes.createNode(this, def);
    const store = RED.nodes.getNode(def.store) as MediaStoreNode;
    this.on('input', (msg: NodeMessage, send: (m: Array<NodeMessage | null>) => void, done: (err?: Error) => void) => {
      store
        .publishImage(msg.payload as string, { ttlSeconds: 120, onProgress: progressReporter(this, { onMessage: (m) => send([null, m]) }) })
        .then((p) => {
          msg.payload = p;
          send([msg, null]);
          done();
        })
        .catch((err: Error) => done(err));
    });
  }
  RED.nodes.registerType('test-publisher', TestPublisher);
}

const load = (flow: unknown[], credentials: Record<string, unknown> = {}): Promise<void> =>
  new Promise((resolve) => helper.load([mediaStoreNode, testPublisher] as never, flow as never, credentials as never, () => resolve()));

interface Received {
  out: NodeMessage[];
  progress: ProgressMessage[];
  errors: NodeMessage[];
}
function collect(): Received {
  const r: Received = { out: [], progress: [], errors: [] };
  helper.getNode('out').on('input', (m: NodeMessage) => r.out.push(m));
  helper.getNode('prog').on('input', (m: NodeMessage) => r.progress.push(m as ProgressMessage));
  helper.getNode('caught').on('input', (m: NodeMessage) => r.errors.push(m));
  return r;
}
async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function flowWith(store: Record<string, unknown>): unknown[] {
  return [
    { id: 'tab', type: 'tab', label: 'media' },
    { id: 'store', type: 'ilo-media-store', name: 'media', ...store },
    { id: 'pub', type: 'test-publisher', z: 'tab', store: 'store', wires: [['out'], ['prog']] },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'prog', type: 'helper', z: 'tab' },
    { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ];
}

describe('ilo-media-store config node (Node-RED runtime)', () => {
  let dir: string;
  let images: string;
  const image = randomBytes(3_000_000);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ilo-node-store-'));
    images = join(dir, 'images');
    await mkdir(images);
    await writeFile(join(images, 'deploy.iso'), image);
  });
  after(() => rm(dir, { recursive: true, force: true }));
  beforeEach(() => new Promise<void>((r) => helper.startServer(() => r())));
  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
  });

  test('built-in store: a node publishes a local image through it, gets a URL that serves it, and shows progress', async () => {
    const port = await freePort();
    await load(flowWith({ storeType: 'builtin', host: '127.0.0.1', port: String(port), stateDir: join(dir, 'state-1'), fileRoots: images }));
    const got = collect();
    const sha = createHash('sha256').update(image).digest('hex');
    helper.getNode('pub').receive({ payload: { file: join(images, 'deploy.iso'), checksum: `sha256:${sha}` } } as NodeMessage);
    await until('the published URL', () => got.out.length + got.errors.length > 0);
    assert.deepEqual(got.errors, []);
    const published = got.out[0]?.payload as { url: string; checksum: { value: string }; verified: boolean };
    assert.match(published.url, new RegExp(`^http://127\\.0\\.0\\.1:${port}/[A-Za-z0-9_-]{43}/deploy\\.iso$`));
    assert.equal(published.checksum.value, sha);
    assert.equal(published.verified, true);
    assert.ok((await iloFetch(published.url)).body.equals(image));
    assert.ok(got.progress.length >= 2, 'progress messages on the second output');
    assert.deepEqual(got.progress.at(-1)?.payload, { bytes: image.length, total: image.length, percent: 100, done: true });
    const statuses = (helper.getNode('pub').status as unknown as { args: Array<[{ text?: string; fill?: string }]> }).args.map((a) => a[0]);
    assert.ok(statuses.some((s) => /^\d+% [\d.]+\/3\.0 MB$/.test(s.text ?? '')), JSON.stringify(statuses));
    assert.deepEqual(statuses.at(-1), { fill: 'green', shape: 'dot', text: '100% 3.0/3.0 MB' });
  });

  test('a failed publish reaches Catch nodes with the reason, and nothing is published', async () => {
    await load(flowWith({ storeType: 'builtin', host: '127.0.0.1', port: '0', stateDir: join(dir, 'state-2'), fileRoots: images }));
    const got = collect();
    helper.getNode('pub').receive({ payload: { file: join(images, 'deploy.iso'), checksum: `md5:${'0'.repeat(32)}` } } as NodeMessage);
    await until('the error', () => got.errors.length > 0);
    const err = (got.errors[0] as NodeMessage & { error: { message: string } }).error;
    assert.match(err.message, /md5 is [0-9a-f]{32}, expected 0{32}/);
    const svc = await (helper.getNode('store') as unknown as MediaStoreNode).ready;
    assert.equal(await svc.store.stat('deploy.iso'), undefined);
  });

  test('redeploy closes the store (port freed), and the restarted store serves what is still valid at the same URL', async () => {
    const port = await freePort();
    const cfg = { storeType: 'builtin', host: '127.0.0.1', port: String(port), stateDir: join(dir, 'state-3'), fileRoots: images };
    await load(flowWith(cfg));
    const svc = await (helper.getNode('store') as unknown as MediaStoreNode).ready;
    const p = await svc.publish('floppy.img', Buffer.from('deploy parameters'), { ttlSeconds: 300 });
    await helper.unload();
    await assert.rejects(
      new Promise((resolve, reject) => connect(port, '127.0.0.1').on('connect', resolve).on('error', reject)),
      /ECONNREFUSED/,
      'the close handler stopped the server',
    );
    await load(flowWith(cfg));
    await (helper.getNode('store') as unknown as MediaStoreNode).ready;
    assert.equal((await iloFetch(p.url)).body.toString(), 'deploy parameters');
  });

  test('secrets are credentials on both sides (editor and runtime, the same set), the secret ones typed password, and never kept on the node itself', async () => {
    const html = await readFile(join(repoRoot, 'nodes', 'ilo-media-store', 'ilo-media-store.html'), 'utf8');
    const editorBlock = /credentials:\s*\{([^}]*(?:\}[^}]*)*?)\},\s*label/.exec(html)?.[1] ?? '';
    const editor = Object.fromEntries([...editorBlock.matchAll(/(\w+):\s*\{\s*type:\s*'(\w+)'\s*\}/g)].map((m) => [m[1], m[2]]));
    const runtimeDef = (helper as unknown as { credentials: { getDefinition(t: string): Record<string, { type: string }> | undefined } }).credentials;
    await load(flowWith({ storeType: 'builtin', host: '127.0.0.1', port: '0', stateDir: join(dir, 'state-4'), authType: 'tempauth', authUrl: 'http://127.0.0.1:1/auth/v1.0' }), {
      store: { username: 'test:tester', password: 'pw-SECRET-1', appCredSecret: 'ac-SECRET-2', tempUrlKey: 'tk-SECRET-3' },
    });
    const runtime = Object.fromEntries(Object.entries(runtimeDef.getDefinition('ilo-media-store') ?? {}).map(([k, v]) => [k, v.type]));
    assert.deepEqual(editor, runtime);
    assert.deepEqual(runtime, { username: 'text', password: 'password', appCredId: 'text', appCredSecret: 'password', tempUrlKey: 'password' });
    const node = helper.getNode('store') as unknown as MediaStoreNode & Record<string, unknown>;
    assert.equal(node.credentials.password, 'pw-SECRET-1');
    const ownStrings = Object.entries(node).filter(([k, v]) => k !== 'credentials' && typeof v === 'string');
    assert.ok(ownStrings.length > 0 && !ownStrings.some(([, v]) => String(v).includes('SECRET')), JSON.stringify(ownStrings));
  });

  test('a bad setting is reported naming the field, and publishing fails with that error', async () => {
    await load(flowWith({ storeType: 'builtin', port: '70000', stateDir: join(dir, 'state-5') }));
    const node = helper.getNode('store') as unknown as MediaStoreNode;
    await assert.rejects(node.ready, (e: unknown) => e instanceof StoreError && e.field === 'port');
    const errors = (node.error as unknown as { args: unknown[][] }).args.map((a) => String(a[0]));
    assert.ok(errors.some((e) => /media store not started: port: expected a whole number from 0 to 65535/.test(e)), errors.join('\n'));
    const got = collect();
    helper.getNode('pub').receive({ payload: join(images, 'deploy.iso') } as NodeMessage);
    await until('the error', () => got.errors.length > 0);
    assert.match((got.errors[0] as NodeMessage & { error: { message: string } }).error.message, /\bport: expected a whole number/);
  });

  test('Swift store from tempauth credentials: the published image is a temp URL that the real Swift serves', { skip: needTools(...SAIO_TOOLS) }, async (t) => {
    const saio: Saio = await startSaio();
    t.after(() => saio.stop());
    const admin = new SwiftClient({ auth: { type: 'tempauth', authUrl: saio.authUrl, user: saio.user, key: saio.key } });
    await admin.setTempUrlKey('node-test-key');
    await admin.close();
    await load(flowWith({ storeType: 'swift', container: 'from-node-red', tempUrlDigest: 'sha512', authType: 'tempauth', authUrl: saio.authUrl, fileRoots: images }), {
      store: { username: saio.user, password: saio.key },
    });
    const got = collect();
    helper.getNode('pub').receive({ payload: join(images, 'deploy.iso') } as NodeMessage);
    await until('the published URL', () => got.out.length + got.errors.length > 0);
    assert.deepEqual(got.errors, []);
    const url = (got.out[0]?.payload as { url: string }).url;
    assert.ok(url.startsWith(`${saio.storageUrl}/from-node-red/deploy.iso?temp_url_sig=`), url.replace(/sig=[^&]*/, 'sig=…'));
    assert.ok((await iloFetch(url)).body.equals(image));
  });
});
