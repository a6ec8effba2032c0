/**
 * The upkeep of active deploys (DeployProcess.upkeep): a netboot instance
 * keeps booting only while the boot media its iLO reads stays served. The
 * engine runs it when a record's `data.upkeepAt` comes (its maintenance
 * tick: the time is in the record, so it survives restarts and is run by
 * whichever instance sharing the store gets there first), and before a
 * power-on or reset made through this package (`beforePowerOn`). Each run
 * holds the server's claim, so it never meets a deploy, rebuild or
 * undeploy of the same server.
 */
import type { DeployStore } from './deploy-store';
import { DeployError } from './errors';
import type { DeployProcess, StepContext } from './step';
import { describe } from './step-runner';
import type { DeployMethod, DeployRecord } from './types';

export interface UpkeepHost<TDeps> {
  store: DeployStore;
  processes: Partial<Record<DeployMethod, DeployProcess<TDeps>>>;
  resolveDeps(record: DeployRecord): Promise<TDeps>;
  context(record: DeployRecord, deps: TDeps, signal: AbortSignal): StepContext<TDeps>;
  now(): number;
  /** The engine runs this deploy (a deploy, tear-down or clean-up retry) here: it owns the server. */
  busy(deployId: string): boolean;
  log?: { info(m: string): void; warn(m: string): void };
}

/** Bound of one upkeep (it may rebuild and publish a boot ISO). */
const UPKEEP_TIMEOUT_MS = 900_000;

export class ActiveUpkeep<TDeps> {
  /**
   * What holds a deploy here: an upkeep, or the engine claiming an existing
   * deploy's server (an undeploy, a tear-down retry). The store grants a
   * claim again to the instance that holds it, so these keep such actions
   * of one instance apart.
   */
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly host: UpkeepHost<TDeps>) {}

  /** Every active deploy whose upkeep is due; one that fails is tried again at the next tick. */
  async due(): Promise<void> {
    const now = this.host.now();
    for (const r of await this.host.store.list({ states: ['active'] })) {
      if (!r.data.upkeepAt || Date.parse(r.data.upkeepAt) > now) continue;
      await this.run(r, 'due').catch((err: unknown) => this.host.log?.warn(`deploy ${r.id} on ${r.serverName}: keeping the instance bootable failed (tried again shortly): ${describe(err)}`));
    }
  }

  /**
   * Before a server is powered on or reset through this package: the upkeep
   * of its active deploy, if its process has one. Resolves with the deploy
   * it ran for; throws what kept it from keeping the server bootable.
   */
  async beforePowerOn(serverKey: string): Promise<{ deployId: string } | undefined> {
    const r = await this.host.store.latestFor(serverKey);
    if (!r || r.state !== 'active' || !this.host.processes[r.method]?.upkeep) return undefined;
    return (await this.run(r, 'power-on')) ? { deployId: r.id } : undefined;
  }

  /** `fn` alone among what holds this deploy here (see `locks`); waits for what holds it first. */
  async exclusive<T>(deployId: string, fn: () => Promise<T>): Promise<T> {
    for (let held = this.locks.get(deployId); held; held = this.locks.get(deployId)) await held.catch(() => undefined);
    const p = fn();
    this.locks.set(deployId, p);
    try {
      return await p;
    } finally {
      if (this.locks.get(deployId) === p) this.locks.delete(deployId);
    }
  }

  /** One at a time per deploy: a due one finding it held leaves it be (the next tick sees); a power-on waits, then runs its own. */
  private run(r: DeployRecord, why: 'due' | 'power-on'): Promise<boolean> {
    if (why === 'due' && this.locks.has(r.id)) return Promise.resolve(false);
    return this.exclusive(r.id, () => this.claimAndRun(r, why));
  }

  /** Under the server's claim, on the record as it is then; false when the claim could not be had or the deploy changed meanwhile. */
  private async claimAndRun(r: DeployRecord, why: 'due' | 'power-on'): Promise<boolean> {
    const proc = this.host.processes[r.method];
    if (!proc?.upkeep || this.host.busy(r.id)) return false;
    const claim = await this.host.store.claim(r.id);
    // Held: a deploy, tear-down or another upkeep of this server is running (here or elsewhere); that one decides.
    if (!claim.ok) return false;
    const fresh = await this.host.store.get(r.id);
    if (!fresh) return false;
    try {
      if (fresh.state !== 'active') return false;
      const deps = await this.host.resolveDeps(fresh);
      const signal = AbortSignal.timeout(UPKEEP_TIMEOUT_MS);
      try {
        await proc.upkeep(this.host.context(fresh, deps, signal), why);
      } catch (err) {
        throw signal.aborted ? new DeployError('timeout', `the upkeep did not finish within ${UPKEEP_TIMEOUT_MS / 1000} s`, { cause: err }) : err;
      }
      return true;
    } finally {
      await this.host.store.finish(fresh);
    }
  }
}
