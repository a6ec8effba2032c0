/**
 * The fleet dashboard example's two function nodes, run as Node-RED runs a
 * function node's body (msg, flow context, env): "fleet table" keeps one row
 * per server from whatever arrives (power, health, deploy status, progress
 * with a transfer, a batch member's error, a Catch node's error), "button →
 * request" sends what a row's button asks to the power or the deploy node.
 * The page itself is driven in Chromium by test/e2e/demo.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot } from '../helpers/env';

type Msg = Record<string, unknown>;
interface Row {
  server: string;
  power?: string;
  health?: string;
  state?: string;
  method?: string;
  stepIndex?: number;
  stepCount?: number;
  transferPercent?: number;
  lastError?: string;
  hardware?: string;
}

const flows = JSON.parse(readFileSync(join(repoRoot, 'examples', 'dashboard', '01 - Fleet dashboard.json'), 'utf8')) as Array<Record<string, unknown>>;
const body = (name: string): string => {
  const n = flows.find((x) => x.type === 'function' && x.name === name);
  assert.ok(n, `a function node "${name}"`);
  return n.func as string;
};

/** A function node's body with its own flow context and the tab's environment. */
function functionNode(name: string, env: Record<string, string> = {}, globals: Map<string, unknown> = new Map()): (msg: Msg) => unknown {
  const context = new Map<string, unknown>();
  const flow = { get: (k: string) => context.get(k), set: (k: string, v: unknown) => void context.set(k, v) };
  const global = { get: (k: string) => globals.get(k), set: (k: string, v: unknown) => void globals.set(k, v) };
  const run = new Function('msg', 'flow', 'global', 'env', body(name)) as (msg: Msg, f: typeof flow, g: typeof global, e: { get(k: string): string | undefined }) => unknown;
  return (msg) => run(structuredClone(msg), flow, global, { get: (k) => env[k] });
}

describe('the fleet dashboard example', () => {
  test('"fleet table": one row per server, sorted, from power, health, deploy status, progress and errors; the images offered', () => {
    const table = functionNode('fleet table', { IMAGES: '/srv/img/a.img, /srv/img/b.qcow2' });
    const rowsOf = (out: unknown): Row[] => (out as { payload: { rows: Row[] } }).payload.rows;
    table({ topic: 'server-2', payload: { server: 'server-2', powerState: 'off' } });
    table({ topic: 'server-1', payload: { server: 'server-1', powerState: 'on' } });
    table({ topic: 'server-1', payload: { server: 'server-1', overall: 'ok', health: {} } });
    let out = table({ topic: 'server-2', payload: { server: 'server-2', state: 'available' } });
    assert.deepEqual((out as { payload: { images: string[] } }).payload.images, ['/srv/img/a.img', '/srv/img/b.qcow2']);
    assert.deepEqual(rowsOf(out).map((r) => [r.server, r.power, r.health, r.state]), [
      ['server-1', 'on', 'ok', undefined],
      ['server-2', 'off', undefined, 'available'],
    ]);

    // A deploy's progress: the step, and the transfer while the step reports bytes.
    const progress = { server: 'server-1', deployId: 'd1', method: 'iscsi_ilo', action: 'deploy', state: 'deploying', step: 'write-image', stepIndex: 9, stepCount: 12, message: 'Fetching the image', time: 't' };
    out = table({ topic: 'server-1', payload: { ...progress, transfer: { bytes: 512, total: 2048 } } });
    let one = rowsOf(out)[0]!;
    assert.deepEqual([one.state, one.method, one.stepIndex, one.stepCount, one.transferPercent], ['deploying', 'iscsi_ilo', 9, 12, 25]);
    out = table({ topic: 'server-1', payload: { ...progress, transfer: { bytes: 2048, total: 2048, percent: 100 } } });
    assert.equal(rowsOf(out)[0]!.transferPercent, 100);
    out = table({ topic: 'server-1', payload: { ...progress, state: 'active', step: undefined, stepIndex: undefined, message: 'Deployed', transfer: undefined } });
    one = rowsOf(out)[0]!;
    assert.deepEqual([one.state, one.transferPercent], ['active', undefined]);

    // Errors: a batch member's (payload.error) and a refused button's (a Catch node's msg.error), the class name cut.
    out = table({ topic: 'server-2', payload: { server: 'server-2', error: { code: 'login', message: 'iLO login failed' } } });
    assert.equal(rowsOf(out)[1]!.lastError, 'iLO login failed');
    out = table({ server: 'server-1', payload: { server: 'server-1', action: 'deploy' }, error: { message: 'DeployError: server-1 is already deployed', source: { id: 'dash-deploy' } } });
    assert.equal(rowsOf(out)[0]!.lastError, 'server-1 is already deployed');
    assert.equal(rowsOf(out)[0]!.state, 'active', 'an error leaves the deploy state as it was');

    // An inspection (ilo-inspect's msg.payload) in a few words; one made elsewhere (the global context) fills a row that has none.
    const inspection = (server: string, memory_mb: number) => ({ server, inspectedAt: '2026-12-06T00:00:00Z', properties: { cpus: 24, memory_mb, local_gb: 278, cpu_arch: 'x86_64' }, capabilities: { boot_mode: 'uefi' } });
    out = table({ topic: 'server-1', payload: inspection('server-1', 131072) });
    assert.equal(rowsOf(out)[0]!.hardware, '24 CPUs, 128 GiB, 278 GB disk, uefi');
    assert.equal(rowsOf(out)[0]!.state, 'active', 'an inspection leaves the deploy state as it was');

    // A message about no server changes nothing.
    assert.equal(table({ payload: { powerState: 'on' } }), null);
  });

  test('"fleet table": inspections made by other flows (kept in the global context by ilo-inspect) fill the hardware column', () => {
    const globals = new Map<string, unknown>([['iloInspections', { 'server-2': { server: 'server-2', inspectedAt: 't', properties: { cpus: 32, memory_mb: 262144 }, capabilities: {} } }]]);
    const table = functionNode('fleet table', {}, globals);
    const rowsOf = (out: unknown): Row[] => (out as { payload: { rows: Row[] } }).payload.rows;
    let out = table({ topic: 'server-1', payload: { server: 'server-1', powerState: 'on' } });
    assert.equal(rowsOf(out)[0]!.hardware, undefined, 'server-1 was never inspected');
    out = table({ topic: 'server-2', payload: { server: 'server-2', powerState: 'off' } });
    assert.equal(rowsOf(out)[1]!.hardware, '32 CPUs, 256 GiB');
  });

  test('"button → request": power buttons to the power node, deploy and undeploy to the deploy node, inspect to the inspect node, anything else nowhere', () => {
    const router = functionNode('button → request');
    assert.deepEqual(router({ payload: { server: 'server-2', action: 'on' } }), [{ server: 'server-2', action: 'on' }, null, null]);
    assert.deepEqual(router({ payload: { server: 'server-2', action: 'off' } }), [{ server: 'server-2', action: 'off' }, null, null]);
    assert.deepEqual(router({ payload: { server: 'server-1', action: 'deploy', method: 'pxe_ilo', image: '/srv/img/a.img' } }), [
      null,
      { server: 'server-1', action: 'deploy', method: 'pxe_ilo', image: '/srv/img/a.img' },
      null,
    ]);
    assert.deepEqual(router({ payload: { server: 'server-1', action: 'undeploy' } }), [null, { server: 'server-1', action: 'undeploy' }, null]);
    assert.deepEqual(router({ payload: { server: 'server-3', action: 'inspect' } }), [null, null, { server: 'server-3' }]);
    assert.equal(router({ payload: { server: 'server-1', action: 'reset' } }), null);
    assert.equal(router({ payload: { action: 'on' } }), null);
  });
});
