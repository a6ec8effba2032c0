/**
 * A deploy follows its server's serial console while it runs: a deploy on a
 * simulated server (with its simulated serial console, reached over SSH)
 * whose ramdisk boots but never calls back fails, and its result carries
 * the last console lines, with what the server printed while booting;
 * for a server of an ilo-config and for a server of a fleet (ilo-fleet).
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
const nodes = ['ilo-config', 'ilo-fleet', 'ilo-media-store', 'ilo-deploy-flow'].map((n) => require(`../../nodes/${n}/${n}`));

let RED: NodeAPI | undefined;
const captureRed = (r: NodeAPI): void => {
  RED = r;
};

describe('a deploy keeps its server console', () => {
  let dir: string;
  let fleet: Fleet;
  let ramdisk: SimRamdisk;
  let fleetRamdisk: SimRamdisk;
  let httpNode: Server;
  let apiUrl: string;
  let deployIso: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deploy-console-'));
    helper.settings({ userDir: join(dir, 'userdir') });
    // Server 1 for the ilo-config, server 2 for the fleet (an iLO has one serial session at a time).
    fleet = await Fleet.start({ servers: 2, models: ['gen9', 'gen9'], console: { ssh: true }, timings: { powerOnMs: 60, postMs: 60, softOffMs: 60 } });
    ramdisk = new SimRamdisk(fleet.ilos[0]!.server, { address: `127.${40 + (process.pid % 200)}.98.2`, heartbeatIntervalMs: 300 });
    ramdisk.faults = { lostCallback: true };
    fleetRamdisk = new SimRamdisk(fleet.ilos[1]!.server, { address: `127.${40 + (process.pid % 200)}.98.3`, heartbeatIntervalMs: 300 });
    fleetRamdisk.faults = { lostCallback: true };
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
    await fleetRamdisk.dispose();
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A deploy whose ramdisk never calls back, on the ilo-config's server or on the fleet's; its failed result. */
  async function failedDeploy(on: 'config' | 'fleet'): Promise<{ s: DeployStatus; password: string }> {
    const ilo = fleet.ilos[on === 'config' ? 0 : 1]!;
    const selection =
      on === 'config'
        ? [
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
          ]
        : [
            {
              id: 'fleet1',
              type: 'ilo-fleet',
              name: 'lab',
              timeout: 10,
              servers: [
                { id: 'srv2', name: 'rack-2', host: ilo.host, port: ilo.port, tlsMode: 'pinned', fingerprint: ilo.fingerprint, macs: [], consoleMethod: 'ssh', sshPort: ilo.console!.ssh!.port, sshHostKey: ilo.console!.ssh!.openssh },
              ],
            },
          ];
    const flow = [
      { id: 'tab', type: 'tab', label: 'test' },
      ...selection,
      { id: 'store', type: 'ilo-media-store', name: 'media', storeType: 'builtin', host: '127.0.0.1', port: 0, stateDir: join(dir, 'store'), fileRoots: dir },
      {
        id: 'd',
        type: 'ilo-deploy-flow',
        z: 'tab',
        ...(on === 'config' ? { server: 'cfg' } : { target: 'fleet', fleet: 'fleet1', serverName: 'rack-2' }),
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
    const credentials = on === 'config' ? { cfg: { username: ilo.username, password: ilo.password } } : { fleet1: { username: ilo.username, password: ilo.password } };
    await helper.load([...nodes, captureRed] as never, flow, credentials);
    const caught = nextMessage<{ payload: DeployStatus; error: { message: string } }>(helper.getNode('caught') as Node, 60_000);
    helper.getNode('d').receive({ payload: { image: makeImage(dir, `never-${on}.img`).path } } as never);
    const msg = await caught;
    await helper.unload();
    return { s: msg.payload, password: ilo.password };
  }

  function assertConsoleTail(s: DeployStatus, password: string): void {
    assert.equal(s.state, 'deploy failed');
    assert.equal(s.failedStep, 'wait-agent');
    assert.ok(Array.isArray(s.consoleTail) && s.consoleTail.length > 0, 'the failed result carries console lines');
    assert.ok(s.consoleTail.length <= 100, 'at most 100 lines');
    const text = s.consoleTail.join('\n');
    // What the simulated server printed on its serial port while it booted the deploy ramdisk.
    assert.match(text, /Booting iLO Virtual CD-ROM/);
    assert.match(text, /Linux version 6\.1\.0-sim \(deploy ramdisk/);
    assert.match(text, /Starting ironic-python-agent/);
    assert.doesNotMatch(text, new RegExp(password), 'no password on the console lines');
  }

  test('the ramdisk never calls back: the failed result names the step and carries the last console lines of the boot', async () => {
    const { s, password } = await failedDeploy('config');
    assertConsoleTail(s, password);
  });

  test('the same for a server of a fleet: its deploy follows the console its inventory entry configures', async () => {
    const { s, password } = await failedDeploy('fleet');
    assert.equal(s.server, 'rack-2');
    assertConsoleTail(s, password);
  });
});

