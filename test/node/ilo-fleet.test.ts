/**
 * An ilo-fleet of simulated ProLiants and ilo-power set to "fleet, by name":
 * the power state of the whole fleet in one batch (one message per server,
 * failures included), one server by name, an unknown name refused with
 * code "not-found" before any iLO is contacted, per-server passwords the
 * editor staged, one shared client per server (with an ilo-config too), and
 * an import from a message that is all or nothing.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Node } from 'node-red';
import { boundedEach } from '../../nodes/common/servers';
import { readMap } from '../../nodes/ilo-fleet/secrets';
import type { IloFleetNode } from '../../nodes/ilo-fleet/types';
import { Fleet } from '../../sim/fleet';
import { helper, nextMessage } from '../helpers/node-red';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled node modules are CommonJS `export =` functions
const iloConfig = require('../../nodes/ilo-config/ilo-config');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
const iloFleet = require('../../nodes/ilo-fleet/ilo-fleet');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
const iloPower = require('../../nodes/ilo-power/ilo-power');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
const iloInventory = require('../../nodes/ilo-inventory/ilo-inventory');

const SERVERS = 12;
let sim: Fleet;

interface Out {
  payload: { server?: string; powerState?: string; error?: { code: string; message: string } };
  server?: string;
  topic?: string;
  keep?: string;
}

function rows() {
  return sim.ilos.map((ilo, i) => ({ id: `row${i}`, name: ilo.name, host: ilo.host, port: ilo.port, protocol: 'auto', tlsMode: 'pinned', fingerprint: ilo.fingerprint, macs: [], pool: i < 4 ? 'rack-a' : 'rack-b' }));
}

/** The fleet's default password is wrong; every server but the last has its own (staged by the editor). */
function flow(extra: Record<string, unknown> = {}) {
  const staged: Record<string, string> = {};
  sim.ilos.slice(0, SERVERS - 1).forEach((ilo, i) => (staged[`row${i}`] = ilo.password));
  return {
    flow: [
      { id: 'tab', type: 'tab', label: 'fleet' },
      { id: 'fleet', type: 'ilo-fleet', name: 'lab', servers: rows(), timeout: 10, maxInFlight: 3 },
      { id: 'p', type: 'ilo-power', z: 'tab', target: 'fleet', fleet: 'fleet', serverName: '', action: 'status', wait: true, waitTimeout: 10, pollInterval: 0.05, wires: [['out']], ...extra },
      { id: 'out', type: 'helper', z: 'tab' },
      { id: 'catch', type: 'catch', z: 'tab', scope: null, uncaught: false, x: 100, y: 200, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ],
    credentials: { fleet: { username: 'admin', password: 'not-the-password', staged: JSON.stringify(staged) } },
  };
}

function collect(node: Node, count: number): Promise<Out[]> {
  return new Promise((resolve, reject) => {
    const got: Out[] = [];
    const t = setTimeout(() => reject(new Error(`only ${got.length} of ${count} messages`)), 60_000);
    (node as unknown as NodeJS.EventEmitter).on('input', (m: Out) => {
      got.push(m);
      if (got.length === count) {
        clearTimeout(t);
        resolve(got);
      }
    });
  });
}

const requestsSoFar = (): number => sim.ilos.reduce((n, i) => n + i.server.requests.total, 0);

describe('ilo-fleet with ilo-power (simulated fleet)', () => {
  before(async () => {
    sim = await Fleet.start({ servers: SERVERS, models: ['gen9', 'gen10'], shareCertificate: true, timings: { powerOnMs: 50, postMs: 20, softOffMs: 50 } });
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await helper.stopServer();
    await sim.stop();
  });

  test('msg.server "*": one message per server with its power state; the one without a valid account reports its error', async () => {
    const { flow: f, credentials } = flow();
    await helper.load([iloConfig, iloFleet, iloPower], f, credentials);
    // The editor's staged passwords were folded into the stored map, keyed by server id.
    const stored = (helper.getNode('fleet') as unknown as { credentials: { secrets?: string; staged?: string } }).credentials;
    assert.equal(readMap(stored.secrets).size, SERVERS - 1);
    assert.equal(stored.staged, undefined);
    sim.get('server-5').server.powerOn();
    while (sim.get('server-5').server.powerState !== 'on') await new Promise((r) => setTimeout(r, 20));
    const all = collect(helper.getNode('out') as Node, SERVERS);
    helper.getNode('p').receive({ server: '*', keep: 'mine' } as never);
    const msgs = await all;
    assert.deepEqual(msgs.map((m) => m.server).sort(), sim.ilos.map((i) => i.name).sort(), 'one message per server');
    for (const m of msgs) {
      assert.equal(m.topic, m.server);
      assert.equal(m.keep, 'mine', 'each message is a copy of the input');
      if (m.server === `server-${SERVERS}`) {
        assert.equal(m.payload.error?.code, 'login', JSON.stringify(m.payload));
      } else {
        assert.equal(m.payload.server, m.server);
        assert.equal(m.payload.powerState, m.server === 'server-5' ? 'on' : 'off', m.server);
      }
    }
    const status = (helper.getNode('p') as unknown as { status: { lastCall: { args: Array<{ text: string }> } } }).status.lastCall.args[0];
    assert.equal(status?.text, `${SERVERS - 1} ok, 1 failed`);
  });

  test('one server by name works on the message itself; a pool is a batch', async () => {
    const { flow: f, credentials } = flow({ action: 'msg' });
    await helper.load([iloConfig, iloFleet, iloPower], f, credentials);
    const one = nextMessage<Out>(helper.getNode('out') as Node);
    helper.getNode('p').receive({ server: 'server-3', action: 'on', keep: 'same' } as never);
    const m = await one;
    assert.equal(m.payload.powerState, 'on');
    assert.equal(m.keep, 'same');
    assert.equal(sim.get('server-3').server.powerState, 'on');
    const pool = collect(helper.getNode('out') as Node, 4);
    helper.getNode('p').receive({ server: { pool: 'rack-a' }, action: 'status' } as never);
    assert.deepEqual((await pool).map((x) => x.server).sort(), ['server-1', 'server-2', 'server-3', 'server-4']);
  });

  test('an unknown name fails with code "not-found" naming it, before any iLO is asked anything', async () => {
    const { flow: f, credentials } = flow();
    await helper.load([iloConfig, iloFleet, iloPower], f, credentials);
    const before = requestsSoFar();
    const caught = nextMessage<{ error: { message: string; code: string } }>(helper.getNode('caught') as Node);
    helper.getNode('p').receive({ server: 'server-99' } as never);
    const e = (await caught).error;
    assert.equal(e.code, 'not-found');
    assert.match(e.message, /msg\.server: no server named "server-99" in fleet "lab"/);
    const caught2 = nextMessage<{ error: { message: string; code: string } }>(helper.getNode('caught') as Node);
    helper.getNode('p').receive({ server: ['server-1', 'nope-1', 'server-2', 'nope-2'] } as never);
    const e2 = (await caught2).error;
    assert.equal(e2.code, 'not-found');
    assert.match(e2.message, /"nope-1", "nope-2"/);
    assert.equal(requestsSoFar(), before, 'no iLO was contacted');
  });

  test('a fixed server name in the node wins over msg.server', async () => {
    const { flow: f, credentials } = flow({ serverName: 'server-2' });
    await helper.load([iloConfig, iloFleet, iloPower], f, credentials);
    const got = nextMessage<Out>(helper.getNode('out') as Node);
    helper.getNode('p').receive({ server: 'server-7' } as never);
    assert.equal((await got).payload.server, 'server-2');
  });

  test('one client per server: a fleet row and an ilo-config describing the same iLO share one Redfish session', async () => {
    const ilo = sim.get('server-2'); // gen10: Redfish, one session per client
    const { flow: f, credentials } = flow({ serverName: 'server-2' });
    f.push(
      { id: 'cfg', type: 'ilo-config', name: 'same iLO', host: ilo.host, port: ilo.port, protocol: 'auto', tlsMode: 'pinned', fingerprint: ilo.fingerprint, timeout: 10 } as never,
      { id: 'p2', type: 'ilo-power', z: 'tab', server: 'cfg', action: 'status', wires: [['out']] } as never,
    );
    await helper.load([iloConfig, iloFleet, iloPower], f, { ...credentials, cfg: { username: ilo.username, password: ilo.password } } as never);
    const sessionsBefore = ilo.server.sessions.size;
    for (const id of ['p', 'p2', 'p', 'p2']) {
      const got = nextMessage<Out>(helper.getNode('out') as Node);
      helper.getNode(id).receive({} as never);
      assert.equal((await got).payload.powerState, ilo.server.powerState);
    }
    assert.equal(ilo.server.sessions.size - sessionsBefore, 1, 'one session for both nodes');
  });

  test('an import from a message is checked whole: a bad row changes nothing, a good file is live at once', async () => {
    const { flow: f, credentials } = flow({ action: 'msg' });
    await helper.load([iloConfig, iloFleet, iloPower], f, credentials);
    const fleet = helper.getNode('fleet') as unknown as IloFleetNode;
    const extra = await Fleet.start({ servers: 1, prefix: 'late-' });
    try {
      const x = extra.ilos[0]!;
      const before = fleet.servers().map((s) => ({ ...s }));
      const badCsv = `name,ilo_address,client_port,ilo_username,ilo_password,ilo_tls_fingerprint\nlate-1,${x.host},${x.port},${x.username},${x.password},${x.fingerprint}\nserver-1,${x.host},99999,,,\n`;
      assert.throws(() => fleet.importInventory(badCsv, { format: 'csv' }), /line 3, client_port: expected a TCP port/);
      assert.deepEqual(fleet.servers(), before, 'nothing of the refused file was applied');
      assert.equal(fleet.lookup('late-1'), undefined);
      const plan = fleet.importInventory(badCsv.split('\n').slice(0, 2).join('\n'), { format: 'csv' });
      assert.deepEqual(plan.added, ['late-1']);
      const got = nextMessage<Out>(helper.getNode('out') as Node);
      helper.getNode('p').receive({ server: 'late-1', action: 'on' } as never);
      assert.equal((await got).payload.powerState, 'on');
      assert.equal(x.server.powerState, 'on');
      const exported = fleet.exportInventory('csv');
      assert.ok(exported.includes('late-1') && !exported.includes(x.password), 'export lists the server, not its password');
    } finally {
      await extra.stop();
    }
  });

  test('ilo-inventory: import from msg.payload (the file goes no further, a bad one names its line), export, list, discover', async () => {
    const { flow: f, credentials } = flow({ action: 'msg' });
    f.push({ id: 'inv', type: 'ilo-inventory', z: 'tab', fleet: 'fleet', action: 'msg', format: 'auto', mode: 'merge', range: '', timeout: 5, concurrency: 4, wires: [['invOut']] } as never, { id: 'invOut', type: 'helper', z: 'tab' } as never);
    await helper.load([iloConfig, iloFleet, iloPower, iloInventory], f, credentials);
    const extra = await Fleet.start({ servers: 1, prefix: 'msg-' });
    try {
      const x = extra.ilos[0]!;
      const good = `name,ilo_address,client_port,ilo_username,ilo_password,ilo_tls_fingerprint,pool\nmsg-1,${x.host},${x.port},${x.username},${x.password},${x.fingerprint},imported\n`;
      const caught = nextMessage<{ error: { message: string; code: string }; payload?: unknown }>(helper.getNode('caught') as Node);
      helper.getNode('inv').receive({ action: 'import', payload: `${good}broken,${x.host},99999,,,\n` } as never);
      const err = await caught;
      assert.equal(err.error.code, 'invalid-input');
      assert.match(err.error.message, /line 3, client_port: expected a TCP port between 1 and 65535$/, 'the line and field, not the file\'s value (it could be a shifted password)');
      assert.equal(err.payload, undefined, 'the file (and its passwords) is not passed to Catch nodes');
      assert.equal((helper.getNode('fleet') as unknown as IloFleetNode).lookup('msg-1'), undefined, 'nothing applied');

      const summary = nextMessage<{ payload: { added: string[]; servers: number } }>(helper.getNode('invOut') as Node);
      helper.getNode('inv').receive({ action: 'import', payload: Buffer.from(good) } as never);
      assert.deepEqual((await summary).payload, { fleet: 'lab', servers: SERVERS + 1, added: ['msg-1'], updated: [], removed: [] });
      const on = nextMessage<Out>(helper.getNode('out') as Node);
      helper.getNode('p').receive({ server: 'msg-1', action: 'on' } as never);
      assert.equal((await on).payload.powerState, 'on');

      const exported = nextMessage<{ payload: string; filename: string }>(helper.getNode('invOut') as Node);
      helper.getNode('inv').receive({ action: 'export', format: 'yaml' } as never);
      const e = await exported;
      assert.equal(e.filename, 'lab.yaml');
      assert.match(e.payload, /msg-1:\n\s+name: msg-1\n\s+driver: ilo/);
      assert.ok(!e.payload.includes(x.password) && !e.payload.includes(sim.ilos[0]!.password), 'no password exported');

      const listed = nextMessage<{ payload: Array<{ name: string; pool?: string; id?: string }> }>(helper.getNode('invOut') as Node);
      helper.getNode('inv').receive({ action: 'list' } as never);
      const l = (await listed).payload;
      assert.equal(l.length, SERVERS + 1);
      assert.equal(l.find((s) => s.name === 'msg-1')?.pool, 'imported');
      assert.equal(l[0]!.id, undefined, 'internal ids stay inside');

      const found = nextMessage<{ payload: Array<{ status: string; name?: string; inFleet?: boolean; serialNumber?: string }> }>(helper.getNode('invOut') as Node);
      helper.getNode('inv').receive({ action: 'discover', range: `${x.host}:${x.port}` } as never);
      const d = (await found).payload;
      assert.equal(d.length, 1);
      assert.deepEqual({ status: d[0]!.status, inFleet: d[0]!.inFleet, serial: d[0]!.serialNumber }, { status: 'ilo', inFleet: true, serial: x.server.identity.serialNumber });
    } finally {
      await extra.stop();
    }
  });

  test('a batch keeps at most the fleet\'s bound in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const abort = new AbortController();
    await boundedEach(Array.from({ length: 40 }, (_, i) => i), 3, abort.signal, async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
    });
    assert.equal(most, 3);
  });
});
