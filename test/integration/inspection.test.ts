/**
 * Out-of-band inspection against the simulated fleet: RIBCL on Gen8, Gen9
 * and Gen10, Redfish on Gen10 and Gen11; what comes back is what the
 * simulated hardware is, under Ironic's property and capability keys.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RedfishBmc } from '../../lib/bmc/redfish/provider';
import { RibclBmc } from '../../lib/bmc/ribcl/provider';
import { inspectServer } from '../../lib/bmc/inspect';
import type { Bmc } from '../../lib/bmc/types';
import { Fleet, type SimIlo } from '../../sim/fleet';
import { disks, logicalDrives } from '../../sim/inventory';

const endpoint = (ilo: SimIlo) => ({ host: ilo.host, port: ilo.port, username: ilo.username, password: ilo.password, tls: { mode: 'pinned' as const, fingerprint: ilo.fingerprint } });
const GiB = 1024 ** 3;

describe('inspection through the iLO', () => {
  let fleet: Fleet;
  before(async () => {
    fleet = await Fleet.start({ servers: 4, models: ['gen8', 'gen9', 'gen10', 'gen11'] });
  });
  after(async () => {
    await fleet.stop();
  });

  const cases: Array<[number, 'ribcl' | 'redfish']> = [
    [0, 'ribcl'],
    [1, 'ribcl'],
    [2, 'ribcl'],
    [2, 'redfish'],
    [3, 'redfish'],
  ];
  for (const [index, protocol] of cases) {
    test(`${['gen8', 'gen9', 'gen10', 'gen11'][index]} over ${protocol}: model, serial, CPUs, memory, disks, volumes, NICs, boot modes, secure boot, licence, firmware`, async () => {
      const ilo = fleet.ilos[index]!;
      const m = ilo.server.model;
      const bmc: Bmc = protocol === 'ribcl' ? new RibclBmc(endpoint(ilo)) : new RedfishBmc(endpoint(ilo));
      try {
        const sent = ilo.server.requests.ribcl;
        const r = await inspectServer(bmc);
        if (protocol === 'ribcl') assert.equal(ilo.server.requests.ribcl - sent, 1, 'one RIBCL request');
        assert.deepEqual(r.warnings, []);
        assert.equal(r.model, ilo.server.identity.productName);
        assert.equal(r.serialNumber, ilo.server.identity.serialNumber);
        assert.deepEqual(r.cpu, { sockets: m.cpu.count, cores: m.cpu.count * m.cpu.cores, threads: m.cpu.count * m.cpu.threads, arch: 'x86_64', model: m.cpu.model });
        assert.equal(r.memoryMb, m.dimm.count * m.dimm.mib);
        // RIBCL writes sizes in whole binary gigabytes; Redfish in MiB.
        const size = (mib: number): number => (protocol === 'ribcl' ? Math.floor(mib / 1024) * GiB : mib * 1024 * 1024);
        assert.deepEqual(
          r.disks.map((d) => [d.serial, d.model, d.sizeBytes, d.mediaType]),
          disks(m).map((d) => [d.serial, d.model, size(d.capacityMiB), d.mediaType]),
        );
        assert.deepEqual(
          r.volumes.map((v) => [v.sizeBytes, v.raid]),
          logicalDrives(m).map((l) => [size(l.capacityMiB), l.raid]),
        );
        assert.deepEqual(r.nics.map((n) => n.mac), ilo.server.macs.host);
        const uefi = m.supportedBootModes !== 'bios-only';
        const bios = m.supportedBootModes !== 'uefi-only';
        assert.deepEqual(r.bootMode.supported, [...(bios ? ['bios'] : []), ...(uefi ? ['uefi'] : [])]);
        assert.equal(r.bootMode.current, ilo.server.bootMode.current);
        assert.equal(r.secureBoot.capable, uefi);
        assert.equal(r.licence?.type, ilo.server.identity.licenseType);
        assert.equal(r.firmware.ilo, ilo.server.identity.firmwareVersion);
        assert.equal(r.firmware.rom, m.biosVersion);
        // Ironic's view.
        const smallestVolumeGiB = Math.floor(Math.min(...logicalDrives(m).map((l) => l.capacityMiB)) / 1024);
        assert.deepEqual(r.properties, { memory_mb: m.dimm.count * m.dimm.mib, cpus: m.cpu.count * m.cpu.threads, cpu_arch: 'x86_64', local_gb: smallestVolumeGiB - 1 });
        assert.equal(r.capabilities.server_model, ilo.server.identity.productName);
        assert.equal(r.capabilities.boot_mode, ilo.server.bootMode.current);
        assert.equal(r.capabilities.boot_mode_uefi, String(uefi));
        assert.equal(r.capabilities.secure_boot, uefi ? 'true' : undefined);
        assert.equal(r.capabilities.rom_firmware_version, m.biosVersion);
        assert.equal(r.capabilities.logical_raid_level_1, 'true');
        assert.equal(r.capabilities.logical_raid_level_0, 'true');
        assert.equal(r.capabilities.has_ssd, disks(m).some((d) => d.mediaType === 'SSD') ? 'true' : undefined);
        assert.equal(r.capabilities.has_rotational, disks(m).some((d) => d.mediaType === 'HDD') ? 'true' : undefined);
      } finally {
        await bmc.close();
      }
    });
  }

  test('RIBCL on firmware without boot-mode commands: asked again without them, legacy BIOS reported, and a warning says why', async () => {
    const ilo = fleet.ilos[1]!;
    const bmc = new RibclBmc(endpoint(ilo));
    ilo.server.faults.add({ kind: 'error', status: 0x003c, message: 'Feature not supported - GET_CURRENT_BOOT_MODE', command: 'GET_CURRENT_BOOT_MODE', times: 1 });
    try {
      const r = await inspectServer(bmc);
      assert.deepEqual(r.bootMode, { supported: ['bios'] });
      assert.equal(r.capabilities.boot_mode, undefined);
      assert.match(r.warnings.join('\n'), /boot-mode commands/);
      assert.equal(r.properties.memory_mb, ilo.server.model.dimm.count * ilo.server.model.dimm.mib);
    } finally {
      await bmc.close();
    }
  });
});
