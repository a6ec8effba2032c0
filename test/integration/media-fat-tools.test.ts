/**
 * Every FAT image lib/media builds, read back by the real tools: mtools
 * (mdir, mtype, mcopy, minfo), fsck.fat -n, and blkid (what findfs uses).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildFatImage, buildFloppy, fileSource, formatParameters, isMediaError, type FatFile, type FatType } from '../../lib/media';
import { needTools } from '../helpers/env';
import { run, runOk, tempDir } from '../helpers/media-tools';

const skip = needTools('mdir', 'mtype', 'mcopy', 'minfo', 'fsck.fat');

/** fsck.fat in check-only mode: exit 0 and nothing to fix. */
async function fsckClean(img: string): Promise<string> {
  const r = await run('fsck.fat', ['-n', '-V', img]);
  assert.equal(r.code, 0, `fsck.fat -n ${img}:\n${r.stdout}${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l && !/^fsck\.fat|^Starting check|^Checking|^Starting verification|: \d+ files, \d+\/\d+ clusters$/.test(l));
  assert.deepEqual(lines, [], `fsck.fat reported:\n${r.stdout}`);
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

/** Extracts the whole volume with mcopy and compares every file, by long name, byte for byte. */
async function assertContents(img: string, outDir: string, files: { path: string; data: Buffer }[]): Promise<void> {
  await runOk('mcopy', ['-s', '-n', '-i', img, '::/', outDir]);
  const got = (await walk(outDir)).map((p) => relative(outDir, p)).sort();
  assert.deepEqual(got, files.map((f) => f.path).sort());
  for (const f of files) assert.deepEqual(await readFile(join(outDir, f.path)), f.data, f.path);
}

describe('FAT images read back by mtools and fsck.fat', { skip }, () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    tmp = await tempDir('fat');
  });
  after(() => tmp.cleanup());
  let n = 0;
  const path = (name: string): string => join(tmp.dir, `${++n}-${name}`);

  test("Ironic's floppy: 100 KiB FAT12, label ir-vfd-dev, parameters.txt as PARAME~1.TXT with its long name", async () => {
    const params = { deployment_id: '1be26c0b-03f2-4d2d-ae87-c02d7f33c123', deployment_key: 'O4lX2a9cDq1U', 'ipa-api-url': 'http://192.0.2.10:6385', BOOTIF: '52:54:00:aa:bb:cc' };
    const img = path('floppy.img');
    await writeFile(img, buildFloppy(params));
    assert.equal((await stat(img)).size, 102400);
    await fsckClean(img);
    const dir = await runOk('mdir', ['-i', img, '::']);
    assert.match(dir.stdout, /Volume in drive : is ir-vfd-dev/);
    assert.match(dir.stdout, /^PARAME~1 TXT\s+\d+ .*parameters\.txt$/m);
    const info = await runOk('minfo', ['-i', img, '::']);
    assert.match(info.stdout, /disk type="FAT12 {3}"/);
    assert.match(info.stdout, /disk label="ir-vfd-dev "/);
    const content = await runOk('mtype', ['-i', img, '::/parameters.txt']);
    assert.equal(content.stdout, formatParameters(params));
  });

  test('blkid (what findfs LABEL=ir-vfd-dev uses) sees the label and type', { skip: needTools('blkid') }, async () => {
    const img = path('floppy-blkid.img');
    await writeFile(img, buildFloppy({ a: 'b' }));
    const r = await runOk('blkid', ['-p', '-o', 'export', img]);
    assert.match(r.stdout, /^LABEL=ir-vfd-dev$/m);
    assert.match(r.stdout, /^TYPE=vfat$/m);
    assert.match(r.stdout, /^VERSION=FAT12$/m);
  });

  test('a 1.44 MB floppy with a Kilo token file', async () => {
    const img = path('floppy1440.img');
    await writeFile(img, buildFloppy({ a: 'b' }, { sizeKiB: 1440, extraFiles: { token: 'gAAAAAB-token' } }));
    await fsckClean(img);
    const info = await runOk('minfo', ['-i', img, '::']);
    assert.match(info.stdout, /sectors per track: 18/);
    assert.match(info.stdout, /media descriptor byte: 0xf0/);
    await assertContents(img, await mkOut('f1440'), [
      { path: 'parameters.txt', data: Buffer.from('a=b') },
      { path: 'token', data: Buffer.from('gAAAAAB-token') },
    ]);
  });

  async function mkOut(name: string): Promise<string> {
    const d = path(`out-${name}`);
    await runOk('mkdir', ['-p', d]);
    return d;
  }

  const tree = (): { path: string; data: Buffer }[] => [
    { path: 'EFI/BOOT/BOOTX64.EFI', data: randomBytes(150_000) },
    { path: 'EFI/BOOT/grub.cfg', data: Buffer.from('search --label X\n') },
    { path: 'boot/grub/grub.cfg', data: Buffer.from('set timeout=0\n') },
    { path: 'a/b/c/d/e/deeply nested file with a long name.txt', data: Buffer.from('deep\n') },
    { path: 'names/Mixed Case.TXT', data: Buffer.from('1') },
    { path: 'names/mixed case 2.txt', data: Buffer.from('2') },
    { path: 'names/sp\u00e4ter \u00fcber.txt', data: Buffer.from('unicode') },
    { path: 'names/' + 'x'.repeat(200) + '.bin', data: Buffer.from('long') },
    { path: 'names/empty', data: Buffer.alloc(0) },
    { path: 'names/a+b,c;d=e[f].g', data: Buffer.from('odd') },
    ...Array.from({ length: 300 }, (_, i) => ({ path: `many/file-number-${String(i).padStart(3, '0')}.dat`, data: Buffer.from(`file ${i}\n`) })),
  ];

  for (const fatType of [12, 16, 32] as FatType[]) {
    test(`FAT${fatType}: nested directories, long and odd names, 300 files in one directory, byte-exact`, async () => {
      const files = tree();
      const img = path(`tree${fatType}.img`);
      const image = buildFatImage({ files, label: `TREE${fatType}`, fatType, directories: ['empty/dir'] });
      assert.equal(image.geometry.type, fatType);
      await image.writeToFile(img);
      assert.equal((await stat(img)).size, image.size);
      await fsckClean(img);
      const info = await runOk('minfo', ['-i', img, '::']);
      assert.match(info.stdout, new RegExp(`disk type="FAT${fatType}\\s*"`));
      const label = await runOk('mlabel', ['-s', '-i', img, '::']);
      assert.match(label.stdout, new RegExp(`Volume label is TREE${fatType}`));
      const empty = await runOk('mdir', ['-i', img, '::/empty/dir']);
      assert.match(empty.stdout, /Directory for ::\/empty\/dir/);
      await assertContents(img, await mkOut(`tree${fatType}`), files);
    });
  }

  test('a FAT32 ESP-sized volume of a given size, with a file streamed from disk', async () => {
    const src = path('big.bin');
    const data = randomBytes(3 * 1024 * 1024 + 123);
    await writeFile(src, data);
    const files: FatFile[] = [{ path: 'EFI/BOOT/BOOTX64.EFI', data: await fileSource(src) }];
    const img = path('fat32.img');
    const image = buildFatImage({ files, label: 'ESP', size: 64 * 1024 * 1024 });
    assert.equal(image.geometry.type, 16, '64 MiB defaults to FAT16');
    await image.writeToFile(img);
    await fsckClean(img);
    await assertContents(img, await mkOut('fat32'), [{ path: 'EFI/BOOT/BOOTX64.EFI', data }]);
    const img32 = path('fat32b.img');
    await buildFatImage({ files, label: 'ESP', size: 64 * 1024 * 1024, fatType: 32 }).writeToFile(img32);
    await fsckClean(img32);
    await assertContents(img32, await mkOut('fat32b'), [{ path: 'EFI/BOOT/BOOTX64.EFI', data }]);
  });

  test('a FAT12 root directory grows beyond its usual 224 entries to hold 300 long names', async () => {
    const files = Array.from({ length: 300 }, (_, i) => ({ path: `long-name-number-${i}.txt`, data: Buffer.from(String(i)) }));
    const img = path('bigroot.img');
    await buildFatImage({ files, size: 1440 * 1024 }).writeToFile(img);
    await fsckClean(img);
    await assertContents(img, await mkOut('bigroot'), files);
  });

  test('content larger than the size, names clashing without case, and bad names are refused, naming the field', () => {
    assert.throws(() => buildFatImage({ files: [{ path: 'x', data: Buffer.alloc(200_000) }], size: 100 * 1024 }), (e: unknown) => isMediaError(e, 'too-large') && e.field === 'size');
    assert.throws(() => buildFatImage({ files: [{ path: 'a', data: Buffer.alloc(1) }, { path: 'A', data: Buffer.alloc(1) }] }), /files\[1\]\.path: expected a path not already used \(FAT names ignore case\)/);
    assert.throws(() => buildFatImage({ files: [{ path: 'bad:name', data: Buffer.alloc(1) }] }), /files\[0\]\.path/);
  });
});
