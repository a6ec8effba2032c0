/**
 * Whatever request of an operation the iLO refuses (the first, the second,
 * the last, or the login with a wrong password), every Bmc method of both
 * providers settles with a typed BmcError and leaves no promise unhandled:
 * the probe runs with --unhandled-rejections=strict, so an orphaned
 * rejection (Redfish getPersistentBootOrder once left its system read
 * unhandled when the boot-options discovery failed first) exits it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';
import { RedfishBmc } from '../../lib/bmc/redfish/provider';
import { RibclBmc } from '../../lib/bmc/ribcl/provider';
import type { ProbeLine } from '../helpers/failing-requests-probe';

/** The public operations of a provider class (private helpers start as TypeScript privates; list them out). */
function operations(cls: { prototype: object }, internal: string[]): string[] {
  return Object.getOwnPropertyNames(cls.prototype)
    .filter((n) => typeof Object.getOwnPropertyDescriptor(cls.prototype, n)?.value === 'function')
    .filter((n) => !['constructor', 'close', ...internal].includes(n))
    .sort();
}

test('every Bmc method, with its first, second or last request refused or a wrong password: a typed error, never an exit', async () => {
  const probe = spawn(process.execPath, ['--unhandled-rejections=strict', join(__dirname, '..', 'helpers', 'failing-requests-probe.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  probe.stdout.on('data', (d: Buffer) => (out += d.toString()));
  probe.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(probe, 'exit')) as [number | null];
  assert.equal(code, 0, `the probe exited ${code} (an unhandled rejection?):\n${err.slice(-3000)}`);
  assert.match(out, /probe: done/);
  const lines = out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as ProbeLine);

  const untyped = lines.filter((l) => l.outcome === 'untyped-error');
  assert.deepEqual(untyped, [], 'errors that are not BmcError');
  // A refused request is an error the caller sees: nothing may pass as a success.
  const resolved = lines.filter((l) => l.outcome === 'resolved');
  assert.deepEqual(resolved, [], 'calls that succeeded although a request was refused');

  const expected: Record<'ribcl' | 'redfish', string[]> = {
    ribcl: operations(RibclBmc, ['send', 'actAndRead']),
    // Private helpers (the *With ones read through a given client or read scope) are probed through the public methods.
    redfish: operations(RedfishBmc, ['system', 'resetAction', 'insert', 'bootOnNextReset', 'powerOf', 'vmStatusWith', 'bootModeWith', 'pendingBootModeWith', 'bootOrderWith', 'licenceWith', 'hostInfoWith']),
  };
  // RIBCL has no command for BIOS defaults or secure boot keys: on a Gen9 they go through iLO 4's RESTful API, counted like the rest.
  for (const method of ['resetBiosToDefault', 'resetSecureBootKeys']) {
    const requests = lines.find((l) => l.protocol === 'ribcl' && l.method === method)?.requests ?? 0;
    assert.ok(requests >= 3, `ribcl ${method}: its REST requests counted (${requests})`);
  }
  for (const protocol of ['ribcl', 'redfish'] as const) {
    const probed = [...new Set(lines.filter((l) => l.protocol === protocol).map((l) => l.method))].sort();
    assert.deepEqual(probed, expected[protocol], `${protocol}: every operation probed`);
    for (const method of probed) {
      const mine = lines.filter((l) => l.protocol === protocol && l.method === method);
      const total = mine[0]!.requests;
      const failing = mine.map((l) => l.failing);
      // An operation refused before any request would have only the password case.
      if (total === 0) assert.deepEqual(failing, ['password'], `${protocol} ${method}: refused without a request`);
      else assert.ok(failing.includes(1) && failing.includes(total) && failing.includes('password'), `${protocol} ${method}: first, last and password cases ran (${failing.join(', ')})`);
      if (total >= 2) assert.ok(failing.includes(2), `${protocol} ${method}: second request case ran`);
    }
  }
});
