/**
 * How the simulated iLO reads virtual media, and what later simulator code
 * (a simulated ramdisk) can read through it.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Fleet, type SimIlo } from '../../sim/fleet';
import type { SimVmediaEvent } from '../../sim/server';
import { patternImage, startMediaServer, type MediaServer } from '../../sim/media-server';

describe('simulated iLO virtual media fetch', () => {
  let fleet: Fleet;
  let media: MediaServer;
  let ilo: SimIlo;
  const image = patternImage(5 * 1024 * 1024 + 123, 5);

  before(async () => {
    fleet = await Fleet.start({ servers: 1, models: 'gen10', timings: { powerOnMs: 20, postMs: 40 } });
    ilo = fleet.ilos[0]!;
    media = await startMediaServer();
    media.put('big.iso', image);
  });
  beforeEach(() => {
    ilo.server.resetState();
    media.ignoreRange = false;
    media.requests.length = 0;
  });
  after(async () => {
    await fleet?.stop();
    await media?.close();
  });

  test('connecting reads the start and one random range, sending only Host (without the port) and Range, as an iLO does', async () => {
    ilo.server.insertMedia('cdrom', media.url('big.iso'), 'replace');
    const event = once(ilo.server, 'vmedia');
    const outcome = await ilo.server.connectMedia('cdrom');
    assert.ok(outcome.ok);
    assert.equal(outcome.size, image.length, 'size from Content-Range');
    assert.equal(outcome.ranges.length, 2);
    assert.deepEqual(outcome.ranges[0], [0, 32 * 1024 - 1]);
    for (const r of media.requests) {
      assert.equal(r.host, '127.0.0.1', 'no port in Host');
      assert.match(r.range ?? '', /^bytes=\d+-\d+$/);
    }
    const [e] = (await event) as [SimVmediaEvent];
    assert.equal(e.action, 'connected');
  });

  test('a server that ignores Range still works (the iLO stops reading early)', async () => {
    media.ignoreRange = true;
    ilo.server.insertMedia('floppy', media.url('big.iso'), 'replace');
    const outcome = await ilo.server.connectMedia('floppy');
    assert.ok(outcome.ok);
    assert.equal(outcome.size, image.length);
  });

  test('the image is readable through the iLO: any range, or the whole as a stream of Range reads', async () => {
    ilo.server.insertMedia('floppy', media.url('big.iso'), 'replace');
    const reader = await ilo.server.openVirtualMedia('floppy');
    assert.equal(reader.size, image.length);
    assert.deepEqual(await reader.read(1_000_000, 5000), image.subarray(1_000_000, 1_005_000));
    assert.deepEqual(await reader.read(image.length - 10, 100), image.subarray(image.length - 10));
    const chunks: Buffer[] = [];
    for await (const c of reader.stream()) chunks.push(c as Buffer);
    assert.ok(Buffer.concat(chunks).equals(image));
    assert.ok(media.requests.every((r) => r.range), 'every read was a Range request');
  });

  test('boot: the event names the device, why it was chosen, and the connected images', async () => {
    ilo.server.insertMedia('cdrom', media.url('big.iso'), 'replace');
    ilo.server.setMediaBootOption('cdrom', 'BOOT_ALWAYS');
    ilo.server.insertMedia('floppy', media.url('big.iso'), 'replace');
    ilo.server.setMediaBootOption('floppy', 'BOOT_ALWAYS');
    ilo.server.bootMode.current = ilo.server.bootMode.pending = 'bios';
    const boot = once(ilo.server, 'boot');
    ilo.server.powerOn();
    const [e] = await boot;
    assert.deepEqual(e, {
      mode: 'bios',
      media: { cdrom: media.url('big.iso'), floppy: media.url('big.iso') },
      device: 'cdrom',
      source: 'persistent',
      entryId: 'CDROM',
      imageUrl: media.url('big.iso'),
    });
  });

  test('an unreadable image at boot falls back to the next device', async () => {
    ilo.server.insertMedia('cdrom', media.url('gone.iso'), 'replace');
    ilo.server.setMediaBootOption('cdrom', 'BOOT_ONCE');
    const boot = once(ilo.server, 'boot');
    ilo.server.powerOn();
    const [e] = await boot;
    assert.equal(e.device, 'hdd');
    assert.equal(ilo.server.drives.cdrom.lastFetch?.ok, false);
  });
});
