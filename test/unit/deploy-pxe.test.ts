/**
 * pxe_ilo's PXE configuration: the text pxelinux and GRUB read (GRUB's
 * checked by grub-script-check), the switch to instance boot, input checks,
 * and the files written into a TFTP root, then removed exactly.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  removePxeFiles,
  renderGrubConfig,
  renderPxelinuxConfig,
  switchPxeConfig,
  switchToInstanceBoot,
  writePxeFiles,
  type PxeDeployParams,
  type PxeSetupOptions,
} from '../../lib/deploy';
import { isDeployError } from '../../lib/deploy/errors';
import { needTools } from '../helpers/env';

const params: PxeDeployParams = {
  deploymentId: '1be26c0b-03f2-4d2e-ae87-c02d7f33c123',
  deploymentKey: 'K3yK3yK3yK3y',
  apiUrl: 'http://10.0.0.1:1880/ilo-deploy',
  iscsiTargetIqn: 'iqn.2008-10.org.openstack:1be26c0b-03f2-4d2e-ae87-c02d7f33c123',
  bootOption: 'netboot',
  bootMode: 'bios',
};
const node = params.deploymentId;
const paths = { deployKernel: `${node}/deploy_kernel`, deployRamdisk: `${node}/deploy_ramdisk`, kernel: `${node}/kernel`, ramdisk: `${node}/ramdisk` };
const DEPLOY_ARGS =
  `selinux=0 disk=cciss/c0d0,sda,hda,vda iscsi_target_iqn=${params.iscsiTargetIqn} deployment_id=${node} deployment_key=K3yK3yK3yK3y ` +
  'ironic_api_url=http://10.0.0.1:1880/ilo-deploy troubleshoot=0 text nofb nomodeset vga=normal boot_option=netboot ' +
  'ipa-api-url=http://10.0.0.1:1880/ilo-deploy ipa-driver-name=pxe_ilo';

describe('PXE config text', () => {
  test('pxelinux, deploy mode: the three entries, deploy the default, ipappend 3', () => {
    assert.equal(
      renderPxelinuxConfig(params, paths),
      [
        'default deploy',
        '',
        'label deploy',
        `kernel ${node}/deploy_kernel`,
        `append initrd=${node}/deploy_ramdisk ${DEPLOY_ARGS} boot_mode=bios coreos.configdrive=0`,
        'ipappend 3',
        '',
        'label boot_partition',
        `kernel ${node}/kernel`,
        `append initrd=${node}/ramdisk root={{ ROOT }} ro text nofb nomodeset vga=normal`,
        '',
        'label boot_whole_disk',
        'COM32 chain.c32',
        'append mbr:{{ DISK_IDENTIFIER }}',
        '',
      ].join('\n'),
    );
  });

  test('root device hints and extra parameters land on the deploy line; no instance kernel, no boot_partition entry', () => {
    const text = renderPxelinuxConfig({ ...params, bootOption: 'local', rootDevice: 'size=100,vendor=HP', appendParams: 'console=ttyS1,115200n8  quiet' }, { deployKernel: 'k', deployRamdisk: 'r' });
    assert.match(text, / text console=ttyS1,115200n8 quiet boot_option=local root_device=size=100,vendor=HP ipa-api-url=/);
    assert.doesNotMatch(text, /boot_partition/);
  });

  test('GRUB, deploy mode: BOOTIF from GRUB\'s own variable, and grub-script-check accepts it', { skip: needTools('grub-script-check') }, () => {
    const text = renderGrubConfig({ ...params, bootMode: 'uefi', rootDevice: 'name=/dev/sda;x' }, { ...paths, deployKernel: `/${paths.deployKernel}`, deployRamdisk: `/${paths.deployRamdisk}`, kernel: `/${paths.kernel}`, ramdisk: `/${paths.ramdisk}` });
    const lines = text.split('\n');
    assert.deepEqual(lines.slice(0, 5), ['set default=deploy', 'set timeout=5', 'set hidden_timeout_quiet=false', '', 'menuentry "deploy" {']);
    assert.equal(lines[5], `    linux /${node}/deploy_kernel ${DEPLOY_ARGS.replace('boot_option=netboot ', "boot_option=netboot 'root_device=name=/dev/sda;x' ")} boot_mode=uefi coreos.configdrive=0 BOOTIF=01-\${net_default_mac}`);
    assert.equal(lines[6], `    initrd /${node}/deploy_ramdisk`);
    assert.ok(text.includes(`menuentry "boot_partition" {\n    linux /${node}/kernel root={{ ROOT }} ro text nofb nomodeset vga=normal\n    initrd /${node}/ramdisk\n}`));
    const dir = mkdtempSync(join(tmpdir(), 'grubcfg-'));
    try {
      writeFileSync(join(dir, 'grub.cfg'), switchToInstanceBoot(text, 'grub', { kind: 'partition', rootUuid: '0b8a4c3e-1d2f-4e5a-9b6c-7d8e9f0a1b2c' }));
      execFileSync('grub-script-check', [join(dir, 'grub.cfg')]);
      writeFileSync(join(dir, 'bad.cfg'), 'menuentry "x" {\n');
      assert.throws(() => execFileSync('grub-script-check', [join(dir, 'bad.cfg')], { stdio: 'ignore' }), 'the checker does reject a broken file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.match(renderGrubConfig({ ...params, bootMode: 'uefi' }, paths, { grubLinuxCommand: 'linuxefi' }), /^ {4}linuxefi .*\n {4}initrdefi /m);
  });

  test('switching to the instance: root=UUID=… or chain.c32 mbr:…, and the default entry follows', () => {
    const deploy = renderPxelinuxConfig(params, paths);
    const part = switchToInstanceBoot(deploy, 'pxelinux', { kind: 'partition', rootUuid: '0b8a4c3e-1d2f-4e5a-9b6c-7d8e9f0a1b2c' });
    assert.match(part, /^default boot_partition$/m);
    assert.match(part, /root=UUID=0b8a4c3e-1d2f-4e5a-9b6c-7d8e9f0a1b2c ro text/);
    assert.match(part, /^label deploy$/m, 'the deploy entry stays, as in Ironic');
    const whole = switchToInstanceBoot(deploy, 'pxelinux', { kind: 'whole-disk', diskIdentifier: '0x5EED1234' });
    assert.match(whole, /^default boot_whole_disk$/m);
    assert.match(whole, /^append mbr:0x5eed1234$/m);
  });

  test('refusals name the field: spaces, newlines, quotes, bad URL, bad UUID; whole-disk netboot on GRUB', () => {
    const bad: Array<[string, Partial<PxeDeployParams>]> = [
      ['deploymentKey', { deploymentKey: 'a b' }],
      ['deploymentId', { deploymentId: 'x\ndefault evil' }],
      ['apiUrl', { apiUrl: 'http://x/"y' }],
      ['apiUrl', { apiUrl: 'ftp://x' }],
      ['rootDevice', { rootDevice: "a'b" }],
      ['appendParams', { appendParams: 'a\nb' }],
      ['bootOption', { bootOption: 'pxe' as never }],
    ];
    for (const [field, change] of bad) {
      assert.throws(() => renderPxelinuxConfig({ ...params, ...change }, paths), (e: unknown) => isDeployError(e, 'invalid-input') && e.field === field, field);
    }
    const deploy = renderPxelinuxConfig(params, paths);
    assert.throws(() => switchToInstanceBoot(deploy, 'pxelinux', { kind: 'partition', rootUuid: 'UUID=x; default evil' }), (e: unknown) => isDeployError(e, 'invalid-input') && e.field === 'rootUuid');
    assert.throws(() => switchToInstanceBoot(deploy, 'pxelinux', { kind: 'whole-disk', diskIdentifier: '1234' }), (e: unknown) => isDeployError(e, 'invalid-input') && e.field === 'diskIdentifier');
    const grub = renderGrubConfig({ ...params, bootMode: 'uefi' }, paths);
    assert.throws(() => switchToInstanceBoot(grub, 'grub', { kind: 'whole-disk', diskIdentifier: '0x12345678' }), (e: unknown) => isDeployError(e, 'invalid-input') && e.field === 'bootMode');
  });
});

describe('PXE files in a TFTP root', () => {
  let root: string;
  let src: string;
  const MAC1 = '52:54:00:AB:CD:01';
  const MAC2 = '52-54-00-ab-cd-02';
  /** Every path under the root, with symlink targets. */
  const tree = (): string[] =>
    (readdirSync(root, { recursive: true }) as string[])
      .map((p) => {
        const full = join(root, p);
        return lstatSync(full).isSymbolicLink() ? `${p} -> ${readlinkSync(full)}` : p;
      })
      .sort();

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'tftp-'));
    src = mkdtempSync(join(tmpdir(), 'pxe-src-'));
    for (const f of ['deploy.kernel', 'deploy.initrd', 'vmlinuz', 'initrd.img']) writeFileSync(join(src, f), `${f} bytes`);
    // What an operator already has there: the boot loader, and another node's link.
    writeFileSync(join(root, 'pxelinux.0'), 'pxelinux');
    mkdirSync(join(root, 'pxelinux.cfg'));
    mkdirSync(join(root, 'other-node'));
    writeFileSync(join(root, 'other-node', 'config'), 'default other');
    symlinkSync('../other-node/config', join(root, 'pxelinux.cfg', '01-52-54-00-00-00-99'));
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(src, { recursive: true, force: true });
  });

  const setup = (bootMode: 'bios' | 'uefi'): PxeSetupOptions => ({
    tftpRoot: root,
    nodeId: node,
    macs: [MAC1, MAC2],
    bootMode,
    params,
    images: { deployKernel: join(src, 'deploy.kernel'), deployRamdisk: join(src, 'deploy.initrd'), kernel: join(src, 'vmlinuz'), ramdisk: join(src, 'initrd.img') },
  });

  test('BIOS: node directory, hard-linked kernels, a relative link per MAC; switch; clean-up restores the tree exactly', async () => {
    const before = tree();
    const files = await writePxeFiles(setup('bios'));
    assert.deepEqual(files.links.map((l) => relative(root, l)), ['pxelinux.cfg/01-52-54-00-ab-cd-01', 'pxelinux.cfg/01-52-54-00-ab-cd-02']);
    for (const l of files.links) {
      assert.equal(readlinkSync(l), `../${node}/config`);
      assert.equal(readFileSync(l, 'utf8'), readFileSync(files.config, 'utf8'), 'the link leads to the config');
    }
    const config = readFileSync(files.config, 'utf8');
    assert.match(config, new RegExp(`^kernel ${node}/deploy_kernel$`, 'm'));
    assert.match(config, /boot_mode=bios/);
    assert.equal(statSync(join(root, node, 'kernel')).ino, statSync(join(src, 'vmlinuz')).ino, 'hard link, not a copy');
    assert.equal(readFileSync(join(root, node, 'deploy_ramdisk'), 'utf8'), 'deploy.initrd bytes');

    await switchPxeConfig({ tftpRoot: root, nodeId: node, macs: [MAC1], bootMode: 'bios' }, { kind: 'partition', rootUuid: '0b8a4c3e-1d2f-4e5a-9b6c-7d8e9f0a1b2c' });
    assert.match(readFileSync(files.links[0] as string, 'utf8'), /^default boot_partition$/m);

    const removed = await removePxeFiles({ tftpRoot: root, nodeId: node, macs: [MAC1, MAC2], bootMode: 'bios' });
    assert.equal(removed.length, 2 + 5 + 1, removed.join('\n'));
    assert.deepEqual(tree(), before);
    assert.ok(existsSync(join(src, 'vmlinuz')), 'the source files stay');
  });

  test('UEFI: GRUB config with both per-MAC names in the GRUB directory; clean-up leaves GRUB\'s own files', async () => {
    mkdirSync(join(root, 'grub'));
    writeFileSync(join(root, 'grub', 'grub.cfg'), '# operator menu');
    const before = tree();
    const files = await writePxeFiles({ ...setup('uefi'), macs: [MAC1] });
    assert.deepEqual(files.links.map((l) => relative(root, l)), ['grub/grub.cfg-01-52-54-00-ab-cd-01', 'grub/grub.cfg-52-54-00-ab-cd-01']);
    const config = readFileSync(files.links[1] as string, 'utf8');
    assert.match(config, new RegExp(`^ {4}linux /${node}/deploy_kernel .* BOOTIF=01-\\$\\{net_default_mac\\}$`, 'm'));
    await removePxeFiles({ tftpRoot: root, nodeId: node, macs: [MAC1], bootMode: 'uefi' });
    assert.deepEqual(tree(), before);
    rmSync(join(root, 'grub'), { recursive: true });
  });

  test('a MAC link now owned by another node is left alone by clean-up', async () => {
    await writePxeFiles({ ...setup('bios'), macs: [MAC1] });
    const link = join(root, 'pxelinux.cfg', '01-52-54-00-ab-cd-01');
    rmSync(link);
    symlinkSync('../other-node/config', link);
    await removePxeFiles({ tftpRoot: root, nodeId: node, macs: [MAC1], bootMode: 'bios' });
    assert.equal(readlinkSync(link), '../other-node/config');
    rmSync(link);
  });

  test('kernels on another filesystem are copied', { skip: crossDeviceSkip() }, async () => {
    const shm = mkdtempSync('/dev/shm/pxe-src-');
    try {
      writeFileSync(join(shm, 'k'), 'kernel on tmpfs');
      writeFileSync(join(shm, 'r'), 'ramdisk on tmpfs');
      await writePxeFiles({ ...setup('bios'), images: { deployKernel: join(shm, 'k'), deployRamdisk: join(shm, 'r') } });
      assert.equal(readFileSync(join(root, node, 'deploy_kernel'), 'utf8'), 'kernel on tmpfs');
      assert.notEqual(statSync(join(root, node, 'deploy_kernel')).ino, statSync(join(shm, 'k')).ino);
    } finally {
      await removePxeFiles({ tftpRoot: root, nodeId: node, macs: [MAC1, MAC2], bootMode: 'bios' });
      rmSync(shm, { recursive: true, force: true });
    }
  });

  test('refusals: node ids that leave the root, bad MACs, a missing kernel — nothing written', async () => {
    const before = tree();
    for (const nodeId of ['..', '../etc', 'a/b', '.hidden', 'pxelinux.cfg', '', 'x'.repeat(200)]) {
      await assert.rejects(writePxeFiles({ ...setup('bios'), nodeId }), (e: unknown) => isDeployError(e, 'invalid-input') && e.field === 'nodeId', nodeId);
    }
    await assert.rejects(writePxeFiles({ ...setup('bios'), macs: ['52:54:00:ab:cd'] }), (e: unknown) => isDeployError(e, 'invalid-input') && e.field === 'macs[0]');
    await assert.rejects(writePxeFiles({ ...setup('bios'), macs: [] }), (e: unknown) => isDeployError(e, 'invalid-input') && e.field === 'macs');
    await assert.rejects(writePxeFiles({ ...setup('uefi'), grubDir: '../grub' }), (e: unknown) => isDeployError(e, 'invalid-input') && e.field === 'grubDir');
    await assert.rejects(writePxeFiles({ ...setup('bios'), params: { ...params, deploymentKey: 'a b' } }), (e: unknown) => isDeployError(e, 'invalid-input') && e.field === 'deploymentKey');
    assert.deepEqual(tree(), before);
    await assert.rejects(writePxeFiles({ ...setup('bios'), images: { deployKernel: join(src, 'nope'), deployRamdisk: join(src, 'deploy.initrd') } }), (e: unknown) => isDeployError(e, 'invalid-input') && e.field === 'images.deployKernel');
    assert.deepEqual(tree(), before);
  });
});

function crossDeviceSkip(): string | false {
  if (existsSync('/dev/shm') && statSync('/dev/shm').dev !== statSync(tmpdir()).dev) return false;
  const reason = 'NOT RUN: needs /dev/shm on another filesystem than the temp dir (to force a copy instead of a hard link)';
  process.stderr.write(`\n!!! ${reason}\n`);
  return reason;
}
