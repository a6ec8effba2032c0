/**
 * ilo-deploy-flow in a Node-RED runtime, against the simulated fleet and its
 * simulated ramdisks: the ramdisk calls back through RED.httpNode, results
 * and progress come out of the two outputs, errors reach Catch nodes, and a
 * Node-RED restart in the middle of a deploy resumes it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Node, NodeAPI } from 'node-red';
import { resetEngineForRestart } from '../../nodes/ilo-deploy-flow/engine-host';
import { createFleetCa } from '../../sim/certs';
import type { Fleet } from '../../sim/fleet';
import type { SimRamdisk } from '../../sim/ramdisk/boot';
import { makeImage, missingBootLoaders, until } from '../helpers/deploy-lab';
import { startDeployNodeLab, type DeployNodeLab } from '../helpers/deploy-node-lab';
import { needTools } from '../helpers/env';
import { helper, nextMessage } from '../helpers/node-red';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled node modules are CommonJS `export =` functions
const nodes = ['ilo-config', 'ilo-media-store', 'ilo-deploy-flow', 'ilo-power', 'ilo-inspect'].map((n) => require(`../../nodes/${n}/${n}`));

let RED: NodeAPI | undefined;
/** Captures the runtime's RED, to serve RED.httpNode (the helper does not mount it). */
const captureRed = (r: NodeAPI): void => {
  RED = r;
};

describe('ilo-deploy-flow node', () => {
  let dir: string;
  let fleet: Fleet;
  let ramdisks: SimRamdisk[];
  let lab: DeployNodeLab | undefined;
  let apiUrl: string;
  let deployIso: string;

  function flow(over: Record<string, unknown> = {}, serverIndex = 0) {
    const ilo = fleet.ilos[serverIndex]!;
    return {
      flow: [
        { id: 'tab', type: 'tab', label: 'test' },
        { id: 'cfg', type: 'ilo-config', z: 'tab', name: ilo.name, host: ilo.host, port: ilo.port, protocol: 'auto', tlsMode: 'pinned', fingerprint: ilo.fingerprint, timeout: 10 },
        { id: 'store', type: 'ilo-media-store', name: 'media', storeType: 'builtin', host: '127.0.0.1', port: 0, stateDir: join(dir, 'store'), fileRoots: dir },
        {
          id: 'd',
          type: 'ilo-deploy-flow',
          z: 'tab',
          x: 100,
          y: 100,
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
          callbackTimeout: 20,
          powerTimeout: 15,
          ...over,
          wires: [['result'], ['progress']],
        },
        { id: 'result', type: 'helper', z: 'tab' },
        { id: 'progress', type: 'helper', z: 'tab' },
        { id: 'catch', type: 'catch', z: 'tab', scope: null, uncaught: false, x: 100, y: 200, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'tab' },
        { id: 'power', type: 'ilo-power', z: 'tab', server: 'cfg', action: 'msg', wait: false, wires: [['powered']] },
        { id: 'powered', type: 'helper', z: 'tab' },
      ],
      credentials: { cfg: { username: ilo.username, password: ilo.password } },
    };
  }

  before(async () => {
    lab = await startDeployNodeLab({
      prefix: 'deploy-node-',
      fleet: { servers: 4, models: ['gen9', 'gen10', 'gen9', 'gen10'], timings: { powerOnMs: 60, postMs: 60, softOffMs: 60 } },
      ramdiskSubnet: 99,
      captureRed,
      red: () => RED,
    });
    ({ dir, fleet, ramdisks, deployIso } = lab);
    apiUrl = `${lab.base}/ilo-deploy`;
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await lab?.stop();
  });

  test('deploys with agent_ilo: progress step by step on output 2, the active result once on output 1, green status', async () => {
    const { flow: f, credentials } = flow();
    await helper.load([...nodes, captureRed] as never, f, credentials);
    const image = makeImage(dir, 'node.img');
    const progress: Array<{ payload: { stepIndex?: number; stepCount: number; step?: string } }> = [];
    (helper.getNode('progress') as unknown as NodeJS.EventEmitter).on('input', (m: (typeof progress)[number]) => {
      progress.push(m);
    });
    const result = nextMessage<{ payload: { state: string; deployId: string }; deployId: string; topic: string; keep: string }>(helper.getNode('result') as Node, 60_000);
    helper.getNode('d').receive({ payload: { image: image.path }, keep: 'mine' } as never);
    const msg = await result;
    assert.equal(msg.payload.state, 'active');
    assert.equal(msg.deployId, msg.payload.deployId);
    assert.equal(msg.keep, 'mine', 'the incoming message is reused');
    assert.equal(msg.topic, 'server-1');
    assert.equal(ramdisks[0]!.written?.sha256, image.sha256);
    const steps = [...new Set(progress.filter((p) => p.payload.step).map((p) => `${p.payload.stepIndex}/${p.payload.stepCount} ${p.payload.step}`))];
    assert.equal(steps[0], '1/12 inspect');
    assert.equal(steps.at(-1), '12/12 reboot');
    const spy = (helper.getNode('d') as unknown as { status: { lastCall: { args: Array<{ fill: string; text: string }> } } }).status;
    assert.deepEqual({ fill: spy.lastCall.args[0]?.fill, text: spy.lastCall.args[0]?.text }, { fill: 'green', text: 'active' });
  });

  test(
    'ilo-power on a server with an active netboot deploy: the boot ISO someone ejected is inserted again before the reset, and the instance boots from it',
    { skip: needTools('tgtd', 'tgtadm', 'qemu-img', 'mkfs.ext4') || missingBootLoaders() },
    async () => {
      const { flow: f, credentials } = flow({ method: 'iscsi_ilo' }, 2);
      await helper.load([...nodes, captureRed] as never, f, credentials);
      const root = join(dir, 'netboot-root.ext4');
      execFileSync('mkfs.ext4', ['-q', '-F', root, '8M'], { stdio: 'ignore' });
      const kernel = join(dir, 'netboot.vmlinuz');
      writeFileSync(kernel, Buffer.alloc(32 * 1024, 3));
      const deploy = { imageType: 'partition', rootMb: 16, bootOption: 'netboot', instanceKernel: kernel, instanceRamdisk: kernel };
      const result = nextMessage<{ payload: { state: string; lastError?: string } }>(helper.getNode('result') as Node, 90_000);
      helper.getNode('d').receive({ payload: { image: root }, deploy } as never);
      const done = await result;
      assert.equal(done.payload.state, 'active', done.payload.lastError);
      const rd = ramdisks[2]!;
      await until(() => rd.instanceBoots.some((b) => b.via === 'boot-iso'), 15_000, 'the first boot from the boot ISO');
      const server = fleet.ilos[2]!.server;
      const url = server.drives.cdrom.url;
      server.ejectMedia('cdrom', false);
      const boots = rd.instanceBoots.length;
      const powered = nextMessage<{ payload: { powerState: string } }>(helper.getNode('powered') as Node, 30_000);
      helper.getNode('power').receive({ action: 'reset' } as never);
      await powered;
      assert.equal(server.drives.cdrom.url, url, 'the boot ISO is back in the virtual CD');
      await until(() => rd.instanceBoots.length > boots, 15_000, 'the instance to boot again');
      assert.equal(rd.instanceBoots.at(-1)?.via, 'boot-iso');
    },
  );

  test('"when started" answers at once with the deploy id; status reports it later; undeploy makes it available', async () => {
    const { flow: f, credentials } = flow({ respond: 'started', action: 'msg' }, 1);
    await helper.load([...nodes, captureRed] as never, f, credentials);
    const image = makeImage(dir, 'started.img');
    const out = helper.getNode('result') as Node;
    let first = nextMessage<{ payload: { state: string }; deployId: string }>(out);
    helper.getNode('d').receive({ action: 'deploy', payload: { image: image.path } } as never);
    const accepted = await first;
    assert.equal(accepted.payload.state, 'deploying');
    await until(async () => {
      first = nextMessage(out);
      helper.getNode('d').receive({ action: 'status', deployId: accepted.deployId } as never);
      return (await first).payload.state === 'active';
    }, 60_000, 'the deploy to become active');
    first = nextMessage(out);
    helper.getNode('d').receive({ action: 'undeploy' } as never);
    const td = await first;
    await until(async () => {
      first = nextMessage(out);
      helper.getNode('d').receive({ action: 'status', deployId: td.deployId } as never);
      return (await first).payload.state === 'available';
    }, 30_000, 'the server to become available');
    assert.equal(fleet.ilos[1]!.server.powerState, 'off');
  });

  test('by msg.deployId: status and undeploy of an unknown deploy are "not-found"; undeploying a deploy that is no longer current is refused', async () => {
    const { flow: f, credentials } = flow({ respond: 'started', action: 'msg' }, 1);
    await helper.load([...nodes, captureRed] as never, f, credentials);
    const out = helper.getNode('result') as Node;
    const d = helper.getNode('d');
    const caughtFor = async (msg: Record<string, unknown>): Promise<{ code: string; message: string }> => {
      const caught = nextMessage<{ error: { code: string; message: string } }>(helper.getNode('caught') as Node);
      d.receive(msg as never);
      return (await caught).error;
    };
    const statusOf = async (deployId: string): Promise<{ state: string; deployId: string }> => {
      const next = nextMessage<{ payload: { state: string; deployId: string } }>(out);
      d.receive({ action: 'status', deployId } as never);
      return (await next).payload;
    };
    const deployAndWait = async (name: string): Promise<string> => {
      const started = nextMessage<{ deployId: string }>(out);
      d.receive({ action: 'deploy', payload: { image: makeImage(dir, name).path } } as never);
      const { deployId } = await started;
      await until(async () => (await statusOf(deployId)).state === 'active', 60_000, `${name} to be active`);
      return deployId;
    };

    const unknown = await caughtFor({ action: 'status', deployId: 'no-such-deploy' });
    assert.equal(unknown.code, 'not-found');
    assert.match(unknown.message, /no deploy no-such-deploy$/);
    assert.equal((await caughtFor({ action: 'undeploy', deployId: 'no-such-deploy' })).code, 'not-found');

    const first = await deployAndWait('first.img');
    const undeployed = nextMessage<{ payload: { deployId: string; action: string } }>(out);
    d.receive({ action: 'undeploy', deployId: first } as never);
    assert.equal((await undeployed).payload.action, 'undeploy');
    await until(async () => (await statusOf(first)).state === 'available', 30_000, 'the first deploy to be undeployed');

    const second = await deployAndWait('second.img');
    const refused = await caughtFor({ action: 'undeploy', deployId: first });
    assert.equal(refused.code, 'busy');
    assert.match(refused.message, new RegExp(`deploy ${first} is not its current deploy \\(${second} is\\)`));
    assert.equal((await statusOf(second)).state, 'active', 'the current deploy is left alone');
    d.receive({ action: 'undeploy', deployId: second } as never);
    await until(async () => (await statusOf(second)).state === 'available', 30_000, 'the second deploy to be undeployed');
  });

  test('the iLO is down: status and undeploy of a deploy work from its record; the tear-down ends "error" with its clean-up pending, and an undeploy once the iLO is back finishes it', async () => {
    const { flow: f, credentials } = flow({ respond: 'started', action: 'msg' }, 1);
    await helper.load([...nodes, captureRed] as never, f, credentials);
    const out = helper.getNode('result') as Node;
    const d = helper.getNode('d');
    const statusOf = async (deployId: string): Promise<{ state: string; deployId: string; lastError?: string; cleanup?: { done: boolean; retryAt?: string } }> => {
      const next = nextMessage<{ payload: { state: string; deployId: string } }>(out);
      d.receive({ action: 'status', deployId } as never);
      return (await next).payload;
    };
    const started = nextMessage<{ deployId: string }>(out);
    d.receive({ action: 'deploy', payload: { image: makeImage(dir, 'down.img').path } } as never);
    const { deployId } = await started;
    let last: unknown;
    await until(async () => ((last = await statusOf(deployId)) as { state: string }).state === 'active', 60_000, 'the deploy to be active').catch((err: Error) => {
      throw new Error(`${err.message}; its last status: ${JSON.stringify(last)}`);
    });
    const ilo = fleet.ilos[1]!;
    ilo.server.faults.add({ kind: 'reset' }); // every request to the iLO: the connection drops
    assert.equal((await statusOf(deployId)).state, 'active', 'status from the record');
    const undeploying = nextMessage<{ payload: { state: string; deployId: string } }>(out);
    d.receive({ action: 'undeploy', deployId } as never);
    assert.deepEqual(((await undeploying).payload.state), 'deleting', 'the undeploy is accepted without asking the iLO');
    await until(async () => (await statusOf(deployId)).state === 'error', 120_000, 'the tear-down to give up');
    const pending = await statusOf(deployId);
    assert.match(pending.lastError ?? '', /tear-down incomplete/);
    assert.equal(pending.cleanup?.done, false);
    assert.ok(pending.cleanup?.retryAt, 'the clean-up is pending, with a time it is tried again');
    ilo.server.faults.clear();
    const again = nextMessage<{ payload: { state: string } }>(out);
    d.receive({ action: 'undeploy', deployId } as never);
    assert.equal((await again).payload.state, 'deleting', 'the undeploy of the incomplete tear-down is accepted');
    // The tear-down first waits 30 s after the iLO's last unanswered request (it may still carry it out), then powers off and ejects.
    await until(async () => ((last = await statusOf(deployId)) as { state: string }).state === 'available', 150_000, 'the tear-down to finish').catch((err: Error) => {
      throw new Error(`${err.message}; its last status: ${JSON.stringify(last)}`);
    });
    assert.equal(ilo.server.powerState, 'off');
  });

  test('the runtime log has each deploy: start, failure with its step and reason, undeploy and end, with server and deploy id, never a secret', async () => {
    const { flow: f, credentials } = flow({ respond: 'started', action: 'msg', callbackTimeout: 2 }, 1);
    await helper.load([...nodes, captureRed] as never, f, credentials);
    const out = helper.getNode('result') as Node;
    const d = helper.getNode('d');
    const logged = (): Array<{ level: number; msg: string }> =>
      (helper.log() as unknown as { args: Array<[{ level: number; msg: unknown; type?: string }]> }).args.map((a) => a[0]).filter((e) => e.type === 'ilo-deploy-flow').map((e) => ({ level: e.level, msg: String(e.msg) }));
    const rd = ramdisks[1]!;
    rd.faults = { lostCallback: true };
    try {
      const started = nextMessage<{ deployId: string }>(out);
      d.receive({ action: 'deploy', payload: { image: makeImage(dir, 'logged.img').path } } as never);
      const { deployId } = await started;
      let token: string | undefined;
      await until(
        async () => {
          token ??= (rd.ipa as unknown as { opts?: { token?: string } } | undefined)?.opts?.token;
          return logged().some((e) => e.msg.includes(`${deployId} on server-2: deploy failed`));
        },
        60_000,
        'the failure to be logged',
      );
      const mine = logged().filter((e) => e.msg.includes(deployId));
      const { INFO, WARN } = helper.log() as unknown as { INFO: number; WARN: number };
      assert.deepEqual(mine[0], { level: INFO, msg: `deploy (agent_ilo) ${deployId} on server-2: started` });
      const failure = mine.find((e) => e.msg.includes('deploy failed'))!;
      assert.equal(failure.level, WARN, 'a failure is a warning');
      assert.match(failure.msg, /: deploy failed at step wait-agent: Wait for the agent to call back: no callback from the ramdisk within 2 s/);
      rd.faults = {};
      d.receive({ action: 'undeploy', deployId } as never);
      await until(async () => logged().some((e) => e.msg === `undeploy ${deployId} on server-2: available`), 60_000, 'the undeploy to be logged');
      assert.ok(logged().some((e) => e.msg === `undeploy ${deployId} on server-2: started`));
      const all = JSON.stringify(logged());
      assert.ok(token, 'the agent booted with its token');
      assert.ok(!all.includes(token), 'no deploy token in the log');
      assert.ok(!all.includes(fleet.ilos[1]!.password), 'no iLO password in the log');
    } finally {
      rd.faults = {};
    }
  });

  test('bad input reaches a Catch node naming the field, and starts nothing', async () => {
    const { flow: f, credentials } = flow({ image: '', imageType: 'str' });
    await helper.load([...nodes, captureRed] as never, f, credentials);
    const caught = nextMessage<{ error: { message: string } }>(helper.getNode('caught') as Node);
    helper.getNode('d').receive({ payload: {} } as never);
    assert.match((await caught).error.message, /image: expected the image to deploy/);
    const noApi = flow({ apiUrl: '' });
    await helper.unload();
    await helper.load([...nodes, captureRed] as never, noApi.flow, noApi.credentials);
    const caught2 = nextMessage<{ error: { message: string } }>(helper.getNode('caught') as Node);
    helper.getNode('d').receive({ payload: { image: '/x.img' } } as never);
    assert.match((await caught2).error.message, /apiUrl: expected the URL the servers use to reach this Node-RED/);
  });

  test('root device hints no disk of the last inspection matches: refused naming the field before anything starts; hints one disk matches deploy', async () => {
    const { flow: f, credentials } = flow({ respond: 'started', action: 'msg' }, 1);
    f.push({ id: 'inspect', type: 'ilo-inspect', z: 'tab', target: 'config', server: 'cfg', wires: [['inspected']] } as never, { id: 'inspected', type: 'helper', z: 'tab' } as never);
    await helper.load([...nodes, captureRed] as never, f, credentials);
    const inspected = nextMessage<{ payload: { disks: Array<{ sizeBytes: number }>; volumes: Array<{ sizeBytes: number }> } }>(helper.getNode('inspected') as Node);
    helper.getNode('inspect').receive({} as never);
    const { payload } = await inspected;
    const sizes = (payload.volumes.length ? payload.volumes : payload.disks).map((d) => Math.floor(d.sizeBytes / 1024 ** 3));
    assert.ok(sizes.length > 0, 'the inspection found disks');
    const image = makeImage(dir, 'hinted.img').path;
    const out = helper.getNode('result') as Node;

    const caught = nextMessage<{ error: { message: string } }>(helper.getNode('caught') as Node);
    helper.getNode('d').receive({ action: 'deploy', payload: { image }, deploy: { rootDeviceHints: { size: `>= ${Math.max(...sizes) + 1}` } } } as never);
    assert.match((await caught).error.message, /rootDeviceHints: No suitable device was found for deployment using these hints .* of server-2/);

    // Nothing was started: the next deploy finds no deploy in its way.
    let next = nextMessage<{ payload: { state: string }; deployId: string }>(out);
    helper.getNode('d').receive({ action: 'deploy', payload: { image }, deploy: { rootDeviceHints: { size: `<= ${Math.max(...sizes)}` } } } as never);
    const accepted = await next;
    assert.equal(accepted.payload.state, 'deploying', 'a hint a disk matches is let through');
    next = nextMessage(out);
    helper.getNode('d').receive({ action: 'undeploy' } as never);
    const td = await next;
    await until(async () => {
      next = nextMessage(out);
      helper.getNode('d').receive({ action: 'status', deployId: td.deployId } as never);
      return (await next).payload.state === 'available';
    }, 30_000, 'the server to become available');
  });

  test('settings.js iloDeployAgentCa and iloDeployAgentRequireTls: an agent with its own certificate signed by that CA deploys; one on plain HTTP is refused and logged', async () => {
    const rd = ramdisks[1]!;
    const ca = await createFleetCa('operator agent CA');
    const leaf = await ca.issue('ipa-own', [rd.address]);
    const caFile = join(dir, 'agent-ca.pem');
    writeFileSync(caFile, ca.cert);
    await resetEngineForRestart();
    // Runtime settings of this package, unknown to Node-RED's settings type.
    helper.settings({ userDir: join(dir, 'userdir'), iloDeployAgentCa: caFile, iloDeployAgentRequireTls: true } as Parameters<typeof helper.settings>[0]);
    rd.agentTls = { key: leaf.key, cert: leaf.cert };
    try {
      const { flow: f, credentials } = flow({ action: 'msg', callbackTimeout: 2 }, 1);
      await helper.load([...nodes, captureRed] as never, f, credentials);
      const image = makeImage(dir, 'own-cert.img');
      let agent: typeof rd.ipa;
      rd.once('ramdisk', () => (agent = rd.ipa));
      const result = nextMessage<{ payload: { state: string; deployId: string } }>(helper.getNode('result') as Node, 60_000);
      helper.getNode('d').receive({ action: 'deploy', payload: { image: image.path } } as never);
      const done = await result;
      assert.equal(done.payload.state, 'active');
      assert.equal(rd.written?.sha256, image.sha256);
      assert.match(agent?.agentUrl ?? '', /^https:\/\//, 'the agent served HTTPS');
      const undeployed = nextMessage<{ payload: { state: string } }>(helper.getNode('result') as Node, 60_000);
      helper.getNode('d').receive({ action: 'undeploy', deployId: done.payload.deployId } as never);
      assert.equal((await undeployed).payload.state, 'available');

      rd.agentTls = 'off';
      const caught = nextMessage<{ error: { message: string } }>(helper.getNode('caught') as Node, 60_000);
      helper.getNode('d').receive({ action: 'deploy', payload: { image: image.path } } as never);
      assert.match((await caught).error.message, /no callback from the ramdisk within 2 s/);
      const warned = (helper.log() as unknown as { args: Array<[{ msg: unknown }]> }).args.map((a) => String(a[0].msg));
      assert.ok(warned.some((m) => /heartbeat refused: its callback_url http:\/\/\S+ does not use TLS, and TLS is required/.test(m)), 'the refusal is in the runtime log');
    } finally {
      rd.agentTls = 'auto';
      await helper.unload();
      await resetEngineForRestart();
      helper.settings({ userDir: join(dir, 'userdir') });
    }
  });

  test('a config drive from the node\'s JSON field, or from msg.deploy.configDrive, is checked before anything starts: a Catch node gets the field', async () => {
    const { flow: f, credentials } = flow({ configDrive: JSON.stringify({ meta_data: { hostname: 'web 1' } }), configDriveType: 'json' });
    await helper.load([...nodes, captureRed] as never, f, credentials);
    const power = fleet.ilos[0]!.server.powerState;
    const caught = nextMessage<{ error: { message: string } }>(helper.getNode('caught') as Node);
    // The node's field wins over the message's.
    helper.getNode('d').receive({ payload: { image: '/x.img' }, deploy: { configDrive: { meta_data: { hostname: 'fine' } } } } as never);
    assert.match((await caught).error.message, /configDrive\.meta_data\.hostname: expected a host name/);
    const fromMsg = flow();
    await helper.unload();
    await helper.load([...nodes, captureRed] as never, fromMsg.flow, fromMsg.credentials);
    const caught2 = nextMessage<{ error: { message: string } }>(helper.getNode('caught') as Node);
    helper.getNode('d').receive({ payload: { image: '/x.img' }, deploy: { configDrive: { network_data: { links: [{ id: 'nic0', type: 'phy' }] } } } } as never);
    assert.match((await caught2).error.message, /configDrive\.network_data\.links\[0\]\.ethernet_mac_address: expected the MAC/);
    assert.equal(fleet.ilos[0]!.server.powerState, power, 'the server was not touched');
  });

  test('Node-RED restarts while the agent is booting: the deploy resumes and its result comes out marked resumed', async () => {
    const { flow: f, credentials } = flow();
    await helper.load([...nodes, captureRed] as never, f, credentials);
    // The deploy from the first test left server-1 active: rebuild it.
    (f[3] as Record<string, unknown>).action = 'rebuild';
    await helper.unload();
    await helper.load([...nodes, captureRed] as never, f, credentials);
    const rd = ramdisks[0]!;
    rd.faults = { lostCallback: true };
    const image = makeImage(dir, 'restart.img');
    const firstProgress = nextMessage<{ deployId: string; payload: { state: string } }>(helper.getNode('progress') as Node);
    helper.getNode('d').receive({ payload: { image: image.path } } as never);
    const { deployId } = await firstProgress;
    await until(() => rd.ipa !== undefined, 30_000, 'the agent to boot');
    // "Restart": flows stopped, the engine dropped, everything loaded again from the user directory.
    await helper.unload();
    await resetEngineForRestart();
    await helper.load([...nodes, captureRed] as never, f, credentials);
    const result = nextMessage<{ payload: { state: string; deployId: string }; resumed: boolean }>(helper.getNode('result') as Node, 60_000);
    // The agent heartbeats again, to the new runtime.
    rd.faults = {};
    (rd.ipa as unknown as { opts: { faults?: object } }).opts.faults = {};
    void (rd.ipa as unknown as { lookupAndHeartbeat(): Promise<void> }).lookupAndHeartbeat();
    const msg = await result;
    assert.equal(msg.payload.deployId, deployId);
    assert.equal(msg.payload.state, 'active');
    assert.equal(msg.resumed, true);
    assert.equal(rd.written?.sha256, image.sha256);
  });
  test('cleaning after undeploy, as the node is configured: the agent zeroes the disk (erase_devices asked for), the result is available; a bad clean steps field reaches a Catch node naming the entry', async () => {
    const { flow: f, credentials } = flow({ action: 'msg', clean: 'undeploy', cleanSteps: '[{"step": "erase_devices", "priority": 90}]' }, 3);
    await helper.load([...nodes, captureRed] as never, f, credentials);
    const out = helper.getNode('result') as Node;
    const image = makeImage(dir, 'clean.img');
    let next = nextMessage<{ payload: { state: string; lastError?: string; cleaning?: { done: string[] } } }>(out, 60_000);
    helper.getNode('d').receive({ action: 'deploy', payload: { image: image.path } } as never);
    assert.equal((await next).payload.state, 'active');
    next = nextMessage(out, 60_000);
    helper.getNode('d').receive({ action: 'undeploy' } as never);
    const cleaned = (await next).payload;
    assert.equal(cleaned.state, 'available', cleaned.lastError);
    assert.deepEqual(cleaned.cleaning?.done.slice(0, 2), ['erase_devices_metadata', 'erase_devices']);
    const disk = readFileSync(ramdisks[3]!.diskFile);
    assert.ok(disk.every((b) => b === 0), 'the disk holds only zeros');
    await helper.unload();
    const bad = flow({ action: 'msg', clean: 'undeploy', cleanSteps: '[{"step": "erase_devices", "priority": "high"}]' }, 3);
    await helper.load([...nodes, captureRed] as never, bad.flow, bad.credentials);
    const caught = nextMessage<{ error: { message: string } }>(helper.getNode('caught') as Node);
    helper.getNode('d').receive({ action: 'undeploy' } as never);
    assert.match((await caught).error.message, /cleanSteps\[0\]\.priority: expected a whole number/);
  });
});
