/**
 * python-hpilo (Debian python3-hpilo), the RIBCL library operators script
 * iLOs with, drives every simulated model (Gen8, Gen9, Gen10, Gen11) from
 * one Python process: reads and writes, each checked against the simulated
 * machine. Where a generation of real iLO refuses, the test says why.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { Fleet, type SimIlo } from '../../sim/fleet';
import { patternImage, startMediaServer, type MediaServer } from '../../sim/media-server';
import type { SimModelName } from '../../sim/models';
import { RealClient, needPythonModules, targetOf, until, writeCa, type ClientTarget } from '../helpers/real-client';

const MODELS: SimModelName[] = ['gen8', 'gen9', 'gen10', 'gen11'];
const skip = needPythonModules(['hpilo', 'python3-hpilo']);

describe('python-hpilo against every simulated model', { skip }, () => {
  let fleet: Fleet;
  let media: MediaServer;
  let dir: string;
  let ca: string;
  let hpilo: RealClient;
  let iso: string;
  let floppy: string;

  before(async () => {
    fleet = await Fleet.start({ servers: MODELS.length, models: MODELS, timings: { powerOnMs: 50, postMs: 150, softOffMs: 50 } });
    media = await startMediaServer();
    iso = media.put('deploy.iso', patternImage(256 * 1024, 1));
    floppy = media.put('params.img', patternImage(100 * 1024, 2));
    dir = mkdtempSync(join(tmpdir(), 'hpilo-models-'));
    ca = writeCa(dir, fleet.ca.cert);
    hpilo = new RealClient('hpilo_driver.py');
  });
  afterEach(() => {
    for (const i of fleet.ilos) i.server.resetState();
  });
  after(async () => {
    await hpilo?.close();
    await media?.close();
    await fleet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [index, model] of MODELS.entries()) {
    describe(model, () => {
      let ilo: SimIlo;
      let t: ClientTarget;
      before(() => {
        ilo = fleet.ilos[index]!;
        t = targetOf(ilo, ca);
      });

      if (model === 'gen11') {
        test('as delivered, RIBCL is refused ("RIBCLI is disabled": iLO 6 ships with it off); the tests below switch it on, as an admin would', async () => {
          ilo.server.ribclEnabled = ilo.server.model.ribclByDefault;
          assert.equal(ilo.server.ribclEnabled, false);
          const e = await hpilo.refused(t, 'get_host_power_status');
          assert.match(e.message, /RIBCLI is disabled/);
        });
        beforeEach(() => {
          ilo.server.ribclEnabled = true;
        });
      }

      test('identity: product name, firmware and management processor, server name', async () => {
        assert.equal(await hpilo.ok(t, 'get_product_name'), ilo.server.identity.productName);
        const fw = (await hpilo.ok(t, 'get_fw_version')) as Record<string, string>;
        assert.equal(fw.management_processor, ilo.server.model.managementProcessor);
        assert.equal(fw.firmware_version, ilo.server.identity.firmwareVersion);
        assert.equal(await hpilo.ok(t, 'get_server_name'), ilo.server.name);
      });

      test('power: status, on, off, the button pressed and held, warm reset and cold boot', async () => {
        const s = ilo.server;
        assert.equal(await hpilo.ok(t, 'get_host_power_status'), 'OFF');
        await hpilo.ok(t, 'set_host_power', true);
        await until(() => s.postState === 'FinishedPost', 'the host to finish POST');
        assert.equal(await hpilo.ok(t, 'get_host_power_status'), 'ON');
        let posts = 0;
        s.on('post', (p: string) => void (p === 'InPost' && posts++));
        await hpilo.ok(t, 'reset_server');
        await until(() => posts === 1 && s.postState === 'FinishedPost', 'POST to run again after the warm reset');
        await hpilo.ok(t, 'press_pwr_btn');
        await until(() => s.powerState === 'off', 'the OS to shut down after the button press');
        await hpilo.ok(t, 'cold_boot_server');
        await until(() => s.powerState === 'on', 'the cold boot to power the host on');
        await hpilo.ok(t, 'hold_pwr_btn');
        assert.equal(s.powerState, 'off');
        await hpilo.ok(t, 'set_host_power', false);
        assert.equal(await hpilo.ok(t, 'get_host_power_status'), 'OFF');
      });

      test('one-time boot: set to the CD, read back, cleared', async () => {
        await hpilo.ok(t, 'set_one_time_boot', 'cdrom');
        assert.equal(ilo.server.oneTimeBoot?.device, 'cdrom');
        assert.equal(String(await hpilo.ok(t, 'get_one_time_boot')).toLowerCase(), 'cdrom');
        await hpilo.ok(t, 'set_one_time_boot', 'normal');
        assert.equal(ilo.server.oneTimeBoot, null);
      });

      test('persistent boot order: read, the last entry put first, read back', async () => {
        const ids = ((await hpilo.ok(t, 'get_persistent_boot')) as Array<string | [string, string]>).map((e) => (Array.isArray(e) ? e[0] : e));
        assert.deepEqual(ids.map((x) => x.toLowerCase()), ilo.server.activeOrder().map((e) => e.id.toLowerCase()));
        const last = ids[ids.length - 1]!;
        await hpilo.ok(t, 'set_persistent_boot', [last]);
        assert.equal(ilo.server.activeOrder()[0]?.id.toLowerCase(), last.toLowerCase());
      });

      if (model === 'gen8') {
        test('boot mode: legacy only; a change of boot mode is refused (a Gen8 ROM has no UEFI)', async () => {
          assert.equal(await hpilo.ok(t, 'get_supported_boot_mode'), 'LEGACY_ONLY');
          assert.equal(await hpilo.ok(t, 'get_current_boot_mode'), 'LEGACY');
          const e = await hpilo.refused(t, 'set_pending_boot_mode', 'UEFI');
          assert.match(e.message, /Feature not supported/);
          assert.equal(ilo.server.bootMode.pending, 'bios');
        });
      } else if (model === 'gen11') {
        test('boot mode: UEFI only; a switch to legacy BIOS is refused (a Gen11 ROM has no legacy BIOS)', async () => {
          assert.equal(await hpilo.ok(t, 'get_supported_boot_mode'), 'UEFI_ONLY');
          assert.equal(await hpilo.ok(t, 'get_current_boot_mode'), 'UEFI');
          const e = await hpilo.refused(t, 'set_pending_boot_mode', 'LEGACY');
          assert.match(e.message, /Feature not supported/);
          await hpilo.ok(t, 'set_pending_boot_mode', 'UEFI');
          assert.equal(ilo.server.bootMode.pending, 'uefi');
        });
      } else {
        test('boot mode: legacy and UEFI; a pending change to legacy, read back, in force after the next POST', async () => {
          assert.equal(await hpilo.ok(t, 'get_supported_boot_mode'), 'LEGACY_UEFI');
          assert.equal(await hpilo.ok(t, 'get_current_boot_mode'), 'UEFI');
          await hpilo.ok(t, 'set_pending_boot_mode', 'LEGACY');
          assert.equal(await hpilo.ok(t, 'get_pending_boot_mode'), 'LEGACY');
          await hpilo.ok(t, 'set_host_power', true);
          await until(() => ilo.server.postState === 'FinishedPost', 'the host to finish POST');
          assert.equal(await hpilo.ok(t, 'get_current_boot_mode'), 'LEGACY');
        });
      }

      for (const device of ['cdrom', 'floppy'] as const) {
        test(`virtual media ${device}: insert, connect (the iLO reads the image), status, boot option, eject`, async () => {
          const url = device === 'cdrom' ? iso : floppy;
          await hpilo.ok(t, 'insert_virtual_media', device, url);
          await hpilo.ok(t, 'set_vm_status', device, 'connect', true);
          const d = ilo.server.drives[device];
          assert.equal(d.url, url);
          assert.equal(d.connected, true, 'the simulated iLO read the image');
          const st = (await hpilo.ok(t, 'get_vm_status', device)) as Record<string, string>;
          assert.equal(st.image_url, url);
          assert.equal(st.image_inserted, 'YES');
          assert.equal(st.vm_applet, 'CONNECTED');
          assert.equal(st.boot_option, 'BOOT_ALWAYS');
          if (device === 'cdrom') {
            await hpilo.ok(t, 'set_vm_status', device, 'boot_once', true);
            assert.equal(d.bootOption, 'BOOT_ONCE');
          }
          await hpilo.ok(t, 'eject_virtual_media', device);
          assert.equal(d.inserted, false);
          assert.equal(((await hpilo.ok(t, 'get_vm_status', device)) as Record<string, string>).image_inserted, 'NO');
        });
      }

      test('licence, embedded health and host data read as the simulated server has them', async () => {
        const lic = (await hpilo.ok(t, 'get_all_licenses')) as Array<Record<string, string>>;
        assert.equal(lic[0]?.license_type, ilo.server.licenceName());
        const h = (await hpilo.ok(t, 'get_embedded_health')) as Record<string, Record<string, unknown>>;
        assert.equal(Object.keys(h.fans ?? {}).length, ilo.server.health.fans.length);
        assert.ok(h.health_at_a_glance, 'health at a glance');
        const data = (await hpilo.ok(t, 'get_host_data')) as Array<Record<string, unknown>>;
        const system = data.find((r) => r.type === 1);
        assert.equal(system?.['Product Name'], ilo.server.identity.productName);
        assert.equal(system?.cUUID, ilo.server.uuid);
      });
    });
  }
});
