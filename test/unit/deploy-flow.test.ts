/** What a deploy-flow node does with a message, without Node-RED (lib/deploy/flow.ts). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DeployEngine } from '../../lib/deploy/engine';
import { FileDeployStore } from '../../lib/deploy/file-deploy-store';
import { buildDeployRequest, deploySettingsFor, logLine, parseAction, runFlowAction } from '../../lib/deploy/flow';
import { deployProcesses } from '../../lib/deploy/processes';
import type { DeployMethod, DeployRequest, DeployStatus } from '../../lib/deploy/types';
import { deps, fakeProcess, resetFakeDeps, type FakeDeps } from '../helpers/fake-process';

const ctx = { apiPath: '/ilo-deploy', workDir: '/var/lib/work' };

describe('deploy flow: a message into a request', () => {
  test('every field is checked and named: the action, the method, the image, the boot mode, msg.deploy', () => {
    assert.equal(parseAction({ value: 'rebuild', field: 'msg.action' }), 'rebuild');
    assert.throws(() => parseAction({ value: 'explode', field: 'msg.action' }), { code: 'invalid-input', field: 'msg.action', message: 'msg.action: expected deploy, undeploy, rebuild, status (got "explode")' });
    const method = { value: 'agent_ilo', field: 'method' };
    assert.throws(() => buildDeployRequest({ method: { value: 'ipmi', field: 'msg.method' } }), { field: 'msg.method' });
    assert.throws(() => buildDeployRequest({ method, image: { value: { url: 'x' }, field: 'image' } }), { field: 'image', message: /^image: expected a string: .*\(got object\)$/ });
    assert.throws(() => buildDeployRequest({ method, bootMode: { value: 'legacy', field: 'msg.bootMode' } }), { field: 'msg.bootMode' });
    assert.throws(() => buildDeployRequest({ method, extra: 'rootMb=10' }), { field: 'msg.deploy' });
    const r = buildDeployRequest({
      method,
      image: { value: '/srv/images/disk.raw', field: 'image' },
      deployIso: { value: '', field: 'deployIso' },
      bootMode: { value: 'uefi', field: 'bootMode' },
      extra: { imageFormat: 'qcow2', bootMac: '52:54:00:12:34:56', notAField: 1 },
    });
    assert.deepEqual(r, { method: 'agent_ilo', image: '/srv/images/disk.raw', deployIso: undefined, deployKernel: undefined, deployRamdisk: undefined, bootMode: 'uefi', imageFormat: 'qcow2', bootMac: '52:54:00:12:34:56' });
  });

  test('a lone UTF-16 surrogate in any string of a deploy request is refused naming the field (it would become U+FFFD on the way)', () => {
    const processes = deployProcesses();
    const base: Record<DeployMethod, DeployRequest> = {
      agent_ilo: { method: 'agent_ilo', image: '/srv/images/disk.raw', deployIso: '/srv/images/deploy.iso' },
      iscsi_ilo: { method: 'iscsi_ilo', image: '/srv/images/root.img', deployIso: '/srv/images/deploy.iso', imageType: 'partition', rootMb: 10, instanceKernel: '/k', instanceRamdisk: '/r' },
      pxe_ilo: { method: 'pxe_ilo', image: '/srv/images/disk.raw', deployKernel: '/k', deployRamdisk: '/r' },
    };
    const fields: Array<[DeployMethod, keyof DeployRequest]> = [
      ['agent_ilo', 'image'],
      ['agent_ilo', 'deployIso'],
      ['pxe_ilo', 'deployKernel'],
      ['pxe_ilo', 'deployRamdisk'],
      ['iscsi_ilo', 'instanceKernel'],
      ['iscsi_ilo', 'instanceRamdisk'],
      ['agent_ilo', 'kernelParams'],
      ['agent_ilo', 'bootMac'],
    ];
    for (const [method, field] of fields) {
      const req = { ...base[method], [field]: `/srv/images/disk\uD83D.raw` } as DeployRequest;
      assert.throws(() => processes[method].validate(req), { code: 'invalid-input', field, message: new RegExp(`^${field}: expected text without a lone UTF-16 surrogate \\(found U\\+D83D at position 17`) }, `${method} ${field}`);
    }
    // A whole pair is a character like any other.
    processes.agent_ilo.validate({ ...base.agent_ilo, image: '/srv/images/disk-\uD83D\uDE00.raw' } as DeployRequest);
  });

  test('settings: the node over the defaults; a callback URL and (pxe_ilo) a TFTP root are required; the runtime adds tools per method', () => {
    assert.throws(() => deploySettingsFor('agent_ilo', {}, ctx), { field: 'apiUrl', message: /e\.g\. http:\/\/10\.0\.0\.1:1880\/ilo-deploy/ });
    assert.throws(() => deploySettingsFor('pxe_ilo', { apiUrl: 'http://10.0.0.1:1880/ilo-deploy' }, ctx), { field: 'tftpRoot' });
    const s = deploySettingsFor('iscsi_ilo', { callbackTimeout: '60', powerTimeout: '', writeTimeout: 'x' }, { ...ctx, defaultApiUrl: 'http://10.0.0.1:1880/ilo-deploy/', requiredTools: { iscsi_ilo: [{ tool: 'tgtd', package: 'tgt' }] } });
    assert.equal(s.apiUrl, 'http://10.0.0.1:1880/ilo-deploy');
    assert.equal(s.callbackTimeoutMs, 60_000);
    assert.equal(s.powerTimeoutMs, 300_000);
    assert.equal(s.writeTimeoutMs, 3_600_000);
    assert.deepEqual(s.requiredTools, [{ tool: 'tgtd', package: 'tgt' }]);
    assert.equal(deploySettingsFor('agent_ilo', { apiUrl: 'http://h:1/x' }, { ...ctx, requiredTools: { iscsi_ilo: [{ tool: 'tgtd', package: 'tgt' }] } }).requiredTools, undefined);
  });

  test('log lines: start, end, failure with its step and reason; server and deploy id in each', () => {
    const s: DeployStatus = { deployId: 'd-1', server: 'server-1', method: 'agent_ilo', action: 'deploy', state: 'deploy failed', stepCount: 11, failedStep: 'wait-agent', lastError: 'Wait for the agent to call back: no callback from the ramdisk within 1800 s', createdAt: '', updatedAt: '' };
    assert.deepEqual(logLine('started', { ...s, state: 'deploying' }), { level: 'info', text: 'deploy (agent_ilo) d-1 on server-1: started' });
    assert.deepEqual(logLine('finished', { ...s, state: 'active' }), { level: 'info', text: 'deploy (agent_ilo) d-1 on server-1: active' });
    assert.deepEqual(logLine('finished', s), { level: 'warn', text: 'deploy (agent_ilo) d-1 on server-1: deploy failed at step wait-agent: Wait for the agent to call back: no callback from the ramdisk within 1800 s' });
    const td = logLine('finished', { ...s, action: 'undeploy', state: 'error', failedStep: undefined, lastError: 'tear-down incomplete: Power off: no answer', cleanup: { done: false, errors: ['Power off: no answer'], retryAt: '2030-01-01T00:01:00.000Z' } });
    assert.equal(td.level, 'warn');
    assert.match(td.text, /^undeploy d-1 on server-1: error: tear-down incomplete: Power off: no answer \(clean-up incomplete: Power off: no answer; tried again at 2030-01-01T00:01:00.000Z\)$/);
  });
});

describe('deploy flow: a message against the engine', () => {
  let dir: string;
  let engine: DeployEngine<FakeDeps>;
  const iloDown = { name: 'server-1', key: async (): Promise<string> => Promise.reject(new Error('the iLO does not answer')) };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deploy-flow-'));
    resetFakeDeps();
    engine = new DeployEngine<FakeDeps>({ store: new FileDeployStore({ dir }), processes: { agent_ilo: fakeProcess }, resolveDeps: async () => deps });
    await engine.start();
  });
  after(async () => {
    await engine.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('status and undeploy of a given deploy need only its record; an unknown or malformed id is refused', async () => {
    const start = async () => ({ serverKey: 'ilo-1:443', serverName: 'server-1', refs: {}, request: { method: 'agent_ilo' as const, image: '/x' } });
    const up = await runFlowAction(engine, { action: 'deploy', server: { name: 'server-1', key: async () => 'ilo-1:443' }, start });
    const id = up.started!.deployId;
    const seen = await runFlowAction(engine, { action: 'status', deployId: id, server: iloDown, start });
    assert.equal((seen.payload as DeployStatus).deployId, id);
    const down = await runFlowAction(engine, { action: 'undeploy', deployId: id, server: iloDown, start });
    assert.equal(down.started?.state, 'deleting');
    assert.equal((await engine.wait(id)).state, 'available');
    await assert.rejects(runFlowAction(engine, { action: 'status', deployId: 'no-such-deploy', server: iloDown, start }), { code: 'not-found', message: 'no deploy no-such-deploy' });
    await assert.rejects(runFlowAction(engine, { action: 'status', deployId: '../x\uD800', server: iloDown, start }), { code: 'invalid-input', field: 'msg.deployId' });
    const available = await runFlowAction(engine, { action: 'status', server: { name: 'server-2', key: async () => 'ilo-2:443' }, start });
    assert.deepEqual(available.payload, { server: 'server-2', state: 'available' });
  });
});
