/**
 * Scheduling by pool and capabilities against the simulated fleet: four
 * servers (two Gen9 driven over RIBCL, two Gen10 over Redfish) whose facts
 * come from a real inspection through their iLOs, with the operator's own
 * capabilities over them. A pool deploy picks a matching free server and
 * deploys it to the end; requirements no server meets are refused (409)
 * naming why; a busy server and one whose cleaning failed are never
 * offered; concurrent pool deploys, more than there are servers, get
 * distinct servers and the rest are refused. Once with the file store, once
 * with PostgreSQL (started here), whose claim is what decides; and two
 * engines (two instances) on one PostgreSQL, with a fake process, racing
 * for the same pool.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { inspectServer } from '../../lib/bmc';
import type { DeployStore } from '../../lib/deploy/deploy-store';
import { DeployEngine } from '../../lib/deploy/engine';
import { PgDeployStore } from '../../lib/deploy/pg-deploy-store';
import { cleanSteps } from '../../lib/deploy/processes/clean-plan';
import { NoServerAvailableError, deployOnPool, factsOf, type PoolCandidate, type PoolRequest } from '../../lib/deploy/scheduling';
import type { DeployRequest } from '../../lib/deploy/types';
import { buildIso } from '../../lib/media/iso/writer';
import { makeImage, startLab, type Lab } from '../helpers/deploy-lab';
import { deps, fakeProcess, resetFakeDeps, type FakeDeps } from '../helpers/fake-process';
import { TestPostgres, needPostgres } from '../helpers/postgres';

const MODELS = ['gen9', 'gen10', 'gen9', 'gen10'] as const;
/** What the operator configured per server (the inventory's capabilities). */
const CONFIGURED = ['disk_tier:ssd', 'disk_tier:ssd', 'disk_tier:hdd', 'disk_tier:ssd'];

function poolSuite(name: string, o: { skip: string | false; store?: () => Promise<(stateDir: string) => DeployStore> }): void {
  describe(`pool deploys against the simulated fleet (${name})`, { skip: o.skip }, () => {
    let lab: Lab;
    let request: DeployRequest;
    let candidates: PoolCandidate[];
    const start = async (c: PoolCandidate) => {
      const ilo = lab.fleet.ilos.find((i) => i.name === c.name)!;
      return { serverKey: c.key, serverName: c.name, refs: { server: ilo.name }, request };
    };
    const pool = (over: Partial<PoolRequest> = {}): PoolRequest => ({ pool: 'rack-a', capabilities: {}, properties: { memory_mb: '>= 65536' }, ...over });
    const refusal = async (p: Promise<unknown>): Promise<NoServerAvailableError> => {
      const err = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof NoServerAvailableError, `expected a 409 refusal, got ${String(err)}`);
      return err;
    };
    const undeployAll = async (): Promise<void> => {
      for (const s of await lab.engine.list()) {
        if (s.state !== 'active' && s.state !== 'clean failed' && s.state !== 'deploy failed') continue;
        await lab.engine.undeploy({ deployId: s.deployId });
        const done = await lab.engine.wait(s.deployId);
        assert.equal(done.state, 'available', done.lastError);
      }
    };

    before(async () => {
      lab = await startLab({ servers: MODELS.length, fleet: { models: [...MODELS] }, store: o.store ? await o.store() : undefined });
      const iso = await buildIso({ volumeId: 'DEPLOY', files: [{ path: 'README', data: Buffer.from('deploy ramdisk') }] });
      const deployIso = join(lab.dir, 'deploy.iso');
      await iso.writeToFile(deployIso);
      request = { method: 'agent_ilo', image: makeImage(lab.dir, 'pool.img').path, deployIso };
      // The facts a pool matches: inspected through each iLO (RIBCL for Gen9, Redfish for Gen10), the configured capabilities over them.
      candidates = [];
      for (const [i, ilo] of lab.fleet.ilos.entries()) {
        const bmc = await lab.bmc(i);
        assert.equal(bmc.protocol, MODELS[i] === 'gen9' ? 'ribcl' : 'redfish');
        const inspected = await inspectServer(bmc);
        candidates.push({ name: ilo.name, key: `${ilo.host}:${ilo.port}`, facts: factsOf({ capabilities: CONFIGURED[i] }, inspected) });
      }
    });
    after(async () => lab?.stop());

    test('a pool deploy picks a matching free server and deploys it: a Gen9 over RIBCL, a Gen10 over Redfish; the picked server is named', async () => {
      const gen9 = await deployOnPool(lab.engine, pool({ capabilities: { server_model: '<in> Gen9', disk_tier: 'ssd' } }), candidates, start);
      assert.equal(gen9.picked.name, 'server-1', 'the only Gen9 with an SSD tier');
      assert.equal(gen9.matched, 1);
      const gen10 = await deployOnPool(lab.engine, pool({ capabilities: { server_model: '<in> Gen10', boot_mode: 'uefi' }, properties: { memory_mb: '>= 65536', cpus: '>= 32', cpu_arch: 's== x86_64' } }), candidates, start);
      assert.equal(gen10.status.server, gen10.picked.name);
      assert.ok(['server-2', 'server-4'].includes(gen10.picked.name), gen10.picked.name);
      for (const d of [gen9, gen10]) {
        const done = await lab.engine.wait(d.status.deployId);
        assert.equal(done.state, 'active', done.lastError);
        const i = lab.fleet.ilos.findIndex((x) => x.name === d.picked.name);
        assert.equal(lab.fleet.ilos[i]!.server.powerState, 'on');
        assert.ok(lab.ramdisks[i]!.written, `${d.picked.name}: the image was written`);
      }
      // server-1 is active now: the same request finds no other Gen9 with an SSD.
      const again = await refusal(deployOnPool(lab.engine, pool({ capabilities: { server_model: '<in> Gen9', disk_tier: 'ssd' } }), candidates, start));
      assert.deepEqual(again.pool.busy, [{ server: 'server-1', state: 'active' }]);
      await undeployAll();
    });

    test('requirements no server meets: 409 naming the pool, the counts and what each server misses; no iLO is touched', async () => {
      const before = lab.fleet.ilos.map((i) => i.server.requests.total);
      const err = await refusal(deployOnPool(lab.engine, pool({ properties: { memory_mb: '>= 262144' } }), candidates, start));
      assert.match(err.message, /^no server of pool "rack-a" is available for memory_mb >= 262144: 4 in the pool, 0 match the requirements, 0 of them busy$/);
      assert.deepEqual(
        err.pool.unmatched.map((u) => u.reason),
        Array(4).fill('memory_mb >= 262144 (it has "131072")'),
      );
      assert.deepEqual(
        lab.fleet.ilos.map((i) => i.server.requests.total),
        before,
        'nothing was sent to any iLO',
      );
    });

    test('a busy server and a server whose cleaning failed are never offered; the refusal lists them', async () => {
      // server-3 fails the cleaning before its deploy: clean failed, refused until cleared.
      const rd = lab.ramdisks[2]!;
      rd.faults = { failCleanStep: 'erase_devices_metadata' };
      const failed = await lab.deploy(lab.fleet.ilos[2]!, { ...request, clean: { steps: cleanSteps(undefined, 'cleanSteps') } });
      assert.equal((await lab.engine.wait(failed.deployId)).state, 'clean failed');
      rd.faults = {};
      // server-1 is busy with a deploy in progress.
      const busy = await lab.deploy(lab.fleet.ilos[0]!, request);
      const picks = [await deployOnPool(lab.engine, pool(), candidates, start), await deployOnPool(lab.engine, pool(), candidates, start)];
      assert.deepEqual(picks.map((p) => p.picked.name).sort(), ['server-2', 'server-4']);
      const err = await refusal(deployOnPool(lab.engine, pool(), candidates, start));
      assert.equal(err.pool.matched, 4);
      const states = Object.fromEntries(err.pool.busy.map((b) => [b.server, b.state]));
      assert.equal(states['server-3'], 'clean failed');
      assert.ok(['deploying', 'wait call-back', 'active'].includes(states['server-1'] ?? ''), `server-1: ${states['server-1']}`);
      for (const id of [busy.deployId, ...picks.map((p) => p.status.deployId)]) assert.equal((await lab.engine.wait(id)).state, 'active');
      await undeployAll();
    });

    test('eight concurrent pool deploys on four servers: four distinct servers, the other four refused with 409', async () => {
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => deployOnPool(lab.engine, pool(), candidates, start)));
      const picked = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      assert.deepEqual(picked.map((p) => p.picked.name).sort(), ['server-1', 'server-2', 'server-3', 'server-4'], 'each server once');
      const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      assert.equal(refused.length, 4);
      for (const e of refused) assert.ok(e instanceof NoServerAvailableError && e.code === 'conflict', String(e));
      for (const p of picked) {
        const done = await lab.engine.wait(p.status.deployId);
        assert.equal(done.state, 'active', `${p.picked.name}: ${done.lastError}`);
      }
      await undeployAll();
    });
  });
}

poolSuite('file store', { skip: false });

const pgSkip = needPostgres();
let pg: TestPostgres | undefined;
after(async () => pg?.dispose());
poolSuite('PostgreSQL store', {
  skip: pgSkip,
  async store() {
    pg = await TestPostgres.create();
    const schema = `t_${randomBytes(5).toString('hex')}`;
    const db = pg;
    return () => new PgDeployStore({ connection: { ...db.connection }, schema, retry: { firstMs: 50, maxMs: 500 } });
  },
});

describe('pool deploys from two instances sharing one PostgreSQL', { skip: pgSkip }, () => {
  test('sixteen concurrent requests split over two engines, six servers: six distinct servers, ten refused, the database holds one deploy per server', async () => {
    pg ??= await TestPostgres.create();
    const db = pg;
    const schema = `t_${randomBytes(5).toString('hex')}`;
    resetFakeDeps();
    deps.hangAt = 'power-on'; // the deploys stay in progress: their servers stay taken
    const engines = [0, 1].map(() => new DeployEngine<FakeDeps>({ store: new PgDeployStore({ connection: { ...db.connection }, schema, retry: { firstMs: 50, maxMs: 500 } }), processes: { agent_ilo: fakeProcess }, resolveDeps: async () => deps }));
    for (const e of engines) await e.start();
    try {
      const candidates: PoolCandidate[] = Array.from({ length: 6 }, (_, i) => ({ name: `server-${i + 1}`, key: `10.0.0.${i + 1}:443`, facts: factsOf({ capabilities: 'boot_mode:uefi' }, { properties: { memory_mb: 131072 } }) }));
      const start = async (c: PoolCandidate) => ({ serverKey: c.key, serverName: c.name, refs: {}, request: { method: 'agent_ilo' as const, image: '/x' } });
      const want: PoolRequest = { pool: 'rack-a', capabilities: { boot_mode: 'uefi' }, properties: { memory_mb: '>= 65536' } };
      const results = await Promise.allSettled(Array.from({ length: 16 }, (_, i) => deployOnPool(engines[i % 2]!, want, candidates, start)));
      const picked = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.picked.name] : []));
      assert.deepEqual([...picked].sort(), candidates.map((c) => c.name), `each server once: ${picked.join(', ')}`);
      const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      assert.equal(refused.length, 10);
      for (const e of refused) assert.ok(e instanceof NoServerAvailableError, String(e));
      const inProgress = (await engines[0]!.list()).filter((s) => s.state === 'deploying');
      assert.deepEqual(inProgress.map((s) => s.server).sort(), candidates.map((c) => c.name), 'one deploy per server in the shared database');
    } finally {
      for (const e of engines) await e.stop();
      resetFakeDeps();
    }
  });
});
