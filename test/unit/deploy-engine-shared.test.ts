/**
 * Several Node-RED instances on one shared deploy store (the in-memory
 * stand-in for PostgreSQL): the sharing part of the store suite, and the
 * engine running one fleet from two instances without knowing it.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { DeployEngine } from '../../lib/deploy/engine';
import { createRamdiskApi } from '../../lib/deploy/ramdisk-api';
import type { DeployProcess } from '../../lib/deploy/step';
import { deployStoreSuite } from '../helpers/deploy-store-suite';
import { deps, fakeProcess, resetFakeDeps, type FakeDeps } from '../helpers/fake-process';
import { MemoryDeployBackend } from '../helpers/memory-deploy-store';

deployStoreSuite('shared, in memory', {
  shared: true,
  async backend() {
    const b = new MemoryDeployBackend();
    return { instance: (o) => b.instance(o), dispose: async () => undefined };
  },
});

describe('two engines on one shared deploy store', () => {
  let backend: MemoryDeployBackend;
  const engines: Array<DeployEngine<FakeDeps>> = [];
  const servers: Server[] = [];

  const engine = async (process: DeployProcess<FakeDeps> = fakeProcess): Promise<DeployEngine<FakeDeps>> => {
    const e = new DeployEngine<FakeDeps>({
      store: backend.instance({ leaseMs: 600 }),
      processes: { agent_ilo: process },
      resolveDeps: async () => deps,
      maintenanceMs: 50,
    });
    engines.push(e);
    await e.start();
    return e;
  };
  /** The ramdisk API of one instance (behind a load balancer, any instance may get a call). */
  const api = async (e: DeployEngine<FakeDeps>): Promise<string> => {
    const handler = createRamdiskApi(e);
    const s = createServer((req, res) => void handler(req, res));
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  };
  const heartbeat = (url: string, node: string, token: string | undefined): Promise<Response> =>
    fetch(`${url}/v1/heartbeat/${node}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ callback_url: 'http://127.0.0.1:9999', agent_token: token, agent_version: '9.0' }),
    });
  const until = async (pred: () => Promise<boolean>, what: string): Promise<void> => {
    for (const end = Date.now() + 10_000; !(await pred()); ) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const request = { serverKey: 'ilo-1:443', serverName: 'server-1', refs: { node: 'd1' }, request: { method: 'agent_ilo' as const, image: 'http://images/disk.raw' } };

  beforeEach(() => {
    backend = new MemoryDeployBackend();
    resetFakeDeps();
  });
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.stop()));
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
  });

  test('one deploy per server across instances; the ramdisk calls back to the other instance and the deploy completes where it runs', async () => {
    const a = await engine();
    const b = await engine();
    const bUrl = await api(b);
    const started = await a.deploy(request);
    await assert.rejects(b.deploy(request), { code: 'busy', message: /one deploy per server/ });
    await until(async () => (await b.status(started.deployId))?.state === 'wait call-back', 'the wait, seen from the other instance');
    const lookup = (await (await fetch(`${bUrl}/v1/lookup?addresses=aa:bb:cc:00:11:22`)).json()) as { node: { uuid: string } };
    assert.equal(lookup.node.uuid, started.deployId, 'found by MAC on the instance that does not run it');
    assert.equal((await heartbeat(bUrl, started.deployId, 'wrong')).status, 401);
    assert.equal((await heartbeat(bUrl, started.deployId, deps.floppy.get(started.deployId))).status, 202);
    const done = await a.wait(started.deployId);
    assert.equal(done.state, 'active');
    assert.deepEqual(await b.status(started.deployId), done, 'the same status from every instance');
    assert.deepEqual(deps.log, ['run power-off', 'run floppy', 'run power-on', 'run wait-agent', 'run write-image', 'run boot-device'], 'each step ran once, on one instance');
  });

  test('an instance that stops: another takes its deploy over, resumes the wait and completes it', async () => {
    const a = await engine();
    const b = await engine();
    const bUrl = await api(b);
    const started = await a.deploy(request);
    await until(async () => (await a.status(started.deployId))?.state === 'wait call-back', 'the wait');
    const token = deps.floppy.get(started.deployId);
    deps.log = [];
    const resumed: string[] = [];
    b.on('progress', (p: { deployId: string; message: string }) => resumed.push(p.message));
    await a.stop();
    assert.equal((await heartbeat(bUrl, started.deployId, token)).status, 202);
    await until(async () => (await b.status(started.deployId))?.state === 'active', 'the deploy to complete on the other instance');
    assert.deepEqual(deps.log, ['run wait-agent', 'run write-image', 'run boot-device'], 'completed steps are not run again');
    assert.ok(resumed.includes('The agent called back'));
  });

  test('a takeover inside a step that cannot be run again fails the deploy with clean-up, on the new owner', async () => {
    deps.hangAt = 'write-image';
    const a = await engine();
    const b = await engine();
    const bUrl = await api(b);
    const started = await a.deploy(request);
    await until(async () => (await a.status(started.deployId))?.state === 'wait call-back', 'the wait');
    await heartbeat(bUrl, started.deployId, deps.floppy.get(started.deployId));
    await until(async () => deps.log.includes('run write-image'), 'the write to start');
    deps.log = [];
    await a.stop();
    const done = await b.wait(started.deployId);
    assert.equal(done.state, 'deploy failed');
    assert.match(done.lastError ?? '', /restarted during "Step write-image"/);
    assert.deepEqual(deps.log, ['undo write-image', 'undo power-on', 'undo floppy', 'undo power-off', 'cleanup']);
  });

  test('an undeploy asked on another instance reaches the one running the deploy: cancelled, cleaned up, torn down', async () => {
    const a = await engine();
    const b = await engine();
    const started = await a.deploy(request);
    await until(async () => (await a.status(started.deployId))?.state === 'wait call-back', 'the wait');
    const asked = await b.undeploy({ deployId: started.deployId });
    assert.equal(asked.state, 'deleting');
    await until(async () => (await b.status(started.deployId))?.state === 'available', 'the tear-down');
    assert.deepEqual(deps.log.slice(-3), ['cleanup', 'run td-power-off', 'run td-eject'], 'run where the deploy ran, once');
    assert.equal((await b.deploy(request)).state, 'deploying', 'the server is free for any instance');
  });
});
