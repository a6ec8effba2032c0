import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  BOOT_ISO_LAYOUT,
  BOOT_LOADER_SEARCH,
  buildDeployIso,
  buildInstanceBootIso,
  findBootLoader,
  grubConfig,
  isMediaError,
  isolinuxConfig,
  kernelParamWords,
  type BootLoaderPaths,
  type IsoImage,
} from '../../lib/media';

async function fileOnIso(iso: IsoImage, path: string): Promise<string> {
  const e = iso.extents.get(path);
  assert.ok(e, `${path} is on the ISO`);
  const parts: Buffer[] = [];
  for await (const c of iso.stream({ start: e.lba * 2048, end: e.lba * 2048 + e.size - 1 })) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

describe('kernel parameters', () => {
  test('a string is split on whitespace; a list is taken as words', () => {
    assert.deepEqual(kernelParamWords(' console=ttyS0  nofb\nvga=normal '), ['console=ttyS0', 'nofb', 'vga=normal']);
    assert.deepEqual(kernelParamWords(['a=1', 'b']), ['a=1', 'b']);
  });

  for (const [bad, found] of [
    ['quote="x"', 'a double quote at position 7'],
    ["it's", 'a single quote at position 3'],
    ['back\\slash', 'a backslash at position 5'],
    ['caf\u00e9', 'U+00E9 at position 4'],
  ]) {
    test(`${JSON.stringify(bad)} is refused (not representable identically in ISOLINUX and GRUB), without repeating the word`, () => {
      assert.throws(
        () => kernelParamWords(`ok ${bad}`),
        (e: unknown) => isMediaError(e, 'invalid-input') && e.field === 'kernelParams[1]' && e.message.includes(`found ${found}`) && !e.message.includes(bad),
      );
    });
  }

  test('GRUB sees each word literally: characters its shell would interpret are quoted', () => {
    const cfg = grubConfig({ kernel: '/vmlinuz', initrd: '/initrd', params: ['a=$x', 'b=c;d', 'root=UUID=1234-ABCD'], volumeId: 'VOL' });
    assert.match(cfg, /^linux \/vmlinuz 'a=\$x' 'b=c;d' root=UUID=1234-ABCD$/m);
    assert.match(cfg, /^search --no-floppy --set=root --label VOL$/m);
  });

  test('ISOLINUX gets the words on one APPEND line', () => {
    const cfg = isolinuxConfig({ kernel: '/vmlinuz', initrd: '/initrd', params: ['a=1', 'b'], serial: true });
    assert.match(cfg, /^SERIAL 0 115200$/m);
    assert.match(cfg, /^ {2}APPEND a=1 b$/m);
    assert.match(cfg, /^ {2}INITRD \/initrd$/m);
  });
});

describe('boot loader files', () => {
  test('a configured path that does not exist is named in the error', async () => {
    await assert.rejects(findBootLoader('grubEfi', '/nonexistent/grubx64.efi'), (e: unknown) => isMediaError(e, 'missing-file') && e.message.includes('/nonexistent/grubx64.efi') && e.field === 'bootLoaders.grubEfi');
  });

  test('when nothing is found, the error names every path searched and the package to install', async () => {
    const search = ['/nonexistent/a/grubx64.efi', '/nonexistent/b/gcdx64.efi'];
    await assert.rejects(findBootLoader('grubEfi', undefined, search), (e: unknown) => {
      assert.ok(isMediaError(e, 'missing-file'));
      assert.deepEqual(e.searched, search);
      for (const p of search) assert.ok(e.message.includes(p), e.message);
      assert.match(e.message, /grub-efi-amd64-bin/);
      return true;
    });
  });

  test('a "*" directory in a search path is every vendor directory there, in name order', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ilo-media-esp-'));
    try {
      for (const v of ['debian', 'fedora', 'ubuntu']) await mkdir(join(root, 'EFI', v), { recursive: true });
      await writeFile(join(root, 'EFI', 'fedora', 'grubx64.efi'), 'x');
      assert.equal(await findBootLoader('grubEfi', undefined, [`${root}/EFI/*/grubx64.efi`]), join(root, 'EFI', 'fedora', 'grubx64.efi'));
      await rm(join(root, 'EFI', 'fedora', 'grubx64.efi'));
      await assert.rejects(findBootLoader('grubEfi', undefined, [`${root}/EFI/*/grubx64.efi`, '/nonexistent/*/x.efi']), (e: unknown) => {
        assert.ok(isMediaError(e, 'missing-file'));
        assert.deepEqual(e.searched, [...['debian', 'fedora', 'ubuntu'].map((v) => join(root, 'EFI', v, 'grubx64.efi')), '/nonexistent/*/x.efi']);
        return true;
      });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  test('the usual Debian/Ubuntu places are searched', () => {
    assert.ok(BOOT_LOADER_SEARCH.isolinuxBin.includes('/usr/lib/ISOLINUX/isolinux.bin'));
    assert.ok(BOOT_LOADER_SEARCH.ldlinuxC32.includes('/usr/lib/syslinux/modules/bios/ldlinux.c32'));
    assert.ok(BOOT_LOADER_SEARCH.grubEfi.includes('/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed'));
    assert.ok(BOOT_LOADER_SEARCH.grubEfi.includes('/usr/lib/grub/x86_64-efi/monolithic/gcdx64.efi'));
  });
});

describe('boot and deploy ISO builders (with stand-in boot loader files)', () => {
  let dir: string;
  let loaders: BootLoaderPaths;
  const date = new Date('2025-06-07T08:09:10Z');
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ilo-media-bootiso-'));
    loaders = { isolinuxBin: join(dir, 'isolinux.bin'), ldlinuxC32: join(dir, 'ldlinux.c32'), grubEfi: join(dir, 'grubx64.efi') };
    await writeFile(loaders.isolinuxBin as string, Buffer.alloc(4096, 0xfa));
    await writeFile(loaders.ldlinuxC32 as string, Buffer.alloc(1000, 1));
    await writeFile(loaders.grubEfi as string, Buffer.alloc(70_000, 2));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('a deploy ISO puts boot_method=vmedia on both boot loaders\' command lines', async () => {
    const iso = await buildDeployIso({ kernel: Buffer.alloc(5000, 3), ramdisk: Buffer.alloc(7000, 4), kernelParams: 'console=ttyS0', bootLoaders: loaders, date });
    assert.equal(iso.volumeId, 'VMEDIA_BOOT_ISO');
    assert.match(await fileOnIso(iso, BOOT_ISO_LAYOUT.isolinuxCfg), /APPEND console=ttyS0 boot_method=vmedia$/m);
    assert.match(await fileOnIso(iso, BOOT_ISO_LAYOUT.grubCfg), /^linux \/vmlinuz console=ttyS0 boot_method=vmedia$/m);
  });

  test('deploy parameters can ride on the command line (no floppy), validated like parameters.txt', async () => {
    const iso = await buildDeployIso({ kernel: Buffer.alloc(10, 1), ramdisk: Buffer.alloc(10), parameters: { 'ipa-api-url': 'http://h:6385', 'ipa-agent-token': 'T0k' }, bootModes: 'bios', bootLoaders: loaders, date });
    assert.match(await fileOnIso(iso, BOOT_ISO_LAYOUT.isolinuxCfg), /APPEND ipa-api-url=http:\/\/h:6385 ipa-agent-token=T0k boot_method=vmedia$/m);
    await assert.rejects(buildDeployIso({ kernel: Buffer.alloc(10, 1), ramdisk: Buffer.alloc(10), parameters: { BOOTIF: 'a b' }, bootLoaders: loaders }), /parameters\.BOOTIF/);
  });

  test('a deploy ISO refuses another boot_method', async () => {
    await assert.rejects(buildDeployIso({ kernel: Buffer.alloc(10, 1), ramdisk: Buffer.alloc(10), kernelParams: 'boot_method=pxe', bootLoaders: loaders }), /kernelParams: expected boot_method=vmedia/);
  });

  test('an instance boot ISO boots root=UUID=<uuid>', async () => {
    const uuid = '0b5c2e1a-7f3d-4c11-9a55-3e2d1c0b9a87';
    const iso = await buildInstanceBootIso({ kernel: Buffer.alloc(10, 1), ramdisk: Buffer.alloc(10), rootUuid: uuid, kernelParams: 'nofb vga=normal', bootLoaders: loaders, date });
    assert.match(await fileOnIso(iso, BOOT_ISO_LAYOUT.isolinuxCfg), new RegExp(`APPEND root=UUID=${uuid} nofb vga=normal$`, 'm'));
    assert.match(await fileOnIso(iso, BOOT_ISO_LAYOUT.grubCfg), new RegExp(`^linux /vmlinuz root=UUID=${uuid} nofb vga=normal$`, 'm'));
    await assert.rejects(buildInstanceBootIso({ kernel: Buffer.alloc(1, 1), ramdisk: Buffer.alloc(1), rootUuid: 'not-a-uuid', bootLoaders: loaders }), /rootUuid: expected a filesystem UUID/);
  });

  test('a GRUB taken from an ESP\'s EFI/<vendor>/ also gets its config at EFI/<vendor>/grub.cfg (ESP and ISO)', async () => {
    const vendorGrub = join(dir, 'esp', 'EFI', 'fedora', 'grubx64.efi');
    await mkdir(join(dir, 'esp', 'EFI', 'fedora'), { recursive: true });
    await writeFile(vendorGrub, Buffer.alloc(5000, 9));
    const iso = await buildDeployIso({ kernel: Buffer.alloc(10, 1), ramdisk: Buffer.alloc(10), bootModes: 'uefi', bootLoaders: { grubEfi: vendorGrub }, date });
    const cfg = await fileOnIso(iso, BOOT_ISO_LAYOUT.grubCfg);
    assert.equal(await fileOnIso(iso, 'EFI/fedora/grub.cfg'), cfg);
    assert.equal(await fileOnIso(iso, 'EFI/BOOT/grub.cfg'), cfg);
  });

  test('only what the boot mode needs is on the ISO', async () => {
    const bios = await buildDeployIso({ kernel: Buffer.alloc(10, 1), ramdisk: Buffer.alloc(10), bootModes: 'bios', bootLoaders: loaders, date });
    assert.ok(bios.extents.has(BOOT_ISO_LAYOUT.isolinuxBin));
    assert.ok(!bios.extents.has(BOOT_ISO_LAYOUT.espImage));
    const uefi = await buildDeployIso({ kernel: Buffer.alloc(10, 1), ramdisk: Buffer.alloc(10), bootModes: 'uefi', bootLoaders: { grubEfi: loaders.grubEfi }, date });
    assert.ok(uefi.extents.has(BOOT_ISO_LAYOUT.espImage));
    assert.ok(!uefi.extents.has(BOOT_ISO_LAYOUT.isolinuxBin));
  });

  test('a missing kernel, a missing configured loader, and hybrid without BIOS are clear errors', async () => {
    await assert.rejects(buildDeployIso({ kernel: join(dir, 'no-vmlinuz'), ramdisk: Buffer.alloc(1), bootLoaders: loaders }), (e: unknown) => isMediaError(e, 'missing-file') && e.field === 'kernel');
    await assert.rejects(buildDeployIso({ kernel: Buffer.alloc(1, 1), ramdisk: Buffer.alloc(1), bootLoaders: { ...loaders, ldlinuxC32: join(dir, 'missing.c32') } }), (e: unknown) => isMediaError(e, 'missing-file') && e.message.includes(join(dir, 'missing.c32')));
    await assert.rejects(buildDeployIso({ kernel: Buffer.alloc(1, 1), ramdisk: Buffer.alloc(1), bootModes: 'uefi', hybrid: true, bootLoaders: loaders }), /hybrid: expected bootModes "bios" or "both"/);
    await assert.rejects(buildDeployIso({ kernel: Buffer.alloc(1, 1), ramdisk: Buffer.alloc(1), bootModes: 'legacy' as 'bios', bootLoaders: loaders }), /bootModes: expected "bios", "uefi" or "both"/);
  });
});
