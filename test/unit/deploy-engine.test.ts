import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { DeployEngine, type EngineOptions } from '../../lib/deploy/engine';
import { FileDeployStore } from '../../lib/deploy/file-deploy-store';
import type { DeployProcess } from '../../lib/deploy/step';
import { DeployError } from '../../lib/deploy/errors';
import { createRamdiskApi } from '../../lib/deploy/ramdisk-api';
import type { DeployProgress, DeployStatus } from '../../lib/deploy/types';
import { deps, fakeProcess, resetFakeDeps, type FakeDeps } from '../helpers/fake-process';

let dir: string;
let engine: DeployEngine<FakeDeps>;
let api: Server;
let apiUrl: string;
const engines: Array<DeployEngine<FakeDeps>> = [];

function newEngine(opts: Partial<EngineOptions<FakeDeps>> & { stateDir?: string } = {}): DeployEngine<FakeDeps> {
  const e = new DeployEngine<FakeDeps>({
    store: new FileDeployStore({ dir: opts.stateDir ?? join(dir, 'state') }),
    processes: { agent_ilo: fakeProcess },
    resolveDeps: async () => deps,
    callbackTimeoutMs: 5000,
    ...opts,
  });
  engines.push(e);
  return e;
}

async function startApi(e: DeployEngine<FakeDeps>): Promise<void> {
  const handler = createRamdiskApi(e);
  api = createServer((req, res) => void handler(req, res));
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', () => r()));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
}

const heartbeat = (node: string, token: string | undefined, callbackUrl = 'http://127.0.0.1:9999'): Promise<Response> =>
  fetch(`${apiUrl}/v1/heartbeat/${node}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ callback_url: callbackUrl, agent_token: token, agent_version: '9.0' }),
  });

async function until(pred: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const request = { serverKey: 'ilo-1:443', serverName: 'server-1', refs: { ilo: 'cfg-1' }, request: { method: 'agent_ilo' as const, image: 'http://images/disk.raw' } };

describe('deploy engine', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'deploy-engine-'));
  });
  beforeEach(async () => {
    rmSync(join(dir, 'state'), { recursive: true, force: true });
    resetFakeDeps();
    engine = newEngine();
    await engine.start();
    await startApi(engine);
  });
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.stop()));
    await new Promise<void>((r) => api.close(() => r()));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('runs every step in order, waits for the agent, ends active; progress says step n of N', async () => {
    const events: DeployProgress[] = [];
    engine.on('progress', (p: DeployProgress) => events.push(p));
    const started = await engine.deploy(request);
    assert.equal(started.state, 'deploying');
    await until(async () => (await engine.status(started.deployId))?.state === 'wait call-back');
    const token = deps.floppy.get(started.deployId)!;
    assert.equal((await heartbeat(started.deployId, token)).status, 202);
    const done = await engine.wait(started.deployId);
    assert.equal(done.state, 'active');
    assert.deepEqual(deps.log, ['run power-off', 'run floppy', 'run power-on', 'run wait-agent', 'run write-image', 'run boot-device']);
    const steps = events.filter((e) => e.step).map((e) => `${e.stepIndex}/${e.stepCount} ${e.step}`);
    assert.deepEqual([...new Set(steps)], ['1/6 power-off', '2/6 floppy', '3/6 power-on', '4/6 wait-agent', '5/6 write-image', '6/6 boot-device']);
    assert.ok(events.some((e) => e.state === 'wait call-back'));
    const onDisk = JSON.parse(readFileSync(join(dir, 'state', `${started.deployId}.json`), 'utf8'));
    assert.equal(onDisk.state, 'active');
    assert.notEqual(onDisk.token, token, 'the ramdisk token is retired once the deploy is active');
    assert.ok(!JSON.stringify(events).includes(token), 'the token never appears in progress events');
    assert.ok(!JSON.stringify(done).includes(token), 'nor in the status');
  });

  test('a heartbeat without the token, or with a wrong one, is refused with 401 and changes nothing', async () => {
    const started = await engine.deploy(request);
    await until(async () => (await engine.status(started.deployId))?.state === 'wait call-back');
    assert.equal((await heartbeat(started.deployId, undefined)).status, 401);
    assert.equal((await heartbeat(started.deployId, 'x'.repeat(43))).status, 401);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await engine.status(started.deployId))?.state, 'wait call-back');
    assert.ok(!deps.log.includes('run write-image'));
    assert.equal((await heartbeat('00000000-0000-0000-0000-000000000000', 'whatever')).status, 404);
    assert.equal((await heartbeat(started.deployId, deps.floppy.get(started.deployId))).status, 202);
    assert.equal((await engine.wait(started.deployId)).state, 'active');
  });

  test('lookup finds the deploy by MAC and reveals no token', async () => {
    const started = await engine.deploy(request);
    await until(async () => (await engine.status(started.deployId))?.state === 'wait call-back');
    const res = await fetch(`${apiUrl}/v1/lookup?addresses=aa:bb:cc:00:11:22,11:22:33:44:55:66`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-openstack-ironic-api-maximum-version'), '1.68');
    const body = (await res.json()) as { node: { uuid: string }; config: { agent_token: string; agent_token_required: boolean } };
    assert.equal(body.node.uuid, started.deployId);
    assert.equal(body.config.agent_token, '******');
    assert.equal(body.config.agent_token_required, true);
    assert.equal((await fetch(`${apiUrl}/v1/lookup?addresses=00:00:00:00:00:01`)).status, 404);
    const root = (await (await fetch(`${apiUrl}/`)).json()) as { default_version: { version: string } };
    assert.equal(root.default_version.version, '1.68');
  });

  test('two servers reporting the same MAC: a lookup by it finds neither deploy until one has finished', async () => {
    const a = await engine.deploy(request);
    const b = await engine.deploy({ ...request, serverKey: 'ilo-2:443', serverName: 'server-2' });
    await until(async () => (await engine.status(a.deployId))?.state === 'wait call-back' && (await engine.status(b.deployId))?.state === 'wait call-back');
    // The fake process reports AA:BB:CC:00:11:22 for every server.
    assert.equal((await fetch(`${apiUrl}/v1/lookup?addresses=aa:bb:cc:00:11:22`)).status, 404, 'an ambiguous MAC hands out no deploy');
    const byId = (await (await fetch(`${apiUrl}/v1/lookup?node_uuid=${b.deployId}`)).json()) as { node: { uuid: string } };
    assert.equal(byId.node.uuid, b.deployId, 'a lookup by node id is unaffected');
    assert.equal((await heartbeat(a.deployId, deps.floppy.get(a.deployId))).status, 202);
    assert.equal((await engine.wait(a.deployId)).state, 'active');
    const res = await fetch(`${apiUrl}/v1/lookup?addresses=AA-BB-CC-00-11-22`);
    assert.equal(res.status, 200, 'the finished deploy no longer claims the MAC');
    assert.equal(((await res.json()) as { node: { uuid: string } }).node.uuid, b.deployId);
    assert.equal((await heartbeat(b.deployId, deps.floppy.get(b.deployId))).status, 202);
    assert.equal((await engine.wait(b.deployId)).state, 'active');
  });

  for (const failAt of ['power-off', 'floppy', 'power-on', 'wait-agent', 'write-image', 'boot-device']) {
    test(`a failure in "${failAt}" undoes what was done, in reverse, cleans up, and keeps the reason`, async () => {
      deps.failAt = failAt;
      const started = await engine.deploy(request);
      if (['wait-agent', 'write-image', 'boot-device'].includes(failAt)) {
        await until(async () => (await engine.status(started.deployId))?.state === 'wait call-back');
        await heartbeat(started.deployId, deps.floppy.get(started.deployId));
      }
      const done = await engine.wait(started.deployId);
      assert.equal(done.state, 'deploy failed');
      assert.equal(done.failedStep, failAt);
      assert.match(done.lastError ?? '', new RegExp(`Step ${failAt}: ${failAt} broke`));
      assert.deepEqual(done.cleanup, { done: true, errors: [] });
      const order = ['power-off', 'floppy', 'power-on', 'wait-agent', 'write-image', 'boot-device'];
      const expectedUndo = order
        .slice(0, order.indexOf(failAt) + 1)
        .filter((s) => s !== 'wait-agent')
        .reverse()
        .map((s) => `undo ${s}`);
      assert.deepEqual(deps.log.filter((l) => l.startsWith('undo') || l === 'cleanup'), [...expectedUndo, 'cleanup']);
      const onDisk = JSON.parse(readFileSync(join(dir, 'state', `${started.deployId}.json`), 'utf8'));
      assert.deepEqual(onDisk.published, [], 'published objects are forgotten only after their removal');
      // The server is free again.
      deps.failAt = undefined;
      const again = await engine.deploy(request);
      assert.equal(again.state, 'deploying');
      await engine.stop();
    });
  }

  test('no callback in time: deploy failed with a timeout, cleaned up', async () => {
    const e = newEngine({ stateDir: join(dir, 'state-timeout') });
    await e.start();
    deps.callbackTimeoutMs = 150;
    const started = await e.deploy({ ...request, request: { ...request.request } });
    const rec = (await e.status(started.deployId))!;
    assert.equal(rec.state, 'deploying');
    const done = await e.wait(started.deployId);
    assert.equal(done.state, 'deploy failed');
    assert.match(done.lastError ?? '', /no callback from the ramdisk within/);
    assert.ok(deps.log.includes('cleanup'));
  });

  test('a step that hangs is stopped by its timeout', async () => {
    deps.hangAt = 'power-on';
    const slow: DeployProcess<FakeDeps> = { ...fakeProcess, deploySteps: fakeProcess.deploySteps.map((s) => (s.name === 'power-on' ? { ...s, timeoutMs: 100 } : s)) };
    const e = newEngine({ stateDir: join(dir, 'state-hang'), processes: { agent_ilo: slow } });
    await e.start();
    const done = await e.wait((await e.deploy(request)).deployId);
    assert.equal(done.state, 'deploy failed');
    assert.match(done.lastError ?? '', /did not finish within 0 s|did not finish within/);
  });

  test('one deploy per server at a time; another server is not blocked', async () => {
    const first = await engine.deploy(request);
    await assert.rejects(engine.deploy(request), (err: unknown) => err instanceof DeployError && err.code === 'busy' && /one deploy per server/.test(err.message));
    const other = await engine.deploy({ ...request, serverKey: 'ilo-2:443', serverName: 'server-2' });
    assert.equal(other.state, 'deploying');
    await until(async () => (await engine.status(first.deployId))?.state === 'wait call-back');
  });

  test('bad input is refused before anything starts, naming the field', async () => {
    await assert.rejects(engine.deploy({ ...request, request: { method: 'agent_ilo', image: '' } }), { code: 'invalid-input', field: 'image' });
    await assert.rejects(engine.deploy({ ...request, request: { method: 'bogus' as never, image: 'x' } }), { code: 'invalid-input', field: 'method' });
    assert.deepEqual(await engine.list(), []);
  });

  test('a restart while waiting for the callback resumes the wait, and the deploy completes', async () => {
    const started = await engine.deploy(request);
    await until(async () => (await engine.status(started.deployId))?.state === 'wait call-back');
    const token = deps.floppy.get(started.deployId)!;
    await engine.stop();
    deps.log = [];
    const again = newEngine();
    const { resumed, failed } = await again.start();
    assert.deepEqual({ resumed, failed }, { resumed: [started.deployId], failed: [] });
    await new Promise<void>((r) => api.close(() => r()));
    await startApi(again);
    await until(async () => (await again.status(started.deployId))?.state === 'wait call-back');
    assert.equal((await heartbeat(started.deployId, token)).status, 202);
    const done = await again.wait(started.deployId);
    assert.equal(done.state, 'active');
    assert.deepEqual(deps.log, ['run wait-agent', 'run write-image', 'run boot-device'], 'completed steps are not repeated');
  });

  test('a restart inside a step that cannot be resumed fails the deploy with clean-up done', async () => {
    deps.hangAt = 'write-image';
    const started = await engine.deploy(request);
    await until(async () => (await engine.status(started.deployId))?.state === 'wait call-back');
    await heartbeat(started.deployId, deps.floppy.get(started.deployId));
    await until(() => deps.log.includes('run write-image'));
    await engine.stop();
    deps.hangAt = undefined;
    deps.log = [];
    const again = newEngine();
    const { failed } = await again.start();
    assert.deepEqual(failed, [started.deployId]);
    const done: DeployStatus = await again.wait(started.deployId);
    assert.equal(done.state, 'deploy failed');
    assert.match(done.lastError ?? '', /restarted during "Step write-image"/);
    assert.deepEqual(deps.log, ['undo write-image', 'undo power-on', 'undo floppy', 'undo power-off', 'cleanup']);
    assert.equal(readdirSync(join(dir, 'state')).filter((f) => f.endsWith('.tmp')).length, 0);
  });

  test('undeploy during a deploy cancels it, cleans up, tears down, and frees the server', async () => {
    const started = await engine.deploy(request);
    await until(async () => (await engine.status(started.deployId))?.state === 'wait call-back');
    const td = await engine.undeploy(request.serverKey);
    assert.equal(td.state, 'deleting');
    const done = await engine.wait(started.deployId);
    assert.equal(done.state, 'available');
    assert.deepEqual(deps.log.slice(-3), ['cleanup', 'run td-power-off', 'run td-eject']);
    assert.equal((await heartbeat(started.deployId, deps.floppy.get(started.deployId))).status, 404, 'the old ramdisk can no longer call back');
    assert.equal((await engine.deploy(request)).state, 'deploying');
  });
});

describe('deploy engine: a tear-down the iLO does not let finish', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'deploy-engine-td-'));
  });
  beforeEach(() => resetFakeDeps());
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.stop()));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const retrying = (stateDir: string): DeployEngine<FakeDeps> => newEngine({ stateDir, maintenanceMs: 20, cleanupRetry: { firstMs: 100 } });

  test('ends "error" with its clean-up pending and a time to try again, then is torn down again by itself until it is done', async () => {
    const e = retrying(join(dir, 'a'));
    await e.start();
    const started = await e.deploy(request);
    await until(async () => (await e.status(started.deployId))?.state === 'wait call-back');
    await e.callback(started.deployId, 'heartbeat', deps.floppy.get(started.deployId), { callback_url: 'http://127.0.0.1:9999' });
    assert.equal((await e.wait(started.deployId)).state, 'active');
    deps.teardownFailures = 2;
    const td = await e.undeploy(request.serverKey);
    assert.equal(td.state, 'deleting');
    const failed = await e.wait(started.deployId);
    assert.equal(failed.state, 'error');
    assert.match(failed.lastError ?? '', /tear-down incomplete: Step td-power-off: the iLO did not answer/);
    assert.equal(failed.cleanup?.done, false);
    assert.equal(failed.cleanup?.attempts, 1);
    assert.ok(failed.cleanup?.retryAt && Date.parse(failed.cleanup.retryAt) > Date.parse(failed.finishedAt ?? ''), 'a time to try again is set');
    await until(async () => (await e.status(started.deployId))?.state === 'available', 10_000);
    assert.equal(deps.log.filter((l) => l === 'run td-power-off').length, 3, 'tried until the power-off went through');
    await assert.rejects(e.undeploy(request.serverKey), { code: 'not-found' });
  });

  test('the pending tear-down survives a restart and is tried again by the next engine', async () => {
    const stateDir = join(dir, 'b');
    const first = newEngine({ stateDir, cleanupRetry: { firstMs: 100 } });
    await first.start();
    const started = await first.deploy(request);
    await until(async () => (await first.status(started.deployId))?.state === 'wait call-back');
    deps.teardownFailures = 1;
    // Undeploy during the deploy: it is cancelled and cleaned up, then the tear-down fails once.
    await first.undeploy({ deployId: started.deployId });
    assert.equal((await first.wait(started.deployId)).state, 'error');
    await first.stop();
    const second = retrying(stateDir);
    await second.start();
    await until(async () => (await second.status(started.deployId))?.state === 'available', 10_000);
  });
});
