import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { displayShortName, longNameEntries, makeShortName, shortNameChecksum, shortNameSuffices } from '../../lib/media/fat/names';

describe('FAT short names', () => {
  test('names that are valid 8.3 names keep them', () => {
    assert.equal(makeShortName('BOOTX64.EFI', new Set()), 'BOOTX64 EFI');
    assert.ok(shortNameSuffices('BOOTX64.EFI', 'BOOTX64 EFI'));
  });

  test('lower case is stored upper case, with a long name to keep the case', () => {
    const s = makeShortName('grub.cfg', new Set());
    assert.equal(displayShortName(s), 'GRUB.CFG');
    assert.equal(shortNameSuffices('grub.cfg', s), false);
  });

  test('long names get a numeric tail, unique in the directory (as mkfs + mcopy: PARAME~1.TXT)', () => {
    const taken = new Set<string>();
    const a = makeShortName('parameters.txt', taken);
    taken.add(a);
    const b = makeShortName('parameters-old.txt', taken);
    assert.equal(displayShortName(a), 'PARAME~1.TXT');
    assert.equal(displayShortName(b), 'PARAME~2.TXT');
  });

  test('characters a short name cannot hold become "_" and force a tail', () => {
    assert.equal(displayShortName(makeShortName('a+b.txt', new Set())), 'A_B~1.TXT');
    assert.equal(displayShortName(makeShortName('.hidden', new Set())), 'HIDDEN~1');
    assert.equal(displayShortName(makeShortName('caf\u00e9.txt', new Set())), 'CAF_~1.TXT');
  });
});

describe('VFAT long-name entries', () => {
  // The two long-name entries mkfs.vfat + mcopy (mtools 4.0.33) wrote for parameters.txt.
  const MCOPY = Buffer.from(
    '4274000000ffffffffffff0f004affff' + 'ffffffffffffffffffff0000ffffffff' + '017000610072006100' + '6d000f004a6500' + '7400650072007300' + '2e0000007400' + '7800',
    'hex',
  );

  test('checksum of PARAME~1.TXT matches what mcopy wrote', () => {
    assert.equal(shortNameChecksum('PARAME~1TXT'), 0x4a);
  });

  test('entries for parameters.txt are byte for byte those mcopy wrote', () => {
    assert.equal(MCOPY.length, 64);
    assert.deepEqual(longNameEntries('parameters.txt', 'PARAME~1TXT'), MCOPY);
  });

  test('a 27-character name takes three entries, the last one flagged 0x40', () => {
    const e = longNameEntries('abcdefghijklmnopqrstuvwxyz0', 'ABCDEF~1   ');
    assert.equal(e.length, 96);
    assert.equal(e[0], 0x43);
    assert.equal(e[32], 0x02);
    assert.equal(e[64], 0x01);
  });
});
