/**
 * A netboot instance keeps booting for as long as its deploy is active:
 * the clock moves past the boot ISO's old 30-day lifetime and the server
 * reboots (as its own OS would, behind our back), and the instance boots.
 * With the built-in store the ISO is served until undeployed; with a real
 * Swift (its servers' clock moved by libfaketime) the temp URL is signed
 * again and inserted before it expires, before a power-on made through
 * this package (beforePowerOn), and the ISO is published again when the
 * store lost it meanwhile. Undeploy removes it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DeployRequest, DeployStatus } from '../../lib/deploy/types';
import { buildIso } from '../../lib/media/iso/writer';
import { SwiftClient } from '../../lib/swift/client';
import { needTools } from '../helpers/env';
import { iloFetch } from '../helpers/ilo-fetch';
import { missingBootLoaders, startLab, until, type Lab } from '../helpers/deploy-lab';
import { LIBFAKETIME, SAIO_TOOLS, startSaio, type Saio } from '../helpers/swift-saio';

const DAY = 24 * 3600 * 1000;
const OLD_LIFETIME_S = 30 * 24 * 3600;
const skip = needTools('tgtd', 'tgtadm', 'qemu-img', 'mkfs.ext4', 'blkid') || missingBootLoaders();
const swiftSkip = skip || needTools(...SAIO_TOOLS) || (existsSync(LIBFAKETIME) ? false : 'NOT RUN: libfaketime missing (Debian: libfaketime)');

/** The test's clock: real time plus an offset it moves on. */
class Clock {
  offsetMs = 0;
  constructor(private readonly file?: string) {
    this.write();
  }
  now = (): number => Date.now() + this.offsetMs;
  /** Move this process's clock and (when given) the Swift servers' clock by the same amount. */
  forward(ms: number): void {
    this.offsetMs += ms;
    this.write();
  }
  private write(): void {
    if (this.file) writeFileSync(this.file, `+${Math.round(this.offsetMs / 1000)}\n`);
  }
}

async function netbootRequest(lab: Lab): Promise<DeployRequest> {
  const fs = join(lab.dir, 'root.ext4');
  execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'root', fs, '8M'], { stdio: 'ignore' });
  const iso = await buildIso({ volumeId: 'DEPLOY', files: [{ path: 'isolinux/isolinux.cfg', data: Buffer.from('append boot_method=vmedia') }] });
  const deployIso = join(lab.dir, 'deploy.iso');
  await iso.writeToFile(deployIso);
  const kernel = join(lab.dir, 'vmlinuz');
  const initrd = join(lab.dir, 'initrd');
  writeFileSync(kernel, Buffer.alloc(64 * 1024, 1));
  writeFileSync(initrd, Buffer.alloc(128 * 1024, 2));
  return { method: 'iscsi_ilo', image: fs, imageType: 'partition', rootMb: 16, bootOption: 'netboot', instanceKernel: kernel, instanceRamdisk: initrd, deployIso };
}

/** What the iLO holds on its virtual CD. */
async function cdUrl(lab: Lab): Promise<string | undefined> {
  const cd = await (await lab.bmc(0)).getVirtualMediaStatus('cdrom');
  return cd.inserted ? cd.imageUrl : undefined;
}

/** The server reboots by itself (its OS), and the instance boots from its ISO at the URL the iLO holds. */
async function rebootsIntoInstance(lab: Lab, url: string | undefined): Promise<void> {
  const rd = lab.ramdisks[0]!;
  const before = rd.instanceBoots.length;
  const failures: string[] = [];
  const onFail = (why: unknown): number => failures.push(String((why as Error)?.message ?? why));
  rd.on('no-boot', onFail);
  rd.on('error', onFail);
  try {
    lab.fleet.ilos[0]!.server.warmReset();
    await until(() => rd.instanceBoots.length > before || failures.length > 0, 20_000, 'the reboot');
  } finally {
    rd.off('no-boot', onFail);
    rd.off('error', onFail);
  }
  assert.deepEqual(failures, [], 'the instance boots');
  const boot = rd.instanceBoots.at(-1)!;
  assert.equal(boot.via, 'boot-iso');
  assert.equal(boot.imageUrl, url, 'from the URL the iLO holds');
}

async function deployActive(lab: Lab): Promise<DeployStatus> {
  const started = await lab.deploy(lab.fleet.ilos[0]!, await netbootRequest(lab));
  const done = await lab.engine.wait(started.deployId);
  assert.equal(done.state, 'active', done.lastError);
  await until(() => lab.ramdisks[0]!.instanceBoots.some((b) => b.via === 'boot-iso'), 15_000, 'the first boot from the boot ISO');
  return done;
}

const serverKey = (lab: Lab): string => `${lab.fleet.ilos[0]!.host}:${lab.fleet.ilos[0]!.port}`;

describe('a netboot instance keeps booting: built-in store', { skip }, () => {
  let lab: Lab;
  const clock = new Clock();
  before(async () => {
    lab = await startLab({
      servers: 1,
      fleet: { models: ['gen10'] },
      settings: { bootIsoTtlSeconds: OLD_LIFETIME_S },
      media: (dir) => ({ store: 'builtin', builtin: { stateDir: join(dir, 'store'), host: '127.0.0.1', port: 0 }, images: { fileRoots: [dir] }, now: clock.now }),
      engine: { now: clock.now, maintenanceMs: 200 },
    });
  });
  after(async () => lab?.stop());

  test('31 days on, the server reboots into its instance from the same URL; ejected by hand, beforePowerOn inserts it again; undeploy removes it', async () => {
    const done = await deployActive(lab);
    const url = await cdUrl(lab);
    assert.match(url ?? '', /boot\.iso$/);
    const name = `iscsi_ilo-${done.deployId}-boot.iso`;
    assert.equal((await lab.media.store.stat(name))?.expiresAt, undefined, 'served without expiry while the deploy is active');

    clock.forward(31 * DAY);
    await rebootsIntoInstance(lab, url);

    // Someone ejected the CD in the iLO's web page: a power-on through this package puts it back first.
    const bmc = await lab.bmc(0);
    await bmc.ejectVirtualMedia('cdrom');
    assert.deepEqual(await lab.engine.beforePowerOn(serverKey(lab)), { deployId: done.deployId });
    assert.equal(await cdUrl(lab), url);
    await rebootsIntoInstance(lab, url);

    const un = await lab.engine.undeploy(serverKey(lab));
    assert.equal((await lab.engine.wait(un.deployId)).state, 'available');
    assert.equal(await lab.media.store.stat(name), undefined, 'the boot ISO is unpublished');
    assert.equal((await iloFetch(url as string)).status, 404);
    assert.equal(await cdUrl(lab), undefined, 'and ejected');
    assert.equal(await lab.engine.beforePowerOn(serverKey(lab)), undefined, 'nothing to keep up once undeployed');
  });
});

describe('a netboot instance keeps booting: Swift temp URLs', { skip: swiftSkip }, () => {
  let lab: Lab;
  let saio: Saio;
  let clock: Clock;
  const container = `boot-${process.pid}`;
  before(async () => {
    const clockFile = join(execFileSync('mktemp', ['-d']).toString().trim(), 'swift-clock');
    clock = new Clock(clockFile);
    saio = await startSaio({ clockFile });
    const c = new SwiftClient({ auth: { type: 'tempauth', authUrl: saio.authUrl, user: saio.user, key: saio.key } });
    await c.setTempUrlKey('netboot-test-temp-url-key');
    await c.close();
    lab = await startLab({
      servers: 1,
      fleet: { models: ['gen9'] },
      settings: { bootIsoTtlSeconds: OLD_LIFETIME_S },
      media: (dir) => ({
        store: 'swift',
        openstack: { auth: { type: 'tempauth', authUrl: saio.authUrl, user: saio.user, key: saio.key } },
        swift: { container },
        images: { fileRoots: [dir] },
        now: clock.now,
      }),
      engine: { now: clock.now, maintenanceMs: 200 },
    });
  });
  after(async () => {
    await lab?.stop();
    await saio?.stop();
  });

  test('renewed before it expires and before a power-on, published again when Swift lost it: past the old lifetime the server still reboots into its instance; undeploy deletes it', async () => {
    const done = await deployActive(lab);
    const name = `iscsi_ilo-${done.deployId}-boot.iso`;
    const url1 = await cdUrl(lab);
    assert.match(url1 ?? '', /temp_url_sig=/);
    const exp1 = (await lab.media.store.stat(name))?.expiresAt?.getTime() ?? 0;
    assert.ok(Math.abs(exp1 - (clock.now() + OLD_LIFETIME_S * 1000)) < 120_000, 'published for the old 30 days');

    // Day 21: two thirds through, the engine signs it again and inserts the new URL by itself.
    clock.forward(21 * DAY);
    await until(async () => (await cdUrl(lab)) !== url1, 20_000, 'the renewed URL in the iLO');
    const url2 = await cdUrl(lab);
    const exp2 = (await lab.media.store.stat(name))?.expiresAt?.getTime() ?? 0;
    assert.ok(exp2 > exp1 + 20 * DAY, "the object's X-Delete-At moved on");

    // Day 31: past the old lifetime, the first URL is dead, the server reboots by itself into its instance.
    clock.forward(10 * DAY);
    assert.equal((await iloFetch(url1 as string)).status, 401, 'the first temp URL expired');
    await rebootsIntoInstance(lab, url2);

    // A power-on through this package signs it again first.
    assert.deepEqual(await lab.engine.beforePowerOn(serverKey(lab)), { deployId: done.deployId });
    const url3 = await cdUrl(lab);
    assert.notEqual(url3, url2);
    await rebootsIntoInstance(lab, url3);

    // Node-RED was away for longer than the lifetime: Swift deleted the ISO; it is built and published again.
    await lab.engine.stop();
    clock.forward(65 * DAY);
    assert.equal(await lab.media.store.stat(name), undefined, 'Swift no longer has it');
    await lab.restartEngine();
    await until(async () => (await cdUrl(lab)) !== url3, 30_000, 'a new boot ISO in the iLO');
    const url4 = await cdUrl(lab);
    assert.ok(await lab.media.store.stat(name));
    await rebootsIntoInstance(lab, url4);

    const un = await lab.engine.undeploy(serverKey(lab));
    assert.equal((await lab.engine.wait(un.deployId)).state, 'available');
    assert.equal(await lab.media.store.stat(name), undefined, 'undeploy deletes the boot ISO');
    assert.equal(await cdUrl(lab), undefined);
  });
});
