import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Node } from 'node-red';
import { requestSlotUsage, setMaxIloRequestsInFlight } from '../../lib/bmc';
import { Fleet } from '../../sim/fleet';
import { helper, nextMessage } from '../helpers/node-red';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled node modules are CommonJS `export =` functions
const iloConfig = require('../../nodes/ilo-config/ilo-config');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
const iloPower = require('../../nodes/ilo-power/ilo-power');

let fleet: Fleet;

function flowFor(opts: { action: string; wait?: boolean; pin?: string; password?: string; serverIndex?: number }) {
  const ilo = fleet.ilos[opts.serverIndex ?? 0]!;
  const flow = [
    { id: 'tab', type: 'tab', label: 'test' },
    { id: 'cfg', type: 'ilo-config', z: 'tab', name: ilo.name, host: ilo.host, port: ilo.port, protocol: 'ribcl', tlsMode: 'pinned', fingerprint: opts.pin ?? ilo.fingerprint, timeout: 10 },
    { id: 'p', type: 'ilo-power', z: 'tab', server: 'cfg', action: opts.action, wait: opts.wait ?? false, waitTimeout: 10, pollInterval: 0.05, wires: [['out']] },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'catch', type: 'catch', z: 'tab', scope: null, uncaught: false, x: 100, y: 200, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ];
  const credentials = { cfg: { username: ilo.username, password: opts.password ?? ilo.password } };
  return { flow, credentials, ilo };
}

describe('ilo-power node against the simulated fleet', () => {
  before(async () => {
    fleet = await Fleet.start({ servers: 2, timings: { powerOnMs: 150, postMs: 50, softOffMs: 150 } });
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await helper.stopServer();
    await fleet.stop();
  });

  test('powers a server on, waits, and reports the state in msg.payload and the status', async () => {
    const { flow, credentials, ilo } = flowFor({ action: 'on', wait: true });
    assert.equal(ilo.server.powerState, 'off');
    await helper.load([iloConfig, iloPower], flow, credentials);
    const out = helper.getNode('out') as Node;
    const received = nextMessage<{ payload: Record<string, unknown>; topic: string; keep: string }>(out);
    helper.getNode('p').receive({ payload: 'go', keep: 'mine' } as never);
    const msg = await received;
    assert.equal(msg.payload.powerState, 'on');
    assert.equal(msg.payload.action, 'on');
    assert.equal(msg.payload.waited, true);
    assert.equal(msg.topic, ilo.name);
    assert.equal(msg.keep, 'mine', 'the incoming msg is reused');
    assert.equal(ilo.server.powerState, 'on', 'the simulated server really is on');
    const statusSpy = (helper.getNode('p') as unknown as { status: { lastCall: { args: Array<{ fill: string; text: string }> } } }).status;
    assert.deepEqual(
      { fill: statusSpy.lastCall.args[0]?.fill, text: statusSpy.lastCall.args[0]?.text },
      { fill: 'green', text: 'on' },
    );
  });

  test('takes the action from msg.action and powers off (hard)', async () => {
    const { flow, credentials, ilo } = flowFor({ action: 'msg', wait: true });
    await helper.load([iloConfig, iloPower], flow, credentials);
    const received = nextMessage<{ payload: { powerState: string } }>(helper.getNode('out') as Node);
    helper.getNode('p').receive({ action: 'off' } as never);
    assert.equal((await received).payload.powerState, 'off');
    assert.equal(ilo.server.powerState, 'off');
  });

  test('soft-off whose OS refuses to shut down ends in a timeout error a Catch node sees', async () => {
    const { flow, credentials, ilo } = flowFor({ action: 'soft-off', wait: true });
    ilo.server.osHonoursShutdown = false;
    ilo.server.powerOn();
    await new Promise((r) => setTimeout(r, 400));
    flow[2] = { ...flow[2], waitTimeout: 0.5 } as (typeof flow)[number];
    await helper.load([iloConfig, iloPower], flow, credentials);
    const caught = nextMessage<{ error: { message: string } }>(helper.getNode('caught') as Node);
    helper.getNode('p').receive({} as never);
    const err = (await caught).error;
    assert.match(err.message, /operating system did not shut down/);
    assert.equal(ilo.server.powerState, 'on');
    ilo.server.osHonoursShutdown = true;
  });

  test('an unknown msg.action is an error naming msg.action', async () => {
    const { flow, credentials } = flowFor({ action: 'msg' });
    await helper.load([iloConfig, iloPower], flow, credentials);
    const caught = nextMessage<{ error: { message: string } }>(helper.getNode('caught') as Node);
    helper.getNode('p').receive({ action: 'explode' } as never);
    assert.match((await caught).error.message, /^BmcError: msg\.action: expected one of status, on, off, soft-off, reset, cold-boot \(got "explode"\)/);
  });

  test('a wrong password gives the iLO login error, without the password in it', async () => {
    const { flow, credentials } = flowFor({ action: 'status', password: 'Wr0ngPassw0rd' });
    await helper.load([iloConfig, iloPower], flow, credentials);
    const caught = nextMessage<{ error: { message: string } }>(helper.getNode('caught') as Node);
    helper.getNode('p').receive({} as never);
    const { message } = (await caught).error;
    assert.match(message, /iLO login failed: Login failed\./);
    assert.ok(!message.includes('Wr0ngPassw0rd'));
  });

  test('a certificate that does not match the pin is refused before any credential is sent', async () => {
    const wrongPin = 'AA'.repeat(32);
    const { flow, credentials, ilo } = flowFor({ action: 'status', pin: wrongPin });
    const before = ilo.server.requests.total;
    await helper.load([iloConfig, iloPower], flow, credentials);
    const caught = nextMessage<{ error: { message: string } }>(helper.getNode('caught') as Node);
    helper.getNode('p').receive({} as never);
    assert.match((await caught).error.message, /does not match the pinned fingerprint/);
    assert.equal(ilo.server.requests.total, before, 'no HTTP request reached the iLO');
  });

  test('no iLO configuration selected is an error naming the field', async () => {
    const { flow, credentials } = flowFor({ action: 'status' });
    (flow[2] as Record<string, unknown>).server = '';
    await helper.load([iloConfig, iloPower], flow, credentials);
    const caught = nextMessage<{ error: { message: string } }>(helper.getNode('caught') as Node);
    helper.getNode('p').receive({} as never);
    assert.match((await caught).error.message, /^BmcError: server: no iLO configuration/);
  });

  test('settings.js iloMaxRequestsInFlight bounds the iLO requests in flight; a bad value is refused with a warning', async () => {
    const before = requestSlotUsage().limit;
    try {
      helper.settings({ iloMaxRequestsInFlight: 8 } as Parameters<typeof helper.settings>[0]);
      const { flow, credentials } = flowFor({ action: 'status' });
      await helper.load([iloConfig, iloPower], flow, credentials);
      assert.equal(requestSlotUsage().limit, 8);
      await helper.unload();
      helper.settings({ iloMaxRequestsInFlight: 'lots' } as Parameters<typeof helper.settings>[0]);
      await helper.load([iloConfig, iloPower], flow, credentials);
      assert.equal(requestSlotUsage().limit, 8, 'unchanged');
    } finally {
      helper.settings({});
      setMaxIloRequestsInFlight(before);
    }
  });
});
