/**
 * The behaviour every DeployStore must show (lib/deploy/deploy-store.ts is
 * the contract): the file store runs it, and so does a shared store
 * (PostgreSQL), which also runs the part about several instances on one
 * backend ("sharing"), registered only for backends that say they share.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { ClaimResult, DeployStore, DeployStoreEvent } from '../../lib/deploy/deploy-store';
import { newDeployId, newToken } from '../../lib/deploy/tokens';
import type { DeployRecord, ProvisionState } from '../../lib/deploy/types';

export interface DeployStoreBackend {
  /** A new store instance on this backend, not opened yet: another Node-RED instance, or this one after a restart. */
  instance(opts?: { leaseMs?: number }): DeployStore;
  dispose(): Promise<void>;
}

export interface DeployStoreSuiteOptions {
  /** A fresh, empty backend (a new directory, a new database schema). */
  backend(): Promise<DeployStoreBackend>;
  /** Several instances share the backend: also run the sharing tests (the file store does not share). */
  shared?: boolean;
  /** `needTools(...)` or similar: the suite is reported NOT RUN when the backend cannot start here. */
  skip?: string | false;
}

let seq = 0;

/** A record as the engine makes them; `server` is the server key. */
export function makeRecord(server: string, over: Partial<DeployRecord> = {}): DeployRecord {
  // Distinct, increasing creation times: "newest" must not depend on the clock's resolution.
  const createdAt = new Date(Date.UTC(2030, 0, 1) + seq++ * 1000).toISOString();
  return {
    id: newDeployId(),
    serverKey: server,
    serverName: server.replace(/:\d+$/, ''),
    refs: { server: 'cfg' },
    method: 'agent_ilo',
    action: 'deploy',
    state: 'deploying',
    request: { method: 'agent_ilo', image: 'http://images/disk.raw' },
    steps: ['inspect', 'wait-agent'],
    completed: [],
    token: newToken(),
    data: {},
    published: [],
    createdAt,
    updatedAt: createdAt,
    ...over,
  };
}

/** The events a subscription delivers, in order: `next()` gives the next one not yet seen (already delivered or still to come). */
function events(store: DeployStore): { next(): Promise<DeployStoreEvent>; stop(): void } {
  const delivered: DeployStoreEvent[] = [];
  let wake: (() => void) | undefined;
  const stop = store.subscribe((e) => {
    delivered.push(e);
    wake?.();
  });
  return {
    async next() {
      const end = Date.now() + 5000;
      while (delivered.length === 0) {
        if (Date.now() > end) throw new Error('no event within 5 s');
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
      }
      return delivered.shift() as DeployStoreEvent;
    },
    stop,
  };
}

async function ended(store: DeployStore, r: DeployRecord, state: ProvisionState = 'active'): Promise<DeployRecord> {
  const done = { ...r, state, updatedAt: new Date().toISOString() };
  await store.finish(done);
  return done;
}

export function deployStoreSuite(name: string, opts: DeployStoreSuiteOptions): void {
  describe(`deploy store behaviour: ${name}`, { skip: opts.skip }, () => {
    let backend: DeployStoreBackend;
    let store: DeployStore;
    const open: DeployStore[] = [];
    const start = async (o?: { leaseMs?: number }): Promise<DeployStore> => {
      const s = backend.instance(o);
      await s.open();
      open.push(s);
      return s;
    };
    /** As after a restart: this instance closes, a new one opens on the same backend. */
    const restart = async (): Promise<DeployStore> => {
      await store.close();
      open.splice(open.indexOf(store), 1);
      store = await start();
      return store;
    };

    before(async () => {
      backend = await opts.backend();
    });
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });
    after(async () => backend?.dispose());

    const fresh = async (): Promise<DeployStore> => {
      await Promise.all(open.splice(0).map((s) => s.close()));
      await backend.dispose();
      backend = await opts.backend();
      store = await start();
      return store;
    };

    test('a new deploy claims its server: a second one is refused naming the holder; another server is free', async () => {
      await fresh();
      const a = makeRecord('ilo-1:443');
      assert.deepEqual(await store.create(a, undefined), { ok: true });
      const b = makeRecord('ilo-1:443');
      const refused = await store.create(b, a.id);
      assert.equal(refused.ok, false);
      assert.equal(!refused.ok && refused.holder, a.id);
      assert.equal(await store.get(b.id), undefined, 'nothing of the refused deploy is written');
      assert.deepEqual(await store.create(makeRecord('ilo-2:443'), undefined), { ok: true });
    });

    test('a deploy decided on a stale view of the server is refused: its newest deploy changed meanwhile', async () => {
      await fresh();
      const a = makeRecord('ilo-1:443');
      await store.create(a, undefined);
      await ended(store, a);
      const stale = await store.create(makeRecord('ilo-1:443'), undefined);
      assert.deepEqual(stale, { ok: false, latest: a.id });
      assert.deepEqual(await store.create(makeRecord('ilo-1:443'), a.id), { ok: true });
    });

    test('records are copies: what the caller changes after a save is not in the store until saved again', async () => {
      await fresh();
      const a = makeRecord('ilo-1:443');
      await store.create(a, undefined);
      a.state = 'wait call-back';
      a.data.macs = ['aa:bb:cc:00:11:22'];
      assert.equal((await store.get(a.id))?.state, 'deploying');
      await store.save(a);
      const got = (await store.get(a.id)) as DeployRecord;
      assert.deepEqual(got, a);
      got.state = 'error';
      assert.equal((await store.get(a.id))?.state, 'wait call-back');
      assert.deepEqual(await store.latestFor('ilo-1:443'), a);
      assert.equal(await store.latestFor('ilo-9:443'), undefined);
    });

    test('finish releases the claim: the server takes a new deploy, which is then its newest', async () => {
      await fresh();
      const a = makeRecord('ilo-1:443');
      await store.create(a, undefined);
      await ended(store, a, 'deploy failed');
      const b = makeRecord('ilo-1:443', { action: 'rebuild' });
      assert.deepEqual(await store.create(b, a.id), { ok: true });
      assert.equal((await store.latestFor('ilo-1:443'))?.id, b.id);
    });

    test('an existing deploy claims its server again (undeploy, clean-up retry); not while another deploy holds it', async () => {
      await fresh();
      const a = await ended(store, await created(store, makeRecord('ilo-1:443')));
      assert.deepEqual(await store.claim(a.id), { ok: true });
      assert.deepEqual(await store.claim(a.id), { ok: true }, 'granted again to the instance that holds it');
      await store.save({ ...a, state: 'deleting', action: 'undeploy' });
      const b = await ended(store, await created(store, makeRecord('ilo-2:443')));
      const c = makeRecord('ilo-2:443');
      await store.create(c, b.id);
      const refused = await store.claim(b.id);
      assert.equal(!refused.ok && refused.holder, c.id);
      await assert.rejects(store.claim(newDeployId()), { code: 'not-found' });
    });

    test('list: every record oldest first, or those in some states; prune removes old finished ones only', async () => {
      await fresh();
      const old = new Date(Date.now() - 40 * 86400_000).toISOString();
      const failed = await ended(store, await created(store, makeRecord('ilo-1:443')), 'deploy failed');
      await store.save({ ...failed, updatedAt: old });
      const active = await ended(store, await created(store, makeRecord('ilo-2:443')), 'active');
      await store.save({ ...active, updatedAt: old });
      const running = await created(store, makeRecord('ilo-3:443', { updatedAt: old }));
      const recent = await ended(store, await created(store, makeRecord('ilo-4:443')), 'available');
      // A server whose cleaning failed stays refused until an operator clears it: its record is never pruned.
      const cleanFailed = await ended(store, await created(store, makeRecord('ilo-5:443')), 'clean failed');
      await store.save({ ...cleanFailed, updatedAt: old });
      assert.deepEqual((await store.list()).map((r) => r.id), [failed.id, active.id, running.id, recent.id, cleanFailed.id]);
      assert.deepEqual((await store.list({ states: ['active', 'deploying'] })).map((r) => r.id), [active.id, running.id]);
      assert.equal(await store.prune(new Date(Date.now() - 30 * 86400_000)), 1);
      assert.deepEqual((await store.list()).map((r) => r.id), [active.id, running.id, recent.id, cleanFailed.id]);
      assert.equal(await store.latestFor('ilo-1:443'), undefined);
    });

    test('a ramdisk finds its deploy by node id or by any MAC, in any notation, only while the deploy waits for a ramdisk', async () => {
      await fresh();
      const a = await created(store, makeRecord('ilo-1:443'));
      assert.deepEqual(await store.findForRamdisk(undefined, ['aa:bb:cc:00:11:22']), { none: true }, 'no MACs known yet');
      await store.save({ ...a, state: 'wait call-back', data: { macs: ['aa:bb:cc:00:11:22', '52:54:00:00:00:01'] } });
      for (const mac of ['aa:bb:cc:00:11:22', 'AA-BB-CC-00-11-22', '01-aa-bb-cc-00-11-22', 'aabbcc001122']) {
        assert.deepEqual(await store.findForRamdisk(undefined, ['11:11:11:11:11:11', mac]), { deployId: a.id }, mac);
      }
      assert.deepEqual(await store.findForRamdisk(a.id, []), { deployId: a.id });
      assert.deepEqual(await store.findForRamdisk(newDeployId(), []), { none: true });
      await store.save({ ...a, state: 'deleting', data: { macs: ['aa:bb:cc:00:11:22'] } });
      assert.deepEqual(await store.findForRamdisk(undefined, ['aa:bb:cc:00:11:22']), { none: true }, 'not during a tear-down');
      assert.deepEqual(await store.findForRamdisk(a.id, []), { none: true });
      // Cleaning boots the agent too: its heartbeats and lookups must find the deploy.
      for (const state of ['cleaning', 'clean wait'] as const) {
        await store.save({ ...a, state, data: { macs: ['aa:bb:cc:00:11:22'] } });
        assert.deepEqual(await store.findForRamdisk(undefined, ['aa:bb:cc:00:11:22']), { deployId: a.id }, state);
        assert.deepEqual(await store.findForRamdisk(a.id, []), { deployId: a.id }, state);
      }
    });

    test('a MAC two deploys report finds neither; once one has finished, the other', async () => {
      await fresh();
      const a = await created(store, makeRecord('ilo-1:443', { data: { macs: ['aa:bb:cc:00:11:22'] } }));
      const b = await created(store, makeRecord('ilo-2:443', { data: { macs: ['AA:BB:CC:00:11:22'] } }));
      const both = await store.findForRamdisk(undefined, ['aa:bb:cc:00:11:22']);
      assert.ok('ambiguous' in both);
      assert.deepEqual(new Set(both.ambiguous), new Set([a.id, b.id]));
      await ended(store, a);
      assert.deepEqual(await store.findForRamdisk(undefined, ['aa:bb:cc:00:11:22']), { deployId: b.id });
    });

    test('a call-back is kept until taken (the newest of each kind), announced to subscribers, dropped when the deploy finishes', async () => {
      await fresh();
      const a = await created(store, makeRecord('ilo-1:443'));
      const ev = events(store);
      try {
        await store.postCallback(a.id, 'heartbeat', { callback_url: 'http://10.0.0.5:9999', n: 1 });
        assert.deepEqual(await ev.next(), { type: 'callback', deployId: a.id, kind: 'heartbeat' });
        await store.postCallback(a.id, 'heartbeat', { callback_url: 'http://10.0.0.5:9999', n: 2 });
        await ev.next();
        assert.equal(await store.takeCallback(a.id, 'pass_deploy_info'), undefined);
        assert.deepEqual(await store.takeCallback(a.id, 'heartbeat'), { callback_url: 'http://10.0.0.5:9999', n: 2 });
        assert.equal(await store.takeCallback(a.id, 'heartbeat'), undefined, 'taken once');
        await store.postCallback(a.id, 'pass_deploy_info', { address: '10.0.0.5' });
        await ev.next();
        await store.requestUndeploy(a.id);
        assert.deepEqual(await ev.next(), { type: 'undeploy', deployId: a.id });
        await ended(store, a, 'deploy failed');
        assert.equal(await store.takeCallback(a.id, 'pass_deploy_info'), undefined, 'dropped by finish');
      } finally {
        ev.stop();
      }
    });

    test('after a restart: records are all there; deploys in progress are orphans, adopted once, still holding their servers', async () => {
      await fresh();
      const running = await created(store, makeRecord('ilo-1:443', { state: 'wait call-back', data: { macs: ['aa:bb:cc:00:11:22'] } }));
      const deleting = await created(store, makeRecord('ilo-2:443', { state: 'deleting' }));
      const done = await ended(store, await created(store, makeRecord('ilo-3:443')));
      assert.deepEqual(await store.adoptOrphans(), [], 'this instance runs them: no orphans');
      await restart();
      assert.deepEqual(await store.get(done.id), done);
      const adopted = await store.adoptOrphans();
      assert.deepEqual(adopted.map((r) => r.id).sort(), [running.id, deleting.id].sort());
      assert.deepEqual(adopted.find((r) => r.id === running.id), running);
      assert.deepEqual(await store.adoptOrphans(), [], 'adopted once');
      assert.deepEqual(await store.renew([running.id, deleting.id]), [], 'the leases are this instance’s now');
      assert.deepEqual(await store.renew([done.id]), [done.id], 'a deploy this instance does not lease is reported lost');
      const refused = await store.create(makeRecord('ilo-1:443'), running.id);
      assert.equal(!refused.ok && refused.holder, running.id, 'the claim survived the restart');
      assert.deepEqual(await store.findForRamdisk(undefined, ['aa:bb:cc:00:11:22']), { deployId: running.id });
      await store.save({ ...running, state: 'deploying' });
      assert.equal((await store.get(running.id))?.state, 'deploying');
    });

    if (opts.shared) sharingTests(start, fresh);
  });
}

async function created(store: DeployStore, r: DeployRecord): Promise<DeployRecord> {
  const latest = await store.latestFor(r.serverKey);
  const claim = await store.create(r, latest?.id);
  assert.deepEqual(claim, { ok: true }, `create ${r.serverKey}`);
  return r;
}

/** What only a shared store does: several instances on one backend at once. */
function sharingTests(start: (o?: { leaseMs?: number }) => Promise<DeployStore>, fresh: () => Promise<DeployStore>): void {
  test('sharing: one deploy per server across instances; every instance sees every record', async () => {
    const a = await fresh();
    const b = await start();
    const r = await created(a, makeRecord('ilo-1:443', { state: 'wait call-back', data: { macs: ['aa:bb:cc:00:11:22'] } }));
    assert.deepEqual(await b.get(r.id), r);
    assert.equal((await b.latestFor('ilo-1:443'))?.id, r.id);
    assert.deepEqual((await b.list()).map((x) => x.id), [r.id]);
    const refused = await b.create(makeRecord('ilo-1:443'), r.id);
    assert.equal(!refused.ok && refused.holder, r.id);
    assert.deepEqual(await b.findForRamdisk(undefined, ['aa:bb:cc:00:11:22']), { deployId: r.id }, 'a lookup on any instance');
  });

  test('sharing: of two instances creating on one server at once, exactly one wins', async () => {
    const a = await fresh();
    const b = await start();
    const results = await Promise.all([a.create(makeRecord('ilo-1:443'), undefined), b.create(makeRecord('ilo-1:443'), undefined)]);
    assert.equal(results.filter((x) => x.ok).length, 1, JSON.stringify(results));
  });

  test('sharing: a deploy one instance runs cannot be claimed, written or adopted by another; call-backs and undeploys posted anywhere reach it', async () => {
    const a = await fresh();
    const b = await start();
    const r = await created(a, makeRecord('ilo-1:443'));
    const refused = await b.claim(r.id);
    assert.equal(!refused.ok && refused.holder, r.id);
    await assert.rejects(b.save({ ...r, state: 'deploy failed' }), { code: 'lease-lost' });
    assert.deepEqual(await b.adoptOrphans(), []);
    const ev = events(a);
    try {
      await b.postCallback(r.id, 'heartbeat', { callback_url: 'http://10.0.0.5:9999' });
      assert.deepEqual(await ev.next(), { type: 'callback', deployId: r.id, kind: 'heartbeat' });
      assert.deepEqual(await a.takeCallback(r.id, 'heartbeat'), { callback_url: 'http://10.0.0.5:9999' });
      await b.requestUndeploy(r.id);
      assert.deepEqual(await ev.next(), { type: 'undeploy', deployId: r.id });
    } finally {
      ev.stop();
    }
  });

  test('sharing: a deploy whose end was written by an instance that died before releasing its server frees the server once its lease expired', async () => {
    await fresh();
    const dying = await start({ leaseMs: 400 });
    const b = await start({ leaseMs: 400 });
    const r = await created(dying, makeRecord('ilo-1:443'));
    await dying.save({ ...r, state: 'active', finishedAt: new Date().toISOString() }); // then the process died: no finish()
    let next: ClaimResult = { ok: false };
    for (const end = Date.now() + 10_000; !next.ok && Date.now() < end; ) {
      await new Promise((res) => setTimeout(res, 100));
      assert.deepEqual(await b.adoptOrphans(), [], 'an ended deploy is not adopted');
      next = await b.create(makeRecord('ilo-1:443'), r.id);
    }
    assert.deepEqual(next, { ok: true });
    assert.equal((await b.get(r.id))?.state, 'active');
  });

  test('sharing: a run that lost its lease unnoticed cannot bring back a deploy the new owner finished', async () => {
    await fresh();
    const stalled = await start({ leaseMs: 400 });
    const b = await start({ leaseMs: 400 });
    const r = await created(stalled, makeRecord('ilo-1:443'));
    let taken: DeployRecord[] = [];
    for (const end = Date.now() + 10_000; taken.length === 0 && Date.now() < end; ) {
      await new Promise((res) => setTimeout(res, 100));
      taken = await b.adoptOrphans();
    }
    assert.deepEqual(taken.map((x) => x.id), [r.id]);
    await b.finish({ ...r, state: 'deploy failed' });
    await assert.rejects(stalled.save({ ...r, state: 'wait call-back' }), { code: 'lease-lost' });
    await assert.rejects(stalled.finish({ ...r, state: 'active' }), { code: 'lease-lost' });
    assert.equal((await b.get(r.id))?.state, 'deploy failed');
  });

  test('sharing: an instance that closes hands its deploys over at once; one that stops renewing loses them after its lease', async () => {
    const a = await fresh();
    const b = await start({ leaseMs: 400 });
    const r = await created(a, makeRecord('ilo-1:443'));
    await a.close();
    assert.deepEqual((await b.adoptOrphans()).map((x) => x.id), [r.id]);
    const c = await start({ leaseMs: 400 });
    assert.deepEqual(await c.adoptOrphans(), [], 'adopted once, by one instance');
    // b stops renewing (a hung process): after its lease c takes the deploy over, and b learns it lost it.
    let taken: DeployRecord[] = [];
    for (const end = Date.now() + 10_000; taken.length === 0 && Date.now() < end; ) {
      await new Promise((res) => setTimeout(res, 100));
      taken = await c.adoptOrphans();
    }
    assert.deepEqual(taken.map((x) => x.id), [r.id]);
    assert.deepEqual(await b.renew([r.id]), [r.id]);
    await assert.rejects(b.save({ ...r, state: 'deploy failed' }), { code: 'lease-lost' });
    await c.save({ ...r, state: 'wait call-back' });
  });
}
