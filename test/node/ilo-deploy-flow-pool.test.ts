/**
 * ilo-deploy-flow picking a server of a pool: `http in -> ilo-deploy-flow ->
 * http response` with a fleet whose entries carry pools and capabilities,
 * and an ilo-inspect node whose inspection gives the properties (memory_mb…)
 * the requests ask for; then the same with ilo-config nodes carrying their
 * own pool and capabilities. Against the simulated fleet and its ramdisks.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Node, NodeAPI } from 'node-red';
import type { Fleet } from '../../sim/fleet';
import type { SimRamdisk } from '../../sim/ramdisk/boot';
import { makeImage, until } from '../helpers/deploy-lab';
import { startDeployNodeLab, type DeployNodeLab } from '../helpers/deploy-node-lab';
import { helper, nextMessage } from '../helpers/node-red';

const nodes = [
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled node modules are CommonJS `export =` functions
  ...['ilo-config', 'ilo-fleet', 'ilo-inspect', 'ilo-media-store', 'ilo-deploy-flow'].map((n) => require(`../../nodes/${n}/${n}`) as unknown),
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- Node-RED's own http in / http response nodes
  require('@node-red/nodes/core/network/21-httpin.js') as unknown,
];

let RED: NodeAPI | undefined;
const captureRed = (r: NodeAPI): void => {
  RED = r;
};

interface Status {
  deployId: string;
  server: string;
  state: string;
  lastError?: string;
  picked?: { server: string; pool?: string; servers: number; matched: number };
}
interface Refusal {
  error: string;
  code: string;
  field?: string;
  pool?: { pool?: string; servers: number; matched: number; busy: Array<{ server: string; state: string }>; unmatched: Array<{ server: string; reason: string }> };
}

describe('ilo-deploy-flow: a pool deploy over HTTP', () => {
  let dir: string;
  let fleet: Fleet;
  let ramdisks: SimRamdisk[];
  let lab: DeployNodeLab | undefined;
  let base: string;
  let deployIso: string;
  let image: string;
  const POOLS = ['rack-a', 'rack-a', 'rack-b'];
  const CAPS = ['disk_tier:ssd', 'disk_tier:hdd', 'disk_tier:ssd'];
  /** What the operator states in the inventory wins over what inspection finds (server-3 has 128 GiB). */
  const PROPS = [undefined, undefined, 'memory_mb:999999'];

  function deployNode(over: Record<string, unknown>): Record<string, unknown> {
    return {
      id: 'd',
      type: 'ilo-deploy-flow',
      z: 'tab',
      store: 'store',
      method: 'msg',
      action: 'msg',
      image,
      imageType: 'str',
      deployIso,
      deployIsoType: 'str',
      respond: 'started',
      apiUrl: `${base}/ilo-deploy`,
      callbackTimeout: 20,
      powerTimeout: 15,
      wires: [['out', 'result'], []],
      ...over,
    };
  }

  function common(): unknown[] {
    return [
      { id: 'tab', type: 'tab', label: 'test' },
      { id: 'store', type: 'ilo-media-store', name: 'media', storeType: 'builtin', host: '127.0.0.1', port: 0, stateDir: join(dir, 'store'), fileRoots: dir },
      { id: 'in-post', type: 'http in', z: 'tab', url: '/:method/deploy', method: 'post', upload: false, wires: [['d']] },
      { id: 'in-get', type: 'http in', z: 'tab', url: '/:method/deploy/:id', method: 'get', upload: false, wires: [['d']] },
      { id: 'in-delete', type: 'http in', z: 'tab', url: '/:method/deploy/:id', method: 'delete', upload: false, wires: [['d']] },
      { id: 'out', type: 'http response', z: 'tab', statusCode: '', headers: {} },
      { id: 'result', type: 'helper', z: 'tab' },
    ];
  }

  function fleetFlow(): { flow: unknown[]; credentials: Record<string, unknown> } {
    const servers = fleet.ilos.map((ilo, i) => ({ id: `s${i + 1}`, name: ilo.name, host: ilo.host, port: ilo.port, protocol: 'auto', tlsMode: 'pinned', fingerprint: ilo.fingerprint, macs: [], pool: POOLS[i], capabilities: CAPS[i], ...(PROPS[i] ? { properties: PROPS[i] } : {}) }));
    return {
      flow: [
        ...common(),
        { id: 'fleet', type: 'ilo-fleet', name: 'lab', servers, timeout: '10', maxInFlight: '3' },
        { id: 'inspect', type: 'ilo-inspect', z: 'tab', target: 'fleet', fleet: 'fleet', serverName: '', wires: [['inspected']] },
        { id: 'inspected', type: 'helper', z: 'tab' },
        { id: 'catcher', type: 'catch', z: 'tab', scope: ['inspect'], uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'tab' },
        deployNode({ target: 'fleet', fleet: 'fleet', serverName: '' }),
      ],
      credentials: { fleet: { username: fleet.ilos[0]!.username, password: fleet.ilos[0]!.password } },
    };
  }

  const call = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; location: string | null; body: T }> => {
    const res = await fetch(`${base}${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
    const text = await res.text();
    try {
      return { status: res.status, location: res.headers.get('location'), body: JSON.parse(text) as T };
    } catch {
      throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    }
  };
  const settled = async (location: string, states = ['active', 'deploy failed', 'available', 'error']): Promise<Status> => {
    let last: Status | undefined;
    await until(async () => {
      last = (await call<Status>('GET', location)).body;
      return states.includes(last.state);
    }, 60_000, `${location} to settle`);
    return last!;
  };
  const undeploy = async (s: Status): Promise<void> => {
    const loc = `/agent_ilo/deploy/${s.deployId}`;
    assert.equal((await call('DELETE', loc)).status, 202);
    assert.equal((await settled(loc, ['available', 'error'])).state, 'available');
  };

  before(async () => {
    lab = await startDeployNodeLab({
      prefix: 'deploy-pool-node-',
      fleet: { servers: 3, models: ['gen9', 'gen10', 'gen10'], username: 'admin', password: 'fleet-pass-1', timings: { powerOnMs: 60, postMs: 60, softOffMs: 60 } },
      ramdiskSubnet: 97,
      captureRed,
      red: () => RED,
    });
    ({ dir, fleet, ramdisks, deployIso, base } = lab);
    image = makeImage(dir, 'pool.img').path;
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await lab?.stop();
  });

  test('fleet: 409 before inspection (no memory known), inspect, then 202 naming the server picked, 409 while it is active, bad picks 400/404, concurrent requests get distinct servers', async () => {
    const { flow, credentials } = fleetFlow();
    await helper.load([...nodes, captureRed] as never, flow as never, credentials);
    const wanted = { pool: 'rack-a', any: true, capabilities: { disk_tier: 'ssd' }, properties: { memory_mb: '>= 65536' } };

    // Only the deploy node picks one server: another node refuses the pick, naming it ({ pool } alone is its batch).
    const refused = nextMessage<{ error: { message: string } }>(helper.getNode('caught') as unknown as Node);
    helper.getNode('inspect').receive({ server: wanted } as never);
    assert.match((await refused).error.message, /msg\.server\.any: only the ilo-deploy-flow node picks one server of a pool/);

    const unknown = await call<Refusal>('POST', '/agent_ilo/deploy', { server: wanted });
    assert.equal(unknown.status, 409, JSON.stringify(unknown.body));
    assert.equal(unknown.body.code, 'conflict');
    assert.match(unknown.body.error, /^no server of pool "rack-a" is available for disk_tier=ssd, memory_mb >= 65536: 2 in the pool, 0 match the requirements, 0 of them busy$/);
    assert.deepEqual(unknown.body.pool?.unmatched, [
      { server: 'server-1', reason: 'memory_mb >= 65536 (it has none)' },
      { server: 'server-2', reason: 'disk_tier ssd (it has "hdd")' },
    ]);

    // An inspection of every server gives the fleet their properties (and adds the inspected capabilities).
    const out = helper.getNode('inspected') as unknown as NodeJS.EventEmitter;
    const three = new Promise<void>((resolve) => {
      let n = 0;
      out.on('input', () => ++n === 3 && resolve());
    });
    helper.getNode('inspect').receive({ server: '*' } as never);
    await three;

    const accepted = await call<Status>('POST', '/agent_ilo/deploy', { server: wanted });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    assert.equal(accepted.body.server, 'server-1');
    assert.deepEqual(accepted.body.picked, { server: 'server-1', pool: 'rack-a', servers: 2, matched: 1 });
    assert.equal(accepted.location, `/agent_ilo/deploy/${accepted.body.deployId}`);
    const done = await settled(accepted.location!);
    assert.equal(done.state, 'active', done.lastError);
    assert.equal(fleet.ilos[0]!.server.powerState, 'on');
    assert.ok(ramdisks[0]!.written, 'the image was written on the server picked');

    // The agent's in-band inventory is kept beside the inspection: the next inspection of server-1 carries it.
    const inspectedAgain = nextMessage<{ payload: { server: string; memoryMb: number; agentInventory?: { deployId: string; inventory: { memory?: { physical_mb?: number } } } } }>(helper.getNode('inspected') as unknown as Node);
    helper.getNode('inspect').receive({ server: 'server-1' } as never);
    const again = (await inspectedAgain).payload;
    assert.equal(again.agentInventory?.deployId, accepted.body.deployId, 'the inventory of the deploy that ran');
    assert.equal(again.agentInventory?.inventory.memory?.physical_mb, again.memoryMb, 'in band and out of band agree on the memory');

    const taken = await call<Refusal>('POST', '/agent_ilo/deploy', { server: wanted });
    assert.equal(taken.status, 409);
    assert.deepEqual(taken.body.pool?.busy, [{ server: 'server-1', state: 'active' }]);
    assert.match(taken.body.error, /1 match the requirements, 1 of them busy \(server-1: active\)/);

    const bad: Array<[unknown, number, string, RegExp]> = [
      [{ pool: 'rack-a', capabilities: { disk_tier: 'ssd' } }, 400, 'server.any', /^server\.any: expected true to pick one free server/],
      [{ pool: 'rack-a', any: true, properties: { memory_mb: '>= lots' } }, 400, 'server.properties.memory_mb', /expected a number after ">="/],
      [{ pool: 'rack-a', any: true, colour: 'red' }, 400, 'server.colour', /unknown field/],
      [{ pool: 'nowhere', any: true }, 404, 'server.pool', /^server\.pool: no server named "pool nowhere"/],
    ];
    for (const [server, status, field, message] of bad) {
      const r = await call<Refusal>('POST', '/agent_ilo/deploy', { server });
      assert.equal(r.status, status, `${JSON.stringify(server)}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.field, field);
      assert.match(r.body.error, message);
    }

    // Five requests at once on the whole fleet (no pool), server-1 undeployed first: three servers free, each given once, two requests refused.
    await undeploy(accepted.body);
    const many = await Promise.all(Array.from({ length: 5 }, () => call<Status & Refusal>('POST', '/agent_ilo/deploy', { server: { any: true, properties: { memory_mb: '>= 65536' } } })));
    const got = many.filter((r) => r.status === 202).map((r) => r.body.server);
    assert.equal(new Set(got).size, got.length, `a server was given twice: ${got.join(', ')}`);
    assert.deepEqual(got.sort(), ['server-1', 'server-2', 'server-3']);
    assert.deepEqual(
      many.filter((r) => r.status !== 202).map((r) => [r.status, r.body.code]),
      [
        [409, 'conflict'],
        [409, 'conflict'],
      ],
    );
    for (const r of many.filter((x) => x.status === 202)) assert.equal((await settled(r.location!)).state, 'active');

    // A message (not HTTP) picks too: msg.picked and msg.payload.picked name the server.
    for (const r of many.filter((x) => x.status === 202)) await undeploy(r.body);
    const result = helper.getNode('result') as unknown as Node;
    const next = nextMessage<{ picked?: { server: string }; payload: Refusal }>(result);
    helper.getNode('d').receive({ action: 'deploy', method: 'agent_ilo', server: { pool: 'rack-b', any: true } } as never);
    const msg = await next;
    assert.equal(msg.picked?.server, 'server-3', JSON.stringify(msg.payload));
    await settled(`/agent_ilo/deploy/${(msg.payload as unknown as Status).deployId}`);
    await undeploy(msg.payload as unknown as Status);

    // Properties set in the inventory are matched before what inspection found.
    const stated = await call<Status>('POST', '/agent_ilo/deploy', { server: { any: true, properties: { memory_mb: '>= 500000' } } });
    assert.equal(stated.status, 202, JSON.stringify(stated.body));
    assert.deepEqual(stated.body.picked, { server: 'server-3', servers: 3, matched: 1 });
    assert.equal((await settled(stated.location!)).state, 'active');
    await undeploy(stated.body);

    // Root device hints: a server none of whose inspected disks match is passed over, not a reason to stop.
    // rack-a: server-1 (Gen9, volumes of 279 and 447 GiB) fits best, server-2 (Gen10) has a 1788 GiB volume.
    const none = await call<Refusal>('POST', '/agent_ilo/deploy', { server: { pool: 'rack-a', any: true }, rootDeviceHints: { size: '>= 5000' } });
    assert.equal(none.status, 409, JSON.stringify(none.body));
    assert.equal(none.body.pool?.matched, 0);
    assert.deepEqual(none.body.pool?.unmatched.map((u) => u.server), ['server-1', 'server-2']);
    for (const u of none.body.pool?.unmatched ?? []) assert.match(u.reason, /^rootDeviceHints: No suitable device was found .* of server-\d; inspect it again/);
    const hinted = await call<Status>('POST', '/agent_ilo/deploy', { server: { pool: 'rack-a', any: true }, rootDeviceHints: { size: '>= 1000' } });
    assert.equal(hinted.status, 202, JSON.stringify(hinted.body));
    assert.deepEqual(hinted.body.picked, { server: 'server-2', pool: 'rack-a', servers: 2, matched: 1 }, 'server-1 was passed over for its disks');
    assert.equal((await settled(hinted.location!)).state, 'active');
    await undeploy(hinted.body);
  });

  test('ilo-config nodes: the pool and capabilities set on each configuration are what a pool deploy picks by', async () => {
    const configs = fleet.ilos.map((ilo, i) => ({
      id: `cfg${i + 1}`,
      type: 'ilo-config',
      name: ilo.name,
      host: ilo.host,
      port: ilo.port,
      protocol: 'auto',
      tlsMode: 'pinned',
      fingerprint: ilo.fingerprint,
      timeout: 10,
      pool: 'rack-c',
      capabilities: i === 1 ? 'boot_mode:uefi,gpu:none' : 'boot_mode:uefi,gpu:a100',
      properties: i === 2 ? 'memory_mb:524288' : 'memory_mb:131072',
    }));
    const credentials = Object.fromEntries(configs.map((c, i) => [c.id, { username: fleet.ilos[i]!.username, password: fleet.ilos[i]!.password }]));
    await helper.load([...nodes, captureRed] as never, [...common(), ...configs, deployNode({ target: 'config', server: 'cfg1' })] as never, credentials);
    const accepted = await call<Status>('POST', '/agent_ilo/deploy', { server: { pool: 'rack-c', any: true, capabilities: { gpu: 'a100' }, properties: { memory_mb: '>= 65536' } } });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    assert.equal(accepted.body.server, 'server-1', 'best fit: server-3 has more memory than needed, server-2 has no GPU');
    assert.deepEqual(accepted.body.picked, { server: 'server-1', pool: 'rack-c', servers: 3, matched: 2 });
    const big = await call<Status>('POST', '/agent_ilo/deploy', { server: { pool: 'rack-c', any: true, properties: { memory_mb: '>= 262144' } } });
    assert.equal(big.status, 202, JSON.stringify(big.body));
    assert.equal(big.body.server, 'server-3');
    for (const s of [accepted, big]) assert.equal((await settled(s.location!)).state, 'active');
    const none = await call<Refusal>('POST', '/agent_ilo/deploy', { server: { pool: 'rack-c', any: true, capabilities: { gpu: 'a100' } } });
    assert.equal(none.status, 409);
    assert.deepEqual(
      none.body.pool?.busy.map((b) => `${b.server}:${b.state}`),
      ['server-1:active', 'server-3:active'],
    );
    for (const s of [accepted, big]) await undeploy(s.body);
  });
});
