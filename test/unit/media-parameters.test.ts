import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildFloppy, formatParameters, isMediaError, parseParameters } from '../../lib/media';

describe('parameters.txt', () => {
  test('one key=value per line, joined by "\\n", no trailing newline, in the order given', () => {
    const text = formatParameters({ deployment_id: 'f1e2', 'ipa-api-url': 'http://10.0.0.1:6385', 'coreos.configdrive': 0, boot_option: 'local' });
    assert.equal(text, 'deployment_id=f1e2\nipa-api-url=http://10.0.0.1:6385\ncoreos.configdrive=0\nboot_option=local');
    assert.equal(formatParameters([['b', '2'], ['a', '1']]), 'b=2\na=1');
  });

  test('numbers and booleans are written as text; undefined values are left out', () => {
    assert.equal(formatParameters({ a: 1, b: true, c: undefined, d: '' }), 'a=1\nb=true\nd=');
  });

  test('what the ramdisks read back (IPA-style whitespace split) is what was written', () => {
    const params = { deployment_id: '6d7a', deployment_key: 'K3y', root_device: 'size%3D10%2Cmodel%3DX', BOOTIF: '52:54:00:12:34:56', 'ipa-api-url': 'http://h:6385/' };
    assert.deepEqual(parseParameters(formatParameters(params)), params);
  });

  for (const [what, value, found] of [
    ['a space', 'two words', 'a space at position 4'],
    ['a tab', 'a\tb', 'a tab at position 2'],
    ['a newline', 'x\nextra=injected', 'a newline at position 2'],
    ['a carriage return', 'x\r', 'a carriage return at position 2'],
    ['a non-ASCII character', 'caf\u00e9', 'U+00E9 at position 4'],
  ] as const) {
    test(`a value with ${what} is refused, naming the key and the character, not repeating the value`, () => {
      assert.throws(
        () => formatParameters({ deployment_id: 'ok', 'ipa-agent-token': value }),
        (err: unknown) =>
          isMediaError(err, 'invalid-input') &&
          err.field === 'parameters.ipa-agent-token' &&
          err.message.includes(`found ${found}`) &&
          !err.message.includes(value),
      );
    });
  }

  for (const key of ['a=b', 'has space', '', 'new\nline']) {
    test(`the key ${JSON.stringify(key)} is refused`, () => {
      assert.throws(
        () => formatParameters({ [key]: 'v' }),
        (err: unknown) => isMediaError(err, 'invalid-input') && err.message.includes("no '='") && err.message.includes(JSON.stringify(key)),
      );
    });
  }

  test('a key given twice (list form) is refused', () => {
    assert.throws(() => formatParameters([['a', '1'], ['a', '2']]), (err: unknown) => isMediaError(err, 'invalid-input') && err.field === 'parameters.a');
  });

  test('objects and NaN are refused as values', () => {
    assert.throws(() => formatParameters({ a: {} as unknown as string }), /parameters\.a: expected a string, a finite number or a boolean/);
    assert.throws(() => formatParameters({ a: Number.NaN }), /parameters\.a/);
  });
});

describe('buildFloppy', () => {
  test('is a 100 KiB FAT12 image labelled ir-vfd-dev by default', () => {
    const img = buildFloppy({ a: 'b' });
    assert.equal(img.length, 100 * 1024);
    assert.equal(img.toString('latin1', 43, 54), 'ir-vfd-dev ');
    assert.equal(img.toString('latin1', 54, 62), 'FAT12   ');
    assert.equal(img.readUInt16LE(510), 0xaa55);
  });

  test('the same inputs and date give the same bytes', () => {
    const date = new Date('2025-01-02T03:04:06Z');
    assert.deepEqual(buildFloppy({ a: 'b' }, { date }), buildFloppy({ a: 'b' }, { date }));
  });

  test('parameters that do not fit are refused with a size error', () => {
    const big = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`key${i}`, 'x'.repeat(60)]));
    assert.throws(() => buildFloppy(big), (err: unknown) => isMediaError(err, 'too-large') && err.field === 'size');
  });

  test('a bad size or a clash with parameters.txt is refused', () => {
    assert.throws(() => buildFloppy({}, { sizeKiB: 3 }), /sizeKiB: expected an integer from 8 to 32768/);
    assert.throws(() => buildFloppy({}, { extraFiles: { 'PARAMETERS.TXT': 'x' } }), /extraFiles\.PARAMETERS\.TXT/);
    assert.throws(() => buildFloppy({}, { label: 'much-too-long-label' }), /label: expected 1 to 11 characters/);
  });
});
