/**
 * Batched reads for deploy steps: RIBCL's several-commands-in-one-request
 * state read, and the Redfish read scope (each resource once, $expand).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { JsonObject } from '../../lib/bmc/redfish/client';
import { RedfishBmc } from '../../lib/bmc/redfish/provider';
import { RedfishReadScope, type RedfishCalls } from '../../lib/bmc/redfish/read-scope';
import { RibclBmc } from '../../lib/bmc/ribcl/provider';
import { Fleet, type SimIlo } from '../../sim/fleet';

const endpoint = (ilo: SimIlo): { host: string; port: number; username: string; password: string; tls: { mode: 'pinned'; fingerprint: string } } => ({
  host: ilo.host,
  port: ilo.port,
  username: ilo.username,
  password: ilo.password,
  tls: { mode: 'pinned', fingerprint: ilo.fingerprint },
});

describe('batched reads', () => {
  let fleet: Fleet;
  before(async () => {
    fleet = await Fleet.start({ servers: 2, models: ['gen9', 'gen10'] });
  });
  after(async () => {
    await fleet.stop();
  });

  test('RIBCL readState: power, boot mode, host data, both drives, one-time boot and licence in one request, as the single reads say', async () => {
    const ilo = fleet.ilos[0]!;
    const bmc = new RibclBmc(endpoint(ilo));
    await bmc.setOneTimeBoot('cdrom');
    const sent = ilo.server.requests.ribcl;
    const state = await bmc.readState({ power: true, bootMode: true, hostInfo: true, virtualMedia: ['cdrom', 'floppy'], oneTimeBoot: true, licence: true });
    assert.equal(ilo.server.requests.ribcl - sent, 1);
    assert.equal(state.requests, 1);
    assert.equal(state.powerState, await bmc.getPowerState());
    assert.deepEqual(state.bootMode, await bmc.getBootMode());
    assert.equal(state.bootModeSupported, true);
    assert.deepEqual(state.hostInfo, await bmc.getHostInfo());
    assert.deepEqual(state.virtualMedia?.cdrom, await bmc.getVirtualMediaStatus('cdrom'));
    assert.deepEqual(state.virtualMedia?.floppy, await bmc.getVirtualMediaStatus('floppy'));
    assert.equal(state.oneTimeBoot, 'cdrom');
    assert.equal(state.oneTimeBoot, await bmc.getOneTimeBoot());
    assert.deepEqual(state.licence, await bmc.getLicence());
    await bmc.setOneTimeBoot('normal');
    await bmc.close();
  });

  test('RIBCL readState on firmware without boot-mode commands: asked again without them, and it says so', async () => {
    const ilo = fleet.ilos[0]!;
    const bmc = new RibclBmc(endpoint(ilo));
    // What an iLO 3 answers (recorded): the command is refused, the request stops there.
    ilo.server.faults.add({ kind: 'error', status: 0x003c, message: 'Feature not supported - GET_CURRENT_BOOT_MODE', command: 'GET_CURRENT_BOOT_MODE', times: 1 });
    const sent = ilo.server.requests.ribcl;
    const state = await bmc.readState({ power: true, bootMode: true, licence: true });
    assert.equal(ilo.server.requests.ribcl - sent, 2);
    assert.equal(state.requests, 2);
    assert.equal(state.bootModeSupported, false);
    assert.equal(state.bootMode, undefined);
    assert.equal(state.powerState, 'off');
    assert.equal(state.licence?.tier, 'advanced');
    assert.deepEqual(await bmc.readState({}), { requests: 0 });
    await assert.rejects(bmc.readState({ virtualMedia: ['tape' as 'cdrom'] }), { code: 'invalid-input', message: /cdrom or floppy/ });
    await bmc.close();
  });

  test('Redfish read scope: each resource read once (whatever its case or slash), shared by concurrent callers, forgotten after a write', async () => {
    const ilo = fleet.ilos[1]!;
    const bmc = new RedfishBmc(endpoint(ilo));
    await bmc.getPowerState(); // session and discovery
    const scope = new RedfishReadScope(bmc.redfish);
    const before = bmc.stats.requests;
    const [a, b] = await Promise.all([scope.get('/redfish/v1/Systems/1/'), scope.get('/redfish/v1/systems/1')]);
    assert.equal(a, b);
    await scope.get('/redfish/v1/Systems/1/');
    assert.equal(bmc.stats.requests - before, 1);
    await scope.patch('/redfish/v1/Systems/1/', { Boot: { BootSourceOverrideTarget: 'Cd', BootSourceOverrideEnabled: 'Once' } }, 'set the one-time boot');
    const fresh = await scope.get('/redfish/v1/Systems/1/');
    assert.equal((fresh.Boot as JsonObject).BootSourceOverrideTarget, 'Cd', 'read again after the write');
    assert.equal(bmc.stats.requests - before, 3);
    await bmc.setOneTimeBoot('normal');
    await bmc.close();
  });

  test('Redfish read scope: a collection with its members in one request where $expand works', async () => {
    const ilo = fleet.ilos[1]!;
    const bmc = new RedfishBmc(endpoint(ilo));
    await bmc.getPowerState();
    const scope = new RedfishReadScope(bmc.redfish);
    const before = bmc.stats.requests;
    const members = await scope.members('/redfish/v1/Systems/1/BootOptions/');
    assert.ok(members.length >= 2, `got ${members.length} boot options`);
    assert.ok(members.every((m) => typeof m.BootOptionReference === 'string'), 'full members, not links');
    assert.equal(bmc.stats.requests - before, 1);
    await bmc.close();
  });

  test('Redfish read scope: an iLO that ignores $expand gets one read per member, each once', async () => {
    // Firmware that ignores $expand (iLO 4's Redfish) cannot be simulated here: a recording stand-in.
    const asked: string[] = [];
    const docs: Record<string, JsonObject> = {
      '/c/?$expand=.': { Members: [{ '@odata.id': '/c/1/' }, { '@odata.id': '/c/2/' }, { '@odata.id': '/c/1/' }] },
      '/c/1/': { Id: '1' },
      '/c/2/': { Id: '2' },
    };
    const stub: RedfishCalls = {
      get: async (path: string) => {
        asked.push(path);
        const d = docs[path];
        if (!d) throw new Error(`no ${path}`);
        return d;
      },
      post: async () => ({}),
      patch: async () => ({}),
    };
    const scope = new RedfishReadScope(stub);
    const members = await scope.members('/c/');
    assert.deepEqual(members.map((m) => m.Id), ['1', '2', '1']);
    assert.deepEqual(asked, ['/c/?$expand=.', '/c/1/', '/c/2/']);
    await assert.rejects(scope.get('/missing/'));
    await assert.rejects(scope.get('/missing/'));
    assert.equal(asked.filter((p) => p === '/missing/').length, 2, 'a failed read is asked again');
  });
});
