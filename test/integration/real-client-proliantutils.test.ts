/**
 * proliantutils (Debian python3-proliantutils), the library behind Ironic's
 * ilo hardware types, drives every simulated model from one Python process.
 * Its IloClient picks a backend by model name: RIBCL for a Gen8, the iLO 4
 * RESTful API (/rest/v1) for most of a Gen9, Redfish for most of a Gen10,
 * RIBCL for the rest. A Gen11 is Redfish only with `use_redfish_only` (it
 * knows no Gen11 otherwise, and sends it all to RIBCL: tested too).
 *
 * proliantutils' RIS and Redfish clients ignore a custom port (they always
 * use 443): the test's driver (test/helpers/real-clients/proliantutils_driver.py)
 * hands them host:port. Every operation passes, or is refused as that
 * generation of real iLO (or proliantutils itself) refuses it, the reason in
 * the test name.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { Fleet, type SimIlo } from '../../sim/fleet';
import { logicalDrives } from '../../sim/inventory';
import { patternImage, startMediaServer, type MediaServer } from '../../sim/media-server';
import type { SimModelName } from '../../sim/models';
import { RealClient, needPythonModules, targetOf, until, writeCa, type ClientTarget } from '../helpers/real-client';

const MODELS: SimModelName[] = ['gen8', 'gen9', 'gen10', 'gen11'];
const skip = needPythonModules(['proliantutils', 'python3-proliantutils']);

/** Which of its clients IloClient sends each operation to, per model (as its routing tables say). */
const BACKEND: Record<SimModelName, { power: string; vmStatus: string; licence: string }> = {
  gen8: { power: 'ribcl', vmStatus: 'ribcl', licence: 'ribcl' },
  gen9: { power: 'ris', vmStatus: 'ris', licence: 'ribcl' },
  gen10: { power: 'redfish', vmStatus: 'ribcl', licence: 'ribcl' },
  gen11: { power: 'redfish', vmStatus: 'redfish', licence: 'redfish' },
};

describe('proliantutils against every simulated model', { skip }, () => {
  let fleet: Fleet;
  let media: MediaServer;
  let dir: string;
  let ca: string;
  let pu: RealClient;
  let iso: string;
  let floppy: string;

  before(async () => {
    fleet = await Fleet.start({ servers: MODELS.length, models: MODELS, timings: { powerOnMs: 50, postMs: 150, softOffMs: 50 } });
    media = await startMediaServer();
    iso = media.put('deploy.iso', patternImage(256 * 1024, 1));
    floppy = media.put('params.img', patternImage(100 * 1024, 2));
    dir = mkdtempSync(join(tmpdir(), 'proliantutils-models-'));
    ca = writeCa(dir, fleet.ca.cert);
    // No ipmitool on the driver's PATH: for a Gen8 or Gen9, proliantutils also asks the iLO's IPMI
    // for the NIC capacity (ipmitool, with the password on its command line, and a long wait for an
    // answer); the simulated iLO serves no IPMI, and that one capability is left out.
    pu = new RealClient('proliantutils_driver.py', { PATH: join(dir, 'no-tools') });
  });
  afterEach(() => {
    for (const i of fleet.ilos) i.server.resetState();
  });
  after(async () => {
    await pu?.close();
    await media?.close();
    await fleet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [index, model] of MODELS.entries()) {
    const gen11 = model === 'gen11';
    describe(gen11 ? 'gen11 (use_redfish_only, as Ironic must for a Gen11)' : model, () => {
      let ilo: SimIlo;
      let t: ClientTarget;
      before(() => {
        ilo = fleet.ilos[index]!;
        t = targetOf(ilo, ca, gen11 ? { redfishOnly: true } : {});
      });
      const finishedPost = (): Promise<void> => until(() => ilo.server.postState === 'FinishedPost', 'the host to finish POST');

      test(`routing: power and boot through ${BACKEND[model].power}, virtual media status through ${BACKEND[model].vmStatus}, licences through ${BACKEND[model].licence}`, async () => {
        assert.equal(await pu.ok(t, 'get_product_name'), ilo.server.identity.productName);
        assert.equal(await pu.ok(t, 'backend', 'set_host_power'), BACKEND[model].power);
        assert.equal(await pu.ok(t, 'backend', 'get_vm_status'), BACKEND[model].vmStatus);
        assert.equal(await pu.ok(t, 'backend', 'get_all_licenses'), BACKEND[model].licence);
      });

      test('power: status, on, warm reset, the button pressed, then held', async () => {
        const s = ilo.server;
        assert.equal(await pu.ok(t, 'get_host_power_status'), 'OFF');
        await pu.ok(t, 'set_host_power', 'ON');
        await finishedPost();
        assert.equal(await pu.ok(t, 'get_host_power_status'), 'ON');
        let posts = 0;
        s.on('post', (p: string) => void (p === 'InPost' && posts++));
        await pu.ok(t, 'reset_server');
        await until(() => posts === 1 && s.postState === 'FinishedPost', 'POST to run again after the reset');
        await pu.ok(t, 'press_pwr_btn');
        await until(() => s.powerState === 'off', 'the OS to shut down after the button press');
        await pu.ok(t, 'set_host_power', 'ON');
        await until(() => s.powerState === 'on', 'power on');
        await pu.ok(t, 'hold_pwr_btn');
        await until(() => s.powerState === 'off', 'the held button to power off');
        assert.equal(await pu.ok(t, 'get_host_power_status'), 'OFF');
      });

      if (model === 'gen8') {
        test('POST state: refused (RIBCL cannot report it; proliantutils raises IloCommandNotSupportedError)', async () => {
          assert.equal((await pu.refused(t, 'get_host_post_state')).type, 'IloCommandNotSupportedError');
        });
      } else {
        test('POST state: read as the simulated host is (what Ironic waits on after power on)', async () => {
          assert.equal(await pu.ok(t, 'get_host_post_state'), 'PowerOff');
          await pu.ok(t, 'set_host_power', 'ON');
          await finishedPost();
          assert.equal(await pu.ok(t, 'get_host_post_state'), 'FinishedPost');
        });
      }

      test('one-time boot: set to the CD, read back, consumed by the next boot', async () => {
        await pu.ok(t, 'set_one_time_boot', 'CDROM');
        assert.equal(ilo.server.oneTimeBoot?.device, 'cdrom');
        assert.equal(await pu.ok(t, 'get_one_time_boot'), 'CDROM');
        await pu.ok(t, 'set_host_power', 'ON');
        await finishedPost();
        await until(() => ilo.server.lastBoot !== undefined, 'the boot');
        assert.equal(await pu.ok(t, 'get_one_time_boot'), 'Normal');
      });

      if (gen11) {
        test('persistent boot: the network first in the simulated order; read back as None (proliantutils looks for the boot mode in BootMode, which a Gen11 ROM does not have)', async () => {
          await pu.ok(t, 'update_persistent_boot', ['NETWORK']);
          assert.equal(ilo.server.activeOrder()[0]?.device, 'network');
          assert.equal(await pu.ok(t, 'get_persistent_boot_device'), null);
        });
      } else {
        test('persistent boot: the network first, read back', async () => {
          await pu.ok(t, 'update_persistent_boot', ['NETWORK']);
          assert.equal(ilo.server.activeOrder()[0]?.device, 'network');
          assert.equal(await pu.ok(t, 'get_persistent_boot_device'), 'NETWORK');
        });
      }

      if (model === 'gen8') {
        test('boot mode: legacy BIOS only; a switch to UEFI is refused (a Gen8 ROM has no UEFI: IloCommandNotSupportedError)', async () => {
          assert.equal(await pu.ok(t, 'get_supported_boot_mode'), 'legacy bios only');
          assert.equal(await pu.ok(t, 'get_current_boot_mode'), 'LEGACY');
          assert.equal(await pu.ok(t, 'get_pending_boot_mode'), 'LEGACY');
          assert.equal((await pu.refused(t, 'set_pending_boot_mode', 'UEFI')).type, 'IloCommandNotSupportedError');
        });
      } else if (gen11) {
        test('boot mode: UEFI only; current and pending read as None, a switch refused (a Gen11 ROM has no BootMode attribute to read or write)', async () => {
          assert.equal(await pu.ok(t, 'get_supported_boot_mode'), 'uefi only');
          assert.equal(await pu.ok(t, 'get_current_boot_mode'), null);
          assert.equal(await pu.ok(t, 'get_pending_boot_mode'), null);
          const e = await pu.refused(t, 'set_pending_boot_mode', 'LEGACY');
          assert.equal(e.type, 'IloError');
          assert.match(e.message, /PropertyUnknown/);
          assert.equal(ilo.server.bootMode.pending, 'uefi');
        });
      } else {
        test('boot mode: legacy and UEFI; a pending switch to legacy, read back, in force after the next POST', async () => {
          assert.equal(await pu.ok(t, 'get_supported_boot_mode'), 'legacy bios and uefi');
          assert.equal(await pu.ok(t, 'get_current_boot_mode'), 'UEFI');
          await pu.ok(t, 'set_pending_boot_mode', 'LEGACY');
          assert.equal(ilo.server.bootMode.pending, 'bios');
          assert.equal(await pu.ok(t, 'get_pending_boot_mode'), 'LEGACY');
          await pu.ok(t, 'set_host_power', 'ON');
          await finishedPost();
          assert.equal(await pu.ok(t, 'get_current_boot_mode'), 'LEGACY');
        });
      }

      const vmStatusNote =
        model === 'gen9'
          ? ' (proliantutils reads the boot-once flag at the top level, iLO 4 has it under Oem.Hp: BOOT_ALWAYS is reported)'
          : gen11
            ? ' (status refused: proliantutils has no Redfish get_vm_status, NotImplementedError)'
            : '';
      test(`virtual CD: insert, boot once, status, eject${vmStatusNote}`, async () => {
        const d = ilo.server.drives.cdrom;
        await pu.ok(t, 'insert_virtual_media', iso, 'CDROM');
        assert.equal(d.url, iso);
        await pu.ok(t, 'set_vm_status', 'CDROM', 'BOOT_ONCE');
        assert.equal(d.bootOption, 'BOOT_ONCE');
        if (gen11) assert.equal((await pu.refused(t, 'get_vm_status', 'CDROM')).type, 'NotImplementedError');
        else {
          const st = (await pu.ok(t, 'get_vm_status', 'CDROM')) as Record<string, string>;
          assert.equal(st.IMAGE_URL, iso);
          assert.equal(st.IMAGE_INSERTED, 'YES');
          assert.equal(st.BOOT_OPTION, model === 'gen9' ? 'BOOT_ALWAYS' : 'BOOT_ONCE');
        }
        await pu.ok(t, 'eject_virtual_media', 'CDROM');
        assert.equal(d.inserted, false);
      });

      test(`virtual floppy: insert, status, eject${gen11 ? ' (status refused: NotImplementedError, as above)' : ''}`, async () => {
        const d = ilo.server.drives.floppy;
        await pu.ok(t, 'insert_virtual_media', floppy, 'FLOPPY');
        assert.equal(d.url, floppy);
        if (gen11) assert.equal((await pu.refused(t, 'get_vm_status', 'FLOPPY')).type, 'NotImplementedError');
        else {
          const st = (await pu.ok(t, 'get_vm_status', 'FLOPPY')) as Record<string, string>;
          assert.equal(st.IMAGE_URL, floppy);
          assert.equal(st.IMAGE_INSERTED, 'YES');
        }
        await pu.ok(t, 'eject_virtual_media', 'FLOPPY');
        assert.equal(d.inserted, false);
      });

      if (gen11) {
        test('licence and health: refused by proliantutils itself (RIBCL only; with use_redfish_only, NotImplementedError)', async () => {
          assert.equal((await pu.refused(t, 'get_all_licenses')).type, 'NotImplementedError');
          assert.equal((await pu.refused(t, 'get_host_health_data')).type, 'NotImplementedError');
        });
      } else {
        test('licence and health (RIBCL): the licence, fans, temperatures and power supplies as simulated', async () => {
          assert.equal(((await pu.ok(t, 'get_all_licenses')) as Record<string, string>).LICENSE_TYPE, ilo.server.licenceName());
          const fans = (await pu.ok(t, 'get_host_health_fan_sensors')) as unknown[];
          assert.equal(fans.length, ilo.server.health.fans.length);
          const temps = (await pu.ok(t, 'get_host_health_temperature_sensors')) as unknown[];
          assert.equal(temps.length, ilo.server.health.temperatures.length);
          const psus = (await pu.ok(t, 'get_host_health_power_supplies')) as unknown[];
          assert.equal(psus.length, ilo.server.health.powerSupplies.length);
        });
      }

      test('essential properties (inspection): memory, CPUs, architecture and the host NIC MACs', async () => {
        const ep = (await pu.ok(t, 'get_essential_properties')) as { properties: Record<string, number | string>; macs: Record<string, string> };
        const m = ilo.server.model;
        assert.equal(ep.properties.memory_mb, m.dimm.count * m.dimm.mib);
        assert.equal(ep.properties.cpus, m.cpu.count * m.cpu.threads);
        assert.equal(ep.properties.cpu_arch, 'x86_64');
        if (model === 'gen8' || model === 'gen9') {
          // RIBCL's STORAGE section: the smallest logical drive in GiB, minus one (proliantutils' rule).
          const smallest = Math.min(...logicalDrives(m).map((l) => l.capacityMiB));
          assert.equal(ep.properties.local_gb, Math.floor(smallest / 1024) - 1);
        }
        for (const mac of ilo.server.macs.host) assert.ok(Object.values(ep.macs).map((x) => x.toLowerCase()).includes(mac), `${mac} in ${JSON.stringify(ep.macs)}`);
      });

      if (gen11) {
        test('capabilities: refused by proliantutils itself (for a model without "Gen10" in its name it also asks RIBCL for the iLO firmware: NotImplementedError)', async () => {
          assert.equal((await pu.refused(t, 'get_server_capabilities')).type, 'NotImplementedError');
        });
      } else {
        test('capabilities: model, iLO firmware and boot modes as simulated', async () => {
          const c = (await pu.ok(t, 'get_server_capabilities')) as Record<string, string>;
          assert.equal(c.server_model, ilo.server.identity.productName);
          assert.match(String(c.ilo_firmware_version), new RegExp(ilo.server.identity.firmwareVersion.replace('.', '\\.')));
          assert.equal(c.boot_mode_bios, 'true');
          assert.equal(c.boot_mode_uefi, model === 'gen8' ? 'false' : 'true');
          // Gen8 over RIBCL: from the embedded health's "HP ProLiant System ROM" entry.
          assert.equal(c.rom_firmware_version, ilo.server.model.biosVersion);
          if (model !== 'gen8') {
            assert.equal(c.secure_boot, 'true');
            assert.equal(c.hardware_supports_raid, 'true');
            assert.equal(c.logical_raid_level_1, 'true');
          }
        });
      }

      if (model === 'gen8') {
        test('secure boot: refused (a Gen8 has no UEFI secure boot: IloCommandNotSupportedError)', async () => {
          assert.equal((await pu.refused(t, 'get_secure_boot_mode')).type, 'IloCommandNotSupportedError');
        });
      } else if (gen11) {
        test('secure boot: read; enabling it refused by proliantutils itself (it tells UEFI from BootMode, which a Gen11 ROM does not have: IloCommandNotSupportedInBiosError)', async () => {
          assert.equal(await pu.ok(t, 'get_secure_boot_mode'), false);
          assert.equal((await pu.refused(t, 'set_secure_boot_mode', true)).type, 'IloCommandNotSupportedInBiosError');
          assert.equal(ilo.server.bios.secureBoot.pending, false);
        });
      } else {
        test('secure boot: read, enabled for the next boot, in force after it', async () => {
          assert.equal(await pu.ok(t, 'get_secure_boot_mode'), false);
          await pu.ok(t, 'set_secure_boot_mode', true);
          assert.equal(ilo.server.bios.secureBoot.pending, true);
          await pu.ok(t, 'set_host_power', 'ON');
          await finishedPost();
          assert.equal(await pu.ok(t, 'get_secure_boot_mode'), true);
        });
      }

      if (model === 'gen9') {
        test('BIOS defaults (RIS): the BaseConfigs "default" set PATCHed to the pending settings, in force after the next POST', async () => {
          ilo.server.bios.current.WorkloadProfile = ilo.server.bios.pending.WorkloadProfile = 'Virtualization-MaxPerformance';
          await pu.ok(t, 'reset_bios_to_default');
          assert.equal(ilo.server.bios.pending.WorkloadProfile, 'GeneralPowerEfficientCompute');
          assert.equal(ilo.server.bios.current.WorkloadProfile, 'Virtualization-MaxPerformance');
          await pu.ok(t, 'set_host_power', 'ON');
          await finishedPost();
          assert.equal(ilo.server.bios.current.WorkloadProfile, 'GeneralPowerEfficientCompute');
        });

        test('secure boot keys (RIS): cleared (ResetAllKeys), reset to the defaults (ResetToDefaultKeys); in legacy BIOS mode refused by proliantutils itself (IloCommandNotSupportedInBiosError)', async () => {
          ilo.server.bios.secureBoot.keys = 'custom';
          await pu.ok(t, 'clear_secure_boot_keys');
          assert.equal(ilo.server.bios.secureBoot.keys, 'deleted');
          await pu.ok(t, 'reset_secure_boot_keys');
          assert.equal(ilo.server.bios.secureBoot.keys, 'default');
          ilo.server.bootMode.current = ilo.server.bootMode.pending = 'bios';
          assert.equal((await pu.refused(t, 'reset_secure_boot_keys')).type, 'IloCommandNotSupportedInBiosError');
        });
      }
    });
  }

  describe('gen11 without use_redfish_only: proliantutils knows no Gen11 and sends everything to RIBCL', () => {
    let ilo: SimIlo;
    before(() => {
      ilo = fleet.ilos[MODELS.indexOf('gen11')]!;
    });

    test('as delivered (RIBCL off on iLO 6): refused, "RIBCLI is disabled" (proliantutils reads the model over Redfish, then still routes every call to RIBCL)', async () => {
      const t = targetOf(ilo, ca, { label: 'as delivered' });
      assert.equal(await pu.ok(t, 'backend', 'get_host_power_status'), 'ribcl');
      for (const op of ['get_host_power_status', 'get_product_name']) assert.match((await pu.refused(t, op)).message, /RIBCLI is disabled/);
    });

    test('with RIBCL switched on by an admin: boot mode, virtual media status and licences over RIBCL', async () => {
      ilo.server.ribclEnabled = true;
      const t = targetOf(ilo, ca, { label: 'RIBCL on' });
      assert.equal(await pu.ok(t, 'backend', 'set_host_power'), 'ribcl');
      assert.equal(await pu.ok(t, 'get_supported_boot_mode'), 'uefi only');
      assert.equal(await pu.ok(t, 'get_current_boot_mode'), 'UEFI');
      await pu.ok(t, 'insert_virtual_media', iso, 'CDROM');
      assert.equal(((await pu.ok(t, 'get_vm_status', 'CDROM')) as Record<string, string>).IMAGE_URL, iso);
      assert.equal(((await pu.ok(t, 'get_all_licenses')) as Record<string, string>).LICENSE_TYPE, 'iLO Advanced');
    });
  });
});
