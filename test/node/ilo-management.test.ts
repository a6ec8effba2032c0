/**
 * ilo-virtual-media, ilo-boot-mode and ilo-health in a Node-RED runtime
 * against a simulated fleet mixing models and protocols; failures go to
 * Catch nodes, naming the field.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { Node } from 'node-red';
import { Fleet, type SimIlo } from '../../sim/fleet';
import { patternImage, startMediaServer, type MediaServer } from '../../sim/media-server';
import { helper, nextMessage } from '../helpers/node-red';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled node modules are CommonJS `export =` functions
const iloConfig = require('../../nodes/ilo-config/ilo-config');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
const iloVirtualMedia = require('../../nodes/ilo-virtual-media/ilo-virtual-media');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
const iloBootMode = require('../../nodes/ilo-boot-mode/ilo-boot-mode');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
const iloHealth = require('../../nodes/ilo-health/ilo-health');

const NODES = [iloConfig, iloVirtualMedia, iloBootMode, iloHealth];

let fleet: Fleet;
let media: MediaServer;
/** The ilo-config nodes trust the fleet CA through a file. */
let caDir = '';
let caFile = '';

type Msg = { payload: Record<string, unknown>; topic?: string; keep?: string };
type Caught = { error: { message: string; source?: { id: string } } };

/** A flow: the config for `ilo` (protocol auto), the node under test wired to a helper, and a Catch. */
type FlowNode = { id: string; type: string; [k: string]: unknown };

function flowFor(ilo: SimIlo, node: Record<string, unknown>): { flow: FlowNode[]; credentials: Record<string, { username: string; password: string }> } {
  const flow: FlowNode[] = [
    { id: 'tab', type: 'tab', label: 'test' },
    { id: 'cfg', type: 'ilo-config', z: 'tab', name: ilo.name, host: ilo.host, port: ilo.port, protocol: 'auto', tlsMode: 'ca', caFile, fingerprint: '', timeout: 10 },
    { id: 'n', type: String(node.type), z: 'tab', server: 'cfg', x: 200, y: 100, wires: [['out']], ...node },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'catch', type: 'catch', z: 'tab', scope: null, uncaught: false, x: 100, y: 200, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ];
  return { flow, credentials: { cfg: { username: ilo.username, password: ilo.password } } };
}

function lastStatus(id: string): { fill?: string; shape?: string; text?: string } {
  const spy = (helper.getNode(id) as unknown as { status: { lastCall: { args: Array<{ fill?: string; shape?: string; text?: string }> } } }).status;
  return spy.lastCall.args[0] ?? {};
}

async function run(ilo: SimIlo, node: Record<string, unknown>, msg: Record<string, unknown>): Promise<Msg> {
  await helper.unload();
  const { flow, credentials } = flowFor(ilo, node);
  await helper.load(NODES, flow, credentials);
  const received = nextMessage<Msg>(helper.getNode('out') as Node);
  helper.getNode('n').receive(msg as never);
  return received;
}

async function fails(ilo: SimIlo, node: Record<string, unknown>, msg: Record<string, unknown>): Promise<string> {
  await helper.unload();
  const { flow, credentials } = flowFor(ilo, node);
  await helper.load(NODES, flow, credentials);
  const caught = nextMessage<Caught>(helper.getNode('caught') as Node);
  helper.getNode('n').receive(msg as never);
  return (await caught).error.message;
}

before(async () => {
  fleet = await Fleet.start({ servers: 3, models: ['gen9', 'gen10', 'gen8'], licensed: [true, true, false], timings: { powerOnMs: 40, postMs: 60 } });
  media = await startMediaServer();
  media.put('deploy.iso', patternImage(1024 * 1024));
  caDir = mkdtempSync(join(tmpdir(), 'ilo-ca-'));
  caFile = join(caDir, 'fleet-ca.pem');
  writeFileSync(caFile, fleet.ca.cert);
  await helper.startServer();
});
beforeEach(() => {
  for (const i of fleet.ilos) i.server.resetState({ licensed: i.server.model.name !== 'gen8' });
});
afterEach(async () => {
  await helper.unload();
});
after(async () => {
  await helper.stopServer();
  await fleet?.stop();
  await media?.close();
  if (caDir) rmSync(caDir, { recursive: true, force: true });
});

describe('ilo-virtual-media node', () => {
  test('inserts the image from msg.url with boot-once, and reports the drive in msg.payload and the status', async () => {
    const ilo = fleet.ilos[0]!;
    const url = media.url('deploy.iso');
    const msg = await run(ilo, { type: 'ilo-virtual-media', action: 'insert', device: 'cdrom', url: 'url', urlType: 'msg', bootOnce: true }, { url, keep: 'mine' });
    assert.deepEqual(msg.payload.status, { device: 'cdrom', inserted: true, imageUrl: url, bootOption: 'boot-once', writeProtected: true, connected: true });
    assert.equal(msg.payload.protocol, 'ribcl', 'auto chose RIBCL for the iLO 4');
    assert.equal(msg.topic, ilo.name);
    assert.equal(msg.keep, 'mine', 'the incoming msg is reused');
    assert.equal(ilo.server.drives.cdrom.connected, true);
    assert.deepEqual(lastStatus('n'), { fill: 'green', shape: 'dot', text: 'cdrom: deploy.iso' });
  });

  test('over Redfish too (auto picks it for the iLO 5): status, then eject from msg.action/msg.device', async () => {
    const ilo = fleet.ilos[1]!;
    ilo.server.insertMedia('floppy', media.url('deploy.iso'), 'replace');
    const msg = await run(ilo, { type: 'ilo-virtual-media', action: 'msg', device: 'msg' }, { action: 'eject', device: 'floppy' });
    assert.equal(msg.payload.protocol, 'redfish');
    assert.equal((msg.payload.status as { inserted: boolean }).inserted, false);
    assert.equal(ilo.server.drives.floppy.inserted, false);
    assert.deepEqual(lastStatus('n'), { fill: 'grey', shape: 'ring', text: 'floppy: empty' });
  });

  test('a URL the iLO cannot read reaches the Catch node as a media error', async () => {
    const message = await fails(fleet.ilos[0]!, { type: 'ilo-virtual-media', action: 'insert', device: 'cdrom', url: media.url('nope.iso'), urlType: 'str' }, {});
    assert.match(message, /the iLO could not read the image/);
    assert.deepEqual(lastStatus('n'), { fill: 'red', shape: 'ring', text: 'media' });
  });

  test('bad input names the field: msg.url, msg.device', async () => {
    assert.match(await fails(fleet.ilos[0]!, { type: 'ilo-virtual-media', action: 'insert', device: 'cdrom', url: 'url', urlType: 'msg' }, { url: 'ftp://x/y.iso' }), /^BmcError: msg\.url: expected an http:\/\/ or https:\/\/ URL/);
    assert.match(await fails(fleet.ilos[0]!, { type: 'ilo-virtual-media', action: 'status', device: 'msg' }, { device: 'tape' }), /^BmcError: msg\.device: expected cdrom or floppy/);
  });

  test('without iLO Advanced: a licence error', async () => {
    const message = await fails(fleet.ilos[2]!, { type: 'ilo-virtual-media', action: 'insert', device: 'cdrom', url: media.url('deploy.iso'), urlType: 'str' }, {});
    assert.match(message, /licence/);
  });
});

describe('ilo-boot-mode node', () => {
  test('reads the boot settings', async () => {
    const msg = await run(fleet.ilos[1]!, { type: 'ilo-boot-mode', action: 'status', mode: 'uefi', device: 'cdrom', order: '' }, {});
    assert.deepEqual(msg.payload.bootMode, { current: 'uefi', pending: 'uefi', supported: 'bios-and-uefi' });
    assert.equal(msg.payload.oneTimeBoot, 'normal');
    assert.deepEqual((msg.payload.persistentOrder as Array<{ device: string }>).map((e) => e.device), ['hdd', 'network', 'usb']);
    assert.deepEqual(lastStatus('n'), { fill: 'green', shape: 'dot', text: 'uefi' });
  });

  test('sets the pending mode from msg.mode; it applies at the next boot', async () => {
    const ilo = fleet.ilos[0]!;
    const msg = await run(ilo, { type: 'ilo-boot-mode', action: 'set-pending-mode', mode: 'msg', device: 'cdrom', order: '' }, { mode: 'bios' });
    assert.deepEqual(msg.payload.bootMode, { current: 'uefi', pending: 'bios', supported: 'bios-and-uefi' });
    assert.equal(ilo.server.bootMode.pending, 'bios');
    assert.deepEqual(lastStatus('n'), { fill: 'green', shape: 'dot', text: 'uefi (next: bios)' });
  });

  test('one-time boot and persistent order', async () => {
    const ilo = fleet.ilos[1]!;
    let msg = await run(ilo, { type: 'ilo-boot-mode', action: 'one-time-boot', mode: 'uefi', device: 'network', order: '' }, {});
    assert.equal(msg.payload.oneTimeBoot, 'network');
    assert.equal(ilo.server.oneTimeBoot?.device, 'network');
    msg = await run(ilo, { type: 'ilo-boot-mode', action: 'persistent-order', mode: 'uefi', device: 'cdrom', order: '' }, { devices: ['network', 'hdd'] });
    assert.deepEqual((msg.payload.persistentOrder as Array<{ device: string }>).map((e) => e.device), ['network', 'hdd', 'usb']);
  });

  test('UEFI on a BIOS-only Gen8 is not supported; a bad msg.devices names the field', async () => {
    assert.match(await fails(fleet.ilos[2]!, { type: 'ilo-boot-mode', action: 'set-pending-mode', mode: 'uefi', device: 'cdrom', order: '' }, {}), /cannot boot UEFI/);
    assert.match(await fails(fleet.ilos[2]!, { type: 'ilo-boot-mode', action: 'persistent-order', mode: 'uefi', device: 'cdrom', order: '' }, { devices: ['hdd', 'tape'] }), /msg\.devices\[1\]: expected one of/);
  });
});

describe('ilo-health node', () => {
  test('health, host and licence in msg.payload; a green dot when all is well', async () => {
    const ilo = fleet.ilos[1]!;
    const msg = await run(ilo, { type: 'ilo-health' }, {});
    assert.equal(msg.payload.overall, 'ok');
    const host = msg.payload.host as { productName: string; nics: Array<{ mac: string }> };
    assert.equal(host.productName, 'ProLiant DL380 Gen10');
    assert.deepEqual(host.nics.map((n) => n.mac), ilo.server.macs.host);
    assert.deepEqual(msg.payload.licence, { type: 'iLO Advanced', tier: 'advanced', virtualMedia: true });
    assert.deepEqual(msg.payload.unhealthy, []);
    assert.deepEqual(lastStatus('n'), { fill: 'green', shape: 'dot', text: 'ok' });
  });

  test('the dot turns red on a degraded component, naming it', async () => {
    const ilo = fleet.ilos[0]!;
    ilo.server.health.set('Power Supply 2', 'Degraded');
    const msg = await run(ilo, { type: 'ilo-health' }, {});
    assert.equal(msg.payload.overall, 'degraded');
    assert.deepEqual(msg.payload.unhealthy, ['Power Supply 2', 'power_supplies']);
    assert.deepEqual(lastStatus('n'), { fill: 'red', shape: 'dot', text: 'degraded: Power Supply 2 +1' });
  });

  test('an unlicensed iLO says virtual media is not licensed; no iLO selected is an error naming the field', async () => {
    const msg = await run(fleet.ilos[2]!, { type: 'ilo-health' }, {});
    assert.equal((msg.payload.licence as { virtualMedia: boolean }).virtualMedia, false);
    await helper.unload();
    const f = flowFor(fleet.ilos[2]!, { type: 'ilo-health' });
    f.flow[2]!.server = '';
    await helper.load(NODES, f.flow, f.credentials);
    const caught = nextMessage<Caught>(helper.getNode('caught') as Node);
    helper.getNode('n').receive({} as never);
    assert.match((await caught).error.message, /^BmcError: server: no iLO configuration/);
  });
});
