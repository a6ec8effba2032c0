/**
 * Scheduling by pool and capabilities without Node-RED or iLOs: the matcher
 * (every operator of Nova's extra specs that it takes), the requirements as
 * a message gives them, the facts (configured over inspected), the order
 * candidates are tried in, and a pool deploy against a real engine on the
 * file store with a fake process (what is offered, what is refused, and
 * concurrent requests against the store's claim).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DeployEngine } from '../../lib/deploy/engine';
import { FileDeployStore } from '../../lib/deploy/file-deploy-store';
import { runFlowAction } from '../../lib/deploy/flow';
import {
  NoServerAvailableError,
  ServerUnsuitableError,
  deployOnPool,
  describeRequirements,
  factsOf,
  matchValue,
  parseRequirementMap,
  pickOrder,
  unmet,
  type PoolCandidate,
  type PoolRequest,
} from '../../lib/deploy/scheduling';
import { LibError } from '../../lib/errors';
import type { ProvisionState } from '../../lib/deploy/types';
import { makeRecord } from '../helpers/deploy-store-suite';
import { deps, fakeProcess, resetFakeDeps, type FakeDeps } from '../helpers/fake-process';

describe('pool matching: Nova extra-spec operators', () => {
  const cases: Array<[string | undefined, string, boolean]> = [
    // No operator: the string, exactly.
    ['uefi', 'uefi', true],
    ['uefi', 'bios', false],
    ['uefi', ' uefi ', true],
    ['True', 'true', false],
    // s==, s!=, s<, s<=, s>, s>=: strings compared as strings (so "9" > "10").
    ['uefi', 's== uefi', true],
    ['uefi', 's== bios', false],
    ['uefi', 's!= bios', true],
    ['uefi', 's!= uefi', false],
    ['9', 's> 10', true],
    ['abc', 's< abd', true],
    ['abd', 's< abc', false],
    ['abc', 's<= abc', true],
    ['abd', 's<= abc', false],
    ['abc', 's>= abc', true],
    ['abb', 's>= abc', false],
    ['ab', 's> ab', false],
    // ==, !=, >=, <= and Nova's "=" (at least): numbers.
    ['65536', '>= 65536', true],
    ['131072', '>= 65536', true],
    ['32768', '>= 65536', false],
    ['32768', '<= 65536', true],
    ['131072', '<= 65536', false],
    ['16', '== 16', true],
    ['16.0', '== 16', true],
    ['17', '== 16', false],
    ['17', '!= 16', true],
    ['16', '!= 16', false],
    ['131072', '= 65536', true],
    ['65536', '= 65536', true],
    ['1024', '= 65536', false],
    // A numeric operator on a value that is not a number: no match (never an exception).
    ['lots', '>= 1', false],
    ['', '== 0', false],
    // <in>: the value contains the text; <all-in>: each word; <or>: one of the alternatives, exactly.
    ['ProLiant DL360 Gen10', '<in> Gen10', true],
    ['ProLiant DL360 Gen9', '<in> Gen10', false],
    ['ProLiant DL360 Gen10', '<all-in> DL360 Gen10', true],
    ['ProLiant DL360 Gen10', '<all-in> DL380 Gen10', false],
    ['x86_64', '<or> aarch64 <or> x86_64', true],
    ['ppc64le', '<or> aarch64 <or> x86_64', false],
    ['x86', '<or> aarch64 <or> x86_64', false],
    // A server without the key never matches.
    [undefined, 'uefi', false],
    [undefined, '>= 0', false],
    [undefined, 's!= bios', false],
  ];
  for (const [value, requirement, expected] of cases) {
    test(`${JSON.stringify(value)} against "${requirement}": ${expected ? 'matches' : 'does not match'}`, () => {
      assert.equal(matchValue(value, requirement), expected);
    });
  }
});

describe('pool matching: requirements, facts, order', () => {
  test('requirements as a message gives them: objects or Ironic\'s capabilities string; a number is ==; each bad one names its field', () => {
    assert.deepEqual(parseRequirementMap({ boot_mode: 'uefi', secure_boot: true, memory_mb: '>= 65536', cpus: 16 }, 'msg.server.capabilities'), { boot_mode: 'uefi', secure_boot: 'true', memory_mb: '>= 65536', cpus: '== 16' });
    assert.deepEqual(parseRequirementMap('boot_mode:uefi, secure_boot:true', 'server.capabilities'), { boot_mode: 'uefi', secure_boot: 'true' });
    assert.deepEqual(parseRequirementMap(undefined, 'x'), {});
    const bad: Array<[unknown, RegExp]> = [
      [{ memory_mb: '>= lots' }, /^server\.properties\.memory_mb: expected a number after ">="/],
      [{ memory_mb: '== ' }, /^server\.properties\.memory_mb: expected/],
      [{ cpu_arch: '<or>' }, /^server\.properties\.cpu_arch: expected alternatives/],
      [{ cpu_arch: 's==' }, /^server\.properties\.cpu_arch: expected a value after "s=="/],
      [{ cpus: { min: 4 } }, /^server\.properties\.cpus: expected a requirement/],
      [{ 'bad key': 'x' }, /^server\.properties\.bad key: expected a key/],
      [['memory_mb'], /^server\.properties: expected an object/],
      ['memory_mb', /^server\.properties: expected capabilities as Ironic writes them/],
    ];
    for (const [v, message] of bad) assert.throws(() => parseRequirementMap(v, 'server.properties'), { code: 'invalid-input', message });
  });

  test('facts: what the operator configured wins over what inspection found; the first unmet requirement is named', () => {
    const facts = factsOf(
      { capabilities: 'boot_mode:bios,pool_tier:gold', properties: 'cpus:8' },
      { capabilities: { boot_mode: 'uefi', secure_boot: 'true' }, properties: { memory_mb: 131072, cpus: 16, cpu_arch: 'x86_64' } },
    );
    assert.deepEqual(facts, {
      capabilities: { boot_mode: 'bios', secure_boot: 'true', pool_tier: 'gold' },
      properties: { memory_mb: '131072', cpus: '8', cpu_arch: 'x86_64' },
    });
    const req = { capabilities: { boot_mode: 'uefi' }, properties: { memory_mb: '>= 65536' } };
    assert.equal(unmet(facts, req), 'boot_mode uefi (it has "bios")');
    assert.equal(unmet(facts, { capabilities: {}, properties: { local_gb: '>= 100' } }), 'local_gb >= 100 (it has none)');
    assert.equal(unmet(facts, { capabilities: { secure_boot: 'true' }, properties: { memory_mb: '>= 65536', cpu_arch: 's== x86_64' } }), undefined);
    assert.equal(describeRequirements(req), 'boot_mode=uefi, memory_mb >= 65536');
  });

  test('best fit first: the smallest memory, then CPUs, then disk, then the name; a server without the property comes last', () => {
    const c = (name: string, properties: Record<string, string>): PoolCandidate => ({ name, key: name, facts: { capabilities: {}, properties } });
    const sorted = [c('d', {}), c('c', { memory_mb: '524288' }), c('b', { memory_mb: '131072', cpus: '32' }), c('a', { memory_mb: '131072', cpus: '32' }), c('e', { memory_mb: '131072', cpus: '16' })].sort(pickOrder);
    assert.deepEqual(
      sorted.map((x) => x.name),
      ['e', 'a', 'b', 'c', 'd'],
    );
  });
});

describe('a pool deploy against the engine (file store, fake process)', () => {
  let dir: string;
  let engine: DeployEngine<FakeDeps>;
  const servers = ['s1', 's2', 's3', 's4', 's5'];
  const memory: Record<string, number> = { s1: 65536, s2: 131072, s3: 131072, s4: 262144, s5: 32768 };
  const seeded: Record<string, ProvisionState> = { s2: 'clean failed', s3: 'deploy failed' };
  const candidates = (): PoolCandidate[] => servers.map((s) => ({ name: s, key: `${s}:443`, facts: factsOf({ capabilities: 'boot_mode:uefi' }, { properties: { memory_mb: memory[s]! } }) }));
  const start = async (c: PoolCandidate) => ({ serverKey: c.key, serverName: c.name, refs: {}, request: { method: 'agent_ilo' as const, image: '/x' } });
  const want = (over: Partial<PoolRequest> = {}): PoolRequest => ({ pool: 'rack-a', capabilities: { boot_mode: 'uefi' }, properties: { memory_mb: '>= 65536' }, ...over });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deploy-pool-'));
    // What earlier deploys left: s2 failed its cleaning, s3's deploy failed.
    const store = new FileDeployStore({ dir });
    await store.open();
    for (const [s, state] of Object.entries(seeded)) {
      const r = makeRecord(`${s}:443`);
      assert.deepEqual(await store.create(r, undefined), { ok: true });
      await store.finish({ ...r, state, lastError: `${state} earlier` });
    }
    await store.close();
    resetFakeDeps();
    deps.hangAt = 'power-on'; // deploys stay in progress: their servers stay busy
    engine = new DeployEngine<FakeDeps>({ store: new FileDeployStore({ dir }), processes: { agent_ilo: fakeProcess }, resolveDeps: async () => deps });
    await engine.start();
  });
  after(async () => {
    await engine.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the best fit free server is picked; clean failed, deploy failed and busy ones are never offered; none left: 409 naming why', async () => {
    const first = await deployOnPool(engine, want(), candidates(), start);
    assert.equal(first.picked.name, 's1', 'the smallest server that fits');
    assert.equal(first.status.server, 's1');
    assert.equal(first.matched, 4, 's5 has too little memory');
    const second = await deployOnPool(engine, want(), candidates(), start);
    assert.equal(second.picked.name, 's4', 's2 (clean failed) and s3 (deploy failed) are skipped');
    const refused = await deployOnPool(engine, want(), candidates(), start).then(
      () => assert.fail('a third deploy found a server'),
      (err: unknown) => err,
    );
    assert.ok(refused instanceof NoServerAvailableError, String(refused));
    assert.equal(refused.code, 'conflict');
    assert.deepEqual(
      [refused.pool.servers, refused.pool.matched, refused.pool.busy.map((b) => `${b.server}:${b.state}`)],
      [5, 4, ['s1:deploying', 's2:clean failed', 's3:deploy failed', 's4:deploying']],
    );
    assert.deepEqual(refused.pool.unmatched, [{ server: 's5', reason: 'memory_mb >= 65536 (it has "32768")' }]);
    assert.match(refused.message, /^no server of pool "rack-a" is available for boot_mode=uefi, memory_mb >= 65536: 5 in the pool, 4 match the requirements, 4 of them busy \(s1: deploying; s2: clean failed; s3: deploy failed; s4: deploying\)$/);
    assert.equal((refused.toJSON() as { pool: unknown }).pool, refused.pool, 'the reason goes out with the error');

    // allowFailed offers a server whose deploy failed (never one whose cleaning failed).
    const again = await deployOnPool(engine, want({ allowFailed: true }), candidates(), start);
    assert.equal(again.picked.name, 's3');
    for (const d of [first, second, again]) await engine.undeploy({ deployId: d.status.deployId });
    for (const d of [first, second, again]) await engine.wait(d.status.deployId);
  });

  test('requirements no server meets: 409, every server named with the requirement it misses', async () => {
    const err = await deployOnPool(engine, want({ capabilities: { boot_mode: 'bios' } }), candidates(), start).catch((e: unknown) => e);
    assert.ok(err instanceof NoServerAvailableError);
    assert.equal(err.pool.matched, 0);
    assert.deepEqual(err.pool.busy, []);
    assert.equal(err.pool.unmatched.length, 5);
    assert.equal(err.pool.unmatched[0]?.reason, 'boot_mode bios (it has "uefi")');
  });

  test('a free server that cannot take the request (no disk matches the root device hints) is skipped for the next; when none can: 409 naming each', async () => {
    const unsuitable = (names: string[]) => async (c: PoolCandidate) => {
      if (names.includes(c.name)) throw new ServerUnsuitableError(`rootDeviceHints: no disk of ${c.name} matches`, 'rootDeviceHints');
      return start(c);
    };
    const picked = await deployOnPool(engine, want(), candidates(), unsuitable(['s1']));
    assert.equal(picked.picked.name, 's3', 's1 would fit best but its disks do not match; s3 (available again) is next');
    assert.equal(picked.matched, 3, 's1 no longer counts as matching');
    await engine.undeploy({ deployId: picked.status.deployId });
    await engine.wait(picked.status.deployId);

    const err = await deployOnPool(engine, want(), candidates(), unsuitable(['s1', 's3', 's4'])).catch((e: unknown) => e);
    assert.ok(err instanceof NoServerAvailableError, String(err));
    assert.equal(err.pool.matched, 1, 'only s2 (clean failed) is left matching, and it is busy');
    assert.deepEqual(err.pool.unmatched.map((u) => u.server).sort(), ['s1', 's3', 's4', 's5']);
    assert.equal(err.pool.unmatched.find((u) => u.server === 's4')?.reason, 'rootDeviceHints: no disk of s4 matches');
    assert.deepEqual((await engine.list()).filter((s) => s.state === 'deploying'), [], 'nothing was started');

    // Any other error of start is the request's fault on every server: it stops the pick as it is.
    await assert.rejects(deployOnPool(engine, want(), candidates(), () => Promise.reject(new LibError('invalid-input', 'image: expected a file', { field: 'image' }))), { code: 'invalid-input', field: 'image' });
  });

  test('twelve concurrent pool deploys on three free servers: three distinct servers, nine refused with 409', async () => {
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => deployOnPool(engine, want(), candidates(), start)));
    const picked = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.picked.name] : []));
    assert.equal(new Set(picked).size, picked.length, `a server was given twice: ${picked.join(', ')}`);
    assert.deepEqual(picked.sort(), ['s1', 's3', 's4'], 'every free matching server (s3 is available again after its undeploy) and no other');
    const refusals = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    assert.equal(refusals.length, 9);
    for (const e of refusals) assert.ok(e instanceof NoServerAvailableError, String(e));
    const listed = await engine.list();
    const inProgress = listed.filter((s) => s.state === 'deploying').map((s) => s.server);
    assert.deepEqual(inProgress.sort(), ['s1', 's3', 's4'], 'the store holds one deploy per server');
  });

  test('through the flow: only a deploy picks; the outcome names the server picked, the pool and the counts', async () => {
    const flowPool = { request: want({ properties: {} }), candidates: candidates(), start };
    await assert.rejects(runFlowAction(engine, { action: 'rebuild', server: { name: '', key: async () => '' }, start: () => Promise.reject(new Error('no')), pool: flowPool }), { code: 'invalid-input', field: 'msg.action' });
    const out = await runFlowAction(engine, { action: 'deploy', server: { name: '', key: async () => '' }, start: () => Promise.reject(new Error('no')), pool: flowPool });
    assert.deepEqual(out.picked, { server: 's5', pool: 'rack-a', servers: 5, matched: 5 }, 'without a memory requirement the small s5 fits, and is the only one free');
    assert.equal(out.started?.server, out.picked?.server);
  });
});
