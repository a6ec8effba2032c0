/**
 * The shared DeployStore on PostgreSQL: any number of Node-RED instances
 * with the same flows share one fleet through it (deploy-store.ts says what
 * each method guarantees; this says how).
 *
 * - One deploy per server: a row in `claims`, whose primary key is the
 *   server. A claim is inserted in the transaction that creates the deploy
 *   (or claims it again) and deleted in the one that finishes it; two
 *   instances racing for a server meet on that key, whatever the timing.
 * - Leases: `lease_owner` / `lease_expires` on the deploy, in database time
 *   (no clock of an instance is trusted). Writes of a deploy leased to
 *   another instance are refused in the same statement (`lease-lost`).
 *   Orphans (in progress, lease expired or given up) are adopted with
 *   `FOR UPDATE SKIP LOCKED`: two instances never adopt the same one.
 * - An instance that cannot renew its leases (the database is unreachable,
 *   the process stalled) stops its runs before the leases can expire
 *   (a `lost` event at three quarters of the lease), so a server is never
 *   driven by two instances at once.
 * - Call-backs are rows (the newest of each kind), announced with NOTIFY in
 *   the statement that records them; the owner LISTENs. After its event
 *   connection comes back it reads what it missed (the poll fallback).
 *   Undeploys asked on another instance are a flag on the row, announced
 *   the same way, and handed to whoever adopts the deploy.
 * - While the database is unreachable every call waits and runs again
 *   (database.ts); each is written so that running it again after an
 *   unknown outcome changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ClientConfig } from 'pg';
import { IN_PROGRESS_STATES, type ClaimResult, type DeployStore, type DeployStoreEvent, type RamdiskLookup } from './deploy-store';
import { DeployError, badInput } from './errors';
import { normaliseMac } from './mac-index';
import { Database, Rollback, quoteIdent, type Query } from './pg/database';
import { SCHEMA_NAME, migrate } from './pg/migrations';
import type { CallbackKind } from './step';
import type { DeployRecord, ProvisionState } from './types';

export interface PgDeployStoreOptions {
  /** node-postgres connection settings (host, port, database, user, password, ssl), the password from the environment, never from a flow. */
  connection: ClientConfig;
  /** The schema holding the tables (created and migrated here); default `ilo_deploy`. Instances sharing a fleet use the same one. */
  schema?: string;
  /** Lease length (default 30 s): a dead instance's deploys are taken over this long after its last renewal, plus one engine tick. */
  leaseMs?: number;
  /** A readable name for this instance in leases and logs (default the host name); a unique suffix is added. */
  instanceName?: string;
  /** Pool size (default 5). */
  maxConnections?: number;
  /** Reconnection pauses while the database is unreachable (default 250 ms doubling to 10 s). */
  retry?: { firstMs?: number; maxMs?: number };
  log?: { info?(m: string): void; warn(m: string): void };
}

const IN_PROGRESS = [...IN_PROGRESS_STATES];
/** States a ramdisk may call back in (see `awaitsRamdisk`): deploying, or cleaning with its agent. */
const AWAITS_RAMDISK: ProvisionState[] = ['deploying', 'wait call-back', 'cleaning', 'clean wait'];
const MAX_ID = 64;
/** A run whose lease was not renewed for this share of the lease is stopped here (before another instance may adopt it). */
const FENCE_SHARE = 0.75;

interface Notice {
  type: 'callback' | 'undeploy';
  deployId: string;
  kind?: CallbackKind;
  to?: string | null;
}

export class PgDeployStore implements DeployStore {
  readonly instanceId: string;
  readonly leaseMs: number;
  readonly schema: string;
  private readonly db: Database;
  private readonly s: string;
  private readonly channel: string;
  private readonly listeners = new Set<(e: DeployStoreEvent) => void>();
  /** Deploys leased to this instance, and when their lease was last taken or renewed (local clock, at the time the statement was sent). */
  private readonly held = new Map<string, number>();
  private fenceTimer?: NodeJS.Timeout;
  private opened = false;

  constructor(private readonly opts: PgDeployStoreOptions) {
    this.schema = opts.schema ?? 'ilo_deploy';
    if (!SCHEMA_NAME.test(this.schema)) throw badInput('schema', 'lower-case letters, digits and underscores (at most 48, not starting with a digit)', this.schema);
    this.leaseMs = opts.leaseMs ?? 30_000;
    if (!Number.isInteger(this.leaseMs) || this.leaseMs < 300) throw badInput('leaseMs', 'a whole number of milliseconds, at least 300', opts.leaseMs);
    this.instanceId = `${(opts.instanceName ?? hostname()).slice(0, 64)}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.s = quoteIdent(this.schema);
    this.channel = `${this.schema}_events`;
    this.db = new Database({ config: opts.connection, maxConnections: opts.maxConnections, retry: opts.retry, log: opts.log });
  }

  /** Statements sent to PostgreSQL so far (each one round trip). */
  get roundTrips(): number {
    return this.db.stats.roundTrips;
  }

  async open(): Promise<void> {
    const applied = await this.db.session((q) => migrate(q, this.schema));
    if (applied.length) this.opts.log?.info?.(`deploy store: PostgreSQL schema "${this.schema}" migrated to version ${Math.max(...applied)}`);
    await this.db.listen(this.channel, (p) => this.onNotice(p), () => this.catchUp());
    this.opened = true;
    const every = Math.max(50, Math.floor(this.leaseMs / 12));
    this.fenceTimer = setInterval(() => this.fence(), every);
    this.fenceTimer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.fenceTimer);
    this.listeners.clear();
    if (this.opened && !this.db.unreachable) {
      // Hand every deploy over at once: another instance (or this one, restarted) adopts them.
      await Promise.race([
        this.db.query(`UPDATE ${this.s}.deploys SET lease_owner = NULL, lease_expires = NULL WHERE lease_owner = $1`, [this.instanceId]).catch(() => undefined),
        new Promise((r) => setTimeout(r, 5000).unref()),
      ]);
    }
    this.held.clear();
    await this.db.close();
  }

  /** The engine is stopping: calls waiting for an unreachable database give up. */
  interrupt(): void {
    this.db.interrupt();
  }

  // ------------------------------------------------------------ claims and records

  async create(record: DeployRecord, expectLatest: string | undefined): Promise<ClaimResult> {
    checkId(record.id);
    let sent = 0;
    const result = await this.db.tx<ClaimResult>(async (q, sentAt) => {
      sent = sentAt;
      const claim = await q<{ deploy_id: string }>(
        `INSERT INTO ${this.s}.claims (server_key, deploy_id) VALUES ($1, $2) ON CONFLICT (server_key) DO NOTHING RETURNING deploy_id`,
        [record.serverKey, record.id],
      );
      if (claim.rowCount === 0) {
        const holder = (await q<{ deploy_id: string }>(`SELECT deploy_id FROM ${this.s}.claims WHERE server_key = $1`, [record.serverKey])).rows[0]?.deploy_id;
        // Our own claim: this is the same create run again after its commit's reply was lost.
        if (holder === record.id) {
          const mine = await q(`SELECT 1 FROM ${this.s}.deploys WHERE id = $1 AND lease_owner = $2`, [record.id, this.instanceId]);
          if (mine.rowCount === 1) return { ok: true };
        }
        // Released in between: a conflict with nobody; the transaction runs again.
        if (holder === undefined) throw Object.assign(new Error('claim released meanwhile'), { code: '40001' });
        throw new Rollback<ClaimResult>({ ok: false, holder });
      }
      const latest = await this.newestId(q, record.serverKey);
      if (latest !== expectLatest) throw new Rollback<ClaimResult>({ ok: false, latest });
      const exists = await q(`SELECT 1 FROM ${this.s}.deploys WHERE id = $1`, [record.id]);
      if (exists.rowCount) throw new DeployError('failed', `deploy ${record.id} exists already`);
      await q(
        `INSERT INTO ${this.s}.deploys (id, server_key, state, created_at, updated_at, macs, record, lease_owner, lease_expires)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + $9 * interval '1 millisecond')`,
        [record.id, record.serverKey, record.state, record.createdAt, record.updatedAt, macsOf(record), JSON.stringify(record), this.instanceId, this.leaseMs],
      );
      return { ok: true };
    });
    if (result.ok) this.held.set(record.id, sent);
    return result;
  }

  async claim(deployId: string): Promise<ClaimResult> {
    let sent = 0;
    const result = await this.db.tx<ClaimResult>(async (q, sentAt) => {
      sent = sentAt;
      const row = (
        await q<{ server_key: string; lease_owner: string | null; live: boolean }>(
          `SELECT server_key, lease_owner, coalesce(lease_expires > now(), false) AS live FROM ${this.s}.deploys WHERE id = $1 FOR UPDATE`,
          [deployId],
        )
      ).rows[0];
      if (!row) throw new DeployError('not-found', `no deploy ${deployId}`);
      const inserted = await q(`INSERT INTO ${this.s}.claims (server_key, deploy_id) VALUES ($1, $2) ON CONFLICT (server_key) DO NOTHING`, [row.server_key, deployId]);
      if (inserted.rowCount === 0) {
        const holder = (await q<{ deploy_id: string }>(`SELECT deploy_id FROM ${this.s}.claims WHERE server_key = $1`, [row.server_key])).rows[0]?.deploy_id;
        if (holder === undefined) throw Object.assign(new Error('claim released meanwhile'), { code: '40001' });
        if (holder !== deployId) throw new Rollback<ClaimResult>({ ok: false, holder });
        // Held by this deploy: granted again only to the instance running it (an orphan is adopted, not claimed).
        if (row.lease_owner !== this.instanceId) throw new Rollback<ClaimResult>({ ok: false, holder });
      } else if (row.lease_owner && row.lease_owner !== this.instanceId && row.live) {
        throw new Rollback<ClaimResult>({ ok: false, holder: deployId });
      }
      await q(`UPDATE ${this.s}.deploys SET lease_owner = $2, lease_expires = now() + $3 * interval '1 millisecond' WHERE id = $1`, [deployId, this.instanceId, this.leaseMs]);
      return { ok: true };
    });
    if (result.ok) this.held.set(deployId, sent);
    return result;
  }

  async save(record: DeployRecord): Promise<void> {
    const res = await this.db.query(
      `UPDATE ${this.s}.deploys SET state = $3, updated_at = $4, macs = $5, record = $6
       WHERE id = $1 AND ${this.fenced}`,
      [record.id, this.instanceId, record.state, record.updatedAt, macsOf(record), JSON.stringify(record), IN_PROGRESS],
    );
    if (res.rowCount === 0) await this.refused(record.id);
  }

  async finish(record: DeployRecord): Promise<void> {
    // One statement: the record written, its claim, lease, call-backs and undeploy request gone, together; only by the lease holder.
    const res = await this.db.query<{ n: string }>(
      `WITH done AS (
         UPDATE ${this.s}.deploys SET state = $3, updated_at = $4, macs = $5, record = $6, lease_owner = NULL, lease_expires = NULL, undeploy_asked = false
         WHERE id = $1 AND lease_owner = $2 RETURNING id
       ), unclaimed AS (
         DELETE FROM ${this.s}.claims WHERE deploy_id IN (SELECT id FROM done)
       ), dropped AS (
         DELETE FROM ${this.s}.callbacks WHERE deploy_id IN (SELECT id FROM done)
       )
       SELECT count(*) AS n FROM done`,
      [record.id, this.instanceId, record.state, record.updatedAt, macsOf(record), JSON.stringify(record)],
    );
    this.held.delete(record.id);
    if (Number(res.rows[0]?.n ?? 0) === 0) await this.refused(record.id);
  }

  async get(id: string): Promise<DeployRecord | undefined> {
    if (!plausibleId(id)) return undefined;
    return (await this.db.query<{ record: DeployRecord }>(`SELECT record FROM ${this.s}.deploys WHERE id = $1`, [id])).rows[0]?.record;
  }

  async latestFor(serverKey: string): Promise<DeployRecord | undefined> {
    const res = await this.db.query<{ record: DeployRecord }>(`SELECT record FROM ${this.s}.deploys WHERE server_key = $1 ORDER BY created_at DESC, id DESC LIMIT 1`, [serverKey]);
    return res.rows[0]?.record;
  }

  async list(filter: { states?: readonly ProvisionState[] } = {}): Promise<DeployRecord[]> {
    const res = filter.states
      ? await this.db.query<{ record: DeployRecord }>(`SELECT record FROM ${this.s}.deploys WHERE state = ANY($1) ORDER BY created_at, id`, [[...filter.states]])
      : await this.db.query<{ record: DeployRecord }>(`SELECT record FROM ${this.s}.deploys ORDER BY created_at, id`);
    return res.rows.map((r) => r.record);
  }

  async prune(before: Date): Promise<number> {
    const res = await this.db.query(
      `DELETE FROM ${this.s}.deploys d WHERE NOT (state = ANY($1)) AND state <> 'active' AND state <> 'clean failed' AND updated_at < $2
         AND NOT EXISTS (SELECT 1 FROM ${this.s}.claims c WHERE c.deploy_id = d.id)`,
      [IN_PROGRESS, before.toISOString()],
    );
    return res.rowCount;
  }

  // ------------------------------------------------------------ leases

  async renew(deployIds: readonly string[]): Promise<string[]> {
    if (deployIds.length === 0) return [];
    const res = await this.db.query<{ id: string }>(
      `UPDATE ${this.s}.deploys SET lease_expires = now() + $3 * interval '1 millisecond' WHERE id = ANY($1) AND lease_owner = $2 RETURNING id`,
      [[...deployIds], this.instanceId, this.leaseMs],
    );
    const kept = new Set(res.rows.map((r) => r.id));
    for (const id of deployIds) {
      if (kept.has(id)) this.held.set(id, res.sentAt);
      else this.held.delete(id);
    }
    return deployIds.filter((id) => !kept.has(id));
  }

  async adoptOrphans(): Promise<DeployRecord[]> {
    // The same statement frees what an instance left that died between writing a deploy's end and releasing it (finish).
    const res = await this.db.query<{ record: DeployRecord; undeploy_asked: boolean }>(
      `WITH released AS (
         UPDATE ${this.s}.deploys d SET lease_owner = NULL, lease_expires = NULL, undeploy_asked = false
         WHERE NOT (d.state = ANY($3)) AND (
           (d.lease_owner IS NOT NULL AND d.lease_expires < now())
           OR (d.lease_owner IS NULL AND EXISTS (SELECT 1 FROM ${this.s}.claims c WHERE c.deploy_id = d.id)))
         RETURNING d.id
       ), unclaimed AS (
         DELETE FROM ${this.s}.claims WHERE deploy_id IN (SELECT id FROM released)
       ), dropped AS (
         DELETE FROM ${this.s}.callbacks WHERE deploy_id IN (SELECT id FROM released)
       )
       UPDATE ${this.s}.deploys SET lease_owner = $1, lease_expires = now() + $2 * interval '1 millisecond'
       WHERE id IN (
         SELECT id FROM ${this.s}.deploys
         WHERE state = ANY($3) AND (lease_owner IS NULL OR lease_expires < now())
         FOR UPDATE SKIP LOCKED
       )
       RETURNING record, undeploy_asked`,
      [this.instanceId, this.leaseMs, IN_PROGRESS],
    );
    const adopted = res.rows.map((r) => r.record).sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
    for (const r of adopted) this.held.set(r.id, res.sentAt);
    // An undeploy asked of the previous owner is this instance's to do now (once the engine runs the deploy).
    for (const r of res.rows) if (r.undeploy_asked) this.emit({ type: 'undeploy', deployId: r.record.id });
    return adopted;
  }

  // ------------------------------------------------------------ ramdisk side (any instance)

  async findForRamdisk(nodeId: string | undefined, macs: readonly string[]): Promise<RamdiskLookup> {
    if (nodeId) {
      if (!plausibleId(nodeId)) return { none: true };
      const res = await this.db.query<{ id: string }>(`SELECT id FROM ${this.s}.deploys WHERE id = $1 AND state = ANY($2)`, [nodeId, AWAITS_RAMDISK]);
      return res.rows[0] ? { deployId: res.rows[0].id } : { none: true };
    }
    const wanted = [...new Set(macs.map(normaliseMac).filter((m): m is string => Boolean(m)))];
    if (wanted.length === 0) return { none: true };
    const res = await this.db.query<{ id: string }>(`SELECT id FROM ${this.s}.deploys WHERE macs && $1::text[] AND state = ANY($2) ORDER BY created_at, id`, [wanted, AWAITS_RAMDISK]);
    const ids = res.rows.map((r) => r.id);
    if (ids.length > 1) return { ambiguous: ids };
    return ids.length === 1 ? { deployId: ids[0] as string } : { none: true };
  }

  async postCallback(deployId: string, kind: CallbackKind, body: Record<string, unknown>): Promise<void> {
    // Recorded and announced in one statement: the notification leaves at its commit, naming the owner of that moment.
    const res = await this.db.query(
      `WITH posted AS (
         INSERT INTO ${this.s}.callbacks (deploy_id, kind, body) SELECT id, $2, $3 FROM ${this.s}.deploys WHERE id = $1
         ON CONFLICT (deploy_id, kind) DO UPDATE SET body = EXCLUDED.body, taken_by = NULL, posted_at = now()
         RETURNING deploy_id
       )
       SELECT pg_notify($4, json_build_object('type', 'callback', 'deployId', d.id, 'kind', $2::text, 'to', d.lease_owner)::text)
       FROM ${this.s}.deploys d WHERE d.id IN (SELECT deploy_id FROM posted)`,
      [deployId, kind, JSON.stringify(body), this.channel],
    );
    if (res.rowCount === 0) throw new DeployError('not-found', `no deploy ${deployId}`);
  }

  async takeCallback(deployId: string, kind: CallbackKind): Promise<Record<string, unknown> | undefined> {
    // Marked taken by this take (not deleted): run again after a lost reply, the same take gets the same body.
    const take = randomUUID();
    const res = await this.db.query<{ body: Record<string, unknown> }>(
      `UPDATE ${this.s}.callbacks SET taken_by = $3 WHERE deploy_id = $1 AND kind = $2 AND (taken_by IS NULL OR taken_by = $3) RETURNING body`,
      [deployId, kind, take],
    );
    return res.rows[0]?.body;
  }

  async requestUndeploy(deployId: string): Promise<void> {
    const res = await this.db.query(
      `UPDATE ${this.s}.deploys SET undeploy_asked = true WHERE id = $1
       RETURNING pg_notify($2, json_build_object('type', 'undeploy', 'deployId', id, 'to', lease_owner)::text)`,
      [deployId, this.channel],
    );
    if (res.rowCount === 0) throw new DeployError('not-found', `no deploy ${deployId}`);
  }

  subscribe(listener: (event: DeployStoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ------------------------------------------------------------ internals

  /**
   * Who may write a deploy ($2 this instance, $3 the state written, $7 the
   * in-progress states): the instance holding its lease; without a lease,
   * only an ended deploy written as ended (a rebuild marks the deploy it
   * replaces "available"). So a run that lost its lease unnoticed (its
   * deploy taken over and finished meanwhile) cannot bring it back.
   */
  private get fenced(): string {
    return `(lease_owner = $2 OR (lease_owner IS NULL AND NOT (state = ANY($7)) AND NOT ($3 = ANY($7))))`;
  }

  private async newestId(q: Query, serverKey: string): Promise<string | undefined> {
    const res = await q<{ id: string }>(`SELECT id FROM ${this.s}.deploys WHERE server_key = $1 ORDER BY created_at DESC, id DESC LIMIT 1`, [serverKey]);
    return res.rows[0]?.id;
  }

  /** A write matched nothing: the deploy is leased to another instance, or does not exist. */
  private async refused(id: string): Promise<never> {
    const row = (await this.db.query<{ lease_owner: string | null }>(`SELECT lease_owner FROM ${this.s}.deploys WHERE id = $1`, [id])).rows[0];
    this.held.delete(id);
    if (!row) throw new DeployError('not-found', `no deploy ${id}`);
    throw new DeployError('lease-lost', `deploy ${id} is run by another instance`);
  }

  private onNotice(payload: string): void {
    let n: Notice;
    try {
      n = JSON.parse(payload) as Notice;
    } catch {
      return;
    }
    if (typeof n?.deployId !== 'string') return;
    // Meant for the owner of that moment; nobody's (not leased): everyone may look.
    if (n.to && n.to !== this.instanceId) return;
    if (n.type === 'callback' && typeof n.kind === 'string') this.emit({ type: 'callback', deployId: n.deployId, kind: n.kind });
    else if (n.type === 'undeploy') this.emit({ type: 'undeploy', deployId: n.deployId });
  }

  /** After (re)connecting the event connection: what was announced while nobody listened, read back. */
  private async catchUp(): Promise<void> {
    const cbs = await this.db.query<{ deploy_id: string; kind: CallbackKind }>(
      `SELECT c.deploy_id, c.kind FROM ${this.s}.callbacks c JOIN ${this.s}.deploys d ON d.id = c.deploy_id WHERE d.lease_owner = $1 AND c.taken_by IS NULL`,
      [this.instanceId],
    );
    for (const c of cbs.rows) this.emit({ type: 'callback', deployId: c.deploy_id, kind: c.kind });
    const undeploys = await this.db.query<{ id: string }>(`SELECT id FROM ${this.s}.deploys WHERE lease_owner = $1 AND undeploy_asked`, [this.instanceId]);
    for (const u of undeploys.rows) this.emit({ type: 'undeploy', deployId: u.id });
  }

  /** Runs whose lease this instance could not renew in time are stopped here before another instance may adopt them. */
  private fence(): void {
    const limit = Date.now() - this.leaseMs * FENCE_SHARE;
    for (const [id, at] of this.held) {
      if (at > limit) continue;
      this.held.delete(id);
      this.opts.log?.warn(`deploy ${id}: its lease could not be renewed in time${this.db.unreachable ? ' (the database is unreachable)' : ''}; stopping it here, another instance (or this one) resumes it`);
      this.emit({ type: 'lost', deployId: id });
    }
  }

  private emit(event: DeployStoreEvent): void {
    for (const l of this.listeners) {
      setImmediate(() => {
        try {
          l(event);
        } catch (err) {
          this.opts.log?.warn(`deploy store: a listener failed: ${(err as Error).message}`);
        }
      });
    }
  }
}

function macsOf(r: DeployRecord): string[] {
  return [...new Set((r.data.macs ?? []).map(normaliseMac).filter((m): m is string => Boolean(m)))];
}

function plausibleId(id: string): boolean {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ID;
}

function checkId(id: string): void {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) throw badInput('deployId', 'letters, digits and dashes, at most 64', id);
}
