/**
 * A deploy follows its server's serial console while it runs: a deploy on a
 * simulated server (with its simulated serial console, reached over SSH)
 * whose ramdisk boots but never calls back fails, and its result carries
 * the last console lines, with what the server printed while booting.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Node, NodeAPI } from 'node-red';
import type { DeployStatus } from '../../lib/deploy/types';
import { buildIso } from '../../lib/media/iso/writer';
import { resetEngineForRestart } from '../../nodes/ilo-deploy-flow/engine-host';
import { Fleet } from '../../sim/fleet';
import { SimRamdisk } from '../../sim/ramdisk/boot';
import { makeImage } from '../helpers/deploy-lab';
import { helper, nextMessage } from '../helpers/node-red';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled node modules are CommonJS `export =` functions
const nodes = ['ilo-config', 'ilo-media-store', 'ilo-deploy-flow'].map((n) => require(`../../nodes/${n}/${n}`));

let RED: NodeAPI | undefined;
const captureRed = (r: NodeAPI): void => {
  RED = r;
};

describe('a deploy keeps its server console', () => {
  let dir: string;
  let fleet: Fleet;
  let ramdisk: SimRamdisk;
  let httpNode: Server;
  let apiUrl: string;
  let deployIso: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deploy-console-'));
    helper.settings({ userDir: join(dir, 'userdir') });
    fleet = await Fleet.start({ servers: 1, models: ['gen9'], console: { ssh: true }, timings: { powerOnMs: 60, postMs: 60, softOffMs: 60 } });
    ramdisk = new SimRamdisk(fleet.ilos[0]!.server, { address: `127.${40 + (process.pid % 200)}.98.2`, heartbeatIntervalMs: 300 });
    ramdisk.faults = { lostCallback: true };
    deployIso = join(dir, 'deploy.iso');
    await (await buildIso({ volumeId: 'DEPLOY', files: [{ path: 'README', data: Buffer.from('deploy ramdisk') }] })).writeToFile(deployIso);
    await helper.startServer();
    await helper.load([captureRed as never], [], {});
    httpNode = createServer((req, res) => (RED!.httpNode as unknown as (q: unknown, s: unknown) => void)(req, res));
    await new Promise<void>((r) => httpNode.listen(0, '127.0.0.1', () => r()));
    apiUrl = `http://127.0.0.1:${(httpNode.address() as AddressInfo).port}/ilo-deploy`;
    await helper.unload();
  });
  after(async () => {
    await helper.unload();
    await resetEngineForRestart();
    await helper.stopServer();
    await new Promise<void>((r) => httpNode.close(() => r()));
    await ramdisk.dispose();
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the ramdisk never calls back: the failed result names the step and carries the last console lines of the boot', async () => {
    const ilo = fleet.ilos[0]!;
    const flow = [
      { id: 'tab', type: 'tab', label: 'test' },
      {
        id: 'cfg',
        type: 'ilo-config',
        z: 'tab',
        name: ilo.name,
        host: ilo.host,
        port: ilo.port,
        protocol: 'auto',
        tlsMode: 'pinned',
        fingerprint: ilo.fingerprint,
        timeout: 10,
        consoleMethod: 'ssh',
        sshPort: String(ilo.console!.ssh!.port),
        sshHostKey: ilo.console!.ssh!.fingerprint256,
      },
      { id: 'store', type: 'ilo-media-store', name: 'media', storeType: 'builtin', host: '127.0.0.1', port: 0, stateDir: join(dir, 'store'), fileRoots: dir },
      {
        id: 'd',
        type: 'ilo-deploy-flow',
        z: 'tab',
        server: 'cfg',
        store: 'store',
        method: 'agent_ilo',
        action: 'deploy',
        image: 'payload.image',
        imageType: 'msg',
        deployIso,
        deployIsoType: 'str',
        respond: 'finished',
        apiUrl,
        callbackTimeout: 4,
        powerTimeout: 15,
        wires: [['result'], []],
      },
      { id: 'result', type: 'helper', z: 'tab' },
      // A Catch node needs a position (node-red-node-test-helper routes by it).
      { id: 'catch', type: 'catch', z: 'tab', scope: null, uncaught: false, x: 100, y: 200, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];
    await helper.load([...nodes, captureRed] as never, flow, { cfg: { username: ilo.username, password: ilo.password } });
    const caught = nextMessage<{ payload: DeployStatus; error: { message: string } }>(helper.getNode('caught') as Node, 60_000);
    helper.getNode('d').receive({ payload: { image: makeImage(dir, 'never.img').path } } as never);
    const msg = await caught;
    const s = msg.payload;
    assert.equal(s.state, 'deploy failed');
    assert.equal(s.failedStep, 'wait-agent');
    assert.ok(Array.isArray(s.consoleTail) && s.consoleTail.length > 0, 'the failed result carries console lines');
    assert.ok(s.consoleTail.length <= 100, 'at most 100 lines');
    const text = s.consoleTail.join('\n');
    // What the simulated server printed on its serial port while it booted the deploy ramdisk.
    assert.match(text, /Booting iLO Virtual CD-ROM/);
    assert.match(text, /Linux version 6\.1\.0-sim \(deploy ramdisk/);
    assert.match(text, /Starting ironic-python-agent/);
    assert.doesNotMatch(text, new RegExp(ilo.password), 'no password on the console lines');
  });
});
