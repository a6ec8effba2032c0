/**
 * The Bmc cleaning operations against each simulated generation: iLO 5/6
 * over Redfish reset the BIOS settings (#Bios.ResetBios) and the secure
 * boot keys (#SecureBoot.ResetKeys); secure boot needs UEFI, so a host
 * booting legacy BIOS refuses it as the iLO does; RIBCL (iLO 4) has no
 * command for either. Every refusal is `not-supported`, the code a cleaning
 * skips a step on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createBmc } from '../../lib/bmc/connect';
import { isBmcError } from '../../lib/bmc/errors';
import type { Bmc } from '../../lib/bmc/types';
import { Fleet } from '../../sim/fleet';

describe('Bmc cleaning operations per generation', () => {
  let fleet: Fleet;
  const bmcs: Bmc[] = [];
  before(async () => {
    fleet = await Fleet.start({ servers: 4, models: ['gen9', 'gen10', 'gen10', 'gen11'], timings: { powerOnMs: 40, postMs: 40 } });
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

  test('iLO 4 over RIBCL: neither exists (not-supported, nothing changed)', async () => {
    const bios = fleet.ilos[0]!.server.bios;
    bios.pending.WorkloadProfile = 'Virtualization-MaxPerformance';
    assert.equal(bmcs[0]!.protocol, 'ribcl');
    await assert.rejects(bmcs[0]!.resetBiosToDefault(), notSupported(/RIBCL has no command/));
    await assert.rejects(bmcs[0]!.resetSecureBootKeys('delete'), notSupported(/RIBCL has no command/));
    assert.equal(bios.pending.WorkloadProfile, 'Virtualization-MaxPerformance');
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
