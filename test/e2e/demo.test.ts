/**
 * The README's main job: `npm start` brings up Node-RED with this package,
 * the example flows and a simulated fleet; the power and health endpoints
 * work, and every deploy process runs to `active` and back to `available`
 * with one click or one curl, its progress shown in the node status and
 * the debug sidebar.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HeadlessPage } from '../helpers/browser';
import { EditorComms } from '../helpers/editor-comms';
import { needTools, repoRoot } from '../helpers/env';
import { installedModuleDir } from '../helpers/node-types';

const dashboardSkip: string | false = installedModuleDir('@flowfuse/node-red-dashboard', repoRoot)
  ? false
  : (process.stderr.write('\n!!! NOT RUN: @flowfuse/node-red-dashboard is not installed\n'), 'NOT RUN: @flowfuse/node-red-dashboard is not installed (a dev dependency: npm install)');

/** iscsi_ilo and pxe_ilo write the image over iSCSI: a real tgtd (root only) and qemu-img with libiscsi. */
const iscsiSkip: string | false =
  needTools('tgtd', 'tgtadm', 'qemu-img') ||
  (process.getuid?.() === 0 ? false : (process.stderr.write('\n!!! NOT RUN: tgtd needs root\n'), 'NOT RUN: tgtd needs root'));

interface DeployStatusBody {
  deployId: string;
  server: string;
  method: string;
  action: string;
  state: string;
  step?: string;
  stepIndex?: number;
  stepCount: number;
  lastError?: string;
}

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
  let comms: EditorComms | undefined;

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
    comms = await EditorComms.open(`http://127.0.0.1:${port}`);
  });

  after(async () => {
    comms?.close();
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

  const base = (): string => `http://127.0.0.1:${port}`;
  const postDeploy = (method: string, body: unknown): Promise<Response> =>
    fetch(`${base()}/${method}/deploy`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const getJson = async <T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${base()}${path}`, init);
    return { status: res.status, body: (await res.json()) as T };
  };
  const powerState = async (server: string): Promise<string> => ((await (await post(server, { action: 'status' })).json()) as { powerState: string }).powerState;

  /** Poll GET <location> until `done(state)`; returns the last status and the steps seen on the way. */
  async function follow(location: string, done: (s: DeployStatusBody) => boolean, ms: number): Promise<{ last: DeployStatusBody; steps: Set<string> }> {
    const steps = new Set<string>();
    const end = Date.now() + ms;
    for (;;) {
      const { status, body } = await getJson<DeployStatusBody>(location);
      assert.equal(status, 200, JSON.stringify(body));
      if (body.stepIndex) steps.add(`${body.stepIndex}/${body.stepCount} ${body.step}`);
      if (done(body)) return { last: body, steps };
      if (Date.now() > end) throw new Error(`${location} still ${body.state} after ${ms} ms (steps seen: ${[...steps].join(', ')})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** One process over HTTP: POST -> 202 + Location, GET until active, DELETE -> 202, GET until available. */
  async function deployOverHttp(method: string, server: string, others: string[], extra: Record<string, unknown> = {}): Promise<void> {
    const res = await postDeploy(method, { server, ...extra });
    const accepted = (await res.json()) as DeployStatusBody;
    assert.equal(res.status, 202, JSON.stringify(accepted));
    const location = res.headers.get('location');
    assert.equal(location, `/${method}/deploy/${accepted.deployId}`);
    assert.deepEqual([accepted.server, accepted.method, accepted.action, accepted.state], [server, method, 'deploy', 'deploying']);

    const busy = await postDeploy(method, { server });
    assert.equal(busy.status, 409, 'a second deploy while the first runs');
    assert.match(((await busy.json()) as { error: string }).error, new RegExp(`${server} is busy: deploy ${accepted.deployId}`));

    const { last, steps } = await follow(location!, (s) => s.state === 'active' || s.state === 'deploy failed', 180_000);
    assert.equal(last.state, 'active', `${method} on ${server}: ${last.lastError}`);
    assert.ok(steps.size >= 2, `progress was reported step by step: ${[...steps].join(', ')}`);
    assert.equal(await powerState(server), 'on', 'the server runs the deployed instance');
    for (const other of others) assert.equal((await getJson(`/${other}/deploy/${accepted.deployId}`)).status, 404, `${other} does not report a ${method} deploy`);

    const over = await postDeploy(method, { server });
    assert.equal(over.status, 409);
    assert.match(((await over.json()) as { error: string }).error, /undeploy or rebuild it first/);

    const del = await getJson<DeployStatusBody>(location!, { method: 'DELETE' });
    assert.equal(del.status, 202, JSON.stringify(del.body));
    assert.equal(del.body.action, 'undeploy');
    const gone = await follow(location!, (s) => s.state === 'available' || s.state === 'error', 60_000);
    assert.equal(gone.last.state, 'available', gone.last.lastError);
    assert.equal(await powerState(server), 'off');
    const again = await getJson<{ error: string }>(location!, { method: 'DELETE' });
    assert.equal(again.status, 409);
    assert.match(again.body.error, /already undeployed/);
  }

  /** Click an inject button the way the editor does. */
  const click = async (nodeId: string): Promise<void> => {
    const res = await fetch(`${base()}/inject/${nodeId}`, { method: 'POST' });
    assert.equal(res.status, 200, `inject ${nodeId}: ${await res.text()}`);
  };

  interface Progress {
    deployId: string;
    server: string;
    method: string;
    state: string;
    stepIndex?: number;
    stepCount: number;
  }

  /**
   * One click on "deploy server-N with <method>" (the one fleet deploy node of the Deploy tab): the
   * debug sidebar's progress shows that server's steps up to "active"; then undeploy over HTTP.
   */
  async function deployWithOneClick(injectId: string, server: string, method: string, stepCount: number): Promise<void> {
    const c = comms!;
    const mine = (from: number): Progress[] => (c.debugOf('deploy-progress').slice(from) as Progress[]).filter((p) => p.server === server && p.method === method);
    const from = c.debugOf('deploy-progress').length;
    await click(injectId);
    const seen = await c.until(() => (mine(from).some((p) => p.state === 'active' || /fail|error/.test(p.state)) ? mine(from) : undefined), 180_000, `${server} to show active in the sidebar`);
    assert.equal(seen.at(-1)!.state, 'active', JSON.stringify(seen.at(-1)));
    assert.ok(seen.some((p) => p.stepIndex === 1), 'the sidebar showed step 1');
    assert.ok(seen.every((p) => p.stepCount === stepCount), `${stepCount} steps`);
    const location = `/${method}/deploy/${seen.at(-1)!.deployId}`;
    assert.equal((await getJson<DeployStatusBody>(location)).body.state, 'active');
    assert.equal((await getJson(location, { method: 'DELETE' })).status, 202);
    const end = Date.now() + 60_000;
    while ((await getJson<DeployStatusBody>(location)).body.state !== 'available') {
      if (Date.now() > end) throw new Error(`${location} not available after the undeploy`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  test('"every server: status" on the Power tab reads the whole simulated fleet in one batch, one result per server', async () => {
    const c = comms!;
    const from = c.debugOf('power-debug').length;
    await click('power-inj-status');
    const results = await c.until(() => {
      const got = c.debugOf('power-debug').slice(from) as Array<{ topic: string; payload: { server: string; powerState?: string; error?: unknown } }>;
      return got.length >= 3 ? got : undefined;
    }, 30_000, 'three power results');
    assert.deepEqual(results.map((r) => r.topic).sort(), ['server-1', 'server-2', 'server-3']);
    for (const r of results) {
      assert.equal(r.payload.server, r.topic);
      assert.equal(r.payload.error, undefined, JSON.stringify(r.payload));
      assert.equal(r.payload.powerState, await powerState(r.topic), `${r.topic}: the batch agrees with the server's own status`);
    }
    await c.until(() => c.statuses('power-fleet').find((x) => x.text === '3 servers ok'), 10_000, 'the node status to count 3 servers');
  });

  describe('deploys: one click or one curl per process', { concurrency: true }, () => {
    test('agent_ilo on server-1 (Gen9, RIBCL): curl POST/GET/DELETE, then the inject button', async () => {
      // With a config drive, as the example's comment shows it: a hostname, an SSH key and a static address.
      const configDrive = {
        meta_data: { hostname: 'web-1.example.org', public_keys: { ops: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOvUq7bQ ops@example.org' } },
        network_data: {
          links: [{ id: 'nic0', type: 'phy', ethernet_mac_address: '52:54:00:12:34:56' }],
          networks: [{ id: 'net0', link: 'nic0', type: 'ipv4', ip_address: '192.0.2.10', netmask: '255.255.255.0', gateway: '192.0.2.1' }],
          services: [{ type: 'dns', address: '192.0.2.53' }],
        },
      };
      await deployOverHttp('agent_ilo', 'server-1', ['iscsi_ilo', 'pxe_ilo'], { configDrive });
      await deployWithOneClick('deploy-inj-agent', 'server-1', 'agent_ilo', 12);
    });

    test('iscsi_ilo on server-2 (Gen10, Redfish): curl POST/GET/DELETE, the image written over a real tgtd iSCSI target', { skip: iscsiSkip }, async () => {
      await deployOverHttp('iscsi_ilo', 'server-2', ['agent_ilo', 'pxe_ilo']);
    });

    test('pxe_ilo on server-3 (Gen8): the inject button, then curl POST/GET/DELETE', { skip: iscsiSkip }, async () => {
      await deployWithOneClick('deploy-inj-pxe', 'server-3', 'pxe_ilo', 11);
      await deployOverHttp('pxe_ilo', 'server-3', ['agent_ilo', 'iscsi_ilo']);
    });

    test('bad requests answer with a JSON error and the right status, and start nothing', async () => {
      const cases: Array<[unknown, number, RegExp]> = [
        [{}, 400, /^server: expected the name of a server/],
        [{ server: 'server-1', bootMode: 'efi' }, 400, /^bootMode: expected "bios" or "uefi"/],
        [{ server: 'server-1', image: 42 }, 400, /^image: expected/],
        [{ server: 'server-1', colour: 'red' }, 400, /^colour: unknown field/],
        [{ server: 'server-1', configDrive: { meta_data: { hostname: 'web 1' } } }, 400, /^configDrive\.meta_data\.hostname: expected a host name/],
        [['server-1'], 400, /^body: expected a JSON object/],
        [{ server: 'server-9' }, 404, /no server named "server-9"/],
      ];
      for (const method of ['agent_ilo', 'iscsi_ilo', 'pxe_ilo']) {
        for (const [body, status, error] of cases) {
          const res = await postDeploy(method, body);
          assert.equal(res.status, status, `${method} ${JSON.stringify(body)}`);
          assert.match(((await res.json()) as { error: string }).error, error);
        }
        assert.equal((await getJson(`/${method}/deploy/no-such-deploy`)).status, 404);
        assert.equal((await getJson(`/${method}/deploy/no-such-deploy`, { method: 'DELETE' })).status, 404);
      }
    });
  });

  test('"status of every server" on the Deploy tab: one deploy status per server of the fleet, all available again', async () => {
    const c = comms!;
    const from = c.debugOf('deploy-result').length;
    await click('deploy-inj-status');
    const results = await c.until(() => {
      const got = c.debugOf('deploy-result').slice(from) as Array<{ topic: string; payload: { server: string; state: string } }>;
      return got.length >= 3 ? got : undefined;
    }, 30_000, 'three deploy statuses');
    assert.deepEqual(results.map((r) => [r.topic, r.payload.state]).sort(), [['server-1', 'available'], ['server-2', 'available'], ['server-3', 'available']]);
  });

  test('"Pools, inspection and cleaning": no UEFI server before inspection (409); "inspect every server"; POST /pool-deploy picks a UEFI server (202), to active; DELETE cleans it (cleaning, clean wait) back to available; the same with its buttons', async () => {
    const c = comms!;
    const ask = { server: { pool: 'demo', any: true, capabilities: { boot_mode: 'uefi' } }, method: 'agent_ilo' };
    const poolDeploy = (): Promise<Response> => fetch(`${base()}/pool-deploy`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ask) });

    // No server's boot mode is known yet: the pool has three servers, none matches.
    const none = await poolDeploy();
    const refused = (await none.json()) as { error: string; code: string; pool: { servers: number; matched: number } };
    assert.equal(none.status, 409, JSON.stringify(refused));
    assert.equal(refused.code, 'conflict');
    assert.deepEqual([refused.pool.servers, refused.pool.matched], [3, 0], refused.error);
    assert.match(refused.error, /pool "demo"/);

    // The button: one result per server in the sidebar (topic = the server), no refusal.
    const from = c.events.length;
    await click('pool-inj-inspect');
    const inspected = await c.until(() => {
      // (The 409 above reaches this sidebar too, through the tab's Catch: it has no topic.)
      const got = c.events.slice(from).filter((e) => e.topic === 'debug' && e.data.id === 'pool-result' && e.data.topic);
      return got.length >= 3 ? got : undefined;
    }, 60_000, 'three inspection results');
    assert.deepEqual(inspected.map((e) => String(e.data.topic)).sort(), ['server-1', 'server-2', 'server-3'], inspected.map((e) => `${String(e.data.topic)}: ${String(e.data.msg).slice(0, 400)}`).join('\n'));
    for (const e of inspected) assert.doesNotMatch(String(e.data.msg), /"error"/, String(e.data.msg).slice(0, 300));

    // Now the Gen9 and the Gen10 boot UEFI (the Gen8 legacy BIOS): one of them is picked and deployed.
    const res = await poolDeploy();
    const accepted = (await res.json()) as DeployStatusBody & { picked: { server: string; pool: string; servers: number; matched: number } };
    assert.equal(res.status, 202, JSON.stringify(accepted));
    assert.ok(['server-1', 'server-2'].includes(accepted.server), `picked ${accepted.server}`);
    assert.deepEqual([accepted.picked.server, accepted.picked.pool, accepted.picked.servers, accepted.picked.matched], [accepted.server, 'demo', 3, 2]);
    assert.deepEqual([accepted.method, accepted.action], ['agent_ilo', 'deploy']);
    const location = res.headers.get('location');
    assert.equal(location, `/pool-deploy/${accepted.deployId}`);
    const { last } = await follow(location!, (s) => s.state === 'active' || s.state === 'deploy failed', 180_000);
    assert.equal(last.state, 'active', last.lastError);
    assert.equal(await powerState(accepted.server), 'on');

    // Undeploy: the node cleans after it (the agent boots by virtual media, runs its clean steps), then powers off.
    const del = await getJson<DeployStatusBody>(location!, { method: 'DELETE' });
    assert.equal(del.status, 202, JSON.stringify(del.body));
    const states: string[] = [];
    const end = Date.now() + 180_000;
    for (;;) {
      const { body } = await getJson<DeployStatusBody>(location!);
      if (states.at(-1) !== body.state) states.push(body.state);
      if (['available', 'clean failed', 'error'].includes(body.state)) {
        assert.equal(body.state, 'available', `${body.lastError} (states: ${states.join(' -> ')})`);
        break;
      }
      if (Date.now() > end) throw new Error(`${location} still ${body.state} (states: ${states.join(' -> ')})`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(states.includes('cleaning') && states.includes('clean wait'), `went through cleaning and clean wait: ${states.join(' -> ')}`);
    assert.equal(await powerState(accepted.server), 'off', 'powered off after cleaning');

    // The same with the tab's buttons: the progress sidebar shows the server picked up to active, then its cleaning.
    type PoolProgress = Progress & { state: string };
    const progressFrom = c.debugOf('pool-progress').length;
    const progress = (): PoolProgress[] => c.debugOf('pool-progress').slice(progressFrom) as PoolProgress[];
    await click('pool-inj-deploy');
    const active = await c.until(() => progress().find((p) => p.state === 'active' || /fail|error/.test(p.state)), 180_000, 'the pool deploy button to reach active');
    assert.equal(active.state, 'active', JSON.stringify(active));
    assert.ok(['server-1', 'server-2'].includes(active.server), `picked ${active.server}`);
    await click('pool-inj-undeploy');
    const mine = (): string[] => progress().filter((p) => p.deployId === active.deployId).map((p) => p.state);
    await c.until(() => (mine().some((s) => s === 'available' || /fail|error/.test(s)) ? true : undefined), 180_000, `${active.server} to be cleaned`);
    const after = mine();
    assert.ok(after.includes('cleaning') && after.includes('clean wait'), `cleaned after the undeploy button: ${[...new Set(after)].join(', ')}`);
    assert.equal((await getJson<DeployStatusBody>(`/pool-deploy/${active.deployId}`)).body.state, 'available');
  });

  test('the fleet dashboard in a browser: every server with power, health and deploy state; deploy server-1 from its row to active (step bar on the way), undeploy after the confirmation, inspect server-2', { skip: needTools('chromium') || dashboardSkip }, async () => {
    assert.match(output, /Dashboard 2\.0 .* started at \/dashboard/, 'npm start loads the dashboard example when the dashboard is installed');
    const page = await HeadlessPage.open(`${base()}/dashboard/fleet`);
    try {
      const rows = `[...document.querySelectorAll('.ilo-fleet-table tbody tr')].map((tr) => ({ server: tr.dataset.server, power: tr.querySelector('.c-power').textContent.trim(), health: tr.querySelector('.c-health').textContent.trim(), state: tr.querySelector('.c-state').textContent.trim(), bars: tr.querySelectorAll('.p-step').length, error: tr.querySelector('.c-error').textContent.trim() }))`;
      type Row = { server: string; power: string; health: string; state: string; bars: number; error: string };
      const row = (server: string): string => `(${rows}).find((r) => r.server === ${JSON.stringify(server)})`;
      const filled = await page.waitFor<Row[]>(`(() => { const r = ${rows}; return r.length === 3 && r.every((x) => x.power !== '…' && x.health !== '…' && x.state !== '…') ? r : null; })()`, 30_000, 'the fleet table filled from the inventory');
      assert.deepEqual(filled.map((r) => r.server), ['server-1', 'server-2', 'server-3']);
      for (const r of filled) assert.equal(r.power, await powerState(r.server), `${r.server}: power as the iLO says`);
      assert.deepEqual(filled.map((r) => [r.health, r.state]), [['ok', 'available'], ['ok', 'available'], ['critical', 'available']], 'server-3 has a failed power supply');
      assert.ok(await page.evaluate<boolean>(`[...document.querySelectorAll('.ilo-fleet-image option')].some((o) => o.value.endsWith('/disk.img'))`), 'the image to deploy is offered');

      const click = (server: string, button: string): Promise<unknown> => page.evaluate(`document.querySelector('tr[data-server="${server}"] .${button}').click()`);
      await click('server-1', 'b-deploy');
      const working = await page.waitFor<Row>(`(() => { const r = ${row('server-1')}; return r.bars > 0 ? r : null; })()`, 60_000, 'a step progress bar on server-1');
      assert.match(working.state, /\(agent_ilo\)$/);
      await page.waitFor(`${row('server-1')}.state === 'active (agent_ilo)'`, 120_000, 'server-1 to be active in the table');
      assert.equal(await powerState('server-1'), 'on');
      // A second deploy of the same server is refused: its row shows why.
      await click('server-1', 'b-deploy');
      await page.waitFor(`/already|undeploy or rebuild/.test(${row('server-1')}.error)`, 15_000, 'the refusal in the last error column');

      // Undeploy asks first: nothing happens until "confirm undeploy".
      await click('server-1', 'b-undeploy');
      assert.ok(await page.waitFor<boolean>(`!!document.querySelector('tr[data-server="server-1"] .b-confirm')`, 5_000, 'the confirmation'));
      await click('server-1', 'b-cancel');
      await new Promise((r) => setTimeout(r, 3500));
      assert.equal((await page.evaluate<Row>(row('server-1'))).state, 'active (agent_ilo)', 'cancel undeploys nothing');
      await click('server-1', 'b-undeploy');
      await click('server-1', 'b-confirm');
      await page.waitFor(`${row('server-1')}.state === 'available'`, 60_000, 'server-1 to be available in the table');
      assert.equal(await powerState('server-1'), 'off');

      await click('server-2', 'b-on');
      await page.waitFor(`${row('server-2')}.power === 'on'`, 30_000, 'server-2 powered on from its row');
      await click('server-2', 'b-off');
      await page.waitFor(`${row('server-2')}.power === 'off'`, 30_000, 'server-2 powered off from its row');

      // Inspect from the row: the hardware column says what the iLO reported (server-2 is a Gen10: 2 x 16 cores, 8 x 16 GiB).
      await click('server-2', 'b-inspect');
      const hardware = await page.waitFor<string>(`(() => { const h = document.querySelector('tr[data-server="server-2"] .c-hardware').textContent.trim(); return h ? h : null; })()`, 30_000, 'the inspection in the hardware column');
      assert.match(hardware, /^\d+ CPUs, 128 GiB, \d+ GB disk, (uefi|bios)$/);
    } finally {
      await page.close();
    }
  });
});
