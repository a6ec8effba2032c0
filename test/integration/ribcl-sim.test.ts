import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { BmcError } from '../../lib/bmc/errors';
import { RibclBmc } from '../../lib/bmc/ribcl/provider';
import type { IloEndpoint } from '../../lib/bmc/endpoint';
import { Fleet, type SimIlo } from '../../sim/fleet';

let fleet: Fleet;
const clients: RibclBmc[] = [];

function client(ilo: SimIlo, over: Partial<IloEndpoint> = {}): RibclBmc {
  const c = new RibclBmc({
    host: ilo.host,
    port: ilo.port,
    username: ilo.username,
    password: ilo.password,
    tls: { mode: 'ca', ca: fleet.ca.cert },
    requestTimeoutMs: 2000,
    ...over,
  });
  clients.push(c);
  return c;
}

describe('RIBCL client against the simulated iLO', () => {
  before(async () => {
    fleet = await Fleet.start({ servers: 2, timings: { powerOnMs: 120, postMs: 60, softOffMs: 120 } });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    for (const i of fleet.ilos) i.server.faults.clear();
  });
  after(async () => {
    await fleet.stop();
  });

  test('power on, wait, hard off: the simulated host follows, one HTTPS request per action', async () => {
    const ilo = fleet.ilos[0]!;
    const bmc = client(ilo);
    assert.equal(await bmc.getPowerState(), 'off');
    const on = await bmc.powerOn();
    assert.equal(on.powerState, 'off', 'power-on takes time on the simulated host');
    assert.equal(await bmc.waitForPowerState('on', { timeoutMs: 3000, intervalMs: 30 }), 'on');
    assert.equal(ilo.server.powerState, 'on');
    const before = bmc.stats.requests;
    const off = await bmc.powerOff();
    assert.equal(bmc.stats.requests - before, 1, 'the action and its read-back share one request');
    assert.equal(off.powerState, 'off');
    assert.equal(ilo.server.powerState, 'off');
  });

  test('informational messages come back as warnings, not errors', async () => {
    const bmc = client(fleet.ilos[0]!);
    const r = await bmc.powerOff();
    assert.deepEqual(r.warnings, ['Host power is already OFF.']);
  });

  test('soft-off completes when the OS agrees, and not when it refuses', async () => {
    const ilo = fleet.ilos[1]!;
    const bmc = client(ilo);
    await bmc.powerOn();
    await bmc.waitForPowerState('on', { timeoutMs: 3000, intervalMs: 30 });
    await bmc.softPowerOff();
    assert.equal(await bmc.waitForPowerState('off', { timeoutMs: 3000, intervalMs: 30 }), 'off');

    await bmc.powerOn();
    await bmc.waitForPowerState('on', { timeoutMs: 3000, intervalMs: 30 });
    ilo.server.osHonoursShutdown = false;
    try {
      await bmc.softPowerOff();
      await assert.rejects(bmc.waitForPowerState('off', { timeoutMs: 400, intervalMs: 30 }), { code: 'timeout', message: /still on/ });
    } finally {
      ilo.server.osHonoursShutdown = true;
      await bmc.powerOff();
    }
  });

  test('reset of a stopped server powers it on; cold boot cycles a running one', async () => {
    const ilo = fleet.ilos[0]!;
    const bmc = client(ilo);
    await bmc.powerOff();
    await bmc.reset();
    assert.equal(await bmc.waitForPowerState('on', { timeoutMs: 3000, intervalMs: 30 }), 'on');
    const powerEvents: string[] = [];
    ilo.server.on('power', (p: string) => powerEvents.push(p));
    await bmc.coldBoot();
    await bmc.waitForPowerState('on', { timeoutMs: 3000, intervalMs: 30 });
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(powerEvents.slice(0, 2), ['off', 'on'], 'power went off, then on again');
    await bmc.powerOff();
  });

  test('TLS: CA, pinned and insecure (with a warning) connect; default verify refuses a self-signed iLO', async () => {
    const ilo = fleet.ilos[0]!;
    assert.equal(await client(ilo, { tls: { mode: 'pinned', fingerprint: ilo.fingerprint } }).getPowerState(), 'off');
    const warnings: string[] = [];
    assert.equal(await client(ilo, { tls: { mode: 'insecure' }, logger: { warn: (m) => warnings.push(m) } }).getPowerState(), 'off');
    assert.match(warnings.join('\n'), /TLS verification is OFF/);
    await assert.rejects(client(ilo, { tls: { mode: 'verify' } }).getPowerState(), { code: 'connection', message: /certificate was refused/ });
    await assert.rejects(client(ilo, { tls: { mode: 'pinned', fingerprint: fleet.ilos[1]!.fingerprint } }).getPowerState(), {
      code: 'connection',
      message: /does not match the pinned fingerprint/,
    });
  });

  test('a dropped connection is retried for a read, and not for a button press', async () => {
    const ilo = fleet.ilos[0]!;
    const bmc = client(ilo);
    ilo.server.faults.add({ kind: 'reset', times: 1 });
    assert.equal(await bmc.getPowerState(), 'off');
    assert.equal(bmc.stats.retries, 1);

    ilo.server.faults.add({ kind: 'reset', times: 1 });
    await assert.rejects(bmc.softPowerOff(), { code: 'connection' });
    assert.equal(bmc.stats.retries, 1, 'PRESS_PWR_BTN is not repeated: a second press could undo the first');
  });

  test('a hanging iLO ends in a timeout error, not a hang', async () => {
    const ilo = fleet.ilos[0]!;
    const bmc = client(ilo, { requestTimeoutMs: 300, retries: 0 });
    ilo.server.faults.add({ kind: 'hang', times: 1 });
    await assert.rejects(bmc.getPowerState(), (err: unknown) => err instanceof BmcError && err.code === 'timeout' && /did not answer in time/.test(err.message));
  });

  test('added latency is tolerated within the timeout', async () => {
    const ilo = fleet.ilos[0]!;
    ilo.server.faults.add({ kind: 'latency', ms: 200, times: 1 });
    assert.equal(await client(ilo).getPowerState(), 'off');
  });

  test('a fault with "after" lets that many matching requests through, then fires', async () => {
    const ilo = fleet.ilos[0]!;
    const bmc = client(ilo, { retries: 0 });
    ilo.server.faults.add({ kind: 'error', status: 0x0004, message: 'Internal error (simulated fault)', command: 'GET_HOST_POWER_STATUS', after: 2, times: 1 });
    await bmc.getLicence(); // another command: not counted
    assert.equal(await bmc.getPowerState(), 'off');
    assert.equal(await bmc.getPowerState(), 'off');
    await assert.rejects(bmc.getPowerState(), { message: /simulated fault/ });
    assert.equal(await bmc.getPowerState(), 'off', 'fired once');
  });

  test('a malformed reply is a protocol error', async () => {
    const ilo = fleet.ilos[0]!;
    ilo.server.faults.add({ kind: 'malformed', times: 1 });
    await assert.rejects(client(ilo).getPowerState(), { code: 'protocol' });
  });

  test('an injected RIBCL error status arrives typed, with the iLO message', async () => {
    const ilo = fleet.ilos[0]!;
    ilo.server.faults.add({ kind: 'error', status: 0x0088, message: 'The iLO subsystem is currently generating a Certificate Signing Request(CSR)', times: 1 });
    await assert.rejects(client(ilo).getPowerState(), { code: 'busy', reason: 'generating-csr', status: '0x0088' });
  });

  test('wrong credentials: a login error, and no retry (iLOs lock accounts)', async () => {
    const ilo = fleet.ilos[0]!;
    const bmc = client(ilo, { password: 'not-it' });
    const before = ilo.server.requests.ribcl;
    await assert.rejects(bmc.getPowerState(), { code: 'login', status: '0x005F' });
    assert.equal(ilo.server.requests.ribcl - before, 1);
  });

  test('bad endpoint settings are refused up front, naming the field', () => {
    const ilo = fleet.ilos[0]!;
    assert.throws(() => client(ilo, { host: 'bad host!' }), { code: 'invalid-input', field: 'host' });
    assert.throws(() => client(ilo, { port: 70000 }), { code: 'invalid-input', field: 'port' });
    assert.throws(() => client(ilo, { tls: { mode: 'pinned', fingerprint: 'abc' } }), { code: 'invalid-input', field: 'tls.fingerprint' });
    assert.throws(() => client(ilo, { tls: { mode: 'ca' } }), { code: 'invalid-input', field: 'tls.ca' });
    assert.throws(() => client(ilo, { password: 'a"b' }), { code: 'invalid-input', field: 'password' });
  });
});
