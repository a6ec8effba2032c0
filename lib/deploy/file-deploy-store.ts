/**
 * The embedded DeployStore: one JSON file per deploy in a directory
 * (owner-only: records hold the ramdisk tokens of deploys in flight), each
 * written atomically (temp file + rename), writes of one record in order;
 * a save made while a write of the same record is on its way replaces any
 * save still queued behind it (the newest state is what reaches the file,
 * and each save resolves once its state or a newer one is there).
 * Everything is also held in memory, so reads never touch the disk.
 *
 * One Node-RED instance owns the directory, so what a shared store must
 * guarantee between instances is trivial here: server claims, leases and
 * recorded call-backs live in memory; claims are rebuilt at open from the
 * deploys in progress, which are all orphans then (the process that ran them
 * is gone) and are adopted by the engine's first `adoptOrphans()`.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { awaitsRamdisk, isInProgress, neverPruned, type ClaimResult, type DeployStore, type DeployStoreEvent, type RamdiskLookup } from './deploy-store';
import { DeployError } from './errors';
import { MacIndex } from './mac-index';
import type { CallbackKind } from './step';
import type { DeployRecord, ProvisionState } from './types';

const SAFE_ID = /^[A-Za-z0-9-]{1,64}$/;

export interface FileDeployStoreOptions {
  /** The directory of the records (created with mode 0700). */
  dir: string;
  log?: { warn(message: string): void };
}

export class FileDeployStore implements DeployStore {
  readonly instanceId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** Nominal: leases here end with the process, never by time. */
  readonly leaseMs = 60_000;
  readonly dir: string;
  /** Each record as last written (JSON), so nobody holds an object the engine still changes. */
  private readonly records = new Map<string, string>();
  private readonly latest = new Map<string, { id: string; createdAt: string }>();
  private readonly claims = new Map<string, string>();
  private readonly leases = new Set<string>();
  private readonly callbacks = new Map<string, Map<CallbackKind, Record<string, unknown>>>();
  private readonly macs = new MacIndex();
  private readonly listeners = new Set<(e: DeployStoreEvent) => void>();
  private readonly writes = new Map<string, Promise<void>>();
  /** Per record: a write on its way, and the newest body queued behind it. */
  private readonly queued = new Map<string, { body: string; done: Promise<void>; settle(err?: unknown): void }>();
  /** State and creation time of each record, so that a filtered list parses only what it returns. */
  private readonly meta = new Map<string, { state: ProvisionState; createdAt: string }>();

  constructor(private readonly opts: FileDeployStoreOptions) {
    this.dir = opts.dir;
  }

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(this.dir)) {
      if (name.endsWith('.tmp')) {
        await rm(join(this.dir, name), { force: true }); // a write the previous process did not finish
        continue;
      }
      if (!name.endsWith('.json')) continue;
      try {
        const r = JSON.parse(await readFile(join(this.dir, name), 'utf8')) as DeployRecord;
        if (!r || typeof r.id !== 'string' || !SAFE_ID.test(r.id) || typeof r.serverKey !== 'string') throw new Error('not a deploy record');
        this.remember(r);
        if (isInProgress(r)) this.claims.set(r.serverKey, r.id);
      } catch (err) {
        this.opts.log?.warn(`deploy state: ${name}: ${(err as Error).message}`);
      }
    }
  }

  async close(): Promise<void> {
    // A write that ends may start the one queued behind it: until none is left.
    while (this.writes.size) await Promise.all(this.writes.values());
    this.leases.clear();
    this.listeners.clear();
  }

  async create(record: DeployRecord, expectLatest: string | undefined): Promise<ClaimResult> {
    const holder = this.claims.get(record.serverKey);
    if (holder !== undefined && holder !== record.id) return { ok: false, holder };
    const latest = this.latest.get(record.serverKey)?.id;
    if (latest !== expectLatest) return { ok: false, latest };
    if (this.records.has(record.id)) throw new DeployError('failed', `deploy ${record.id} exists already`);
    this.claims.set(record.serverKey, record.id);
    this.leases.add(record.id);
    this.latest.set(record.serverKey, { id: record.id, createdAt: record.createdAt });
    await this.write(record);
    return { ok: true };
  }

  async claim(deployId: string): Promise<ClaimResult> {
    const r = this.parse(deployId);
    if (!r) throw new DeployError('not-found', `no deploy ${deployId}`);
    const holder = this.claims.get(r.serverKey);
    if (holder !== undefined && holder !== deployId) return { ok: false, holder };
    if (holder === deployId && !this.leases.has(deployId)) return { ok: false, holder }; // in progress, not adopted yet
    this.claims.set(r.serverKey, deployId);
    this.leases.add(deployId);
    return { ok: true };
  }

  save(record: DeployRecord): Promise<void> {
    return this.write(record);
  }

  async finish(record: DeployRecord): Promise<void> {
    if (this.claims.get(record.serverKey) === record.id) this.claims.delete(record.serverKey);
    this.leases.delete(record.id);
    this.callbacks.delete(record.id);
    await this.write(record);
  }

  async get(id: string): Promise<DeployRecord | undefined> {
    return this.parse(id);
  }

  async latestFor(serverKey: string): Promise<DeployRecord | undefined> {
    const l = this.latest.get(serverKey);
    return l && this.parse(l.id);
  }

  async list(filter: { states?: readonly ProvisionState[] } = {}): Promise<DeployRecord[]> {
    const ids = [...this.meta.entries()]
      .filter(([, m]) => !filter.states || filter.states.includes(m.state))
      .sort((a, b) => a[1].createdAt.localeCompare(b[1].createdAt))
      .map(([id]) => id);
    return ids.map((id) => this.parse(id)).filter((r): r is DeployRecord => r !== undefined);
  }

  async prune(before: Date): Promise<number> {
    let removed = 0;
    for (const r of await this.list()) {
      if (neverPruned(r) || Date.parse(r.updatedAt) >= before.getTime()) continue;
      this.records.delete(r.id);
      this.meta.delete(r.id);
      this.macs.set(r.id, []);
      for (let w = this.writes.get(r.id); w; w = this.writes.get(r.id)) await w;
      await rm(this.file(r.id), { force: true });
      removed++;
    }
    if (removed) {
      // The newest record left of each server.
      this.latest.clear();
      for (const r of await this.list()) this.remember(r);
    }
    return removed;
  }

  async renew(deployIds: readonly string[]): Promise<string[]> {
    return deployIds.filter((id) => !this.leases.has(id));
  }

  async adoptOrphans(): Promise<DeployRecord[]> {
    const orphans = (await this.list()).filter((r) => isInProgress(r) && !this.leases.has(r.id));
    for (const r of orphans) this.leases.add(r.id);
    return orphans;
  }

  async findForRamdisk(nodeId: string | undefined, macs: readonly string[]): Promise<RamdiskLookup> {
    if (nodeId) {
      const r = SAFE_ID.test(nodeId) ? this.parse(nodeId) : undefined;
      return r && awaitsRamdisk(r) ? { deployId: r.id } : { none: true };
    }
    const ids = this.macs.find(macs);
    if (ids.length > 1) return { ambiguous: ids };
    return ids.length === 1 ? { deployId: ids[0] as string } : { none: true };
  }

  async postCallback(deployId: string, kind: CallbackKind, body: Record<string, unknown>): Promise<void> {
    const kinds = this.callbacks.get(deployId) ?? new Map<CallbackKind, Record<string, unknown>>();
    kinds.set(kind, structuredClone(body));
    this.callbacks.set(deployId, kinds);
    this.emit({ type: 'callback', deployId, kind });
  }

  async takeCallback(deployId: string, kind: CallbackKind): Promise<Record<string, unknown> | undefined> {
    const kinds = this.callbacks.get(deployId);
    const body = kinds?.get(kind);
    kinds?.delete(kind);
    if (kinds?.size === 0) this.callbacks.delete(deployId);
    return body;
  }

  async requestUndeploy(deployId: string): Promise<void> {
    this.emit({ type: 'undeploy', deployId });
  }

  subscribe(listener: (event: DeployStoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ------------------------------------------------------------ internals

  private emit(event: DeployStoreEvent): void {
    for (const l of this.listeners) {
      queueMicrotask(() => {
        try {
          l(event);
        } catch (err) {
          this.opts.log?.warn(`deploy store: a listener failed: ${(err as Error).message}`);
        }
      });
    }
  }

  private parse(id: string): DeployRecord | undefined {
    const json = this.records.get(id);
    return json === undefined ? undefined : (JSON.parse(json) as DeployRecord);
  }

  /** Memory first (a read right after sees the change), then the file; one record's writes stay in order. */
  private write(record: DeployRecord): Promise<void> {
    const id = record.id;
    const target = this.file(id);
    const body = JSON.stringify(record, null, 1);
    this.remember(record, body);
    if (this.writes.has(id)) {
      // A write is on its way: this body goes next, in place of any one still waiting.
      const waiting = this.queued.get(id);
      if (waiting) {
        waiting.body = body;
        return waiting.done;
      }
      let settle!: (err?: unknown) => void;
      const done = new Promise<void>((resolve, reject) => (settle = (err) => (err === undefined ? resolve() : reject(err))));
      done.catch(() => undefined); // the callers see a failure through `done`
      this.queued.set(id, { body, done, settle });
      return done;
    }
    return this.startWrite(id, target, body);
  }

  private startWrite(id: string, target: string, body: string): Promise<void> {
    const next = (async () => {
      const tmp = `${target}.${process.pid}.tmp`;
      await writeFile(tmp, body, { mode: 0o600 });
      await rename(tmp, target);
    })();
    const tracked = next
      .catch(() => undefined) // the caller sees the failure through `next`
      .then(() => {
        this.writes.delete(id);
        const waiting = this.queued.get(id);
        if (!waiting) return;
        this.queued.delete(id);
        this.startWrite(id, target, waiting.body).then(
          () => waiting.settle(),
          (err: unknown) => waiting.settle(err ?? new Error('write failed')),
        );
      });
    this.writes.set(id, tracked);
    return next;
  }

  private remember(r: DeployRecord, json = JSON.stringify(r, null, 1)): void {
    this.records.set(r.id, json);
    this.meta.set(r.id, { state: r.state, createdAt: r.createdAt });
    const l = this.latest.get(r.serverKey);
    if (!l || l.id === r.id || l.createdAt.localeCompare(r.createdAt) < 0) this.latest.set(r.serverKey, { id: r.id, createdAt: r.createdAt });
    this.macs.set(r.id, awaitsRamdisk(r) ? (r.data.macs ?? []) : []);
  }

  private file(id: string): string {
    if (!SAFE_ID.test(id)) throw new DeployError('invalid-input', `invalid deploy id ${JSON.stringify(id.slice(0, 80))}`, { field: 'deployId' });
    return join(this.dir, `${id}.json`);
  }
}
