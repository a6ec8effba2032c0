/**
 * One behavioural suite, run against RIBCL on a simulated Gen8 (iLO 4,
 * BIOS only), RIBCL on a Gen9 (iLO 4, UEFI capable), Redfish on a Gen10
 * (iLO 5), and Redfish and RIBCL on a Gen11 (iLO 6, UEFI only): the same
 * calls give the same observable results, and the simulated machine ends up
 * in the same state. Where a platform differs (Gen8 cannot boot UEFI, Gen11
 * cannot boot legacy BIOS), the test says so.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { BmcError, isBmcError } from '../../lib/bmc/errors';
import { RedfishBmc } from '../../lib/bmc/redfish/provider';
import { RibclBmc } from '../../lib/bmc/ribcl/provider';
import type { Bmc } from '../../lib/bmc/types';
import { createFleetCa } from '../../sim/certs';
import { Fleet, type SimIlo } from '../../sim/fleet';
import { closedPort } from '../helpers/ports';
import type { SimModelName } from '../../sim/models';
import type { SimBootEvent, SimServer } from '../../sim/server';
import { patternImage, startMediaServer, type MediaServer } from '../../sim/media-server';

interface Variant {
  label: string;
  model: SimModelName;
  protocol: 'ribcl' | 'redfish';
}

const VARIANTS: Variant[] = [
  { label: 'RIBCL, simulated Gen8 (iLO 4, BIOS only)', model: 'gen8', protocol: 'ribcl' },
  { label: 'RIBCL, simulated Gen9 (iLO 4, UEFI capable)', model: 'gen9', protocol: 'ribcl' },
  { label: 'Redfish, simulated Gen10 (iLO 5)', model: 'gen10', protocol: 'redfish' },
  { label: 'Redfish, simulated Gen11 (iLO 6, UEFI only)', model: 'gen11', protocol: 'redfish' },
  { label: 'RIBCL, simulated Gen11 (iLO 6, UEFI only, RIBCL switched on)', model: 'gen11', protocol: 'ribcl' },
];

const nextBoot = (server: SimServer): Promise<SimBootEvent> => once(server, 'boot').then(([e]) => e as SimBootEvent);

async function inPost(server: SimServer): Promise<void> {
  if (server.postState === 'InPost') return;
  await new Promise<void>((resolve) => {
    const on = (s: string): void => {
      if (s === 'InPost') {
        server.off('post', on);
        resolve();
      }
    };
    server.on('post', on);
  });
}

function behaviourSuite(v: Variant): void {
  describe(v.label, () => {
    let fleet: Fleet;
    let media: MediaServer;
    let trusted: MediaServer;
    let untrusted: MediaServer;
    let ilo: SimIlo;
    let unlicensed: SimIlo;
    const clients: Bmc[] = [];
    let iso: string;
    let floppy: string;

    const connect = (target: SimIlo): Bmc => {
      const ep = { host: target.host, port: target.port, username: target.username, password: target.password, tls: { mode: 'ca' as const, ca: fleet.ca.cert }, requestTimeoutMs: 5000 };
      const c = v.protocol === 'ribcl' ? new RibclBmc(ep) : new RedfishBmc(ep);
      clients.push(c);
      return c;
    };
    let bmc: Bmc;

    before(async () => {
      fleet = await Fleet.start({ servers: 2, models: v.model, licensed: [true, false], timings: { powerOnMs: 40, postMs: 250, softOffMs: 60 } });
      [ilo, unlicensed] = fleet.ilos as [SimIlo, SimIlo];
      media = await startMediaServer();
      trusted = await startMediaServer(await fleet.ca.issue('media.sim', ['127.0.0.1']));
      const foreign = await createFleetCa('some other CA');
      untrusted = await startMediaServer(await foreign.issue('media.other', ['127.0.0.1']));
      iso = media.put('deploy.iso', patternImage(3 * 1024 * 1024, 1));
      floppy = media.put('params.img', patternImage(1474560, 2));
      trusted.put('secure.iso', patternImage(256 * 1024, 3));
      untrusted.put('secure.iso', patternImage(256 * 1024, 4));
    });
    beforeEach(() => {
      for (const i of fleet.ilos) {
        i.server.resetState({ licensed: i === ilo });
        // iLO 6 ships with RIBCL off: the RIBCL variant is a Gen11 whose admin switched it on.
        if (v.protocol === 'ribcl') i.server.ribclEnabled = true;
      }
      bmc = connect(ilo);
    });
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((c) => c.close()));
    });
    after(async () => {
      await fleet?.stop();
      await Promise.all([media?.close(), trusted?.close(), untrusted?.close()]);
    });

    test('the client speaks the protocol under test', () => {
      assert.equal(bmc.protocol, v.protocol);
    });

    test('virtual media: empty drives read as empty; insert connects the image; eject empties; a second eject is not an error', async () => {
      for (const device of ['cdrom', 'floppy'] as const) {
        assert.deepEqual(await bmc.getVirtualMediaStatus(device), { device, inserted: false, bootOption: 'no-boot', writeProtected: false, connected: false });
        await bmc.insertVirtualMedia(device, device === 'cdrom' ? iso : floppy);
        assert.deepEqual(await bmc.getVirtualMediaStatus(device), {
          device,
          inserted: true,
          imageUrl: device === 'cdrom' ? iso : floppy,
          bootOption: 'boot-always',
          writeProtected: true,
          connected: true,
        });
        assert.equal(ilo.server.drives[device].connected, true, 'the simulated iLO has the image open');
        await bmc.ejectVirtualMedia(device);
        assert.equal((await bmc.getVirtualMediaStatus(device)).inserted, false);
        await bmc.ejectVirtualMedia(device);
      }
    });

    test('virtual media: the iLO reads the image with small Range requests, never the whole image', async () => {
      const before = media.requests.length;
      await bmc.insertVirtualMedia('cdrom', iso);
      const reads = media.requests.slice(before);
      assert.ok(reads.length >= 1, 'the image server was asked');
      for (const r of reads) {
        assert.equal(r.method, 'GET');
        const m = /^bytes=(\d+)-(\d+)$/.exec(r.range ?? '');
        assert.ok(m, `a Range request (got ${r.range})`);
        assert.ok(Number(m[2]) - Number(m[1]) < 64 * 1024, 'a small read');
      }
    });

    test('virtual media: insert over an inserted image replaces it', async () => {
      await bmc.insertVirtualMedia('cdrom', iso);
      const other = media.put('other.iso', patternImage(100_000, 9));
      await bmc.insertVirtualMedia('cdrom', other);
      const s = await bmc.getVirtualMediaStatus('cdrom');
      assert.equal(s.imageUrl, other);
      assert.equal(s.connected, true);
    });

    test('virtual media: an image URL the iLO cannot read is a media error naming why; the drive shows it inserted but not connected', async () => {
      await assert.rejects(bmc.insertVirtualMedia('floppy', media.url('missing.img')), (err: unknown) => {
        assert.ok(isBmcError(err, 'media'), String(err));
        assert.equal(err.reason, 'media-not-found');
        return true;
      });
      const s = await bmc.getVirtualMediaStatus('floppy');
      assert.deepEqual({ inserted: s.inserted, connected: s.connected, bootOption: s.bootOption }, { inserted: true, connected: false, bootOption: 'no-boot' });
      await assert.rejects(bmc.insertVirtualMedia('cdrom', `http://127.0.0.1:${await closedPort()}/nothing-listens-here.iso`), (err: unknown) => {
        assert.ok(isBmcError(err, 'media'));
        assert.equal(err.reason, 'media-unreachable');
        return true;
      });
    });

    test('virtual media over https: a server signed by a CA the iLO trusts connects; an untrusted one is refused', async () => {
      await bmc.insertVirtualMedia('cdrom', trusted.url('secure.iso'));
      assert.equal((await bmc.getVirtualMediaStatus('cdrom')).connected, true);
      await assert.rejects(bmc.insertVirtualMedia('floppy', untrusted.url('secure.iso')), (err: unknown) => {
        assert.ok(isBmcError(err, 'media'));
        // RIBCL words a TLS failure distinctly; the Redfish registry has one key for "could not connect".
        assert.ok(['media-tls', 'media-unreachable'].includes(err.reason ?? ''), err.reason);
        return true;
      });
    });

    test('virtual media: a floppy cannot be boot-once (invalid input naming the field); bad URLs are refused before any request', async () => {
      const before = bmc.stats.requests;
      await assert.rejects(bmc.insertVirtualMedia('floppy', floppy, { bootOnce: true }), { code: 'invalid-input', field: 'options.bootOnce' });
      await assert.rejects(bmc.insertVirtualMedia('cdrom', 'ftp://host/x.iso'), { code: 'invalid-input', field: 'url' });
      await assert.rejects(bmc.insertVirtualMedia('cdrom', 'http://user:secret@h/x y.iso'), (err: unknown) => isBmcError(err, 'invalid-input') && !err.message.includes('secret'));
      await assert.rejects(bmc.getVirtualMediaStatus('dvd-burner' as never), { code: 'invalid-input', field: 'device' });
      assert.equal(bmc.stats.requests, before, 'nothing was sent');
    });

    test('boot-once CD: the next reset boots it, the one after ejects it', async () => {
      await bmc.insertVirtualMedia('cdrom', iso, { bootOnce: true });
      assert.equal((await bmc.getVirtualMediaStatus('cdrom')).bootOption, 'boot-once');
      let boot = nextBoot(ilo.server);
      await bmc.powerOn();
      const first = await boot;
      assert.deepEqual({ device: first.device, source: first.source, imageUrl: first.imageUrl }, { device: 'cdrom', source: 'vmedia-boot-once', imageUrl: iso });
      boot = nextBoot(ilo.server);
      await bmc.reset();
      const second = await boot;
      assert.notEqual(second.device, 'cdrom');
      assert.equal((await bmc.getVirtualMediaStatus('cdrom')).inserted, false, 'auto-ejected at the second reset');
    });

    test('licence: reported as the iLO has it; without iLO Advanced virtual media is refused with a licence error', async () => {
      assert.deepEqual(await bmc.getLicence(), { type: v.model === 'gen8' || v.model === 'gen9' ? 'iLO 4 Advanced' : 'iLO Advanced', tier: 'advanced', virtualMedia: true });
      const poor = connect(unlicensed);
      const l = await poor.getLicence();
      assert.equal(l.tier, 'standard');
      assert.equal(l.virtualMedia, false);
      await assert.rejects(poor.insertVirtualMedia('cdrom', iso), { code: 'licence' });
      assert.equal(unlicensed.server.drives.cdrom.inserted, false);
    });

    test('boot mode: current, pending and supported; a pending change takes effect at the next POST', async () => {
      const m = await bmc.getBootMode();
      if (v.model === 'gen8') {
        assert.deepEqual(m, { current: 'bios', pending: 'bios', supported: 'bios-only' });
        await assert.rejects(bmc.setPendingBootMode('uefi'), (err: unknown) => isBmcError(err, 'not-supported') && /cannot boot UEFI/.test(err.message));
        await bmc.setPendingBootMode('bios'); // nothing to change on a BIOS-only platform
        return;
      }
      if (v.model === 'gen11') {
        // UEFI class 3, and no BootMode BIOS attribute at all: UEFI is all there is.
        assert.deepEqual(m, { current: 'uefi', pending: 'uefi', supported: 'uefi-only' });
        await assert.rejects(bmc.setPendingBootMode('bios'), (err: unknown) => isBmcError(err, 'not-supported') && /cannot boot legacy BIOS/.test(err.message));
        await bmc.setPendingBootMode('uefi'); // nothing to change on a UEFI-only platform
        const boot = nextBoot(ilo.server);
        await bmc.powerOn();
        assert.equal((await boot).mode, 'uefi');
        assert.deepEqual(await bmc.getBootMode(), m);
        return;
      }
      assert.deepEqual(m, { current: 'uefi', pending: 'uefi', supported: 'bios-and-uefi' });
      await bmc.setPendingBootMode('bios');
      assert.deepEqual(await bmc.getBootMode(), { current: 'uefi', pending: 'bios', supported: 'bios-and-uefi' });
      const boot = nextBoot(ilo.server);
      await bmc.powerOn();
      assert.equal((await boot).mode, 'bios');
      assert.deepEqual(await bmc.getBootMode(), { current: 'bios', pending: 'bios', supported: 'bios-and-uefi' });
    });

    test('one-time boot: set, read back, consumed by one boot; "normal" clears it', async () => {
      assert.equal(await bmc.getOneTimeBoot(), 'normal');
      await bmc.setOneTimeBoot('network');
      assert.equal(await bmc.getOneTimeBoot(), 'network');
      await bmc.setOneTimeBoot('normal');
      assert.equal(await bmc.getOneTimeBoot(), 'normal');
      await bmc.setOneTimeBoot('network');
      const boot = nextBoot(ilo.server);
      await bmc.powerOn();
      const e = await boot;
      assert.deepEqual({ device: e.device, source: e.source }, { device: 'network', source: 'one-time' });
      assert.equal(await bmc.getOneTimeBoot(), 'normal', 'reverts after one boot');
    });

    test('while the host is in POST, boot changes are refused with a retryable busy (host-in-post) error', async () => {
      await bmc.powerOn();
      await inPost(ilo.server);
      const refusals: BmcError[] = [];
      for (const attempt of [() => bmc.setOneTimeBoot('cdrom'), () => bmc.setPersistentBootOrder(['network'])]) {
        try {
          await attempt();
        } catch (err) {
          if (err instanceof BmcError) refusals.push(err);
          else throw err;
        }
      }
      assert.equal(ilo.server.postState, 'InPost', 'still in POST: the refusals were about POST');
      assert.equal(refusals.length, 2);
      for (const r of refusals) {
        assert.equal(r.code, 'busy');
        assert.equal(r.reason, 'host-in-post');
        assert.equal(r.retryable, true);
      }
      await once(ilo.server, 'boot');
      await bmc.setOneTimeBoot('cdrom'); // after POST it works
      assert.equal(await bmc.getOneTimeBoot(), 'cdrom');
    });

    test('persistent boot order: entries with device classes; putting network and hdd first', async () => {
      const before = await bmc.getPersistentBootOrder();
      const expected = v.model === 'gen8' ? ['cdrom', 'floppy', 'usb', 'hdd', 'network'] : ['hdd', 'network', 'usb'];
      assert.deepEqual(
        before.map((e) => e.device),
        expected,
      );
      await bmc.setPersistentBootOrder(['network', 'hdd']);
      const after = await bmc.getPersistentBootOrder();
      assert.deepEqual(after.slice(0, 2).map((e) => e.device), ['network', 'hdd']);
      assert.equal(after.length, before.length, 'no entry lost');
      await assert.rejects(bmc.setPersistentBootOrder(['hdd', 'hdd']), { code: 'invalid-input', field: 'devices' });
    });

    test('the virtual CD in the persistent order: legacy BIOS lists CDROM always; UEFI only after the next reset (use one-time boot)', async () => {
      await bmc.insertVirtualMedia('cdrom', iso);
      if (v.model === 'gen8') {
        assert.ok((await bmc.getPersistentBootOrder()).some((e) => e.id === 'CDROM' && e.device === 'cdrom'));
        await bmc.setPersistentBootOrder(['cdrom']);
        assert.equal((await bmc.getPersistentBootOrder())[0]?.device, 'cdrom');
        return;
      }
      assert.ok(!(await bmc.getPersistentBootOrder()).some((e) => e.device === 'cdrom'));
      await assert.rejects(bmc.setPersistentBootOrder(['cdrom']), (err: unknown) => isBmcError(err, 'invalid-input') && /not configured as a boot device/.test(err.message));
      await bmc.setOneTimeBoot('cdrom');
      const boot = nextBoot(ilo.server);
      await bmc.powerOn();
      assert.equal((await boot).device, 'cdrom', 'one-time boot to the CD works at once');
      const entries = await bmc.getPersistentBootOrder();
      assert.ok(entries.some((e) => e.device === 'cdrom'), 'after the reset the virtual CD is listed');
      await bmc.setPersistentBootOrder(['cdrom']);
      assert.equal((await bmc.getPersistentBootOrder())[0]?.device, 'cdrom');
    });

    test('health: one normalised shape; a failed fan makes it critical, a hot sensor degraded', async () => {
      const h = await bmc.getHealth();
      assert.equal(h.overall, 'ok');
      assert.deepEqual(
        h.fans.map((f) => [f.name, f.status, f.reading?.unit]),
        ilo.server.health.fans.map((f) => [f.label, 'ok', 'Percent']),
      );
      assert.deepEqual(
        h.temperatures.map((t) => [t.name, t.status, t.reading?.value, t.caution]),
        ilo.server.health.temperatures.map((t) => [t.label, t.status === 'OK' ? 'ok' : 'absent', t.status === 'OK' ? t.reading : undefined, t.caution || undefined]),
      );
      assert.deepEqual(h.powerSupplies, [
        { name: 'Power Supply 1', status: 'ok' },
        { name: 'Power Supply 2', status: 'ok' },
      ]);
      assert.deepEqual(Object.keys(h.summary).sort(), ['bios_hardware', 'fans', 'memory', 'network', 'power_supplies', 'processor', 'storage', 'temperature']);
      ilo.server.health.set('Fan 3', 'Failed');
      ilo.server.health.set('02-CPU 1', 'Degraded');
      const bad = await bmc.getHealth();
      assert.equal(bad.overall, 'critical');
      assert.equal(bad.fans.find((f) => f.name === 'Fan 3')?.status, 'critical');
      assert.equal(bad.temperatures.find((t) => t.name === '02-CPU 1')?.status, 'degraded');
      assert.equal(bad.summary.fans, 'critical');
      assert.equal(bad.summary.temperature, 'degraded');
    });

    test('host info: product, generation, serial, UUID, iLO firmware and the host NIC MACs', async () => {
      const h = await bmc.getHostInfo();
      const s = ilo.server;
      assert.equal(h.productName, s.identity.productName);
      assert.equal(h.generation, { gen8: 'Gen8', gen9: 'Gen9', gen10: 'Gen10', gen11: 'Gen11' }[v.model]);
      assert.equal(h.serialNumber, s.identity.serialNumber);
      assert.equal(h.uuid, s.uuid);
      assert.equal(h.iloFirmware, s.identity.firmwareVersion);
      assert.equal(h.managementProcessor, s.model.managementProcessor);
      assert.ok(h.biosVersion?.startsWith(s.model.biosFamily), h.biosVersion);
      assert.deepEqual(
        h.nics,
        s.macs.host.map((mac, i) => ({ port: String(i + 1), mac })),
      );
    });

    test('deploy media: attached in as few round trips as the protocol allows; the host boots the CD with the floppy connected; detach empties both', async () => {
      // Warm up discovery (Redfish finds its URIs once per client).
      await bmc.getVirtualMediaStatus('cdrom');
      await bmc.getOneTimeBoot();
      const before = bmc.stats.requests;
      await bmc.attachDeployMedia({ cdrom: iso, floppy, oneTimeBootCdrom: true });
      const used = bmc.stats.requests - before;
      // Redfish: two inserts and the one-time boot override. The CD's BootOnNextServerReset is
      // left alone, as Ironic leaves it ("CONNECT"): the override boots it once.
      if (v.protocol === 'ribcl') assert.equal(used, 1, 'one RIBCL request');
      else assert.equal(used, 3, `3 Redfish calls (used ${used})`);
      const [cd, fd] = [await bmc.getVirtualMediaStatus('cdrom'), await bmc.getVirtualMediaStatus('floppy')];
      assert.deepEqual(
        { cd: [cd.imageUrl, cd.connected, cd.writeProtected, cd.bootOption], fd: [fd.imageUrl, fd.connected, fd.writeProtected] },
        { cd: [iso, true, true, v.protocol === 'ribcl' ? 'boot-once' : 'boot-always'], fd: [floppy, true, true] },
      );
      assert.equal(await bmc.getOneTimeBoot(), 'cdrom');
      // Attaching again over attached media works (RIBCL overwrites; Redfish ejects first).
      await bmc.attachDeployMedia({ cdrom: iso, floppy, oneTimeBootCdrom: true });
      const boot = nextBoot(ilo.server);
      await bmc.powerOn();
      const e = await boot;
      assert.deepEqual({ device: e.device, imageUrl: e.imageUrl, media: e.media }, { device: 'cdrom', imageUrl: iso, media: { cdrom: iso, floppy } });
      await bmc.detachDeployMedia();
      assert.equal((await bmc.getVirtualMediaStatus('cdrom')).inserted, false);
      assert.equal((await bmc.getVirtualMediaStatus('floppy')).inserted, false);
      await bmc.detachDeployMedia(); // empty drives are fine
      await assert.rejects(bmc.attachDeployMedia({ oneTimeBootCdrom: false }), { code: 'invalid-input', field: 'media' });
    });

    test('power: on, already on, hard off, reset of a stopped server powers it on, soft off, cold boot', async () => {
      assert.equal(await bmc.getPowerState(), 'off');
      await bmc.powerOn();
      assert.equal(await bmc.waitForPowerState('on', { timeoutMs: 3000, intervalMs: 20 }), 'on');
      assert.deepEqual((await bmc.powerOn()).warnings, ['Host power is already ON.']);
      await bmc.powerOff();
      assert.equal(await bmc.waitForPowerState('off', { timeoutMs: 3000, intervalMs: 20 }), 'off');
      assert.deepEqual((await bmc.powerOff()).warnings, ['Host power is already OFF.']);
      await bmc.reset();
      assert.equal(await bmc.waitForPowerState('on', { timeoutMs: 3000, intervalMs: 20 }), 'on');
      await bmc.softPowerOff();
      assert.equal(await bmc.waitForPowerState('off', { timeoutMs: 3000, intervalMs: 20 }), 'off');
      const events: string[] = [];
      await bmc.powerOn();
      await bmc.waitForPowerState('on', { timeoutMs: 3000, intervalMs: 20 });
      ilo.server.on('power', (p: string) => events.push(p));
      await bmc.coldBoot();
      await bmc.waitForPowerState('on', { timeoutMs: 3000, intervalMs: 20 });
      assert.deepEqual(events.slice(0, 2), ['off', 'on']);
    });
  });
}

for (const v of VARIANTS) behaviourSuite(v);

describe('one simulated Gen10, two protocols: RIBCL and Redfish see the same machine', () => {
  let fleet: Fleet;
  let media: MediaServer;
  const closers: Bmc[] = [];
  before(async () => {
    fleet = await Fleet.start({ servers: 1, models: 'gen10', timings: { powerOnMs: 40, postMs: 100 } });
    media = await startMediaServer();
  });
  after(async () => {
    await Promise.all(closers.map((c) => c.close()));
    await fleet?.stop();
    await media?.close();
  });

  test('what one protocol changes, the other reads', async () => {
    const ilo = fleet.ilos[0]!;
    const ep = { host: ilo.host, port: ilo.port, username: ilo.username, password: ilo.password, tls: { mode: 'ca' as const, ca: fleet.ca.cert } };
    const ribcl = new RibclBmc(ep);
    const redfish = new RedfishBmc(ep);
    closers.push(ribcl, redfish);
    const url = media.put('x.iso', patternImage(200_000));
    await ribcl.insertVirtualMedia('cdrom', url, { bootOnce: true });
    assert.deepEqual(await redfish.getVirtualMediaStatus('cdrom'), await ribcl.getVirtualMediaStatus('cdrom'));
    await redfish.setOneTimeBoot('hdd');
    assert.equal(await ribcl.getOneTimeBoot(), 'hdd');
    await redfish.setPendingBootMode('bios');
    assert.deepEqual(await ribcl.getBootMode(), await redfish.getBootMode());
    await redfish.setPersistentBootOrder(['network']);
    assert.deepEqual(
      (await ribcl.getPersistentBootOrder()).map((e) => e.id),
      (await redfish.getPersistentBootOrder()).map((e) => e.id),
    );
    assert.deepEqual(await ribcl.getHostInfo().then((h) => ({ ...h, biosVersion: undefined })), await redfish.getHostInfo().then((h) => ({ ...h, biosVersion: undefined })));
    const [a, b] = [await ribcl.getHealth(), await redfish.getHealth()];
    const strip = (h: typeof a): unknown => ({ ...h, temperatures: h.temperatures.map((t) => ({ ...t, location: undefined })) });
    assert.deepEqual(strip(a), strip(b));
    await ribcl.ejectVirtualMedia('cdrom');
    assert.equal((await redfish.getVirtualMediaStatus('cdrom')).inserted, false);
  });
});
