import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildIso, isMediaError, type MediaSource } from '../../lib/media';
import { bootCatalog, patchBootInfoTable, PLATFORM_EFI, PLATFORM_X86 } from '../../lib/media/iso/eltorito';
import { compareIdentifiers, isoIdentifier } from '../../lib/media/iso/names';

const date = new Date('2025-03-04T05:06:07Z');

describe('El Torito', () => {
  test('the validation entry sums to zero and ends 55 AA; sections follow the default entry', () => {
    const cat = bootCatalog([
      { platform: PLATFORM_X86, lba: 30, sectorCount: 4 },
      { platform: PLATFORM_EFI, lba: 40, sectorCount: 5760 },
    ]);
    let sum = 0;
    for (let i = 0; i < 32; i += 2) sum = (sum + cat.readUInt16LE(i)) & 0xffff;
    assert.equal(sum, 0);
    assert.deepEqual([cat[0], cat[1], cat[30], cat[31]], [1, 0x00, 0x55, 0xaa]);
    assert.deepEqual([cat[32], cat.readUInt16LE(38), cat.readUInt32LE(40)], [0x88, 4, 30]);
    assert.deepEqual([cat[64], cat[65], cat.readUInt16LE(66)], [0x91, 0xef, 1]);
    assert.deepEqual([cat[96], cat.readUInt16LE(102), cat.readUInt32LE(104)], [0x88, 5760, 40]);
  });

  test('an ESP above 65535 sectors gets count 0 (firmware then reads to the end of the volume)', () => {
    const cat = bootCatalog([{ platform: PLATFORM_EFI, lba: 40, sectorCount: 70000 }]);
    assert.equal(cat[1], 0xef);
    assert.equal(cat.readUInt16LE(38), 0);
  });

  test('the boot information table holds the PVD LBA, the image LBA and length, and the sum of words from byte 64', () => {
    const img = Buffer.alloc(2050);
    for (let i = 0; i < img.length; i++) img[i] = (i * 7) & 0xff;
    const original = Buffer.from(img);
    const patched = patchBootInfoTable(img, 16, 123);
    assert.equal(patched.length, img.length);
    assert.deepEqual([patched.readUInt32LE(8), patched.readUInt32LE(12), patched.readUInt32LE(16)], [16, 123, 2050]);
    const padded = Buffer.concat([img, Buffer.alloc(2)]);
    let sum = 0;
    for (let i = 64; i < padded.length; i += 4) sum = (sum + padded.readUInt32LE(i)) >>> 0;
    assert.equal(patched.readUInt32LE(20), sum);
    assert.ok(patched.subarray(24, 64).every((b) => b === 0));
    assert.deepEqual(patched.subarray(64), img.subarray(64));
    assert.deepEqual(img, original, 'the input is not modified');
  });
});

describe('ISO 9660 identifiers', () => {
  test('upper-case d-characters, unique per directory', () => {
    const taken = new Set<string>();
    const a = isoIdentifier('initrd.gz', false, taken);
    taken.add(a);
    assert.equal(a, 'INITRD.GZ');
    assert.equal(isoIdentifier('INITRD.gz', false, taken), 'INITRD_1.GZ');
    assert.equal(isoIdentifier('my dir', true, new Set()), 'MY_DIR');
    assert.equal(isoIdentifier('vmlinuz', false, new Set()), 'VMLINUZ.');
  });

  test('ordering compares name then extension, space padded (ECMA-119 9.3)', () => {
    const ids = ['B.TXT', 'A_B.', 'A.TXT', 'AB.', 'A.', 'A.T'];
    assert.deepEqual([...ids].sort(compareIdentifiers), ['A.', 'A.T', 'A.TXT', 'AB.', 'A_B.', 'B.TXT']);
  });
});

describe('buildIso', () => {
  const files = [
    { path: 'isolinux/isolinux.bin', data: Buffer.alloc(2048, 0x90) },
    { path: 'b.txt', data: Buffer.from('b') },
    { path: 'a/deep/file.txt', data: Buffer.from('deep') },
  ];

  test('the size is a whole number of 2048-byte blocks and each file sits at its extent', async () => {
    const iso = buildIso({ volumeId: 'TEST', files, date, boot: { bios: { path: 'isolinux/isolinux.bin' } } });
    assert.equal(iso.size % 2048, 0);
    const all = await iso.toBuffer();
    assert.equal(all.length, iso.size);
    assert.equal(all.toString('ascii', 16 * 2048 + 1, 16 * 2048 + 6), 'CD001');
    assert.equal(all.toString('ascii', 16 * 2048 + 40, 16 * 2048 + 44), 'TEST');
    assert.equal(all.readUInt32LE(16 * 2048 + 80), iso.size / 2048);
    assert.equal(all.readUInt32BE(16 * 2048 + 84), iso.size / 2048);
    const deep = iso.extents.get('a/deep/file.txt');
    assert.ok(deep);
    assert.equal(all.toString('ascii', deep.lba * 2048, deep.lba * 2048 + deep.size), 'deep');
    assert.equal(all.toString('ascii', 17 * 2048 + 7, 17 * 2048 + 30), 'EL TORITO SPECIFICATION');
  });

  test('the same inputs and date give the same bytes', async () => {
    const a = await buildIso({ files, date }).toBuffer();
    const b = await buildIso({ files, date }).toBuffer();
    assert.deepEqual(a, b);
  });

  test('bad input is refused, naming the field', () => {
    assert.throws(() => buildIso({ files, volumeId: 'has space' }), (e: unknown) => isMediaError(e, 'invalid-input') && e.field === 'volumeId');
    assert.throws(() => buildIso({ files, boot: { bios: { path: 'nope.bin' } } }), (e: unknown) => isMediaError(e) && e.field === 'boot.bios.path');
    assert.throws(() => buildIso({ files: [{ path: 'a/../b', data: Buffer.alloc(1) }] }), /files\[0\]\.path/);
    assert.throws(() => buildIso({ files: [{ path: 'x', data: Buffer.alloc(1) }, { path: 'x', data: Buffer.alloc(1) }] }), /files\[1\]\.path: expected a path not already used/);
    assert.throws(() => buildIso({ files: [{ path: '1/2/3/4/5/6/7/8/f', data: Buffer.alloc(1) }] }), /at most 7 directory levels/);
    assert.throws(() => buildIso({ files, boot: { hybridMbr: Buffer.alloc(432) } }), /boot\.hybridMbr: expected a BIOS boot image as well/);
  });

  test('the BIOS boot image must be in memory (its table is patched), and a 4 GiB file is refused', () => {
    const onDisk: MediaSource = { size: 4096, description: '/boot/isolinux.bin', read: () => (async function* () {})() };
    assert.throws(() => buildIso({ files: [{ path: 'i.bin', data: onDisk }], boot: { bios: { path: 'i.bin' } } }), /boot\.bios\.path: expected a boot image given as a Buffer/);
    const huge: MediaSource = { size: 2 ** 32, description: 'huge.img', read: () => (async function* () {})() };
    assert.throws(() => buildIso({ files: [{ path: 'huge.img', data: huge }] }), (e: unknown) => isMediaError(e, 'too-large') && e.message.includes('huge.img'));
  });
});
