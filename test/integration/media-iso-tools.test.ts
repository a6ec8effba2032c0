/**
 * Every ISO lib/media builds, read back by xorriso: the El Torito catalogue,
 * the isohybrid MBR, the Rock Ridge names and byte-exact contents. The ESP
 * inside a UEFI ISO is checked with mtools and fsck.fat.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BOOT_ISO_LAYOUT, buildDeployIso, buildInstanceBootIso, buildIso, DEFAULT_GRUB_CONFIG_PATHS, fileSource, findBootLoader, isMediaError, type IsoFile, type IsoImage } from '../../lib/media';
import { needTools } from '../helpers/env';
import { anySkip, HOST_BOOT_FILES, needFiles, run, runOk, tempDir } from '../helpers/media-tools';

const skip = needTools('xorriso');
const skipBoot = anySkip(skip, needTools('mcopy', 'fsck.fat'), needFiles(HOST_BOOT_FILES));

/** xorriso with its messages checked: anything of severity WARNING or worse fails the test. */
async function xorriso(args: string[]): Promise<string> {
  const r = await run('xorriso', args);
  assert.equal(r.code, 0, `xorriso ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  const bad = r.stderr.split('\n').filter((l) => /: (WARNING|SORRY|FAILURE|FATAL|MISHAP) :/.test(l));
  assert.deepEqual(bad, [], `xorriso complained:\n${r.stderr}`);
  return r.stdout;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

async function extract(iso: string, out: string): Promise<Map<string, Buffer>> {
  await xorriso(['-osirrox', 'on', '-indev', iso, '-extract', '/', out]);
  const files = new Map<string, Buffer>();
  for (const p of await walk(out)) files.set(relative(out, p), await readFile(p));
  return files;
}

interface BootImage {
  platform: string;
  loadSize: number;
  lba: number;
  path?: string;
  opts?: string;
}

/** The boot images `-report_el_torito plain` lists. */
function bootImages(report: string): BootImage[] {
  const images = new Map<string, BootImage>();
  for (const m of report.matchAll(/^El Torito boot img :\s+(\d+)\s+(\S+)\s+y\s+none\s+0x0000\s+0x00\s+(\d+)\s+(\d+)$/gm)) {
    images.set(m[1], { platform: m[2], loadSize: Number(m[3]), lba: Number(m[4]) });
  }
  for (const m of report.matchAll(/^El Torito img path :\s+(\d+)\s+(\S+)$/gm)) {
    const img = images.get(m[1]);
    if (img) img.path = m[2];
  }
  for (const m of report.matchAll(/^El Torito img opts :\s+(\d+)\s+(.+)$/gm)) {
    const img = images.get(m[1]);
    if (img) img.opts = m[2];
  }
  return [...images.values()];
}

describe('ISO images read back by xorriso', { skip }, () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let n = 0;
  const path = (name: string): string => join(tmp.dir, `${++n}-${name}`);
  before(async () => {
    tmp = await tempDir('iso');
  });
  after(() => tmp.cleanup());

  async function write(iso: IsoImage, name: string): Promise<string> {
    const p = path(name);
    await iso.writeToFile(p);
    return p;
  }

  test('a data ISO: Rock Ridge names (case, spaces, UTF-8, 120 bytes), 7 levels, 500 files in a directory, a file from disk', async () => {
    const big = path('big.bin');
    const bigData = randomBytes(5 * 1024 * 1024 + 17);
    await writeFile(big, bigData);
    const files = new Map<string, Buffer>([
      ['README', Buffer.from('upper')],
      ['readme', Buffer.from('lower')],
      ['With Spaces and (Parens).txt', Buffer.from('spaces')],
      ['\u00fcber/gr\u00fc\u00dfe \u65e5\u672c.txt', Buffer.from('utf8')],
      ['n/' + 'n'.repeat(120), Buffer.from('long')],
      ['1/2/3/4/5/6/7/seven levels.txt', Buffer.from('deep')],
      ['empty-file', Buffer.alloc(0)],
      ...Array.from({ length: 500 }, (_, i) => [`many/entry-with-a-longish-name-${i}.data`, Buffer.from(`#${i}`)] as [string, Buffer]),
    ]);
    const isoFiles: IsoFile[] = [...files].map(([p, data]) => ({ path: p, data }));
    isoFiles.push({ path: 'disk/big.bin', data: await fileSource(big) });
    files.set('disk/big.bin', bigData);
    const iso = await write(buildIso({ volumeId: 'DATA_TEST', files: isoFiles }), 'data.iso');
    const info = await xorriso(['-indev', iso, '-pvd_info']);
    assert.match(info, /^Volume Id\s*: DATA_TEST$/m);
    const got = await extract(iso, path('data-out'));
    assert.deepEqual([...got.keys()].sort(), [...files.keys()].sort());
    for (const [p, data] of files) assert.deepEqual(got.get(p), data, p);
  });

  test('a name too long for a directory record is refused, naming the file', () => {
    assert.throws(() => buildIso({ files: [{ path: 'x'.repeat(121), data: Buffer.alloc(1) }] }), (e: unknown) => isMediaError(e, 'invalid-input') && e.field === 'files[0].path');
  });

  test('blkid sees the ISO\'s label and type', { skip: needTools('blkid') }, async () => {
    const iso = await write(buildIso({ volumeId: 'VMEDIA_BOOT_ISO', files: [{ path: 'x', data: Buffer.from('x') }] }), 'label.iso');
    const r = await runOk('blkid', ['-p', '-o', 'export', iso]);
    assert.match(r.stdout, /^LABEL=VMEDIA_BOOT_ISO$/m);
    assert.match(r.stdout, /^TYPE=iso9660$/m);
  });

  describe('boot ISOs with the host\'s ISOLINUX and GRUB', { skip: skipBoot }, () => {
    let kernelPath: string;
    let ramdiskPath: string;
    let kernel: Buffer;
    let ramdisk: Buffer;
    let grubPath: string;
    before(async () => {
      kernel = randomBytes(6 * 1024 * 1024 + 1);
      ramdisk = randomBytes(3 * 1024 * 1024 + 3);
      kernelPath = path('vmlinuz');
      ramdiskPath = path('initrd');
      await writeFile(kernelPath, kernel);
      await writeFile(ramdiskPath, ramdisk);
      grubPath = await findBootLoader('grubEfi');
    });

    test('BIOS + UEFI + isohybrid: catalogue, boot info table, MBR, ESP, and every file byte-exact', async () => {
      const image = await buildDeployIso({ kernel: kernelPath, ramdisk: ramdiskPath, kernelParams: 'console=ttyS0,115200', hybrid: true, serialConsole: true });
      const iso = await write(image, 'deploy.iso');
      const report = await xorriso(['-indev', iso, '-report_el_torito', 'plain', '-report_system_area', 'plain']);
      const [bios, uefi, ...rest] = bootImages(report);
      assert.equal(rest.length, 0, report);
      assert.deepEqual({ ...bios, lba: 0 }, { platform: 'BIOS', loadSize: 4, lba: 0, path: '/isolinux/isolinux.bin', opts: 'boot-info-table isohybrid-suitable' });
      const esp = image.extents.get(BOOT_ISO_LAYOUT.espImage);
      assert.ok(esp);
      assert.deepEqual(uefi, { platform: 'UEFI', loadSize: Math.ceil(esp.size / 512), lba: esp.lba, path: '/boot/grub/efiboot.img' });
      assert.match(report, /^System area summary: MBR isohybrid cyl-align-on$/m);
      assert.match(report, new RegExp(`^MBR partition      :   1   0x80  0x00            0 +${image.size / 512}$`, 'm'));
      assert.match(report, new RegExp(`^MBR partition      :   2   0x00  0xef +${esp.lba * 4} +${Math.ceil(esp.size / 512)}$`, 'm'));
      assert.match(report, /^MBR partition path : {3}2 {2}\/boot\/grub\/efiboot\.img$/m);
      assert.equal(image.size % (1024 * 1024), 0, 'isohybrid images are whole 1 MiB cylinders');

      const files = await extract(iso, path('deploy-out'));
      assert.deepEqual(
        [...files.keys()].sort(),
        ['EFI/BOOT/grub.cfg', 'EFI/debian/grub.cfg', 'EFI/ubuntu/grub.cfg', 'boot/grub/efiboot.img', 'boot/grub/grub.cfg', 'initrd', 'isolinux/isolinux.bin', 'isolinux/isolinux.cfg', 'isolinux/ldlinux.c32', 'vmlinuz'],
      );
      assert.deepEqual(files.get('vmlinuz'), kernel);
      assert.deepEqual(files.get('initrd'), ramdisk);
      assert.deepEqual(files.get('isolinux/ldlinux.c32'), await readFile('/usr/lib/syslinux/modules/bios/ldlinux.c32'));

      // ISOLINUX: the host file, with bytes 8-63 holding the boot information table.
      const host = await readFile('/usr/lib/ISOLINUX/isolinux.bin');
      const onIso = files.get('isolinux/isolinux.bin') as Buffer;
      assert.deepEqual(onIso.subarray(0, 8), host.subarray(0, 8));
      assert.deepEqual(onIso.subarray(64), host.subarray(64));
      let csum = 0;
      for (let i = 64; i < host.length; i += 4) csum = (csum + host.readUInt32LE(i)) >>> 0;
      assert.deepEqual([onIso.readUInt32LE(8), onIso.readUInt32LE(12), onIso.readUInt32LE(16), onIso.readUInt32LE(20)], [16, bios.lba, host.length, csum]);

      const isolinuxCfg = (files.get('isolinux/isolinux.cfg') as Buffer).toString();
      assert.match(isolinuxCfg, /^ {2}APPEND console=ttyS0,115200 boot_method=vmedia$/m);
      const grubCfg = files.get('boot/grub/grub.cfg') as Buffer;
      assert.match(grubCfg.toString(), /^search --no-floppy --set=root --label VMEDIA_BOOT_ISO$/m);
      assert.match(grubCfg.toString(), /^linux \/vmlinuz console=ttyS0,115200 boot_method=vmedia$/m);

      // The ESP: a clean FAT with the host's GRUB as the removable-media boot file, and grub.cfg where GRUB builds look.
      const espPath = path('efiboot.img');
      await writeFile(espPath, files.get('boot/grub/efiboot.img') as Buffer);
      const fsck = await run('fsck.fat', ['-n', espPath]);
      assert.equal(fsck.code, 0, fsck.stdout);
      const espOut = path('esp-out');
      await mkdir(espOut);
      await runOk('mcopy', ['-s', '-n', '-i', espPath, '::/', espOut]);
      assert.deepEqual(await readFile(join(espOut, 'EFI/BOOT/BOOTX64.EFI')), await readFile(grubPath));
      for (const p of DEFAULT_GRUB_CONFIG_PATHS) {
        assert.deepEqual(await readFile(join(espOut, p)), grubCfg, `ESP ${p}`);
        assert.deepEqual(files.get(p), grubCfg, `ISO ${p}`);
      }
    });

    test('BIOS only (isohybrid) and UEFI only: one catalogue entry each', async () => {
      const biosImage = await buildDeployIso({ kernel: kernelPath, ramdisk: ramdiskPath, bootModes: 'bios', hybrid: true });
      const biosIso = await write(biosImage, 'bios.iso');
      const report = await xorriso(['-indev', biosIso, '-report_el_torito', 'plain', '-report_system_area', 'plain']);
      const b = bootImages(report);
      assert.deepEqual(b.map((i) => [i.platform, i.path]), [['BIOS', '/isolinux/isolinux.bin']]);
      assert.match(report, /^System area summary: MBR isohybrid cyl-align-on$/m);
      const parts = [...report.matchAll(/^MBR partition {6}: +(\d) +(0x\w\w) +(0x\w\w) +(\d+) +(\d+)$/gm)].map((m) => m.slice(1).join(' '));
      assert.deepEqual(parts, [`1 0x80 0x17 0 ${biosImage.size / 512}`]);
      const uefiIso = await write(await buildDeployIso({ kernel: kernelPath, ramdisk: ramdiskPath, bootModes: 'uefi' }), 'uefi.iso');
      const u = bootImages(await xorriso(['-indev', uefiIso, '-report_el_torito', 'plain']));
      assert.deepEqual(u.map((i) => [i.platform, i.path]), [['UEFI', '/boot/grub/efiboot.img']]);
    });

    test('an instance boot ISO: root=UUID on both command lines, Ironic\'s label, extra files', async () => {
      const uuid = 'c7a2b3de-0f1e-4d5c-8b9a-112233445566';
      const image = await buildInstanceBootIso({
        kernel: kernel,
        ramdisk: ramdiskPath,
        rootUuid: uuid,
        kernelParams: ['nofb', 'nomodeset', 'vga=normal'],
        extraFiles: [{ path: 'openstack/latest/network_data.json', data: Buffer.from('{"links":[]}') }],
        publisher: 'c7a2b3de-0f1e-4d5c-8b9a-112233445566',
      });
      const iso = await write(image, 'instance.iso');
      const info = await xorriso(['-indev', iso, '-pvd_info']);
      assert.match(info, /^Volume Id\s*: VMEDIA_BOOT_ISO$/m);
      assert.match(info, new RegExp(`^Publisher Id\\s*: ${uuid}$`, 'm'));
      const files = await extract(iso, path('instance-out'));
      assert.match((files.get('isolinux/isolinux.cfg') as Buffer).toString(), new RegExp(`APPEND root=UUID=${uuid} nofb nomodeset vga=normal$`, 'm'));
      assert.match((files.get('boot/grub/grub.cfg') as Buffer).toString(), new RegExp(`^linux /vmlinuz root=UUID=${uuid} nofb nomodeset vga=normal$`, 'm'));
      assert.equal((files.get('openstack/latest/network_data.json') as Buffer).toString(), '{"links":[]}');
      assert.deepEqual(files.get('vmlinuz'), kernel);
    });

    test('an HTTP Range read of the image equals the same bytes of the written file', async () => {
      const image = await buildDeployIso({ kernel: kernelPath, ramdisk: ramdiskPath });
      const whole = await readFile(await write(image, 'range.iso'));
      assert.equal(whole.length, image.size);
      for (const [start, end] of [[0, 511], [32768, 34815], [image.size - 4096, image.size - 1], [1_000_000, 7_654_321]]) {
        const parts: Buffer[] = [];
        for await (const c of image.stream({ start, end })) parts.push(c as Buffer);
        assert.deepEqual(Buffer.concat(parts), whole.subarray(start, end + 1), `${start}-${end}`);
      }
    });
  });
});
