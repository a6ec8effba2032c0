/**
 * The three deploy processes end to end against the simulated fleet: the
 * simulated iLO fetches the virtual media we publish, the simulated ramdisk
 * parses the floppy we build and calls back, the image is written (by the
 * simulated agent, or by us over a real tgtd iSCSI target), and the server
 * boots the instance. Then every way it can fail, with clean-up checked.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DeployProcess } from '../../lib/deploy/step';
import type { DeployDeps } from '../../lib/deploy/processes';
import type { DeployMethod, DeployRequest } from '../../lib/deploy/types';
import { buildIso } from '../../lib/media/iso/writer';
import { needTools } from '../helpers/env';
import { makeImage, missingBootLoaders, startLab, until, type Lab } from '../helpers/deploy-lab';

const iscsiSkip = needTools('tgtd', 'tgtadm', 'qemu-img');
const partitionSkip = iscsiSkip || needTools('mkfs.ext4', 'blkid');

interface Artefacts {
  deployIso: string;
  deployKernel: string;
  deployRamdisk: string;
}

async function makeArtefacts(lab: Lab): Promise<Artefacts> {
  const iso = await buildIso({ volumeId: 'DEPLOY', files: [{ path: 'isolinux/isolinux.cfg', data: Buffer.from('append boot_method=vmedia') }] });
  const deployIso = join(lab.dir, 'deploy.iso');
  await iso.writeToFile(deployIso);
  const deployKernel = join(lab.dir, 'deploy.kernel');
  const deployRamdisk = join(lab.dir, 'deploy.initrd');
  writeFileSync(deployKernel, Buffer.alloc(64 * 1024, 1));
  writeFileSync(deployRamdisk, Buffer.alloc(256 * 1024, 2));
  return { deployIso, deployKernel, deployRamdisk };
}

/** What a user checks after a failed deploy: server off, no media inserted, nothing published, no PXE files, staging gone. */
async function assertCleanedUp(lab: Lab, i: number, deployId: string): Promise<void> {
  const s = lab.fleet.ilos[i]!.server;
  assert.equal(s.powerState, 'off', 'the server is left powered off');
  const bmc = await lab.bmc(i);
  assert.equal((await bmc.getVirtualMediaStatus('cdrom')).inserted, false, 'no CD inserted');
  assert.equal((await bmc.getVirtualMediaStatus('floppy')).inserted, false, 'no floppy inserted');
  for (const name of lab.publishedNames) if (name.includes(deployId)) assert.equal(await lab.media.store.stat(name), undefined, `${name} is not published`);
  const tftp = lab.settings.tftpRoot as string;
  if (existsSync(tftp)) {
    assert.ok(!existsSync(join(tftp, deployId)), 'the PXE node directory is gone');
    const cfgDir = join(tftp, 'pxelinux.cfg');
    if (existsSync(cfgDir)) assert.deepEqual(readdirSync(cfgDir), [], 'no per-MAC PXE link is left');
  }
  assert.ok(!existsSync(join(lab.settings.workDir, deployId)), 'staged files are removed');
}

describe('deploy processes against the simulated fleet', () => {
  let lab: Lab;
  let a: Artefacts;
  before(async () => {
    lab = await startLab({ servers: 4, fleet: { models: ['gen9', 'gen10', 'gen9', 'gen8'] } });
    a = await makeArtefacts(lab);
  });
  after(async () => lab?.stop());

  test('agent_ilo (Gen9, RIBCL): the agent writes the image, the server boots it from disk, nothing left behind', async () => {
    const image = makeImage(lab.dir, 'agent.img');
    const started = await lab.deploy(lab.fleet.ilos[0]!, { method: 'agent_ilo', image: image.path, deployIso: a.deployIso });
    const done = await lab.engine.wait(started.deployId);
    assert.equal(done.state, 'active', done.lastError);
    const rd = lab.ramdisks[0]!;
    assert.equal(rd.written?.sha256, image.sha256, 'the simulated agent wrote exactly our image (checksum verified)');
    await until(() => rd.instanceBoots.some((b) => b.via === 'disk'), 10_000, 'the instance to boot');
    const bmc = await lab.bmc(0);
    assert.equal((await bmc.getVirtualMediaStatus('cdrom')).inserted, false, 'deploy media ejected');
    assert.equal((await bmc.getPersistentBootOrder())[0]?.device, 'hdd');
    for (const name of lab.publishedNames) if (name.includes(started.deployId)) assert.equal(await lab.media.store.stat(name), undefined, `${name} unpublished`);
  });

  test('agent_ilo (Gen10, Redfish) with a deploy ISO built here from a kernel + ramdisk, UEFI requested', { skip: missingBootLoaders() }, async () => {
    const image = makeImage(lab.dir, 'agent2.img');
    // An http(s) image with a checksum goes to the agent as it is, not through the store.
    const web = await lab.media.publish('direct.img', readFileSync(image.path), { ttlSeconds: 600 });
    const started = await lab.deploy(lab.fleet.ilos[1]!, {
      method: 'agent_ilo',
      image: web.url,
      imageChecksum: { algorithm: 'sha256', value: image.sha256 },
      deployKernel: a.deployKernel,
      deployRamdisk: a.deployRamdisk,
      bootMode: 'uefi',
    });
    const done = await lab.engine.wait(started.deployId);
    assert.equal(done.state, 'active', done.lastError);
    assert.equal(lab.ramdisks[1]!.written?.sha256, image.sha256);
    const bmc = await lab.bmc(1);
    assert.equal((await bmc.getBootMode()).pending, 'uefi');
    await lab.media.unpublish('direct.img');
  });

  test('iscsi_ilo: the DIB ramdisk exports its disk over a real tgtd target, we write the whole-disk image, it reboots into it', { skip: iscsiSkip }, async () => {
    const image = makeImage(lab.dir, 'iscsi.img', 4 * 1024 * 1024);
    const started = await lab.deploy(lab.fleet.ilos[2]!, { method: 'iscsi_ilo', image: image.path, deployIso: a.deployIso });
    const done = await lab.engine.wait(started.deployId);
    assert.equal(done.state, 'active', done.lastError);
    const rd = lab.ramdisks[2]!;
    assert.equal(await rd.diskSha256(image.size), image.sha256, 'the disk holds the image byte for byte');
    await until(() => rd.instanceBoots.some((b) => b.via === 'disk'), 10_000, 'the instance to boot from disk');
    assert.equal(rd.dib, undefined, 'the ramdisk got "done", rebooted and is gone');
    assert.match(String(done.result?.diskIdentifier), /^0x[0-9a-f]{8}$/);
  });

  test('iscsi_ilo netboot of a partition image: root partition written, boot ISO with root=UUID published and inserted, booted from CD', { skip: partitionSkip || missingBootLoaders() }, async () => {
    const fs = join(lab.dir, 'root.ext4');
    execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'root', fs, '8M'], { stdio: 'ignore' });
    const uuid = execFileSync('blkid', ['-s', 'UUID', '-o', 'value', fs]).toString().trim();
    // server-1 is active from the first test: deploying over it is refused, a rebuild replaces it.
    const started = await lab.rebuild(lab.fleet.ilos[0]!, {
      method: 'iscsi_ilo',
      image: fs,
      imageType: 'partition',
      rootMb: 16,
      bootOption: 'netboot',
      instanceKernel: a.deployKernel,
      instanceRamdisk: a.deployRamdisk,
      deployIso: a.deployIso,
    });
    assert.equal(started.action, 'rebuild');
    const done = await lab.engine.wait(started.deployId);
    assert.equal(done.state, 'active', done.lastError);
    assert.equal(done.result?.rootUuid, uuid);
    const bmc = await lab.bmc(0);
    const cd = await bmc.getVirtualMediaStatus('cdrom');
    assert.equal(cd.inserted, true, 'the boot ISO stays inserted');
    assert.match(cd.imageUrl ?? '', /boot\.iso/);
    assert.equal((await bmc.getPersistentBootOrder())[0]?.device, 'cdrom');
    await until(() => lab.ramdisks[0]!.instanceBoots.some((b) => b.via === 'boot-iso'), 10_000, 'the instance to boot from its ISO');
  });

  test('pxe_ilo on a Gen8 without virtual media licence: PXE files written for its MAC, image over iSCSI, PXE files removed for local boot', { skip: iscsiSkip }, async () => {
    const image = makeImage(lab.dir, 'pxe.img', 2 * 1024 * 1024);
    const started = await lab.deploy(lab.fleet.ilos[3]!, { method: 'pxe_ilo', image: image.path, deployKernel: a.deployKernel, deployRamdisk: a.deployRamdisk });
    let sawConfig = false;
    await until(() => {
      const dir = join(lab.settings.tftpRoot as string, 'pxelinux.cfg');
      sawConfig ||= existsSync(dir) && readdirSync(dir).length > 0;
      return sawConfig;
    }, 15_000, 'the PXE config');
    const done = await lab.engine.wait(started.deployId);
    assert.equal(done.state, 'active', done.lastError);
    assert.equal(await lab.ramdisks[3]!.diskSha256(image.size), image.sha256);
    assert.ok(!existsSync(join(lab.settings.tftpRoot as string, started.deployId)), 'PXE files removed for local boot');
    await until(() => lab.ramdisks[3]!.instanceBoots.some((b) => b.via === 'disk'), 10_000, 'the instance to boot');
  });

  test('undeploy: power off, boot ISO ejected and unpublished, server available again', async () => {
    const status = await lab.engine.undeploy(`${lab.fleet.ilos[0]!.host}:${lab.fleet.ilos[0]!.port}`);
    const done = await lab.engine.wait(status.deployId);
    assert.equal(done.state, 'available', done.lastError);
    assert.equal(lab.fleet.ilos[0]!.server.powerState, 'off');
    const bmc = await lab.bmc(0);
    assert.equal((await bmc.getVirtualMediaStatus('cdrom')).inserted, false);
    for (const name of lab.publishedNames) if (name.includes(status.deployId)) assert.equal(await lab.media.store.stat(name), undefined);
  });

  test('a deploy over an active server is refused; one deploy per server at a time', async () => {
    const ilo = lab.fleet.ilos[2]!;
    await assert.rejects(lab.deploy(ilo, { method: 'agent_ilo', image: '/x', deployIso: a.deployIso }), { code: 'busy', message: /undeploy or rebuild/ });
  });
});

describe('deploy failures: every path cleans up', () => {
  let lab: Lab;
  let a: Artefacts;
  const failAfter: { method?: DeployMethod; step?: string } = {};
  before(async () => {
    lab = await startLab({
      servers: 3,
      fleet: { models: ['gen9', 'gen10', 'gen9'] },
      // The call-back wait: short, for the tests that wait it out; long enough for a ramdisk on a loaded machine.
      settings: { callbackTimeoutMs: 5000, cleanupRetry: { delayMs: 100 } },
      processes: (ps) => {
        const wrap = (p: DeployProcess<DeployDeps>): DeployProcess<DeployDeps> => ({
          ...p,
          deploySteps: p.deploySteps.map((s) => ({
            ...s,
            async run(ctx) {
              await s.run(ctx);
              if (failAfter.method === p.method && failAfter.step === s.name) throw new Error(`injected failure after ${s.name}`);
            },
          })),
        });
        return { agent_ilo: wrap(ps.agent_ilo), iscsi_ilo: wrap(ps.iscsi_ilo), pxe_ilo: wrap(ps.pxe_ilo) };
      },
    });
    a = await makeArtefacts(lab);
  });
  after(async () => lab?.stop());

  const steps: Record<DeployMethod, string[]> = {
    agent_ilo: ['inspect', 'boot-mode', 'power-off', 'publish-media', 'attach-media', 'power-on', 'wait-agent', 'detach-media', 'write-image', 'boot-device', 'reboot'],
    iscsi_ilo: ['inspect', 'boot-mode', 'power-off', 'publish-media', 'attach-media', 'power-on', 'wait-ramdisk', 'detach-media', 'write-image', 'boot-device', 'notify-ramdisk'],
    pxe_ilo: ['inspect', 'boot-mode', 'power-off', 'pxe-config', 'network-boot', 'power-on', 'wait-ramdisk', 'write-image', 'boot-device', 'notify-ramdisk'],
  };
  const server: Record<DeployMethod, number> = { agent_ilo: 0, iscsi_ilo: 1, pxe_ilo: 2 };

  for (const method of Object.keys(steps) as DeployMethod[]) {
    const skip = method === 'agent_ilo' ? false : iscsiSkip;
    test(`${method}: a failure after each step leaves the server off, media ejected, nothing published`, { skip }, async () => {
      const i = server[method];
      for (const step of steps[method]) {
        failAfter.method = method;
        failAfter.step = step;
        const image = makeImage(lab.dir, `${method}-${step}.img`, 1024 * 1024);
        const req: DeployRequest =
          method === 'pxe_ilo'
            ? { method, image: image.path, deployKernel: a.deployKernel, deployRamdisk: a.deployRamdisk }
            : { method, image: image.path, deployIso: a.deployIso };
        const started = await lab.deploy(lab.fleet.ilos[i]!, req);
        const done = await lab.engine.wait(started.deployId);
        assert.equal(done.state, 'deploy failed', `after ${step}`);
        assert.equal(done.failedStep, step, `injected after ${step}, failed at ${done.failedStep}: ${done.lastError}`);
        assert.match(done.lastError ?? '', new RegExp(`injected failure after ${step}`));
        assert.deepEqual(done.cleanup, { done: true, errors: [] }, `clean-up after ${step}`);
        await assertCleanedUp(lab, i, started.deployId);
      }
      failAfter.method = undefined;
    });
  }

  test('a flaky iLO during clean-up (failed ejects, a failed power-off): each action is tried again, the server still ends off and empty', async () => {
    const server = lab.fleet.ilos[0]!.server;
    const flaky = { kind: 'error' as const, status: 0x0004, message: 'Internal error (simulated fault)' };
    server.faults.add({ ...flaky, command: 'EJECT_VIRTUAL_MEDIA', times: 2 });
    // The tests before left the server off: the deploy reads it off and sends no power-off of its own, so the first is the clean-up's.
    assert.equal(server.powerState, 'off');
    server.faults.add({ ...flaky, command: 'HOLD_PWR_BTN', times: 1 });
    failAfter.method = 'agent_ilo';
    failAfter.step = 'attach-media';
    const started = await lab.deploy(lab.fleet.ilos[0]!, { method: 'agent_ilo', image: makeImage(lab.dir, 'flaky.img').path, deployIso: a.deployIso });
    const done = await lab.engine.wait(started.deployId);
    failAfter.method = undefined;
    assert.equal(done.state, 'deploy failed');
    assert.equal(done.failedStep, 'attach-media');
    assert.deepEqual(server.faults.list(), [], 'every injected failure was met');
    assert.deepEqual(done.cleanup, { done: true, errors: [] });
    await assertCleanedUp(lab, 0, started.deployId);
  });

  test('the ramdisk calls back with a wrong token: 401 every time, nothing advances, the deploy times out and cleans up', async () => {
    const rd = lab.ramdisks[0]!;
    rd.faults = { wrongToken: 'not-the-token-0123456789abcdefghijklmnopqrs' };
    rd.written = undefined;
    const image = makeImage(lab.dir, 'wrong-token.img');
    const started = await lab.deploy(lab.fleet.ilos[0]!, { method: 'agent_ilo', image: image.path, deployIso: a.deployIso });
    await until(() => rd.ipa !== undefined && rd.ipa.heartbeats > 0, 10_000, 'a heartbeat');
    assert.equal(rd.ipa!.lastHeartbeatStatus, 401);
    const done = await lab.engine.wait(started.deployId);
    rd.faults = {};
    assert.equal(done.state, 'deploy failed');
    assert.match(done.lastError ?? '', /no callback from the ramdisk/);
    assert.equal(rd.written, undefined, 'no image was written');
    await assertCleanedUp(lab, 0, started.deployId);
  });

  test('a lost callback ends in the callback timeout, cleaned up', async () => {
    lab.ramdisks[0]!.faults = { lostCallback: true };
    const started = await lab.deploy(lab.fleet.ilos[0]!, { method: 'agent_ilo', image: makeImage(lab.dir, 'lost.img').path, deployIso: a.deployIso });
    const done = await lab.engine.wait(started.deployId);
    lab.ramdisks[0]!.faults = {};
    assert.equal(done.state, 'deploy failed');
    assert.equal(done.failedStep, 'wait-agent');
    await assertCleanedUp(lab, 0, started.deployId);
  });

  test('a corrupted download is caught by the agent checksum: deploy failed, cleaned up', async () => {
    lab.ramdisks[0]!.faults = { corruptImage: true };
    const started = await lab.deploy(lab.fleet.ilos[0]!, { method: 'agent_ilo', image: makeImage(lab.dir, 'corrupt.img').path, deployIso: a.deployIso });
    const done = await lab.engine.wait(started.deployId);
    lab.ramdisks[0]!.faults = {};
    assert.equal(done.state, 'deploy failed');
    assert.match(done.lastError ?? '', /failed to verify against checksum/i);
    await assertCleanedUp(lab, 0, started.deployId);
  });

  test('the DIB ramdisk reports an error: deploy failed with its message, cleaned up', { skip: iscsiSkip }, async () => {
    lab.ramdisks[1]!.faults = { reportError: 'no disk found' };
    const started = await lab.deploy(lab.fleet.ilos[1]!, { method: 'iscsi_ilo', image: makeImage(lab.dir, 'dib-err.img').path, deployIso: a.deployIso });
    const done = await lab.engine.wait(started.deployId);
    lab.ramdisks[1]!.faults = {};
    assert.equal(done.state, 'deploy failed');
    assert.match(done.lastError ?? '', /Error returned from deploy ramdisk: no disk found/);
    await assertCleanedUp(lab, 1, started.deployId);
  });

  test('the iLO refuses the virtual media insert: deploy failed with the iLO message, cleaned up', async () => {
    lab.fleet.ilos[0]!.server.faults.add({ kind: 'error', status: 0x0004, message: 'Unable to insert virtual media (simulated fault)', command: 'INSERT_VIRTUAL_MEDIA', times: 1 });
    const started = await lab.deploy(lab.fleet.ilos[0]!, { method: 'agent_ilo', image: makeImage(lab.dir, 'ilo-err.img').path, deployIso: a.deployIso });
    const done = await lab.engine.wait(started.deployId);
    lab.fleet.ilos[0]!.server.faults.clear();
    assert.equal(done.state, 'deploy failed');
    assert.equal(done.failedStep, 'attach-media');
    assert.match(done.lastError ?? '', /simulated fault/);
    await assertCleanedUp(lab, 0, started.deployId);
  });
});

describe('an iLO that answers too late', () => {
  let lab: Lab;
  let a: Artefacts;
  before(async () => {
    // Our client gives up after 400 ms and does not repeat; clean-up waits 2.5 s after an unanswered request.
    lab = await startLab({ servers: 1, fleet: { models: ['gen9'] }, bmc: { requestTimeoutMs: 400, retries: 0 }, settings: { lateCommandSettleMs: 2500, cleanupRetry: { delayMs: 100 } } });
    a = await makeArtefacts(lab);
  });
  after(async () => lab?.stop());

  test('a power-on the iLO carries out after we gave up on it does not leave the failed deploy\'s server running', async () => {
    const server = lab.fleet.ilos[0]!.server;
    // The power-on is answered (and carried out) 1.5 s late: our request has timed out by then.
    server.faults.add({ kind: 'latency', ms: 1500, command: 'SET_HOST_POWER', times: 1 });
    const messages: string[] = [];
    const started = await lab.deploy(lab.fleet.ilos[0]!, { method: 'agent_ilo', image: makeImage(lab.dir, 'late.img').path, deployIso: a.deployIso });
    lab.engine.on('progress', (p: { deployId: string; message: string }) => p.deployId === started.deployId && messages.push(p.message));
    const done = await lab.engine.wait(started.deployId);
    assert.equal(done.state, 'deploy failed');
    assert.equal(done.failedStep, 'power-on');
    assert.match(done.lastError ?? '', /did not answer in time/);
    assert.ok(messages.some((m) => /iLO left a request unanswered/.test(m)), `clean-up waited for the late command: ${messages.join(' | ')}`);
    assert.deepEqual(done.cleanup, { done: true, errors: [] });
    // Well after the late power-on landed, the server is still off.
    await new Promise((r) => setTimeout(r, 1000));
    await assertCleanedUp(lab, 0, started.deployId);
  });
});

describe('deploy across a restart', () => {
  let lab: Lab;
  let a: Artefacts;
  before(async () => {
    lab = await startLab({ servers: 1, fleet: { models: ['gen9'] } });
    a = await makeArtefacts(lab);
  });
  after(async () => lab?.stop());

  test('the engine restarts while the ramdisk is up: the deploy resumes and ends active', async () => {
    const rd = lab.ramdisks[0]!;
    rd.faults = { lostCallback: true }; // the agent stays silent until after the restart
    const image = makeImage(lab.dir, 'restart.img');
    const started = await lab.deploy(lab.fleet.ilos[0]!, { method: 'agent_ilo', image: image.path, deployIso: a.deployIso });
    await until(async () => (await lab.engine.status(started.deployId))?.state === 'wait call-back' && rd.ipa !== undefined, 15_000, 'the wait for the agent');
    const { resumed, failed } = await lab.restartEngine();
    assert.deepEqual({ resumed, failed }, { resumed: [started.deployId], failed: [] });
    // The agent now calls back to the new engine.
    rd.faults = {};
    const ipa = rd.ipa!;
    (ipa as unknown as { opts: { faults?: object } }).opts.faults = {};
    void (ipa as unknown as { lookupAndHeartbeat(): Promise<void> }).lookupAndHeartbeat();
    const done = await lab.engine.wait(started.deployId);
    assert.equal(done.state, 'active', done.lastError);
    assert.equal(rd.written?.sha256, image.sha256);
  });
  test('Node-RED restarts and the media store cannot have its port back: the resumed deploy publishes and inserts its media again, boots again, and ends active', async () => {
    const rd = lab.ramdisks[0]!;
    const ilo = lab.fleet.ilos[0]!;
    await lab.engine.undeploy(`${ilo.host}:${ilo.port}`).then((s) => lab.engine.wait(s.deployId));
    rd.faults = { lostCallback: true }; // the ramdisk booted from the first media stays silent
    const image = makeImage(lab.dir, 'moved.img');
    const started = await lab.deploy(ilo, { method: 'agent_ilo', image: image.path, deployIso: a.deployIso });
    await until(async () => (await lab.engine.status(started.deployId))?.state === 'wait call-back' && rd.ipa !== undefined, 15_000, 'the wait for the agent');
    const oldUrl = new URL(ilo.server.drives.floppy.url);
    // Node-RED stops; meanwhile another program takes the store's port and answers 404 there.
    await lab.engine.stop();
    await lab.media.close();
    const squatter = createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((r) => squatter.listen(Number(oldUrl.port), '127.0.0.1', () => r()));
    try {
      await lab.restartMedia();
      const messages: string[] = [];
      rd.faults = {};
      const { resumed } = await lab.restartEngine();
      lab.engine.on('progress', (p: { deployId: string; message: string }) => p.deployId === started.deployId && messages.push(p.message));
      assert.deepEqual(resumed, [started.deployId]);
      const done = await lab.engine.wait(started.deployId);
      assert.equal(done.state, 'active', done.lastError);
      assert.equal(rd.written?.sha256, image.sha256);
      assert.ok(messages.some((m) => m.startsWith('Resuming from "Build and publish the deploy media"')), messages.join(' | '));
      assert.ok(messages.includes('Insert the virtual media, boot once from CD'), 'the media is inserted again');
    } finally {
      await new Promise<void>((r) => squatter.close(() => r()));
    }
  });
});
