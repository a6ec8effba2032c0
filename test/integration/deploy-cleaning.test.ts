/**
 * Cleaning against the simulated fleet, as an operator would check it: a
 * server deployed with a partitioned disk is undeployed with cleaning, and
 * the real tools (wipefs, blkid, sfdisk, sgdisk) find nothing left on its
 * disk file; the iLO's BIOS settings and secure boot keys are reset where
 * the generation allows (Redfish on iLO 5/6; on a Gen9's iLO 4, its RESTful
 * API beside RIBCL) and skipped with a note where it does not (a Gen8); a failing step ends in `clean failed` naming it, and such a
 * server refuses deploys until undeployed; the operator's order is
 * followed; a restart in the middle resumes the cleaning.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cleanSteps } from '../../lib/deploy/processes/clean-plan';
import type { CleanPlan, DeployProgress, DeployRequest } from '../../lib/deploy/types';
import { buildIso } from '../../lib/media/iso/writer';
import type { SimIlo } from '../../sim/fleet';
import { needTools } from '../helpers/env';
import { makeImage, startLab, until, type Lab } from '../helpers/deploy-lab';

const toolsSkip = needTools('sfdisk', 'sgdisk', 'wipefs', 'blkid', 'mkfs.ext4', 'mkfs.fat');
const iscsiSkip = toolsSkip || needTools('tgtd', 'tgtadm', 'qemu-img');
const MiB = 1024 * 1024;

/** A whole-disk image with a GPT label, an ext4 and a FAT partition: what a tenant leaves behind. */
function partitionedImage(dir: string, name: string): { path: string; partitions: Array<{ start: number; size: number }> } {
  const path = join(dir, name);
  writeFileSync(path, '');
  execFileSync('truncate', ['-s', `${16 * MiB}`, path]);
  const parts = [
    { start: 1 * MiB, size: 6 * MiB },
    { start: 7 * MiB, size: 6 * MiB },
  ];
  execFileSync('sfdisk', ['-q', path], { input: `label: gpt\nstart=${parts[0]!.start / 512}, size=${parts[0]!.size / 512}, type=L\nstart=${parts[1]!.start / 512}, size=${parts[1]!.size / 512}, type=L\n` });
  execFileSync('mkfs.ext4', ['-q', '-F', '-E', `offset=${parts[0]!.start}`, path, `${parts[0]!.size / 1024}k`]);
  execFileSync('mkfs.fat', ['--offset', String(parts[1]!.start / 512), path, String(parts[1]!.size / 1024)], { stdio: 'ignore' });
  return { path, partitions: parts };
}

/** What the real tools find on a disk file: signatures (wipefs), a partition table (sfdisk), filesystems at the old partitions (blkid). */
function diskFindings(file: string, partitions: Array<{ start: number; size: number }>): string[] {
  const found: string[] = [];
  const wipefs = execFileSync('wipefs', ['--noheadings', file]).toString().trim();
  if (wipefs) found.push(`wipefs: ${wipefs}`);
  if (spawnSync('sfdisk', ['--json', file]).status === 0) found.push('sfdisk finds a partition table');
  const sgdisk = spawnSync('sgdisk', ['--verify', file]).stdout.toString();
  if (!/Creating new GPT entries|GPT: not present/i.test(sgdisk) && /No problems found/i.test(sgdisk)) found.push('sgdisk finds a valid GPT');
  for (const p of partitions) {
    const r = spawnSync('blkid', ['-p', '-O', String(p.start), '-S', String(p.size), '-o', 'export', file]);
    if (r.status === 0) found.push(`blkid at ${p.start}: ${r.stdout.toString().replace(/\n/g, ' ')}`);
  }
  return found;
}

function allZero(file: string): boolean {
  const data = readFileSync(file);
  for (let i = 0; i < data.length; i += 8) if (data.readBigUInt64LE(i) !== 0n) return false;
  return true;
}

describe('cleaning against the simulated fleet', { skip: toolsSkip }, () => {
  let lab: Lab;
  let deployIso: string;
  const progress: DeployProgress[] = [];
  const defaults = (): CleanPlan => ({ steps: cleanSteps(undefined, 'cleanSteps') });
  const key = (ilo: SimIlo): string => `${ilo.host}:${ilo.port}`;

  before(async () => {
    lab = await startLab({ servers: 7, fleet: { models: ['gen9', 'gen10', 'gen10', 'gen9', 'gen10', 'gen10', 'gen8'] } });
    lab.engine.on('progress', (p: DeployProgress) => progress.push(p));
    const iso = await buildIso({ volumeId: 'AGENT', files: [{ path: 'isolinux/isolinux.cfg', data: Buffer.from('append boot_method=vmedia') }] });
    deployIso = join(lab.dir, 'agent.iso');
    await iso.writeToFile(deployIso);
  });
  after(async () => lab?.stop());

  async function deployed(i: number, extra: Partial<DeployRequest> = {}): Promise<{ deployId: string; partitions: Array<{ start: number; size: number }> }> {
    const image = partitionedImage(lab.dir, `tenant-${i}.img`);
    const s = await lab.deploy(lab.fleet.ilos[i]!, { method: 'agent_ilo', image: image.path, deployIso, ...extra });
    const done = await lab.engine.wait(s.deployId);
    assert.equal(done.state, 'active', done.lastError);
    assert.ok(diskFindings(lab.ramdisks[i]!.diskFile, image.partitions).length >= 3, 'the tenant left a partition table and filesystems');
    return { deployId: s.deployId, partitions: image.partitions };
  }

  test('Gen9 over RIBCL (UEFI): undeploy with the default clean steps wipes the disk metadata, resets the secure boot keys and the BIOS settings (iLO 4 RESTful API), ends available', async () => {
    const { deployId, partitions } = await deployed(0);
    const server = lab.fleet.ilos[0]!.server;
    assert.equal(server.bootMode.current, 'uefi');
    server.bios.pending.WorkloadProfile = 'Virtualization-MaxPerformance';
    server.bios.secureBoot.keys = 'custom';
    const started = await lab.engine.undeploy(key(lab.fleet.ilos[0]!), { clean: defaults() });
    assert.equal(started.deployId, deployId);
    const done = await lab.engine.wait(deployId);
    assert.equal(done.state, 'available', done.lastError);
    const states = progress.filter((p) => p.deployId === deployId).map((p) => p.state);
    assert.ok(states.includes('cleaning') && states.includes('clean wait'), `went through cleaning and clean wait: ${[...new Set(states)].join(', ')}`);
    assert.deepEqual(diskFindings(lab.ramdisks[0]!.diskFile, partitions), [], 'the real tools find nothing on the disk');
    assert.deepEqual(done.cleaning?.done, ['erase_devices_metadata', 'reset_secure_boot_keys_to_default', 'reset_bios_to_default', 'eject_media', 'clear_one_time_boot']);
    assert.deepEqual(done.cleaning?.skipped, []);
    assert.equal(server.bios.pending.WorkloadProfile, 'GeneralPowerEfficientCompute', 'BIOS settings back to their defaults (pending the next POST)');
    assert.equal(server.bios.secureBoot.keys, 'default');
    const s = lab.fleet.ilos[0]!.server;
    assert.equal(s.powerState, 'off', 'powered off after cleaning');
    const bmc = await lab.bmc(0);
    assert.equal((await bmc.getVirtualMediaStatus('cdrom')).inserted, false);
    assert.equal(await bmc.getOneTimeBoot(), 'normal');
    for (const name of lab.publishedNames) if (name.includes(deployId)) assert.equal(await lab.media.store.stat(name), undefined, `${name} unpublished`);
  });

  test('Gen10 over Redfish (UEFI): the operator order is followed; erase_devices zeroes the disk, BIOS settings and secure boot keys are reset through the iLO', async () => {
    const { deployId } = await deployed(1, { bootMode: 'uefi' });
    const server = lab.fleet.ilos[1]!.server;
    server.bios.pending.WorkloadProfile = 'Virtualization-MaxPerformance';
    server.bios.secureBoot.keys = 'custom';
    const steps = cleanSteps([{ step: 'erase_devices', priority: 95 }, { step: 'clear_secure_boot_keys', priority: 15 }, { step: 'clear_one_time_boot', priority: 0 }], 'cleanSteps');
    await lab.engine.undeploy({ deployId }, { clean: { steps } });
    const done = await lab.engine.wait(deployId);
    assert.equal(done.state, 'available', done.lastError);
    const order = progress.filter((p) => p.deployId === deployId && /^Clean step \d/.test(p.message)).map((p) => /: (\w+) \(/.exec(p.message)?.[1]);
    assert.deepEqual(order, ['erase_devices_metadata', 'erase_devices', 'reset_secure_boot_keys_to_default', 'clear_secure_boot_keys', 'reset_bios_to_default', 'eject_media']);
    assert.deepEqual(done.cleaning?.skipped, []);
    assert.ok(allZero(lab.ramdisks[1]!.diskFile), 'erase_devices left only zeros');
    assert.equal(server.bios.pending.WorkloadProfile, 'GeneralPowerEfficientCompute', 'BIOS settings back to their defaults (pending the next POST)');
    assert.equal(server.bios.secureBoot.keys, 'deleted', 'keys cleared last, as ordered (reset to default ran before)');
    const sb = await (await lab.bmc(1) as unknown as { redfish: { get(p: string): Promise<Record<string, unknown>> } }).redfish.get('/redfish/v1/Systems/1/SecureBoot/');
    assert.equal(sb.SecureBootMode, 'SetupMode', 'the iLO reports setup mode (no platform key)');
  });

  test('a failing clean step ends in clean failed naming it; the server then refuses deploys until an undeploy clears it', async () => {
    const { deployId } = await deployed(2);
    const rd = lab.ramdisks[2]!;
    rd.faults = { failCleanStep: 'erase_devices_metadata' };
    await lab.engine.undeploy({ deployId }, { clean: defaults() });
    const done = await lab.engine.wait(deployId);
    rd.faults = {};
    assert.equal(done.state, 'clean failed');
    assert.equal(done.failedStep, 'erase_devices_metadata');
    assert.match(done.lastError ?? '', /erase_devices_metadata failed: .*injected fault/);
    assert.equal(done.cleanup?.done, true, done.cleanup?.errors.join('; '));
    assert.equal(lab.fleet.ilos[2]!.server.powerState, 'off');
    assert.equal((await (await lab.bmc(2)).getVirtualMediaStatus('cdrom')).inserted, false);
    const image = makeImage(lab.dir, 'next.img');
    await assert.rejects(lab.deploy(lab.fleet.ilos[2]!, { method: 'agent_ilo', image: image.path, deployIso }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'busy');
      assert.match(err.message, /failed cleaning at step erase_devices_metadata.*undeploy it/);
      return true;
    });
    // Cleared by cleaning again, which now passes.
    await lab.engine.undeploy({ deployId }, { clean: defaults() });
    assert.equal((await lab.engine.wait(deployId)).state, 'available');
    const again = await lab.deploy(lab.fleet.ilos[2]!, { method: 'agent_ilo', image: image.path, deployIso });
    assert.equal((await lab.engine.wait(again.deployId)).state, 'active');
  });

  test('a first deploy asking for cleaning cleans the disk, then deploys', async () => {
    const ilo = lab.fleet.ilos[3]!;
    const rd = lab.ramdisks[3]!;
    const old = partitionedImage(lab.dir, 'previous-owner.img');
    writeFileSync(rd.diskFile, readFileSync(old.path));
    execFileSync('truncate', ['-s', `${64 * MiB}`, rd.diskFile]);
    const image = makeImage(lab.dir, 'fresh.img');
    const s = await lab.deploy(ilo, { method: 'agent_ilo', image: image.path, deployIso, clean: { steps: cleanSteps([{ step: 'erase_devices', priority: 50 }], 'cleanSteps') } });
    const done = await lab.engine.wait(s.deployId);
    assert.equal(done.state, 'active', done.lastError);
    const mine = progress.filter((p) => p.deployId === s.deployId);
    const firstDeploying = mine.findIndex((p) => p.state === 'deploying');
    const lastCleaning = mine.map((p) => p.state).lastIndexOf('cleaning');
    assert.ok(lastCleaning >= 0 && lastCleaning < firstDeploying, 'cleaning came before deploying');
    assert.equal(rd.written?.sha256, image.sha256, 'the new image is on the disk');
    // Past the image, erase_devices left zeros where the old tenant's second partition was.
    const disk = readFileSync(rd.diskFile);
    assert.ok(disk.subarray(old.partitions[1]!.start, old.partitions[1]!.start + old.partitions[1]!.size).every((b) => b === 0));
    assert.deepEqual(done.cleaning?.done.slice(0, 2), ['erase_devices_metadata', 'erase_devices']);
  });

  test('a cleaning before a deploy that fails ends in clean failed: nothing is written, the server is off and refuses deploys', async () => {
    const ilo = lab.fleet.ilos[5]!;
    const rd = lab.ramdisks[5]!;
    rd.faults = { failCleanStep: 'erase_devices_metadata' };
    const image = makeImage(lab.dir, 'never.img');
    const s = await lab.deploy(ilo, { method: 'agent_ilo', image: image.path, deployIso, clean: defaults() });
    const done = await lab.engine.wait(s.deployId);
    rd.faults = {};
    assert.equal(done.state, 'clean failed');
    assert.equal(done.failedStep, 'erase_devices_metadata');
    assert.equal(rd.written, undefined, 'no image was written');
    assert.ok(!progress.some((p) => p.deployId === s.deployId && p.state === 'deploying'), 'the deploy steps never ran');
    assert.equal(ilo.server.powerState, 'off');
    await assert.rejects(lab.deploy(ilo, { method: 'agent_ilo', image: image.path, deployIso }), { code: 'busy' });
  });

  test('a restart while the cleaning waits for its agent resumes it to the end', async () => {
    const { deployId, partitions } = await deployed(4);
    await lab.engine.undeploy({ deployId }, { clean: defaults() });
    await until(async () => (await lab.engine.status(deployId))?.state === 'clean wait', 30_000, 'clean wait');
    const { resumed } = await lab.restartEngine();
    lab.engine.on('progress', (p: DeployProgress) => progress.push(p));
    assert.deepEqual(resumed, [deployId]);
    const done = await lab.engine.wait(deployId);
    assert.equal(done.state, 'available', done.lastError);
    assert.deepEqual(diskFindings(lab.ramdisks[4]!.diskFile, partitions), []);
  });

  test('Gen8 over RIBCL: the BIOS and secure boot steps are skipped with a note (its ROM publishes neither over the iLO 4 RESTful API); the rest runs', async () => {
    const { deployId } = await deployed(6);
    const server = lab.fleet.ilos[6]!.server;
    server.bios.pending.WorkloadProfile = 'Virtualization-MaxPerformance';
    await lab.engine.undeploy({ deployId }, { clean: defaults() });
    const done = await lab.engine.wait(deployId);
    assert.equal(done.state, 'available', done.lastError);
    assert.deepEqual(done.cleaning?.done, ['erase_devices_metadata', 'eject_media', 'clear_one_time_boot']);
    assert.deepEqual(
      done.cleaning?.skipped.map((s) => s.step),
      ['reset_secure_boot_keys_to_default', 'reset_bios_to_default'],
    );
    assert.match(done.cleaning?.skipped[0]?.reason ?? '', /no SecureBoot resource/);
    assert.match(done.cleaning?.skipped[1]?.reason ?? '', /no BIOS resource.*Gen8/);
    assert.equal(server.bios.pending.WorkloadProfile, 'Virtualization-MaxPerformance', 'nothing changed');
  });

  test('a server deployed with iscsi_ilo is cleaned by the agent ramdisk the plan names', { skip: iscsiSkip }, async () => {
    const ilo = lab.fleet.ilos[0]!;
    const image = partitionedImage(lab.dir, 'iscsi-tenant.img');
    const s = await lab.deploy(ilo, { method: 'iscsi_ilo', image: image.path, deployIso });
    assert.equal((await lab.engine.wait(s.deployId)).state, 'active');
    assert.ok(diskFindings(lab.ramdisks[0]!.diskFile, image.partitions).length > 0);
    await lab.engine.undeploy({ deployId: s.deployId }, { clean: { ...defaults(), deployIso } });
    const done = await lab.engine.wait(s.deployId);
    assert.equal(done.state, 'available', done.lastError);
    assert.deepEqual(diskFindings(lab.ramdisks[0]!.diskFile, image.partitions), []);
    const booted = progress.filter((p) => p.deployId === s.deployId && p.step === 'clean-wait-agent');
    assert.ok(booted.length > 0, 'the agent was booted for cleaning');
  });
});
