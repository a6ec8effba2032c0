/**
 * sushy (Debian python3-sushy), the Redfish library of Ironic's redfish
 * hardware type, drives every simulated model from one Python process:
 * system, processors, power, boot override, manager, virtual media, BIOS and
 * secure boot. A Gen10 (iLO 5) and a Gen11 (iLO 6) answer all of it; an
 * iLO 4 (Gen8, Gen9) answers sushy with its Redfish 1.0 tree, where the BIOS
 * and secure boot are HP OEM resources that a Redfish client cannot find,
 * as on a real iLO 4: the test names each such refusal.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { Fleet, type SimIlo } from '../../sim/fleet';
import { patternImage, startMediaServer, type MediaServer } from '../../sim/media-server';
import type { SimModelName } from '../../sim/models';
import { RealClient, needPythonModules, targetOf, until, writeCa, type ClientTarget } from '../helpers/real-client';

const MODELS: SimModelName[] = ['gen8', 'gen9', 'gen10', 'gen11'];
const skip = needPythonModules(['sushy', 'python3-sushy']);

interface SystemView {
  serial_number: string;
  uuid: string;
  bios_version: string;
  power_state: string;
  boot: { target: string; enabled: string; mode: string | null };
  allowed_resets: string[];
  memory_gib: number | null;
  macs: string[];
}

describe('sushy against every simulated model', { skip }, () => {
  let fleet: Fleet;
  let media: MediaServer;
  let dir: string;
  let ca: string;
  let sushy: RealClient;
  let iso: string;
  let floppy: string;

  before(async () => {
    fleet = await Fleet.start({ servers: MODELS.length, models: MODELS, timings: { powerOnMs: 50, postMs: 150, softOffMs: 50 } });
    media = await startMediaServer();
    iso = media.put('deploy.iso', patternImage(256 * 1024, 1));
    floppy = media.put('params.img', patternImage(100 * 1024, 2));
    dir = mkdtempSync(join(tmpdir(), 'sushy-models-'));
    ca = writeCa(dir, fleet.ca.cert);
    sushy = new RealClient('sushy_driver.py');
  });
  afterEach(() => {
    for (const i of fleet.ilos) i.server.resetState();
  });
  after(async () => {
    await sushy?.close();
    await media?.close();
    await fleet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [index, model] of MODELS.entries()) {
    const ilo4 = model === 'gen8' || model === 'gen9';
    describe(ilo4 ? `${model} (iLO 4: Redfish 1.0 beside its RESTful API)` : model, () => {
      let ilo: SimIlo;
      let t: ClientTarget;
      before(() => {
        ilo = fleet.ilos[index]!;
        t = targetOf(ilo, ca);
      });
      const system = async (): Promise<SystemView> => (await sushy.ok(t, 'system')) as SystemView;

      test('system: serial, UUID, BIOS version, power, boot override, memory and the host NIC MACs; processors; one session for it all', async () => {
        const s = await system();
        const sim = ilo.server;
        assert.equal(s.serial_number, sim.identity.serialNumber);
        assert.equal(s.uuid, sim.uuid);
        assert.equal(s.bios_version, sim.model.biosVersion);
        assert.equal(s.power_state, 'Off');
        assert.deepEqual(s.boot, { target: 'None', enabled: 'Disabled', mode: ilo4 ? null : 'UEFI' });
        assert.deepEqual(s.macs, [...sim.macs.host].sort());
        if (!ilo4) assert.equal(s.memory_gib, (sim.model.dimm.count * sim.model.dimm.mib) / 1024);
        const p = (await sushy.ok(t, 'processors')) as { members: Array<{ model: string; cores: number; threads: number }> };
        assert.deepEqual(p.members, Array.from({ length: sim.model.cpu.count }, () => ({ model: sim.model.cpu.model, cores: sim.model.cpu.cores, threads: sim.model.cpu.threads })));
        assert.equal(sim.sessions.size, 1, 'sushy logged in once (a session), and reuses it');
      });

      test(`power: on, warm restart, ${ilo4 ? 'the button pushed (iLO 4 lists no GracefulShutdown)' : 'graceful shutdown'}, on, forced off; a no-op refused as iLO refuses it`, async () => {
        const s = ilo.server;
        await sushy.ok(t, 'reset', 'On');
        await until(() => s.postState === 'FinishedPost', 'the host to finish POST');
        assert.equal((await system()).power_state, 'On');
        let posts = 0;
        s.on('post', (p: string) => void (p === 'InPost' && posts++));
        await sushy.ok(t, 'reset', 'ForceRestart');
        await until(() => posts === 1 && s.postState === 'FinishedPost', 'POST to run again');
        if (ilo4) assert.equal((await sushy.refused(t, 'reset', 'GracefulShutdown')).type, 'InvalidParameterValueError');
        await sushy.ok(t, 'reset', ilo4 ? 'PushPowerButton' : 'GracefulShutdown');
        await until(() => s.powerState === 'off', 'the OS to shut down');
        await sushy.ok(t, 'reset', 'On');
        await until(() => s.powerState === 'on', 'power on');
        await sushy.ok(t, 'reset', 'ForceOff');
        await until(() => s.powerState === 'off', 'power off');
        const e = await sushy.refused(t, 'reset', 'ForceOff');
        assert.equal(e.type, 'BadRequestError');
        assert.match(e.message, /InvalidOperationForSystemState/);
      });

      test('boot override: once to the CD (read back, the host boots the inserted image, then back to normal), continuous to PXE (network first in the persistent order)', async () => {
        await sushy.ok(t, 'insert_media', 'cd', iso);
        await sushy.ok(t, 'set_boot', 'Cd', 'Once');
        assert.equal(ilo.server.oneTimeBoot?.device, 'cdrom');
        assert.deepEqual(((await system()).boot), { target: 'Cd', enabled: 'Once', mode: ilo4 ? null : 'UEFI' });
        await sushy.ok(t, 'reset', 'On');
        await until(() => ilo.server.lastBoot !== undefined, 'the boot');
        assert.deepEqual([ilo.server.lastBoot?.device, ilo.server.lastBoot?.source, ilo.server.lastBoot?.imageUrl], ['cdrom', 'one-time', iso]);
        assert.equal((await system()).boot.enabled, 'Disabled');
        await sushy.ok(t, 'set_boot', 'Pxe', 'Continuous');
        assert.equal(ilo.server.activeOrder()[0]?.device, 'network');
      });

      test('manager: model and firmware; an iLO reset ends every session, and sushy logs in again', async () => {
        const m = (await sushy.ok(t, 'manager')) as Record<string, unknown>;
        assert.equal(m.model, ilo.server.model.managerType);
        assert.equal(m.firmware_version, `${ilo.server.model.managerType} v${ilo.server.identity.firmwareVersion}`);
        assert.ok(ilo.server.sessions.size >= 1);
        await sushy.ok(t, 'manager_reset', 'GracefulRestart');
        assert.equal(ilo.server.sessions.size, 0, 'the reset closed the sessions');
        assert.equal((await system()).power_state, 'Off');
        assert.equal(ilo.server.sessions.size, 1, 'a new session');
      });

      for (const device of ['cd', 'floppy'] as const) {
        test(`virtual media ${device}: insert (${ilo4 ? 'a PATCH of Image, as iLO 4 takes it' : 'the InsertMedia action'}; the iLO reads the image), read back, eject`, async () => {
          const url = device === 'cd' ? iso : floppy;
          const drive = ilo.server.drives[device === 'cd' ? 'cdrom' : 'floppy'];
          await sushy.ok(t, 'insert_media', device, url);
          assert.equal(drive.url, url);
          assert.equal(drive.connected, true);
          assert.deepEqual(await sushy.ok(t, 'vmedia', device), {
            image: url,
            inserted: true,
            write_protected: true,
            media_types: device === 'cd' ? ['CD', 'DVD'] : ['Floppy', 'USBStick'],
          });
          await sushy.ok(t, 'eject_media', device);
          assert.equal(drive.inserted, false);
          assert.equal(((await sushy.ok(t, 'vmedia', device)) as { inserted: boolean }).inserted, false);
        });
      }

      if (ilo4) {
        test('BIOS: refused (iLO 4 has no Redfish Bios link: its BIOS is the HP OEM resource under Oem.Hp.links; MissingAttributeError)', async () => {
          const e = await sushy.refused(t, 'bios');
          assert.equal(e.type, 'MissingAttributeError');
          assert.match(e.message, /Bios/);
        });
        test(`secure boot: refused (${model === 'gen8' ? 'a Gen8 has none' : 'iLO 4 has no Redfish SecureBoot link, only Oem.Hp.links.SecureBoot'}; MissingAttributeError)`, async () => {
          assert.equal((await sushy.refused(t, 'secure_boot')).type, 'MissingAttributeError');
        });
      } else {
        test(`BIOS: attributes read${model === 'gen11' ? ' (no BootMode: a Gen11 ROM is UEFI only, and setting one is refused with PropertyUnknown)' : ''}; a change pending until the next POST`, async () => {
          const b = (await sushy.ok(t, 'bios')) as { attributes: Record<string, unknown> };
          assert.equal(b.attributes.ProcVirtualization, 'Enabled');
          assert.equal(b.attributes.BootMode, model === 'gen11' ? undefined : 'Uefi');
          if (model === 'gen11') {
            const e = await sushy.refused(t, 'set_bios', { BootMode: 'LegacyBios' });
            assert.match(e.message, /PropertyUnknown/);
          }
          await sushy.ok(t, 'set_bios', { ProcVirtualization: 'Disabled' });
          assert.equal(ilo.server.bios.pending.ProcVirtualization, 'Disabled');
          assert.equal(((await sushy.ok(t, 'bios')) as { pending: Record<string, unknown> }).pending.ProcVirtualization, 'Disabled');
          await sushy.ok(t, 'reset', 'On');
          await until(() => ilo.server.postState === 'FinishedPost', 'the host to finish POST');
          assert.equal(((await sushy.ok(t, 'bios')) as { attributes: Record<string, unknown> }).attributes.ProcVirtualization, 'Disabled');
        });

        test('secure boot: read, enabled, in force after the next POST', async () => {
          assert.deepEqual(await sushy.ok(t, 'secure_boot'), { enabled: false, current_boot: 'Disabled', mode: 'UserMode' });
          await sushy.ok(t, 'set_secure_boot', true);
          assert.equal(ilo.server.bios.secureBoot.pending, true);
          await sushy.ok(t, 'reset', 'On');
          await until(() => ilo.server.postState === 'FinishedPost', 'the host to finish POST');
          assert.equal(((await sushy.ok(t, 'secure_boot')) as { current_boot: string }).current_boot, 'Enabled');
        });
      }
    });
  }
});
