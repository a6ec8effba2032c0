/**
 * The simulated ramdisk's FAT reader reads images made by the real tools
 * (mkfs.vfat + mcopy), so it can be trusted to judge the images we build.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FatImage, parseParameters } from '../../sim/ramdisk/fat';
import { needTools } from '../helpers/env';

const skip = needTools('mkfs.vfat', 'mcopy');

describe('simulated ramdisk FAT reader against mkfs.vfat + mcopy', { skip }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fat-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<{ name: string; kib: number; extra: string[]; fat: number }> = [
    { name: "Ironic's 100 KiB FAT12 floppy", kib: 100, extra: [], fat: 12 },
    { name: '1.44 MB floppy', kib: 1440, extra: [], fat: 12 },
    { name: 'FAT16 ESP-sized image', kib: 32 * 1024, extra: ['-F', '16'], fat: 16 },
    { name: 'FAT32 image', kib: 64 * 1024, extra: ['-F', '32'], fat: 32 },
  ];
  for (const c of cases) {
    test(`${c.name}: label, long names, nested files, byte-exact`, () => {
      const img = join(dir, `${c.kib}.img`);
      rmSync(img, { force: true });
      execFileSync('mkfs.vfat', ['-C', '-n', 'ir-vfd-dev', ...c.extra, img, String(c.kib)], { stdio: 'ignore' });
      const params = 'ipa-api-url=http://10.0.0.1:1880/ilo-deploy\nipa-agent-token=abc_DEF-123\nboot_method=vmedia';
      writeFileSync(join(dir, 'parameters.txt'), params);
      const big = Buffer.alloc(70_000, 0).map((_, i) => (i * 7) & 0xff);
      writeFileSync(join(dir, 'big.bin'), big);
      execFileSync('mcopy', ['-i', img, join(dir, 'parameters.txt'), '::/parameters.txt']);
      execFileSync('mmd', ['-i', img, '::/EFI', '::/EFI/BOOT']);
      execFileSync('mcopy', ['-i', img, join(dir, 'big.bin'), '::/EFI/BOOT/A Long File Name.bin']);
      const fat = new FatImage(readFileSync(img));
      assert.equal(fat.fatType, c.fat);
      assert.equal(fat.label.toLowerCase(), 'ir-vfd-dev');
      assert.equal(fat.readFile('parameters.txt').toString(), params);
      assert.equal(fat.readFile('PARAME~1.TXT').toString(), params, 'the 8.3 alias works too');
      assert.deepEqual(fat.readFile('EFI/BOOT/a long file name.bin'), big);
      assert.deepEqual(parseParameters(fat.readFile('parameters.txt').toString()), {
        'ipa-api-url': 'http://10.0.0.1:1880/ilo-deploy',
        'ipa-agent-token': 'abc_DEF-123',
        boot_method: 'vmedia',
      });
      assert.throws(() => fat.readFile('missing.txt'), /no file missing.txt/);
    });
  }

  test('garbage is refused', () => {
    assert.throws(() => new FatImage(Buffer.alloc(4096)), /not a FAT image/);
  });
});
