/**
 * The Bmc cleaning operations against each simulated generation: iLO 5/6
 * over Redfish reset the BIOS settings (#Bios.ResetBios) and the secure
 * boot keys (#SecureBoot.ResetKeys); the RIBCL provider on a Gen9's iLO 4
 * does both through the iLO 4 RESTful API beside RIBCL (BaseConfigs
 * `default` PATCHed to the BIOS Settings; SecureBoot PATCHed), as
 * proliantutils does; a Gen8's ROM publishes neither. Secure boot needs
 * UEFI, so a host booting legacy BIOS refuses it as the iLO does. Every
 * refusal is `not-supported`, the code a cleaning skips a step on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createBmc } from '../../lib/bmc/connect';
import { isBmcError } from '../../lib/bmc/errors';
import type { Bmc } from '../../lib/bmc/types';
import { Fleet } from '../../sim/fleet';
import type { SimServer } from '../../sim/server';
import { until } from '../helpers/real-client';

describe('Bmc cleaning operations per generation', () => {
  let fleet: Fleet;
  const bmcs: Bmc[] = [];
  before(async () => {
    fleet = await Fleet.start({ servers: 7, models: ['gen9', 'gen10', 'gen10', 'gen11', 'gen8', 'gen9', 'gen9'], timings: { powerOnMs: 40, postMs: 40 } });
    for (const ilo of fleet.ilos) {
      bmcs.push(await createBmc({ host: ilo.host, port: ilo.port, username: ilo.username, password: ilo.password, protocol: 'auto', tls: { mode: 'ca', ca: fleet.ca.cert } }));
    }
  });
  after(async () => {
    for (const b of bmcs) await b.close();
    await fleet?.stop();
  });

  const notSupported = (pattern: RegExp) => (err: unknown) => {
    assert.ok(isBmcError(err, 'not-supported'), String(err));
    assert.match((err as Error).message, pattern);
    return true;
  };

  const postOnce = async (bmc: Bmc, server: SimServer): Promise<void> => {
    await bmc.reset();
    await until(() => server.postState === 'FinishedPost', 'the host to finish POST');
  };

  test('iLO 4 Gen9 over RIBCL (UEFI): BIOS settings back to their defaults at the next POST, through the RESTful API beside RIBCL; requests counted', async () => {
    const bmc = bmcs[0]!;
    const s = fleet.ilos[0]!.server;
    assert.equal(bmc.protocol, 'ribcl');
    s.bios.current.WorkloadProfile = s.bios.pending.WorkloadProfile = 'Virtualization-MaxPerformance';
    s.bios.current.Sriov = s.bios.pending.Sriov = 'Disabled';
    const before = bmc.stats.requests;
    await bmc.resetBiosToDefault();
    assert.equal(bmc.stats.requests - before, 4, 'system, BIOS, BaseConfigs, the PATCH: through the provider\'s own client');
    assert.equal(s.bios.current.WorkloadProfile, 'Virtualization-MaxPerformance', 'nothing changes before the next POST');
    assert.equal(s.bios.pending.WorkloadProfile, 'GeneralPowerEfficientCompute');
    await postOnce(bmc, s);
    assert.equal(s.bios.current.WorkloadProfile, 'GeneralPowerEfficientCompute');
    assert.equal(s.bios.current.Sriov, 'Enabled');
    assert.equal(s.bootMode.current, 'uefi', 'the boot mode is kept');
  });

  test('iLO 4 Gen9 over RIBCL (UEFI): secure boot keys cleared (secure boot cannot stay enabled), then back to the defaults', async () => {
    const bmc = bmcs[5]!;
    const s = fleet.ilos[5]!.server;
    assert.equal(bmc.protocol, 'ribcl');
    s.bios.secureBoot.keys = 'custom';
    s.bios.secureBoot.pending = true;
    await bmc.resetSecureBootKeys('delete');
    assert.equal(s.bios.secureBoot.keys, 'deleted');
    assert.equal(s.bios.secureBoot.pending, false, 'no platform key: secure boot cannot stay enabled');
    await bmc.resetSecureBootKeys('default');
    assert.equal(s.bios.secureBoot.keys, 'default');
  });

  test('iLO 4 Gen9 over RIBCL booting legacy BIOS: the secure boot keys cannot be reset (not-supported, no change sent), the BIOS settings can', async () => {
    const bmc = bmcs[6]!;
    const s = fleet.ilos[6]!.server;
    s.bootMode.current = s.bootMode.pending = 'bios';
    s.bios.secureBoot.keys = 'custom';
    await assert.rejects(bmc.resetSecureBootKeys('default'), notSupported(/^reset the secure boot keys to default: .*legacy BIOS/));
    await assert.rejects(bmc.resetSecureBootKeys('delete'), notSupported(/^clear the secure boot keys: .*legacy BIOS/));
    assert.equal(s.bios.secureBoot.keys, 'custom');
    s.bios.pending.PowerRegulator = 'StaticHighPerf';
    await bmc.resetBiosToDefault();
    assert.equal(s.bios.pending.PowerRegulator, 'DynamicPowerSavings');
    assert.equal(s.bootMode.pending, 'bios', 'the boot mode is kept');
  });

  test('iLO 4 Gen8 over RIBCL: neither exists (its ROM publishes no BIOS or SecureBoot resource): not-supported, nothing changed', async () => {
    const bmc = bmcs[4]!;
    const s = fleet.ilos[4]!.server;
    assert.equal(bmc.protocol, 'ribcl');
    s.bios.pending.WorkloadProfile = 'Virtualization-MaxPerformance';
    await assert.rejects(bmc.resetBiosToDefault(), notSupported(/^reset the BIOS settings to default: .*no BIOS resource.*Gen8/));
    await assert.rejects(bmc.resetSecureBootKeys('delete'), notSupported(/^clear the secure boot keys: .*no SecureBoot resource/));
    await assert.rejects(bmc.resetSecureBootKeys('default'), notSupported(/^reset the secure boot keys to default: .*no SecureBoot resource/));
    assert.equal(s.bios.pending.WorkloadProfile, 'Virtualization-MaxPerformance');
  });

  test('iLO 4 over RIBCL without a RESTful API (404 on the system: iLO 3, or iLO 4 firmware before 2.00): not-supported; a refused PATCH: a typed error naming the operation', async () => {
    const ilo = fleet.ilos[0]!;
    const bmc = bmcs[0]!;
    try {
      ilo.server.faults.add({ kind: 'error', status: 404, message: 'Base.0.10.ResourceMissingAtURI', command: 'GET /rest/v1/systems/1/', times: 1 });
      await assert.rejects(bmc.resetBiosToDefault(), notSupported(/^reset the BIOS settings to default: this iLO has no RESTful API/));
      ilo.server.faults.add({ kind: 'error', status: 500, message: 'iLO.0.10.InternalError', command: 'PATCH /rest/v1/systems/1/bios/settings/', times: 1 });
      await assert.rejects(bmc.resetBiosToDefault(), (err: unknown) => {
        assert.ok(isBmcError(err, 'other'), String(err));
        assert.match((err as Error).message, /^reset the BIOS settings to default: .*HTTP 500.*InternalError/);
        return true;
      });
      ilo.server.faults.add({ kind: 'error', status: 403, message: 'Base.0.10.InsufficientPrivilege', command: 'PATCH /rest/v1/systems/1/secureboot/', times: 1 });
      await assert.rejects(bmc.resetSecureBootKeys('delete'), (err: unknown) => isBmcError(err, 'permission') && /^clear the secure boot keys: /.test((err as Error).message));
    } finally {
      ilo.server.faults.clear();
    }
  });

  test('iLO 5 (UEFI): BIOS settings back to their defaults at the next POST; keys deleted (setup mode), then back to the defaults', async () => {
    const s = fleet.ilos[1]!.server;
    s.bios.pending.WorkloadProfile = 'Virtualization-MaxPerformance';
    s.bios.pending.Sriov = 'Disabled';
    s.bios.secureBoot.keys = 'custom';
    s.bios.secureBoot.pending = true;
    await bmcs[1]!.resetBiosToDefault();
    assert.equal(s.bios.pending.WorkloadProfile, 'GeneralPowerEfficientCompute');
    assert.equal(s.bios.pending.Sriov, 'Enabled');
    await bmcs[1]!.resetSecureBootKeys('delete');
    assert.equal(s.bios.secureBoot.keys, 'deleted');
    assert.equal(s.bios.secureBoot.pending, false, 'no platform key: secure boot cannot stay enabled');
    await bmcs[1]!.resetSecureBootKeys('default');
    assert.equal(s.bios.secureBoot.keys, 'default');
  });

  test('iLO 5 booting legacy BIOS: the secure boot keys cannot be reset (not-supported), the BIOS settings can', async () => {
    const s = fleet.ilos[2]!.server;
    s.bootMode.current = 'bios';
    s.bios.secureBoot.keys = 'custom';
    await assert.rejects(bmcs[2]!.resetSecureBootKeys('default'), notSupported(/legacy BIOS/));
    assert.equal(s.bios.secureBoot.keys, 'custom');
    s.bios.pending.PowerRegulator = 'StaticHighPerf';
    await bmcs[2]!.resetBiosToDefault();
    assert.equal(s.bios.pending.PowerRegulator, 'DynamicPowerSavings');
  });

  test('iLO 6 (Gen11, UEFI only): both operations', async () => {
    const s = fleet.ilos[3]!.server;
    assert.equal(bmcs[3]!.protocol, 'redfish');
    s.bios.pending.WorkloadProfile = 'Virtualization-MaxPerformance';
    await bmcs[3]!.resetBiosToDefault();
    assert.equal(s.bios.pending.WorkloadProfile, 'GeneralPowerEfficientCompute');
    s.bios.secureBoot.keys = 'custom';
    await bmcs[3]!.resetSecureBootKeys('default');
    assert.equal(s.bios.secureBoot.keys, 'default');
  });
});
