/**
 * The PostgreSQL deploy store on a real PostgreSQL (started here, in a
 * temporary directory): the deploy store behaviour with its sharing part,
 * the schema it creates and migrates itself, and what it does when the
 * database goes away and comes back.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import type { DeployStoreEvent } from '../../lib/deploy/deploy-store';
import { PgDeployStore, type PgDeployStoreOptions } from '../../lib/deploy/pg-deploy-store';
import { MIGRATIONS } from '../../lib/deploy/pg/migrations';
import { deployStoreSuite, makeRecord } from '../helpers/deploy-store-suite';
import { TestPostgres, needPostgres } from '../helpers/postgres';

const skip = needPostgres();
let server: Promise<TestPostgres> | undefined;
const pg = (): Promise<TestPostgres> => (server ??= TestPostgres.create());
after(async () => (await server)?.dispose());

const newSchema = (): string => `t_${randomBytes(5).toString('hex')}`;

function store(db: TestPostgres, schema: string, over: Partial<PgDeployStoreOptions> = {}): PgDeployStore {
  return new PgDeployStore({ connection: { ...db.connection }, schema, retry: { firstMs: 50, maxMs: 500 }, ...over });
}

deployStoreSuite('PostgreSQL', {
  shared: true,
  skip,
  async backend() {
    const db = await pg();
    const schema = newSchema();
    return {
      instance: (o) => store(db, schema, { leaseMs: o?.leaseMs ?? 2000 }),
      async dispose() {
        const c = await db.client();
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await c.end();
      },
    };
  },
});

describe('PostgreSQL deploy store: schema, outages, secrets', { skip }, () => {
  test('the schema is created and migrated by the package, once, by instances starting together; each migration is recorded', async () => {
    const db = await pg();
    const schema = newSchema();
    const stores = Array.from({ length: 5 }, () => store(db, schema));
    await Promise.all(stores.map((s) => s.open()));
    try {
      const c = await db.client();
      try {
        const rows = (await c.query(`SELECT version, name FROM ${schema}.schema_migrations ORDER BY version`)).rows as Array<{ version: number; name: string }>;
        assert.deepEqual(rows, MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
        const tables = (await c.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [schema])).rows.map((r: { table_name: string }) => r.table_name);
        assert.deepEqual(tables, ['callbacks', 'claims', 'deploys', 'schema_migrations']);
        // A schema from a newer package is refused, naming the versions.
        await c.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES (999, 'from the future')`);
      } finally {
        await c.end();
      }
      const old = store(db, schema);
      await assert.rejects(old.open(), /schema "t_\w+" is at version 999, newer than this package knows \(1\)/);
      await old.close();
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  test('a wrong password is refused at open with a clear error that does not hold it; nothing the store logs holds the right one', async () => {
    const db = await pg();
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const logs: string[] = [];
    const log = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m) };
    const bad = store(db, newSchema(), { connection: { ...db.connection, password: wrong }, log });
    const err = (await bad.open().then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    await bad.close();
    assert.ok(err, 'open must fail');
    assert.match(err.message, /refused the login/);
    assert.ok(!err.message.includes(wrong) && !(err.stack ?? '').includes(wrong));
    // The right password through an outage: the reconnection messages do not carry it either.
    const good = store(db, newSchema(), { log });
    await good.open();
    await db.stop();
    const r = makeRecord('ilo-1:443');
    const created = good.create(r, undefined);
    await new Promise((res) => setTimeout(res, 300));
    await db.start();
    assert.deepEqual(await created, { ok: true });
    await good.close();
    assert.ok(logs.some((m) => /unreachable/.test(m)), logs.join('\n'));
    for (const m of logs) assert.ok(!m.includes(db.connection.password) && !m.includes(wrong), m);
  });

  test('while the database is down, calls wait and complete when it is back; events missed meanwhile are caught up', async () => {
    const db = await pg();
    const schema = newSchema();
    const a = store(db, schema, { leaseMs: 60_000 });
    const b = store(db, schema, { leaseMs: 60_000 });
    await a.open();
    await b.open();
    try {
      const events: DeployStoreEvent[] = [];
      a.subscribe((e) => events.push(e));
      const r = makeRecord('ilo-1:443');
      assert.deepEqual(await a.create(r, undefined), { ok: true });
      await db.stop();
      let saved = false;
      const pending = a.save({ ...r, state: 'wait call-back' }).then(() => (saved = true));
      await new Promise((res) => setTimeout(res, 500));
      assert.equal(saved, false, 'the save waits for the database');
      await db.start();
      await pending;
      assert.equal((await b.get(r.id))?.state, 'wait call-back');
      // Posted right after the outage: delivered by NOTIFY, or read back when a's event connection returns.
      await b.postCallback(r.id, 'heartbeat', { n: 1 });
      for (const end = Date.now() + 10_000; !events.some((e) => e.type === 'callback'); ) {
        if (Date.now() > end) throw new Error('the call-back never reached its owner');
        await new Promise((res) => setTimeout(res, 50));
      }
      assert.deepEqual(await a.takeCallback(r.id, 'heartbeat'), { n: 1 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('a call-back posted while the owner’s event connection is down reaches it once the connection is back (the catch-up read)', async () => {
    const db = await pg();
    const schema = newSchema();
    // a reconnects its event connection only after a long pause: the NOTIFY below is sent while nobody of a listens.
    const a = store(db, schema, { retry: { firstMs: 1500, maxMs: 1500 } });
    const b = store(db, schema);
    await a.open();
    await b.open();
    try {
      const events: DeployStoreEvent[] = [];
      a.subscribe((e) => events.push(e));
      const r = makeRecord('ilo-1:443');
      await a.create(r, undefined);
      const c = await db.client();
      try {
        const killed = await c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'node-red-ilo-deploy (events)' AND query = $1`, [`LISTEN "${schema}_events"`]);
        assert.equal(killed.rowCount, 2, 'both event connections found');
      } finally {
        await c.end();
      }
      await b.postCallback(r.id, 'pass_deploy_info', { address: '10.0.0.5' });
      for (const end = Date.now() + 15_000; !events.some((e) => e.type === 'callback'); ) {
        if (Date.now() > end) throw new Error('the call-back never reached its owner');
        await new Promise((res) => setTimeout(res, 50));
      }
      assert.deepEqual(events, [{ type: 'callback', deployId: r.id, kind: 'pass_deploy_info' }]);
      assert.deepEqual(await a.takeCallback(r.id, 'pass_deploy_info'), { address: '10.0.0.5' });
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('an instance that cannot renew its leases stops its runs (a lost event) before another instance may adopt them', async () => {
    const db = await pg();
    const schema = newSchema();
    const a = store(db, schema, { leaseMs: 1000 });
    const b = store(db, schema, { leaseMs: 1000 });
    await a.open();
    await b.open();
    try {
      const events: Array<{ e: DeployStoreEvent; at: number }> = [];
      a.subscribe((e) => events.push({ e, at: Date.now() }));
      const r = makeRecord('ilo-1:443');
      await a.create(r, undefined);
      // a never renews (as when its database connection is gone); b adopts once the lease expired.
      let adoptedAt = 0;
      for (const end = Date.now() + 10_000; !adoptedAt; ) {
        if ((await b.adoptOrphans()).length) adoptedAt = Date.now();
        else if (Date.now() > end) throw new Error('never adopted');
        else await new Promise((res) => setTimeout(res, 20));
      }
      const lost = events.find((x) => x.e.type === 'lost' && x.e.deployId === r.id);
      assert.ok(lost, 'a was told to stop');
      assert.ok(lost.at < adoptedAt, 'before the adoption');
      await assert.rejects(a.save({ ...r, state: 'deploy failed' }), { code: 'lease-lost' });
    } finally {
      await a.close();
      await b.close();
    }
  });
});
