/**
 * The README's main job: `npm start` brings up Node-RED with this package,
 * the example flows and a simulated fleet, and the power endpoint works.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoRoot } from '../helpers/env';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('npm start (the demo)', () => {
  let child: ChildProcess;
  let port: number;
  let dir: string;
  let output = '';

  before(async () => {
    port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'ilo-demo-'));
    child = spawn(process.execPath, [join(repoRoot, 'dist', 'scripts', 'start.js')], {
      env: { ...process.env, PORT: String(port), ILO_DEMO_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 60_000;
    while (!output.includes('Stop with Ctrl-C')) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the demo did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGINT');
      await once(child, 'exit');
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const post = (server: string, body: unknown): Promise<Response> =>
    fetch(`http://127.0.0.1:${port}/servers/${server}/power`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  test('the editor answers and loads the ilo nodes from this package', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/nodes`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 200);
    const sets = (await res.json()) as Array<{ module: string; types: string[] }>;
    const ours = sets.filter((s) => s.module === 'node-red-contrib-ilo-deploy').flatMap((s) => s.types);
    for (const type of ['ilo-config', 'ilo-power', 'ilo-virtual-media', 'ilo-boot-mode', 'ilo-health']) assert.ok(ours.includes(type), `registered: ${ours.join(', ')}`);
    assert.match(output, /Started flows/);
    assert.doesNotMatch(output, /\[error\]/);
  });

  test('POST /servers/server-1/power powers the simulated server on and reports it', async () => {
    const res = await post('server-1', { action: 'on', wait: true });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { powerState: string; server: string };
    assert.equal(body.server, 'server-1');
    assert.equal(body.powerState, 'on');
    const status = (await (await post('server-1', { action: 'status' })).json()) as { powerState: string };
    assert.equal(status.powerState, 'on');
    assert.equal((await post('server-1', { action: 'off', wait: true })).status, 200);
  });

  test('a bad action answers 400 naming the field; an unknown server 404', async () => {
    const bad = await post('server-2', { action: 'explode' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /msg\.action: expected one of/);
    assert.equal((await post('server-9', { action: 'status' })).status, 404);
  });

  test('GET /servers/<name>/health across the mixed fleet: Gen9 over RIBCL, Gen10 over Redfish, the Gen8 with a failed supply', async () => {
    const health = async (name: string): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await fetch(`http://127.0.0.1:${port}/servers/${name}/health`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const one = await health('server-1');
    assert.equal(one.status, 200);
    assert.deepEqual([one.body.protocol, one.body.overall, (one.body.host as { generation: string }).generation], ['ribcl', 'ok', 'Gen9']);
    const two = await health('server-2');
    assert.deepEqual([two.body.protocol, two.body.overall, (two.body.host as { generation: string }).generation], ['redfish', 'ok', 'Gen10']);
    const three = await health('server-3');
    assert.equal(three.body.overall, 'critical');
    assert.deepEqual(three.body.unhealthy, ['Power Supply 2', 'power_supplies']);
    assert.equal((await health('server-9')).status, 404);
    assert.doesNotMatch(output, /\[error\]/);
  });
});
