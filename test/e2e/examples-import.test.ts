/**
 * The example flows imported into a fresh Node-RED, as a user who installed
 * only this package (and, for the dashboard examples, Dashboard 2.0) would:
 * deployed through the Admin API as the editor does, they start without a
 * missing node type and without an error, and the deploy examples' HTTP API
 * answers. Running them against servers is what the demo test does.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadExampleFlows, wireToFleet } from '../../scripts/demo-files';
import { Fleet } from '../../sim/fleet';
import { EditorComms } from '../helpers/editor-comms';
import { repoRoot } from '../helpers/env';
import { NodeRedProcess, portFree } from '../helpers/node-red-process';
import { installedModuleDir } from '../helpers/node-types';

type FlowNode = Record<string, unknown> & { id: string; type: string };

const DASHBOARD = '@flowfuse/node-red-dashboard';
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string };
const flowsDir = join(repoRoot, 'examples', 'flows');
const readFlow = (dir: string, file: string): FlowNode[] => JSON.parse(readFileSync(join(dir, file), 'utf8')) as FlowNode[];
const deployExample = readdirSync(flowsDir).find((f) => /Deploy with agent_ilo, iscsi_ilo or pxe_ilo/.test(f)) ?? 'no deploy example';

/** The examples' media store listens on 127.0.0.1:8089; on a machine where that is taken, any free port (0). */
async function withStorePortFree(flows: FlowNode[]): Promise<FlowNode[]> {
  if (await portFree(8089)) return flows;
  process.stderr.write('\n!!! examples-import: 127.0.0.1:8089 is in use; the media store of the examples gets a free port instead\n');
  return flows.map((n) => (n.type === 'ilo-media-store' ? { ...n, port: '0' } : n));
}

/** Simulated iLOs for the examples that read from servers as soon as they start (health, the dashboard's status poll). */
async function wiredToFleet(flows: FlowNode[], fleet: Fleet, caFile: string): Promise<FlowNode[]> {
  const copy = JSON.parse(JSON.stringify(flows)) as FlowNode[];
  const creds = wireToFleet(copy, fleet.ilos, caFile);
  for (const n of copy) if (creds[n.id]) n.credentials = creds[n.id];
  return copy;
}

function assertNoErrors(log: string): void {
  const errors = log.split('\n').filter((l) => /\[error\]|\[warn\].*(media store|ilo-)/.test(l));
  assert.deepEqual(errors, [], 'Node-RED logged errors');
}

describe('the examples in a fresh Node-RED with only this package installed', () => {
  let red: NodeRedProcess;
  let fleet: Fleet;
  let caFile: string;

  before(async () => {
    // The dashboard is a dev dependency of this repository; a user of the core examples has only this package.
    red = await NodeRedProcess.start({ denyModules: [DASHBOARD] });
    // The demo's fleet: server-3 is a Gen8 whose second power supply has failed.
    fleet = await Fleet.start({ servers: 3, models: ['gen9', 'gen10', 'gen8'], timings: { powerOnMs: 100, postMs: 100, softOffMs: 100 } });
    fleet.get('server-3').server.health.set('Power Supply 2', 'Failed');
    caFile = join(red.userDir, 'fleet-ca.pem');
    writeFileSync(caFile, fleet.ca.cert);
  });
  after(async () => {
    await red?.stop();
    await fleet?.stop();
  });

  test('Node-RED has loaded only its core nodes and this package', async () => {
    assert.deepEqual(await red.modules(), ['node-red', pkg.name].sort());
  });

  test(`"${deployExample}" as shipped: starts without errors, its media store opens, POST/GET/DELETE /<method>/deploy answer for the three processes`, async () => {
    const flows = await withStorePortFree(readFlow(flowsDir, deployExample));
    const from = await red.deploy(flows);
    await red.waitForLog(/media store ready/, from, 15_000);
    for (const method of ['agent_ilo', 'iscsi_ilo', 'pxe_ilo']) {
      const post = (body: unknown): Promise<Response> =>
        fetch(`${red.url}/${method}/deploy`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const bad = await post({ server: 'server-1', bootMode: 'legacy' });
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { error: string }).error, /^bootMode: expected/);
      const unknown = await post({ server: 'db-7' });
      assert.equal(unknown.status, 404);
      const body = (await unknown.json()) as { error: string; code: string };
      assert.equal(body.code, 'not-found');
      assert.match(body.error, /^server: no server named "db-7"/);
      const none = await fetch(`${red.url}/${method}/deploy/0000`);
      assert.equal(none.status, 404);
      assert.equal(((await none.json()) as { code: string }).code, 'not-found');
      assert.equal((await fetch(`${red.url}/${method}/deploy/0000`, { method: 'DELETE' })).status, 404);
    }
    assert.equal((await fetch(`${red.url}/bogus_ilo/deploy/0000`)).status, 404, 'a path that names no process');
    assertNoErrors(red.output(from));
  });

  test('all core-only examples imported together (config nodes shared, URLs distinct) start and answer', async () => {
    const flows = await wiredToFleet(await withStorePortFree(loadExampleFlows(join(repoRoot, 'examples'), (dir) => dir === 'dashboard')), fleet, caFile);
    const from = await red.deploy(flows);
    await red.waitForLog(/media store ready/, from, 15_000);
    // "Fleet health and console" reads every server's health 2 s after the start, in one batch ("*"): server-3's supply has failed.
    const comms = await EditorComms.open(red.url);
    try {
      // The sidebar shows each server's summary (topic = its name); a long one arrives cut short, its "overall" comes first.
      const overallOf = (e: { data: Record<string, unknown> }): [string, string | undefined] => [String(e.data.topic), /"overall":"(\w+)"/.exec(String(e.data.msg))?.[1]];
      const read = await comms.until(
        () => {
          const got = comms.events.filter((e) => e.topic === 'debug' && e.data.id === 'health-debug');
          return got.length >= 3 ? got.map(overallOf) : undefined;
        },
        20_000,
        'the health reads',
      );
      assert.deepEqual(read.sort(), [['server-1', 'ok'], ['server-2', 'ok'], ['server-3', 'critical']]);
      await comms.until(() => comms.statuses('health-all').find((x) => x.text === '3 servers ok'), 10_000, 'the health node to count the batch');
    } finally {
      comms.close();
    }
    for (const method of ['agent_ilo', 'iscsi_ilo', 'pxe_ilo']) {
      const res = await fetch(`${red.url}/${method}/deploy`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(res.status, 400, method);
    }
    // The pool tab's own route (not the Deploy tab's /:method/deploy): nothing inspected yet, so no server has a boot mode.
    const pool = await fetch(`${red.url}/pool-deploy`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ server: { pool: 'demo', any: true, capabilities: { boot_mode: 'uefi' } }, method: 'agent_ilo' }),
    });
    const refused = (await pool.json()) as { code: string; pool: { servers: number; matched: number } };
    assert.equal(pool.status, 409, JSON.stringify(refused));
    assert.deepEqual([refused.code, refused.pool.servers, refused.pool.matched], ['conflict', 3, 0]);
    const other = await fetch(`${red.url}/pool-deploy`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ server: 'server-1', method: 'pxe_ilo' }) });
    assert.equal(other.status, 400, 'the pool tab deploys with agent_ilo only');
    assert.match(((await other.json()) as { error: string }).error, /^method: expected agent_ilo/);
    const health = await fetch(`${red.url}/servers/server-2/health`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { protocol: string }).protocol, 'redfish');
    assertNoErrors(red.output(from));
  });
});

const dashboardDir = installedModuleDir(DASHBOARD, repoRoot);
const dashboardSkip = dashboardDir ? false : `NOT RUN: ${DASHBOARD} is not installed (a dev dependency: npm install)`;
if (dashboardSkip) process.stderr.write(`\n!!! ${dashboardSkip}\n`);

describe('the dashboard examples in a fresh Node-RED with this package and Dashboard 2.0', () => {
  let red: NodeRedProcess | undefined;
  let fleet: Fleet | undefined;
  after(async () => {
    await red?.stop();
    await fleet?.stop();
  });

  test('each starts without errors, polls the fleet status and serves its page', { skip: dashboardSkip }, async () => {
    red = await NodeRedProcess.start();
    assert.deepEqual(await red.modules(), [DASHBOARD, 'node-red', pkg.name].sort());
    fleet = await Fleet.start({ servers: 3, models: ['gen9', 'gen10', 'gen8'] });
    const caFile = join(red.userDir, 'fleet-ca.pem');
    writeFileSync(caFile, fleet.ca.cert);
    const dir = join(repoRoot, 'examples', 'dashboard');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const flows = await wiredToFleet(await withStorePortFree(readFlow(dir, file)), fleet, caFile);
      const from = await red.deploy(flows);
      assert.match(red.output(from), /Dashboard 2\.0 .* started at \/dashboard/);
      // Two polls (every 3 s): every server's power and deploy state, through the fleet's nodes.
      await new Promise((r) => setTimeout(r, 7000));
      assertNoErrors(red.output(from));
      const page = (flows.find((n) => n.type === 'ui-page')?.path as string) ?? '';
      const res: Response = await fetch(`${red.url}/dashboard${page}`);
      assert.equal(res.status, 200, `${file}: GET /dashboard${page}`);
      assert.match(await res.text(), /<html/i);
    }
  });
});
