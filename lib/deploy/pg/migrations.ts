/**
 * The deploy store's schema in PostgreSQL, created and upgraded by the
 * package itself: an ordered list of versioned migrations, each applied once
 * in its own transaction and recorded in `<schema>.schema_migrations`. Every
 * instance runs `migrate()` at start, under a session advisory lock, so
 * several instances starting together apply each migration exactly once and
 * none uses the schema half-made. A database whose schema is newer than
 * this package knows is refused: an older instance must not write to it.
 *
 * Never edit a released migration: add the next one.
 */
import { DeployError } from '../errors';
import { quoteIdent, type Query } from './database';

export interface Migration {
  version: number;
  name: string;
  /** SQL with `{s}` for the schema (quoted). */
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'deploys, server claims, leases and call-backs',
    sql: `
      -- One row per deploy. The record is the engine's JSON (json, not jsonb:
      -- kept as written, whatever it holds); the other columns are what is
      -- searched on, written from it with every save.
      CREATE TABLE {s}.deploys (
        id text PRIMARY KEY,
        server_key text NOT NULL,
        state text NOT NULL,
        -- ISO times as the record has them; "C" so they sort as time does.
        created_at text COLLATE "C" NOT NULL,
        updated_at text COLLATE "C" NOT NULL,
        -- normalised MACs, for a ramdisk's lookup
        macs text[] NOT NULL DEFAULT '{}',
        record json NOT NULL,
        -- the instance running the deploy, until when (database time)
        lease_owner text,
        lease_expires timestamptz,
        -- an undeploy asked on another instance, not yet acted on by the owner
        undeploy_asked boolean NOT NULL DEFAULT false
      );
      CREATE INDEX deploys_server_created ON {s}.deploys (server_key, created_at);
      CREATE INDEX deploys_in_progress ON {s}.deploys (lease_expires) WHERE state IN ('deploying', 'wait call-back', 'deleting');
      CREATE INDEX deploys_macs ON {s}.deploys USING gin (macs);
      CREATE INDEX deploys_lease_owner ON {s}.deploys (lease_owner) WHERE lease_owner IS NOT NULL;

      -- At most one deploy acts on a server: the primary key says so, whatever the timing.
      CREATE TABLE {s}.claims (
        server_key text PRIMARY KEY,
        deploy_id text NOT NULL REFERENCES {s}.deploys (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
      );

      -- The newest call-back of each kind, until the deploy's owner takes it.
      CREATE TABLE {s}.callbacks (
        deploy_id text NOT NULL REFERENCES {s}.deploys (id) ON DELETE CASCADE,
        kind text NOT NULL,
        body json NOT NULL,
        -- the take that returned it (a take repeated after a lost reply returns it again)
        taken_by text,
        posted_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (deploy_id, kind)
      );
    `,
  },
];

/** A schema name the store accepts: lower-case letters, digits and underscores (it also names the notification channel). */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;

/** Arbitrary first half of the advisory lock key: this package's migrations. */
const LOCK_CLASS = 0x1d3b;

/** Bring `schema` up to the newest migration; returns the versions applied now. `q` must be one session (the lock is per session). */
export async function migrate(q: Query, schema: string, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  if (!SCHEMA_NAME.test(schema)) throw new DeployError('invalid-input', `schema: expected lower-case letters, digits and underscores, at most 48 (got ${JSON.stringify(schema.slice(0, 80))})`, { field: 'schema' });
  const s = quoteIdent(schema);
  await q('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_CLASS, schema]);
  try {
    await q(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await q(`CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await q<{ version: number }>(`SELECT version FROM ${s}.schema_migrations`)).rows.map((r) => r.version));
    const newest = Math.max(0, ...migrations.map((m) => m.version));
    const ahead = [...done].filter((v) => v > newest);
    if (ahead.length) {
      throw new DeployError(
        'failed',
        `deploy store: the database schema "${schema}" is at version ${Math.max(...ahead)}, newer than this package knows (${newest}): upgrade node-red-contrib-ilo-deploy on this instance`,
      );
    }
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      await q('BEGIN');
      try {
        await q(m.sql.split('{s}').join(s));
        await q(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
        await q('COMMIT');
      } catch (err) {
        await q('ROLLBACK').catch(() => undefined);
        throw err;
      }
      applied.push(m.version);
    }
    return applied;
  } finally {
    await q('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_CLASS, schema]).catch(() => undefined);
  }
}
