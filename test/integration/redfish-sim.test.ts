/**
 * The Redfish client's protocol behaviour against the simulated iLO 5:
 * sessions, basic auth, expiry, redirects, ETags, errors, and the "auto"
 * protocol choice.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { createBmc, probeProtocol } from '../../lib/bmc/connect';
import type { IloEndpoint } from '../../lib/bmc/endpoint';
import { RedfishBmc } from '../../lib/bmc/redfish/provider';
import { RibclBmc } from '../../lib/bmc/ribcl/provider';
import { IloHttpClient } from '../../lib/bmc/transport';
import type { Bmc } from '../../lib/bmc/types';
import { Fleet, type SimIlo } from '../../sim/fleet';
import { closedPort } from '../helpers/ports';

let fleet: Fleet;
const open: Array<{ close(): Promise<void> }> = [];

function endpoint(ilo: SimIlo, over: Partial<IloEndpoint> = {}): IloEndpoint {
  return { host: ilo.host, port: ilo.port, username: ilo.username, password: ilo.password, tls: { mode: 'ca', ca: fleet.ca.cert }, requestTimeoutMs: 3000, ...over };
}

function redfish(ilo: SimIlo, over: Partial<IloEndpoint> = {}): RedfishBmc {
  const c = new RedfishBmc(endpoint(ilo, over));
  open.push(c);
  return c;
}

describe('Redfish client against the simulated iLO 5', () => {
  before(async () => {
    fleet = await Fleet.start({ servers: 4, models: ['gen10', 'gen10', 'gen9', 'gen8'], timings: { powerOnMs: 40, postMs: 60 } });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    for (const i of fleet.ilos) i.server.resetState();
  });
  after(async () => {
    await fleet?.stop();
  });

  test('one session per client, reused for every call, deleted on close', async () => {
    const ilo = fleet.ilos[0]!;
    const bmc = redfish(ilo);
    await bmc.getPowerState();
    await bmc.getVirtualMediaStatus('cdrom');
    await bmc.getHealth();
    assert.equal(ilo.server.sessions.size, 1, 'one session for many calls');
    await bmc.close();
    assert.equal(ilo.server.sessions.size, 0, 'logged out');
    await assert.rejects(bmc.getPowerState(), { code: 'connection', message: /closed/ });
  });

  test('basic auth opens no session', async () => {
    const ilo = fleet.ilos[0]!;
    const bmc = redfish(ilo, { redfishAuth: 'basic' });
    assert.equal(await bmc.getPowerState(), 'off');
    assert.equal(await bmc.getOneTimeBoot(), 'normal');
    assert.equal(ilo.server.sessions.size, 0);
  });

  test('an expired session is replaced once, and the call goes through', async () => {
    const ilo = fleet.ilos[0]!;
    const bmc = redfish(ilo);
    await bmc.getPowerState();
    ilo.server.sessions.clear(); // the iLO forgot it (timeout, iLO reset)
    assert.equal(await bmc.getPowerState(), 'off');
    assert.equal(ilo.server.sessions.size, 1);
  });

  test('wrong credentials: a login error without the password, and no retry', async () => {
    const ilo = fleet.ilos[0]!;
    const bmc = redfish(ilo, { password: 'Wr0ng"&<pass' });
    const before = ilo.server.requests.redfish;
    await assert.rejects(bmc.getPowerState(), (err: unknown) => {
      const e = err as { code: string; message: string };
      assert.equal(e.code, 'login');
      assert.ok(!e.message.includes('Wr0ng'));
      return true;
    });
    assert.ok(ilo.server.requests.redfish - before <= 2, 'service root and one login at most');
    assert.equal(ilo.server.sessions.size, 0);
  });

  test('a password with & < " works over Redfish (JSON), unlike RIBCL', async () => {
    const ilo = fleet.ilos[1]!;
    const old = ilo.server.password;
    ilo.server.password = 'a&b<c"d';
    try {
      assert.equal(await redfish(ilo, { password: 'a&b<c"d' }).getPowerState(), 'off');
      assert.throws(() => new RibclBmc(endpoint(ilo, { password: 'a&b<c"d' })), { code: 'invalid-input', field: 'password' });
    } finally {
      ilo.server.password = old;
    }
  });

  test('too many sessions: a busy error, not a login error', async () => {
    const ilo = fleet.ilos[1]!;
    for (let i = 0; i < 16; i++) ilo.server.sessions.set(`t${i}`, { id: `s${i}`, token: `t${i}`, username: 'x', created: Date.now(), lastUsed: Date.now() });
    await assert.rejects(redfish(ilo).getPowerState(), { code: 'busy', reason: 'rate-limited' });
    ilo.server.sessions.clear();
  });

  test("the session limit behaves like iLO's: Basic waits for a free session too; a logout or the idle timeout (SessionService.SessionTimeout) frees one", async () => {
    const ilo = fleet.ilos[1]!;
    const clients = Array.from({ length: 16 }, () => redfish(ilo));
    for (const c of clients) await c.getPowerState();
    assert.equal(ilo.server.sessions.size, 16, 'every client holds its own session');
    const service = await clients[0]!.redfish.get('/redfish/v1/SessionService/');
    assert.equal(service.SessionTimeout, 1800, 'iLO closes a session idle for 30 minutes');
    assert.equal((service.Oem as { Hpe: { MaxSessions: number } }).Hpe.MaxSessions, 16);
    // A Basic request holds a session while it runs: with none free it is refused as a login is.
    await assert.rejects(redfish(ilo, { redfishAuth: 'basic' }).getPowerState(), { code: 'busy', reason: 'rate-limited' });
    await assert.rejects(redfish(ilo).getPowerState(), { code: 'busy', reason: 'rate-limited' });
    await clients[0]!.close();
    assert.equal(await redfish(ilo, { redfishAuth: 'basic' }).getPowerState(), 'off', 'a logout freed a session');
    assert.equal(ilo.server.sessions.size, 15, 'Basic held its session only for the request');
    // The timeout is the iLO's setting; a session idle for longer is gone (and its client logs in again).
    await clients[1]!.redfish.patch('/redfish/v1/SessionService/', { SessionTimeout: 30 }, 'set the session timeout');
    for (const sess of ilo.server.sessions.values()) sess.lastUsed -= 31_000;
    assert.equal(await clients[2]!.getPowerState(), 'off');
    assert.equal(ilo.server.sessions.size, 1, 'the idle sessions were closed; one new login');
    await assert.rejects(clients[3]!.redfish.patch('/redfish/v1/SessionService/', { SessionTimeout: 10 }, 'set the session timeout'), { code: 'other', status: '400' });
    await clients[3]!.redfish.patch('/redfish/v1/SessionService/', { SessionTimeout: 1800 }, 'set the session timeout');
  });

  test('URIs are discovered once: later calls cost one request each', async () => {
    const ilo = fleet.ilos[0]!;
    const bmc = redfish(ilo);
    const cold = bmc.stats.requests;
    await bmc.getVirtualMediaStatus('cdrom');
    await bmc.getOneTimeBoot();
    assert.ok(bmc.stats.requests - cold <= 7, `first use: login, discovery and the two reads (${bmc.stats.requests - cold})`);
    const before = bmc.stats.requests;
    await bmc.getVirtualMediaStatus('cdrom');
    await bmc.getVirtualMediaStatus('floppy');
    await bmc.getOneTimeBoot();
    assert.equal(bmc.stats.requests - before, 3);
  });

  test('a resource changed behind our back: the PATCH with a stale If-Match gets 412 and is sent again without it', async () => {
    const ilo = fleet.ilos[0]!;
    const bmc = redfish(ilo);
    await bmc.getBootMode(); // remembers the pending settings' ETag
    // Someone else (the other protocol, the iLO web UI) changes the pending BIOS settings.
    const other = new RibclBmc(endpoint(ilo));
    open.push(other);
    await other.setPendingBootMode('bios');
    const before = bmc.stats.requests;
    await bmc.setPendingBootMode('uefi');
    assert.equal(bmc.stats.requests - before, 2, '412, then the PATCH without If-Match');
    assert.equal((await bmc.getBootMode()).pending, 'uefi');
  });

  test('a path without its trailing slash is answered directly (no 308 round trip); /rest/v1 is redirected (308) and followed', async () => {
    const ilo = fleet.ilos[0]!;
    const bmc = redfish(ilo);
    await bmc.getPowerState(); // logged in, URIs known
    const before = ilo.server.requests.redfish;
    const doc = await bmc.redfish.get('/redfish/v1/Systems/1');
    assert.equal(doc['@odata.id'], '/redfish/v1/Systems/1/');
    assert.equal(ilo.server.requests.redfish - before, 1, 'one request, no redirect');
    const legacy = await bmc.redfish.get('/rest/v1/Managers/1');
    assert.equal(legacy['@odata.id'], '/redfish/v1/Managers/1/');
    assert.equal(ilo.server.requests.redfish - before, 3, 'the /rest/v1 path cost a 308 and the request it points to');
  });

  test('an iLO that ignores $expand: the boot options are read member by member, and the order can still be set', async () => {
    const ilo = fleet.ilos[0]!;
    ilo.server.redfishExpand = false;
    const bmc = redfish(ilo);
    const order = await bmc.getPersistentBootOrder();
    assert.deepEqual(
      order.map((e) => e.device),
      ['hdd', 'network', 'usb'],
      'every entry classed from its display name, none left "other"',
    );
    await bmc.setPersistentBootOrder(['network']);
    assert.equal(ilo.server.activeOrder()[0]?.device, 'network');
  });

  for (const status of [405, 501]) {
    test(`a session login answered ${status}: no session service, so Basic authentication, and it works`, async () => {
      const ilo = fleet.ilos[0]!;
      ilo.server.faults.add({ kind: 'error', status, message: 'Base.1.4.OperationNotAllowed', command: 'POST /redfish/v1/sessionservice/sessions/' });
      const bmc = redfish(ilo);
      assert.equal(await bmc.getPowerState(), 'off');
      await bmc.setOneTimeBoot('cdrom');
      assert.equal(ilo.server.oneTimeBoot?.device, 'cdrom');
      assert.equal(bmc.redfish.authMode, 'basic');
      assert.equal(ilo.server.sessions.size, 0, 'no session was opened');
    });
  }

  test('a session login answered 405 and Basic refused: a login error that says both, without the password', async () => {
    const ilo = fleet.ilos[0]!;
    ilo.server.faults.add({ kind: 'error', status: 405, message: 'Base.1.4.OperationNotAllowed', command: 'POST /redfish/v1/sessionservice/sessions/' });
    const bmc = redfish(ilo, { password: 'N0t-the-password' });
    await assert.rejects(bmc.getPowerState(), (err: unknown) => {
      const e = err as { code: string; message: string };
      assert.equal(e.code, 'login');
      assert.match(e.message, /no session login \(HTTP 405\) and refused Basic authentication/);
      assert.ok(!e.message.includes('N0t-the-password'));
      return true;
    });
  });

  test('a 405 to anything but the login is "not supported", not "other"', async () => {
    const ilo = fleet.ilos[0]!;
    const bmc = redfish(ilo);
    await assert.rejects(bmc.redfish.call('DELETE', '/redfish/v1/Systems/1/', undefined, { what: 'delete the system' }), { code: 'not-supported', status: '405' });
  });

  test('iLO errors arrive typed by MessageId: POST refusal, licence, power no-ops', async () => {
    const ilo = fleet.ilos[0]!;
    const bmc = redfish(ilo);
    ilo.server.licensed = false;
    await assert.rejects(bmc.insertVirtualMedia('cdrom', `http://127.0.0.1:${await closedPort()}/x.iso`), (err: unknown) => {
      const e = err as { code: string; iloMessage: string; status: string };
      assert.equal(e.code, 'licence');
      assert.match(e.iloMessage, /^iLO\.\d+\.\d+\.LicenseKeyRequired$/);
      assert.equal(e.status, '400');
      return true;
    });
    assert.deepEqual((await bmc.powerOff()).warnings, ['Host power is already OFF.']);
  });

  test('a hanging iLO ends in a timeout; a dropped GET is retried', async () => {
    const ilo = fleet.ilos[0]!;
    const bmc = redfish(ilo, { requestTimeoutMs: 300, retries: 1 });
    await bmc.getPowerState();
    ilo.server.faults.add({ kind: 'reset', times: 1, command: 'redfish' });
    assert.equal(await bmc.getPowerState(), 'off');
    assert.equal(bmc.stats.retries, 1);
    ilo.server.faults.add({ kind: 'hang', times: 2, command: 'redfish' });
    await assert.rejects(bmc.getPowerState(), { code: 'timeout' });
  });

  test('power on and off are sent again when the answer is lost (as over RIBCL); a button press is not', async () => {
    const ilo = fleet.ilos[0]!;
    const bmc = redfish(ilo, { requestTimeoutMs: 2000, retries: 1 });
    const reset = 'POST /redfish/v1/systems/1/actions/computersystem.reset/';
    await bmc.powerOn();
    await bmc.waitForPowerState('on', { timeoutMs: 10_000, intervalMs: 50 });
    const before = bmc.stats.retries;
    ilo.server.faults.add({ kind: 'reset', times: 1, command: reset });
    await bmc.powerOff();
    await bmc.waitForPowerState('off', { timeoutMs: 10_000, intervalMs: 50 });
    assert.equal(bmc.stats.retries, before + 1);
    ilo.server.faults.add({ kind: 'reset', times: 1, command: reset });
    await assert.rejects(bmc.softPowerOff(), { code: 'connection' });
    assert.equal(ilo.server.powerState, 'off', 'the press was not sent again (it would have powered the server on)');
    assert.equal(bmc.stats.retries, before + 1);
  });

  test('auto: one unauthenticated probe picks Redfish for iLO 5 and RIBCL for iLO 4', async () => {
    const picked: Record<string, string> = {};
    for (const ilo of fleet.ilos) {
      const before = ilo.server.requests.total;
      const bmc: Bmc = await createBmc(endpoint(ilo, { protocol: 'auto' } as Partial<IloEndpoint>));
      open.push(bmc);
      picked[ilo.server.model.name] = bmc.protocol;
      assert.equal(ilo.server.requests.total - before, 1, 'one probe request');
      assert.equal(ilo.server.sessions.size, 0, 'the probe sends no credentials');
      assert.equal(await bmc.getPowerState(), 'off');
    }
    assert.deepEqual(picked, { gen10: 'redfish', gen9: 'ribcl', gen8: 'ribcl' });
  });

  test('auto: no Redfish service at all (iLO 2/3 answer 404) means RIBCL; RIBCL switched off on an iLO 5 does not matter', async () => {
    const gen8 = fleet.ilos[3]!;
    gen8.server.faults.add({ kind: 'error', status: 404, message: 'Base.1.0.ResourceMissingAtURI', command: 'redfish' });
    const http = new IloHttpClient(endpoint(gen8));
    open.push(http);
    assert.deepEqual(await probeProtocol(http), { protocol: 'ribcl' });
    const gen10 = fleet.ilos[0]!;
    gen10.server.ribclEnabled = false;
    const bmc = await createBmc(endpoint(gen10));
    open.push(bmc);
    assert.equal(bmc.protocol, 'redfish');
    await assert.rejects(new RibclBmc(endpoint(gen10)).getPowerState(), { code: 'not-supported', message: /RIBCL is disabled/ });
  });

  test('auto: an unreachable iLO fails the creation with a connection error (tried again on next use)', async () => {
    await assert.rejects(createBmc({ host: '127.0.0.1', port: await closedPort(), username: 'a', password: 'b', retries: 0, connectTimeoutMs: 500 }), { code: 'connection' });
  });
});
