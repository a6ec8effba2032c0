/**
 * The upkeep of active deploys (a netboot instance's boot media kept
 * valid): run by the engine when the record's upkeepAt comes, on its clock,
 * and before a power-on; never while another action holds the server, never
 * once the deploy is no longer active; its failure reaches beforePowerOn's
 * caller, and a due one is tried again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { DeployEngine } from '../../lib/deploy/engine';
import { FileDeployStore } from '../../lib/deploy/file-deploy-store';
import type { DeployProcess } from '../../lib/deploy/step';

interface Deps {
  log: string[];
  failUpkeep?: string;
  /** The tear-down (or an upkeep) waits for this. */
  hold?: Promise<void>;
}

const request = { serverKey: 'ilo-1:443', serverName: 'server-1', refs: {}, request: { method: 'iscsi_ilo' as const, image: '/disk.img' } };

async function until(pred: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('upkeep of active deploys', () => {
  let dir: string;
  let store: FileDeployStore;
  let engine: DeployEngine<Deps>;
  let offset: number;
  const deps: Deps = { log: [] };
  const now = (): number => Date.now() + offset;
  const HOUR = 3600_000;

  const proc: DeployProcess<Deps> = {
    method: 'iscsi_ilo',
    validate: () => undefined,
    deploySteps: [
      {
        name: 'boot-device',
        title: 'Boot ISO',
        async run(ctx) {
          ctx.data.upkeepAt = new Date(now() + HOUR).toISOString();
          await ctx.save();
        },
      },
    ],
    teardownSteps: [{ name: 'td', title: 'Tear down', run: async (ctx) => ctx.deps.hold }],
    cleanup: async () => [],
    async upkeep(ctx, why) {
      ctx.deps.log.push(`upkeep ${why}`);
      await ctx.deps.hold;
      ctx.deps.log.push(`upkeep ${why} done`);
      if (ctx.deps.failUpkeep) throw new Error(ctx.deps.failUpkeep);
      ctx.data.upkeepAt = new Date(now() + HOUR).toISOString();
      await ctx.save();
    },
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'upkeep-'));
    offset = 0;
    deps.log = [];
    deps.failUpkeep = undefined;
    deps.hold = undefined;
    store = new FileDeployStore({ dir });
    engine = new DeployEngine<Deps>({ store, processes: { iscsi_ilo: proc }, resolveDeps: async () => deps, maintenanceMs: 30, now });
    await engine.start();
  });
  afterEach(async () => {
    await engine.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function active(): Promise<string> {
    const s = await engine.deploy(request);
    assert.equal((await engine.wait(s.deployId)).state, 'active');
    return s.deployId;
  }

  test('runs when the time in the record comes, on the engine clock, and sets the next one', async () => {
    const id = await active();
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(deps.log, [], 'not before it is due');
    offset += HOUR + 1000;
    await until(() => deps.log.length === 2);
    const next = Date.parse((await store.get(id))?.data.upkeepAt ?? '');
    assert.ok(next > now() + HOUR - 5000, 'the next one is an hour on');
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(deps.log, ['upkeep due', 'upkeep due done'], 'once');
  });

  test('beforePowerOn runs it for the server\'s active deploy, and says what failed', async () => {
    const id = await active();
    assert.deepEqual(await engine.beforePowerOn('ilo-1:443'), { deployId: id });
    assert.deepEqual(deps.log, ['upkeep power-on', 'upkeep power-on done']);
    assert.equal(await engine.beforePowerOn('ilo-9:443'), undefined, 'no deploy on that server');
    deps.failUpkeep = 'the store is down';
    await assert.rejects(engine.beforePowerOn('ilo-1:443'), /the store is down/);
    assert.equal((await engine.status(id))?.state, 'active', 'the deploy stays active');
    // The claim was given back: an undeploy can have the server.
    const un = await engine.undeploy('ilo-1:443');
    assert.equal((await engine.wait(un.deployId)).state, 'available');
  });

  test('one at a time: a power-on meeting a due upkeep waits for it, then runs its own', async () => {
    await active();
    let release = (): void => undefined;
    deps.hold = new Promise<void>((r) => (release = r));
    offset += 2 * HOUR;
    await until(() => deps.log.length === 1);
    const powerOn = engine.beforePowerOn('ilo-1:443');
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(deps.log, ['upkeep due'], 'the power-on waits, and the tick does not start another');
    release();
    await powerOn;
    assert.deepEqual(deps.log, ['upkeep due', 'upkeep due done', 'upkeep power-on', 'upkeep power-on done']);
  });

  test('a failed due upkeep is tried again; none during or after an undeploy', async () => {
    const id = await active();
    deps.failUpkeep = 'iLO busy';
    offset += 2 * HOUR;
    await until(() => deps.log.filter((l) => l === 'upkeep due').length >= 2, 5000);
    deps.failUpkeep = undefined;
    await until(async () => Date.parse((await store.get(id))?.data.upkeepAt ?? '') > now());
    let release = (): void => undefined;
    deps.hold = new Promise<void>((r) => (release = r));
    const un = await engine.undeploy('ilo-1:443');
    const runs = deps.log.length;
    offset += 10 * HOUR;
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(await engine.beforePowerOn('ilo-1:443'), undefined, 'the server is being torn down');
    release();
    assert.equal((await engine.wait(un.deployId)).state, 'available');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(deps.log.length, runs, 'no upkeep during or after the undeploy');
    assert.equal(await engine.beforePowerOn('ilo-1:443'), undefined);
  });
});
