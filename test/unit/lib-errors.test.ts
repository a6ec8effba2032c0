/** The one error base of lib/: every class is a LibError with a known code, and input errors read alike. */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BmcError, invalidInput } from '../../lib/bmc/errors';
import { DeployError, badInput } from '../../lib/deploy/errors';
import { ERROR_CODES, LibError, describeValue, isLibError } from '../../lib/errors';
import { MediaError, invalidMediaInput } from '../../lib/media/errors';
import { StoreError, invalidStoreInput } from '../../lib/store/errors';
import { OpenStackError, invalidOpenStackInput } from '../../lib/swift/errors';

const root = join(__dirname, '..', '..', '..');

describe('lib error base', () => {
  test('every class is a LibError: one code vocabulary, the field, and its own details in toJSON', () => {
    const errors = [
      new BmcError('busy', 'host in POST', { reason: 'host-in-post', iloMessage: 'Host is in POST' }),
      new DeployError('missing-tool', 'qemu-img is not installed', { field: 'method' }),
      new MediaError('missing-file', 'no isolinux.bin', { searched: ['/a', '/b'] }),
      new StoreError('size', 'short'),
      new OpenStackError('swift', 'auth', 'token refused', { status: 401 }),
    ];
    for (const e of errors) {
      assert.ok(e instanceof LibError && isLibError(e, e.code), e.name);
      assert.ok(e.code in ERROR_CODES, `${e.name} code ${e.code} is documented`);
      const json = e.toJSON();
      assert.equal(json.code, e.code);
      assert.equal(json.name, e.name);
      assert.equal(json.message, e.message);
    }
    assert.equal(errors[0]!.toJSON().reason, 'host-in-post');
    assert.deepEqual(errors[2]!.toJSON().searched, ['/a', '/b']);
    assert.equal(errors[4]!.toJSON().service, 'swift');
    assert.equal(errors[1]!.field, 'method');
  });

  test('every input error reads "<field>: expected <what> (got <value>)", with a long value cut short', () => {
    const junk = 'x'.repeat(2 * 1024 * 1024);
    for (const make of [invalidInput, badInput, invalidMediaInput, invalidStoreInput, (f: string, e: string, g?: unknown) => invalidOpenStackInput('swift', f, e, g)]) {
      const e = make('image', 'an image reference', junk);
      assert.equal(e.code, 'invalid-input');
      assert.equal(e.field, 'image');
      assert.match(e.message, /^(swift: )?image: expected an image reference \(got "x{60}…"\)$/);
    }
    assert.equal(describeValue(Buffer.alloc(3)), 'a Buffer of 3 bytes');
    assert.equal(describeValue({ password: 'secret' }), 'object');
  });

  test('imports point down: the Swift client does not import the media store that uses it', () => {
    for (const f of readdirSync(join(root, 'lib', 'swift')).filter((n) => n.endsWith('.ts'))) {
      assert.doesNotMatch(readFileSync(join(root, 'lib', 'swift', f), 'utf8'), /from '\.\.\/store\//, `lib/swift/${f}`);
    }
  });
});
