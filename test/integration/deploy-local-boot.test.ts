/**
 * Local boot of partition images against the simulated fleet, in both boot
 * modes, over RIBCL (Gen9) and Redfish (Gen10): agent_ilo through the
 * agent's image.install_bootloader, iscsi_ilo and pxe_ilo through the DIB
 * ramdisk's pass_bootloader_install_info call-back. What a user checks: the
 * deploy is active, the disk holds the partitions Ironic makes (a GPT label
 * and an efi-part ESP in UEFI, an msdos label with the root active in
 * BIOS), the server boots from its disk through the boot loader installed
 * for the root UUID the deploy reports. Then what the real ramdisks and
 * firmware refuse, the simulated ones refuse too.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AgentClient } from '../../lib/deploy/agent-client';
import type { DeployRequest } from '../../lib/deploy/types';
import { buildIso } from '../../lib/media/iso/writer';
import { agentInstallBootloader, dibInstallBootloader, readDisk, writePartitionImage } from '../../sim/ramdisk/disk';
import { SimIpa } from '../../sim/ramdisk/ipa';
import { needTools } from '../helpers/env';
import { startLab, until, type Lab } from '../helpers/deploy-lab';

const diskSkip = needTools('sfdisk', 'mkfs.fat', 'blkid', 'mkfs.ext4');
const iscsiSkip = diskSkip || needTools('tgtd', 'tgtadm', 'qemu-img');

/** A partition image: an ext4 filesystem, and its UUID. */
function rootFs(dir: string, name: string): { path: string; uuid: string } {
  const path = join(dir, name);
  execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'root', path, '8M'], { stdio: 'ignore' });
  return { path, uuid: execFileSync('blkid', ['-s', 'UUID', '-o', 'value', path]).toString().trim() };
}

describe('local boot of partition images', { skip: diskSkip }, () => {
  let lab: Lab;
  let deployIso: string;
  let deployKernel: string;
  let deployRamdisk: string;
  // Servers: agent_ilo on 0-3, iscsi_ilo on 4-7 (Gen9 RIBCL, Gen10 Redfish; each in BIOS and UEFI), pxe_ilo on 8 (Gen8, BIOS only).
  before(async () => {
    lab = await startLab({
      servers: 10,
      fleet: { models: ['gen9', 'gen9', 'gen10', 'gen10', 'gen9', 'gen9', 'gen10', 'gen10', 'gen8', 'gen9'] },
      // Room for the 200 MiB EFI system partition (sparse files).
      ramdisk: { diskSizeBytes: 320 * 1024 * 1024 },
    });
    const iso = await buildIso({ volumeId: 'DEPLOY', files: [{ path: 'isolinux/isolinux.cfg', data: Buffer.from('append boot_method=vmedia') }] });
    deployIso = join(lab.dir, 'deploy.iso');
    await iso.writeToFile(deployIso);
    deployKernel = join(lab.dir, 'deploy.kernel');
    deployRamdisk = join(lab.dir, 'deploy.initrd');
    writeFileSync(deployKernel, Buffer.alloc(64 * 1024, 1));
    writeFileSync(deployRamdisk, Buffer.alloc(256 * 1024, 2));
  });
  after(async () => lab?.stop());

  async function deployAndCheck(i: number, method: DeployRequest['method'], bootMode: 'bios' | 'uefi', protocol: 'ribcl' | 'redfish'): Promise<void> {
    const fs = rootFs(lab.dir, `root-${i}.ext4`);
    const extra = method === 'pxe_ilo' ? { deployKernel, deployRamdisk } : { deployIso };
    const started = await lab.deploy(lab.fleet.ilos[i]!, { method, image: fs.path, imageType: 'partition', rootMb: 16, bootOption: 'local', bootMode, ...extra });
    const done = await lab.engine.wait(started.deployId);
    assert.equal(done.state, 'active', done.lastError);
    assert.equal(done.result?.rootUuid, fs.uuid, 'the deploy reports the root filesystem UUID from the image');
    const bmc = await lab.bmc(i);
    assert.equal(bmc.protocol, protocol);
    assert.equal((await bmc.getBootMode()).pending, bootMode);
    assert.equal((await bmc.getPersistentBootOrder())[0]?.device, 'hdd', 'persistent boot from the disk');
    const rd = lab.ramdisks[i]!;
    await until(() => rd.instanceBoots.some((b) => b.via === 'disk'), 15_000, 'the instance to boot from its disk');
    const boot = rd.instanceBoots.find((b) => b.via === 'disk')!;
    assert.equal(boot.mode, bootMode);
    assert.equal(boot.bootloader?.mode, bootMode, 'the boot loader was installed for this boot mode');
    assert.equal(boot.bootloader?.rootUuid, fs.uuid, 'the boot loader boots the root filesystem written');
    assert.equal(boot.bootloader?.by, method === 'agent_ilo' ? 'ipa' : 'dib');
    const disk = await readDisk(rd.diskFile);
    const root = disk.partitions.at(-1)!;
    assert.equal(root.fsUuid, fs.uuid, 'root is the last partition');
    if (bootMode === 'uefi') {
      assert.equal(disk.label, 'gpt');
      const esp = disk.partitions[0]!;
      assert.equal(esp.fsLabel, 'efi-part');
      assert.equal(esp.fsType, 'vfat');
      assert.equal(done.result?.efiSystemPartitionUuid, esp.fsUuid);
      assert.equal(boot.bootloader?.espUuid, esp.fsUuid);
    } else {
      assert.equal(disk.label, 'dos');
      assert.equal(root.bootable, true, 'the root partition is active for a BIOS boot');
    }
    if (method !== 'agent_ilo') assert.equal(rd.dib, undefined, 'the ramdisk got its last "done" and rebooted');
  }

  test('agent_ilo, BIOS, Gen9 over RIBCL', () => deployAndCheck(0, 'agent_ilo', 'bios', 'ribcl'));
  test('agent_ilo, UEFI, Gen9 over RIBCL', () => deployAndCheck(1, 'agent_ilo', 'uefi', 'ribcl'));
  test('agent_ilo, BIOS, Gen10 over Redfish', () => deployAndCheck(2, 'agent_ilo', 'bios', 'redfish'));
  test('agent_ilo, UEFI, Gen10 over Redfish', () => deployAndCheck(3, 'agent_ilo', 'uefi', 'redfish'));
  test('iscsi_ilo, BIOS, Gen9 over RIBCL', { skip: iscsiSkip }, () => deployAndCheck(4, 'iscsi_ilo', 'bios', 'ribcl'));
  test('iscsi_ilo, UEFI, Gen9 over RIBCL', { skip: iscsiSkip }, () => deployAndCheck(5, 'iscsi_ilo', 'uefi', 'ribcl'));
  test('iscsi_ilo, BIOS, Gen10 over Redfish', { skip: iscsiSkip }, () => deployAndCheck(6, 'iscsi_ilo', 'bios', 'redfish'));
  test('iscsi_ilo, UEFI, Gen10 over Redfish', { skip: iscsiSkip }, () => deployAndCheck(7, 'iscsi_ilo', 'uefi', 'redfish'));
  test('pxe_ilo, BIOS, Gen8 over RIBCL: PXE files gone, boot loader from the DIB ramdisk', { skip: iscsiSkip }, async () => {
    await deployAndCheck(8, 'pxe_ilo', 'bios', 'ribcl');
    assert.ok(!existsSync(join(lab.settings.tftpRoot as string, (await lab.engine.status(`${lab.fleet.ilos[8]!.host}:${lab.fleet.ilos[8]!.port}`))!.deployId)));
  });

  test('the instance does not boot in the other boot mode than its boot loader was installed for', async () => {
    const rd = lab.ramdisks[1]!; // agent_ilo UEFI
    await until(() => rd.instanceBoots.length > 0, 15_000, 'the UEFI instance');
    const reasons: string[] = [];
    rd.on('no-boot', (why: string) => reasons.push(why));
    const s = lab.fleet.ilos[1]!.server;
    s.setPendingBootMode('bios');
    s.warmReset();
    await until(() => reasons.length > 0, 15_000, 'the boot to fail');
    assert.match(reasons[0]!, /installed for uefi, and the server boots bios/);
  });

  test('a boot loader the ramdisk could not install fails the deploy with its reason, cleaned up (agent, then DIB)', async () => {
    const ilo = lab.fleet.ilos[9]!;
    const rd = lab.ramdisks[9]!;
    const fs = rootFs(lab.dir, 'root-fail.ext4');
    const request = { image: fs.path, imageType: 'partition', rootMb: 16, bootOption: 'local', bootMode: 'bios', deployIso } as const;
    rd.faults = { failCommand: 'image.install_bootloader' };
    const a = await lab.engine.wait((await lab.deploy(ilo, { method: 'agent_ilo', ...request })).deployId);
    assert.equal(a.state, 'deploy failed');
    assert.equal(a.failedStep, 'install-bootloader');
    assert.match(a.lastError ?? '', /Failed to install a bootloader when deploying node .*install_bootloader failed \(injected fault\)/);
    assert.equal(ilo.server.powerState, 'off');
    if (iscsiSkip) return;
    rd.faults = { bootloaderError: 'chroot: failed to run command /usr/sbin/grub-install: No such file or directory' };
    const d = await lab.engine.wait((await lab.deploy(ilo, { method: 'iscsi_ilo', ...request })).deployId);
    rd.faults = {};
    assert.equal(d.state, 'deploy failed');
    assert.equal(d.failedStep, 'install-bootloader');
    assert.match(d.lastError ?? '', /Failed to install bootloader on node .*grub-install: No such file/);
    assert.equal(ilo.server.powerState, 'off');
    assert.equal((await (await lab.bmc(9)).getVirtualMediaStatus('cdrom')).inserted, false);
  });

  test('bootOption netboot of a partition image is refused for agent_ilo, naming the field', async () => {
    await assert.rejects(lab.deploy(lab.fleet.ilos[0]!, { method: 'agent_ilo', image: '/x', imageType: 'partition', rootMb: 8, bootOption: 'netboot', deployIso }), { field: 'bootOption' });
    await assert.rejects(lab.deploy(lab.fleet.ilos[0]!, { method: 'agent_ilo', image: '/x', imageType: 'partition', deployIso }), { field: 'rootMb' });
  });
});

describe('the simulated ramdisks refuse what the real ones refuse', { skip: diskSkip }, () => {
  let dir: string;
  let disk: string;
  let fsUuid: string;
  before(() => {
    dir = execFileSync('mktemp', ['-d']).toString().trim();
    disk = join(dir, 'disk.img');
    execFileSync('truncate', ['-s', '300M', disk]);
    fsUuid = rootFs(dir, 'root.ext4').uuid;
  });
  after(() => execFileSync('rm', ['-rf', dir]));

  test('the agent: a root UUID not on the disk is DeviceNotFound; UEFI without an EFI system partition UUID fails as grub-install does', async () => {
    const written = await writePartitionImage(disk, { image: join(dir, 'root.ext4'), rootMb: 16, bootMode: 'uefi', bootOption: 'local' });
    assert.equal(written['root uuid'], fsUuid);
    const esp = written['efi system partition uuid'] as string;
    assert.match(esp, /^[0-9A-F]{4}-[0-9A-F]{4}$/);
    await assert.rejects(agentInstallBootloader(disk, { rootUuid: '0b1d6f39-0000-4000-8000-000000000000', espUuid: esp, mode: 'uefi' }), { type: 'DeviceNotFound', message: /No partition with UUID 0b1d6f39-.* found on device/ });
    await assert.rejects(agentInstallBootloader(disk, { rootUuid: fsUuid, espUuid: undefined, mode: 'uefi' }), /cannot find EFI directory/);
    await assert.rejects(agentInstallBootloader(disk, { rootUuid: fsUuid, espUuid: 'ABCD-0000', mode: 'uefi' }), { type: 'DeviceNotFound' });
    const ok = await agentInstallBootloader(disk, { rootUuid: fsUuid, espUuid: esp, mode: 'uefi' });
    assert.deepEqual(ok, { mode: 'uefi', rootUuid: fsUuid, espUuid: esp, by: 'ipa' });
  });

  test('the agent over its command API: a failed install_bootloader is FAILED with its reason, seen through our agent client', async () => {
    let installed = 0;
    const ipa = new SimIpa(
      { macs: ['52:54:00:00:00:01'], writeDisk: () => undefined, powerOff: () => undefined, diskFile: disk, bootMode: () => 'uefi', partitionWritten: () => undefined, bootloaderInstalled: () => installed++ },
      { apiUrl: 'http://127.0.0.1:9', token: 'secret-token', faults: { lostCallback: true } },
    );
    await ipa.start();
    try {
      const agent = new AgentClient(ipa.agentUrl, 'secret-token');
      await agent.installBootloader({ root_uuid: fsUuid, efi_system_part_uuid: null, prep_boot_part_uuid: null, target_boot_mode: 'uefi' });
      await assert.rejects(agent.waitFor('install_bootloader', { timeoutMs: 10_000, intervalMs: 50 }), /install_bootloader failed in the agent: .*cannot find EFI directory/);
      assert.equal(installed, 0);
    } finally {
      await ipa.stop();
    }
  });

  test('the DIB script: UEFI with no partition labelled efi-part, or a last partition without a filesystem, fails to mount', async () => {
    await writePartitionImage(disk, { image: join(dir, 'root.ext4'), rootMb: 16, bootMode: 'bios', bootOption: 'local' });
    await assert.rejects(dibInstallBootloader(disk, 'uefi'), /Failed to mount efi system partition/);
    assert.equal((await dibInstallBootloader(disk, 'bios')).rootUuid, fsUuid);
    execFileSync('sfdisk', ['-q', '--wipe', 'always', disk], { input: 'label: dos\nstart=2048, size=8192, type=83\n' });
    execFileSync('dd', ['if=/dev/zero', `of=${disk}`, 'bs=1M', 'seek=1', 'count=4', 'conv=notrunc', 'status=none']);
    await assert.rejects(dibInstallBootloader(disk, 'bios'), /Failed to mount root partition \/dev\/sda1/);
  });
});
