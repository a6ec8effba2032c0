/**
 * The PostgreSQL connection of a deploy store: a small pool for statements
 * and transactions, one dedicated connection for LISTEN, and what happens
 * when the database goes away.
 *
 * While the database cannot be reached, every statement waits: one prober
 * reconnects with a doubling, jittered pause (up to `retry.maxMs`), and the
 * waiting work runs again once the database answers. So a deploy whose step
 * needs the store pauses and resumes; nothing fails for an outage. Every
 * piece of work the store sends may be run again safely (the store is
 * written that way: a retry after an unknown outcome changes nothing).
 * `interrupt()` ends the waiting (the engine is stopping).
 *
 * No message this module makes or passes on holds the password.
 */
import { Client, Pool, type ClientConfig, type PoolClient, type QueryResultRow } from 'pg';
import { DeployError } from '../errors';

export interface DatabaseOptions {
  /** node-postgres settings (host, port, database, user, password, ssl...). */
  config: ClientConfig;
  /** Connections in the pool (default 5). */
  maxConnections?: number;
  /** Reconnection pauses while the database is unreachable (default 250 ms doubling to 10 s). */
  retry?: { firstMs?: number; maxMs?: number };
  log?: { info?(m: string): void; warn(m: string): void };
}

/** Runs one statement; `values` are sent as parameters, never spliced into the text. */
export type Query = <R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]) => Promise<{ rows: R[]; rowCount: number }>;

/** A statement's result, and when its successful attempt was sent (local clock): a lease it took or renewed runs from no earlier. */
export interface Result<R> {
  rows: R[];
  rowCount: number;
  sentAt: number;
}

/** SQLSTATEs after which the same work may simply be run again at once (serialization failure, deadlock). */
const RETRY_AT_ONCE = new Set(['40001', '40P01']);
/** SQLSTATEs that mean the server is not there now (shutting down, starting up, out of connections). */
const UNREACHABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '53400']);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'ENETDOWN']);
const UNREACHABLE_MESSAGES =
  /connection terminated|connection ended|terminating connection|timeout exceeded when trying to connect|connection timeout|query read timeout|client has encountered a connection error|not queryable|server closed the connection|the database system is (starting up|shutting down)/i;

/** Thrown inside `tx()`: undo the transaction and return `value`. */
export class Rollback<T> {
  constructor(readonly value: T) {}
}

/** Whether an error means the database cannot be reached (wait and try again), rather than that it refused the work. */
export function isUnreachable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (UNREACHABLE_CODES.has(code) || UNREACHABLE_STATES.has(code) || code.startsWith('08')) return true;
  return typeof e?.message === 'string' && UNREACHABLE_MESSAGES.test(e.message);
}

interface Listening {
  channel: string;
  onPayload(payload: string): void;
  onConnect(): Promise<void>;
}

export class Database {
  /** Statements sent (each one round trip), for the benchmark. */
  readonly stats = { roundTrips: 0 };
  private readonly pool: Pool;
  private readonly secrets: string[];
  private down?: { since: number; up: Promise<void>; wake(): void };
  private interrupted = false;
  private closed = false;
  private listener?: Client;
  private listening?: Listening;
  private listenRetry?: NodeJS.Timeout;
  private listenAttempt = 0;
  private readonly heard = new WeakSet<PoolClient>();

  constructor(private readonly opts: DatabaseOptions) {
    this.secrets = secretsOf(opts.config);
    this.pool = new Pool({
      ...opts.config,
      max: opts.maxConnections ?? 5,
      keepAlive: true,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      query_timeout: 60_000,
      application_name: 'node-red-ilo-deploy',
    });
    // An idle connection dropped by the server: the pool discards it; the next statement reconnects.
    this.pool.on('error', (err) => this.opts.log?.warn(`deploy store: an idle database connection failed: ${this.scrub(err.message)}`));
  }

  /** Whether the database is known to be unreachable now (work waits for it). */
  get unreachable(): boolean {
    return this.down !== undefined;
  }

  /** The message with every secret of the connection replaced. */
  scrub(message: string): string {
    let out = message;
    for (const s of this.secrets) out = out.split(s).join('***');
    return out;
  }

  /** One statement, run again (after the database is back) when the database could not be reached. */
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<Result<R>> {
    return this.session(async (q, sentAt) => ({ ...(await q<R>(text, values)), sentAt }));
  }

  /** `work` on one connection of the pool, all of it run again when the database could not be reached. */
  session<T>(work: (q: Query, sentAt: number) => Promise<T>): Promise<T> {
    return this.retrying(async () => {
      const client = await this.connect();
      const sentAt = Date.now();
      let broken: Error | undefined;
      try {
        return await work((text, values) => this.send(client, text, values), sentAt);
      } catch (err) {
        if (isUnreachable(err)) broken = err as Error;
        throw err;
      } finally {
        client.release(broken);
      }
    });
  }

  /** `work` inside one transaction (READ COMMITTED), all of it run again when the connection was lost or the transaction conflicted. */
  tx<T>(work: (q: Query, sentAt: number) => Promise<T>): Promise<T> {
    return this.retrying(async () => {
      const client = await this.connect();
      const sentAt = Date.now();
      let broken: Error | undefined;
      const q: Query = (text, values) => this.send(client, text, values);
      try {
        await q('BEGIN');
        const out = await work(q, sentAt);
        await q('COMMIT');
        return out;
      } catch (err) {
        if (isUnreachable(err)) {
          broken = err as Error;
          throw err;
        }
        try {
          await q('ROLLBACK');
        } catch (e) {
          broken = e as Error; // the connection broke: the whole transaction runs again
          throw e;
        }
        if (err instanceof Rollback) return err.value as T;
        throw err;
      } finally {
        client.release(broken);
      }
    });
  }

  /**
   * LISTEN on `channel` on a connection of its own, reconnected with the same
   * pauses whenever it drops; `onConnect` runs after each (re)connection, to
   * catch up on what was notified while nobody listened.
   */
  async listen(channel: string, onPayload: (payload: string) => void, onConnect: () => Promise<void>): Promise<void> {
    this.listening = { channel, onPayload, onConnect };
    await this.connectListener();
  }

  /** Stop waiting for the database: work waiting for it fails with DeployError 'cancelled'. */
  interrupt(): void {
    this.interrupted = true;
    this.down?.wake();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.interrupt();
    clearTimeout(this.listenRetry);
    const l = this.listener;
    this.listener = undefined;
    await l?.end().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }

  // ------------------------------------------------------------ internals

  private async send<R extends QueryResultRow>(client: PoolClient | Client, text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number }> {
    this.stats.roundTrips++;
    const res = await client.query<R>(text, values);
    return { rows: res.rows, rowCount: res.rowCount ?? 0 };
  }

  private async connect(): Promise<PoolClient> {
    if (this.closed) throw new DeployError('cancelled', 'the deploy store is closed');
    const client = await this.pool.connect();
    // A connection cut while checked out between two statements emits 'error' with nobody listening
    // (the pool only listens on idle ones): heard here; the next statement on it fails and is run again.
    if (!this.heard.has(client)) {
      this.heard.add(client);
      client.on('error', () => undefined);
    }
    return client;
  }

  /** Run `attempt`; while the database cannot be reached, wait for it and run it again. */
  private async retrying<T>(attempt: () => Promise<T>): Promise<T> {
    for (let conflicts = 0; ; ) {
      await this.waitUp();
      try {
        return await attempt();
      } catch (err) {
        if (RETRY_AT_ONCE.has((err as { code?: string }).code ?? '') && conflicts++ < 20) continue;
        if (!isUnreachable(err)) throw this.wrap(err);
        if (this.interrupted) throw new DeployError('cancelled', `the deploy store is closing and the database is unreachable: ${this.scrub((err as Error).message)}`);
        this.markDown(err as Error);
      }
    }
  }

  private async waitUp(): Promise<void> {
    while (this.down) {
      if (this.interrupted) throw new DeployError('cancelled', 'the deploy store is closing and the database is unreachable');
      await this.down.up;
    }
  }

  /** The database went away: one prober reconnects with backoff; all other work waits for it. */
  private markDown(err: Error): void {
    if (this.down) return;
    let wake = (): void => undefined;
    const up = new Promise<void>((resolve) => (wake = resolve));
    this.down = { since: Date.now(), up, wake };
    this.opts.log?.warn(`deploy store: the database is unreachable (${this.scrub(err.message)}); deploys wait for it; reconnecting`);
    this.probe().catch((e: unknown) => this.opts.log?.warn(`deploy store: the reconnection prober failed: ${this.scrub((e as Error).message)}`));
  }

  private async probe(): Promise<void> {
    const first = this.opts.retry?.firstMs ?? 250;
    const max = this.opts.retry?.maxMs ?? 10_000;
    for (let i = 0; this.down && !this.interrupted; i++) {
      await sleep(jitter(Math.min(max, first * 2 ** i)));
      if (this.interrupted || !(await this.answers())) continue;
      const d = this.down;
      this.down = undefined;
      this.opts.log?.info?.(`deploy store: the database is reachable again after ${Math.round((Date.now() - (d?.since ?? Date.now())) / 1000)} s`);
      d?.wake();
      return;
    }
    this.down?.wake(); // interrupted: the waiting work sees it and gives up
  }

  /** One try, no waiting: does the database answer? */
  private async answers(): Promise<boolean> {
    let client: PoolClient | undefined;
    try {
      client = await this.connect();
      await this.send(client, 'SELECT 1');
      client.release();
      return true;
    } catch (err) {
      client?.release(err as Error);
      return false;
    }
  }

  private async connectListener(): Promise<void> {
    const l = this.listening;
    if (!l || this.closed) return;
    const client = new Client({ ...this.opts.config, keepAlive: true, connectionTimeoutMillis: 10_000, application_name: 'node-red-ilo-deploy (events)' });
    const lost = (why: string): void => {
      if (this.listener !== client || this.closed) return;
      this.listener = undefined;
      client.end().catch(() => undefined);
      this.opts.log?.warn(`deploy store: the event connection was lost (${this.scrub(why)}); reconnecting, then catching up`);
      this.scheduleListener();
    };
    client.on('error', (err) => lost(err.message));
    client.on('end', () => lost('closed by the server'));
    client.on('notification', (n) => {
      if (n.channel === l.channel && n.payload !== undefined) l.onPayload(n.payload);
    });
    this.listener = client;
    try {
      await client.connect();
      this.stats.roundTrips++;
      await client.query(`LISTEN ${quoteIdent(l.channel)}`);
      this.listenAttempt = 0;
      await l.onConnect();
    } catch (err) {
      if (this.listener !== client) return; // already handled by `lost`
      this.listener = undefined;
      client.end().catch(() => undefined);
      if (!isUnreachable(err) && !this.closed) this.opts.log?.warn(`deploy store: cannot listen for events: ${this.scrub((err as Error).message)}; trying again`);
      this.scheduleListener();
    }
  }

  private scheduleListener(): void {
    if (this.closed || this.listenRetry) return;
    const first = this.opts.retry?.firstMs ?? 250;
    const max = this.opts.retry?.maxMs ?? 10_000;
    const pause = jitter(Math.min(max, first * 2 ** this.listenAttempt++));
    this.listenRetry = setTimeout(() => {
      this.listenRetry = undefined;
      this.connectListener().catch((e: unknown) => this.opts.log?.warn(`deploy store: cannot listen for events: ${this.scrub((e as Error).message)}`));
    }, pause);
  }

  private wrap(err: unknown): Error {
    if (err instanceof DeployError) return err;
    const e = err as { message?: string; code?: string } | undefined;
    const message = this.scrub(e?.message ?? String(err));
    if (e?.code === '28P01' || e?.code === '28000') return new DeployError('failed', `deploy store: PostgreSQL refused the login: ${message}`);
    return new DeployError('failed', `deploy store: PostgreSQL: ${message}${e?.code ? ` (${e.code})` : ''}`);
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function secretsOf(config: ClientConfig): string[] {
  const out: string[] = [];
  if (typeof config.password === 'string' && config.password) out.push(config.password, encodeURIComponent(config.password));
  if (config.connectionString) {
    try {
      const p = new URL(config.connectionString).password;
      if (p) out.push(p, decodeURIComponent(p));
    } catch {
      // not a URL: no password to find in it
    }
  }
  return [...new Set(out)].filter((s) => s.length > 0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function jitter(ms: number): number {
  return Math.round(ms * (0.75 + Math.random() * 0.5));
}
