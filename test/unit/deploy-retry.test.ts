import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BmcError } from '../../lib/bmc/errors';
import { retryTransient } from '../../lib/deploy/processes/retry';
import { StoreError } from '../../lib/store/errors';

/** An action that fails with `errors` in turn, then succeeds. */
function flaky(errors: Error[]): { calls: number; fn: () => Promise<string> } {
  const f = {
    calls: 0,
    fn: async (): Promise<string> => {
      const err = errors[f.calls++];
      if (err) throw err;
      return 'done';
    },
  };
  return f;
}

describe('clean-up retries', () => {
  test('failures that may pass (timeout, dropped connection, iLO error, garbled reply, store disk) are tried again until one succeeds', async () => {
    const f = flaky([
      new BmcError('timeout', 'no answer'),
      new BmcError('other', 'iLO error 0x0004'),
      new BmcError('protocol', 'not JSON'),
    ]);
    assert.equal(await retryTransient(f.fn, { delayMs: 1 }), 'done');
    assert.equal(f.calls, 4);
    const g = flaky([new StoreError('backend', 'disk full'), new Error('ECONNRESET')]);
    assert.equal(await retryTransient(g.fn, { delayMs: 1 }), 'done');
  });

  test('at most `attempts` tries; the last error is what the caller sees', async () => {
    const f = flaky([new BmcError('timeout', 'one'), new BmcError('timeout', 'two'), new BmcError('timeout', 'three')]);
    await assert.rejects(retryTransient(f.fn, { attempts: 2, delayMs: 1 }), { message: 'two' });
    assert.equal(f.calls, 2);
  });

  test('failures that cannot pass are not repeated: credentials (iLOs lock accounts), licence, unsupported, closed store', async () => {
    for (const err of [new BmcError('login', 'Login failed'), new BmcError('licence', 'needs Advanced'), new BmcError('not-supported', 'no'), new StoreError('closed', 'closed')]) {
      const f = flaky([err]);
      await assert.rejects(retryTransient(f.fn, { delayMs: 1 }), err);
      assert.equal(f.calls, 1, err.message);
    }
  });

  test('no new attempt starts past the time budget', async () => {
    const f = flaky([new BmcError('timeout', 'one'), new BmcError('timeout', 'two')]);
    await assert.rejects(retryTransient(f.fn, { delayMs: 50, budgetMs: 20 }), { message: 'one' });
    assert.equal(f.calls, 1);
  });
});
