/**
 * A shared deploy store in memory: several instances on one backend, with
 * leases that expire by the clock, as a database-backed store behaves. It
 * exists to prove two things here, before a PostgreSQL store exists: that
 * the sharing part of the deploy store suite can be passed, and that the
 * engine runs one fleet from several instances (call-backs on any instance,
 * takeover of a stopped instance's deploys, undeploy from anywhere).
 * Each operation is synchronous, so atomic, as a transaction would be.
 */
import { randomUUID } from 'node:crypto';
import { awaitsRamdisk, isInProgress, neverPruned, type ClaimResult, type DeployStore, type DeployStoreEvent, type RamdiskLookup } from '../../lib/deploy/deploy-store';
import { DeployError } from '../../lib/deploy/errors';
import { normaliseMac } from '../../lib/deploy/mac-index';
import type { CallbackKind } from '../../lib/deploy/step';
import type { DeployRecord, ProvisionState } from '../../lib/deploy/types';

export class MemoryDeployBackend {
  readonly records = new Map<string, string>();
  readonly claims = new Map<string, string>();
  readonly leases = new Map<string, { owner: string; expires: number }>();
  readonly callbacks = new Map<string, Map<CallbackKind, Record<string, unknown>>>();
  readonly listeners = new Map<string, Set<(e: DeployStoreEvent) => void>>();

  instance(opts: { leaseMs?: number } = {}): MemoryDeployStore {
    return new MemoryDeployStore(this, opts.leaseMs ?? 2000);
  }
}

export class MemoryDeployStore implements DeployStore {
  readonly instanceId = randomUUID();

  constructor(
    private readonly b: MemoryDeployBackend,
    readonly leaseMs: number,
  ) {}

  async open(): Promise<void> {
    this.b.listeners.set(this.instanceId, new Set());
  }

  async close(): Promise<void> {
    for (const [id, l] of this.b.leases) if (l.owner === this.instanceId) this.b.leases.delete(id);
    this.b.listeners.delete(this.instanceId);
  }

  async create(record: DeployRecord, expectLatest: string | undefined): Promise<ClaimResult> {
    const holder = this.b.claims.get(record.serverKey);
    if (holder !== undefined) return { ok: false, holder };
    const latest = this.newest(record.serverKey)?.id;
    if (latest !== expectLatest) return { ok: false, latest };
    this.b.claims.set(record.serverKey, record.id);
    this.lease(record.id);
    this.b.records.set(record.id, JSON.stringify(record));
    return { ok: true };
  }

  async claim(deployId: string): Promise<ClaimResult> {
    const r = this.read(deployId);
    if (!r) throw new DeployError('not-found', `no deploy ${deployId}`);
    const holder = this.b.claims.get(r.serverKey);
    if (holder !== undefined && holder !== deployId) return { ok: false, holder };
    const l = this.b.leases.get(deployId);
    if (l && l.owner !== this.instanceId && (l.expires > Date.now() || holder === deployId)) return { ok: false, holder: deployId };
    this.b.claims.set(r.serverKey, deployId);
    this.lease(deployId);
    return { ok: true };
  }

  async save(record: DeployRecord): Promise<void> {
    this.fence(record);
    this.b.records.set(record.id, JSON.stringify(record));
  }

  async finish(record: DeployRecord): Promise<void> {
    if (this.b.leases.get(record.id)?.owner !== this.instanceId) throw new DeployError('lease-lost', `deploy ${record.id} is not run here`);
    this.b.records.set(record.id, JSON.stringify(record));
    if (this.b.claims.get(record.serverKey) === record.id) this.b.claims.delete(record.serverKey);
    this.b.leases.delete(record.id);
    this.b.callbacks.delete(record.id);
  }

  async get(id: string): Promise<DeployRecord | undefined> {
    return this.read(id);
  }

  async latestFor(serverKey: string): Promise<DeployRecord | undefined> {
    return this.newest(serverKey);
  }

  async list(filter: { states?: readonly ProvisionState[] } = {}): Promise<DeployRecord[]> {
    return this.all().filter((r) => !filter.states || filter.states.includes(r.state));
  }

  async prune(before: Date): Promise<number> {
    const old = this.all().filter((r) => !neverPruned(r) && Date.parse(r.updatedAt) < before.getTime());
    for (const r of old) this.b.records.delete(r.id);
    return old.length;
  }

  async renew(deployIds: readonly string[]): Promise<string[]> {
    const lost: string[] = [];
    for (const id of deployIds) {
      if (this.b.leases.get(id)?.owner === this.instanceId) this.lease(id);
      else lost.push(id);
    }
    return lost;
  }

  async adoptOrphans(): Promise<DeployRecord[]> {
    for (const r of this.all()) {
      const l = this.b.leases.get(r.id);
      if (isInProgress(r) || (l && l.expires > Date.now())) continue;
      // Ended, never released (its instance died in between): the server is free again.
      this.b.leases.delete(r.id);
      if (this.b.claims.get(r.serverKey) === r.id) this.b.claims.delete(r.serverKey);
    }
    const orphans = this.all().filter((r) => {
      const l = this.b.leases.get(r.id);
      return isInProgress(r) && (!l || l.expires <= Date.now());
    });
    for (const r of orphans) this.lease(r.id);
    return orphans;
  }

  async findForRamdisk(nodeId: string | undefined, macs: readonly string[]): Promise<RamdiskLookup> {
    if (nodeId) {
      const r = this.read(nodeId);
      return r && awaitsRamdisk(r) ? { deployId: r.id } : { none: true };
    }
    const wanted = new Set(macs.map(normaliseMac).filter(Boolean));
    const ids = this.all()
      .filter((r) => awaitsRamdisk(r) && (r.data.macs ?? []).some((m) => wanted.has(normaliseMac(m))))
      .map((r) => r.id);
    if (ids.length > 1) return { ambiguous: ids };
    return ids.length ? { deployId: ids[0] as string } : { none: true };
  }

  async postCallback(deployId: string, kind: CallbackKind, body: Record<string, unknown>): Promise<void> {
    const kinds = this.b.callbacks.get(deployId) ?? new Map<CallbackKind, Record<string, unknown>>();
    kinds.set(kind, structuredClone(body));
    this.b.callbacks.set(deployId, kinds);
    this.toOwner({ type: 'callback', deployId, kind });
  }

  async takeCallback(deployId: string, kind: CallbackKind): Promise<Record<string, unknown> | undefined> {
    const kinds = this.b.callbacks.get(deployId);
    const body = kinds?.get(kind);
    kinds?.delete(kind);
    return body;
  }

  async requestUndeploy(deployId: string): Promise<void> {
    this.toOwner({ type: 'undeploy', deployId });
  }

  subscribe(listener: (event: DeployStoreEvent) => void): () => void {
    const set = this.b.listeners.get(this.instanceId) ?? new Set();
    this.b.listeners.set(this.instanceId, set);
    set.add(listener);
    return () => set.delete(listener);
  }

  // ------------------------------------------------------------ internals

  /** NOTIFY to the instance holding the lease, as a database would. */
  private toOwner(e: DeployStoreEvent): void {
    const owner = this.b.leases.get(e.deployId)?.owner;
    for (const l of (owner && this.b.listeners.get(owner)) || []) setImmediate(() => l(e));
  }

  private lease(id: string): void {
    this.b.leases.set(id, { owner: this.instanceId, expires: Date.now() + this.leaseMs });
  }

  /** Only the instance holding a deploy's lease writes it; without a lease, only an ended deploy written as ended. */
  private fence(record: DeployRecord): void {
    const l = this.b.leases.get(record.id);
    const stored = this.read(record.id);
    const unleasedOk = !l && !(stored && isInProgress(stored)) && !isInProgress(record);
    if (l?.owner !== this.instanceId && !unleasedOk) throw new DeployError('lease-lost', `deploy ${record.id} is run by another instance`);
  }

  private read(id: string): DeployRecord | undefined {
    const json = this.b.records.get(id);
    return json === undefined ? undefined : (JSON.parse(json) as DeployRecord);
  }

  private all(): DeployRecord[] {
    return [...this.b.records.keys()].map((id) => this.read(id) as DeployRecord).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  private newest(serverKey: string): DeployRecord | undefined {
    return this.all()
      .filter((r) => r.serverKey === serverKey)
      .at(-1);
  }
}
