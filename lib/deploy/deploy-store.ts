/**
 * DeployStore: where the deploy engine keeps deploy records, server claims,
 * leases and ramdisk call-backs. The engine talks only to this interface and
 * never knows which store it has.
 *
 * Implementations:
 * - FileDeployStore (file-deploy-store.ts), the embedded default: one JSON
 *   file per deploy; one Node-RED instance owns everything, so claims,
 *   leases and deliveries are in memory and trivial.
 * - PgDeployStore (pg-deploy-store.ts), the shared store on PostgreSQL: any
 *   number of Node-RED instances with the same flows share one fleet. What it must guarantee is written
 *   on each method below; test/helpers/deploy-store-suite.ts is the
 *   behaviour every implementation passes (a shared one runs it with two
 *   instances on one database as well).
 *
 * Vocabulary:
 * - A deploy is *in progress* while its state is `deploying`,
 *   `wait call-back` or `deleting` (a tear-down or a clean-up retry).
 * - A *server claim* (one per server key) says which deploy may act on the
 *   server: at most one across all instances, held from the start of a
 *   deploy (or undeploy, or clean-up retry) until `finish()`.
 * - A *lease* says which instance runs an in-progress deploy. It is taken by
 *   `create()`, `claim()` or `adoptOrphans()`, kept alive by `renew()`
 *   (the engine renews every `leaseMs / 3` or more often), and given up by
 *   `finish()`, `close()` or by expiring. A deploy in progress whose lease
 *   expired (its instance died) is an *orphan*: `adoptOrphans()` on another
 *   instance takes it over and the engine resumes it as after a restart.
 * - Records are plain JSON (`DeployRecord`); a store returns copies, never
 *   an object the engine is still changing.
 */
import type { CallbackKind } from './step';
import type { DeployRecord, ProvisionState } from './types';

/** The answer to a claim: granted, or why not. */
export type ClaimResult =
  | { ok: true }
  | {
      ok: false;
      /** The deploy that holds the server (in progress, here or on another instance). */
      holder?: string;
      /** `create()`: the server's newest deploy is no longer the one the caller saw (another instance acted meanwhile). */
      latest?: string;
    };

/** What a subscription delivers to the instance running a deploy. */
export type DeployStoreEvent =
  /** A ramdisk call-back was posted (on any instance) for this deploy: `takeCallback()` it. */
  | { type: 'callback'; deployId: string; kind: CallbackKind }
  /** Another instance was asked to undeploy this deploy, which runs here. */
  | { type: 'undeploy'; deployId: string }
  /**
   * This instance could not renew the deploy's lease in time (the database
   * is unreachable, the process stalled): stop the run now, without writing,
   * before the lease can expire and another instance adopt it.
   */
  | { type: 'lost'; deployId: string };

/** What a ramdisk lookup found. */
export type RamdiskLookup = { deployId: string } | { ambiguous: string[] } | { none: true };

export interface DeployStore {
  /** Who this instance is, as leases name it (unique among the instances sharing the store). */
  readonly instanceId: string;
  /** How long a lease lasts without renewal (ms). A dead instance's deploys are taken over within this plus one engine tick. */
  readonly leaseMs: number;

  /** Connect / create what is missing / load. Called once by `DeployEngine.start()`. */
  open(): Promise<void>;
  /**
   * Wait for pending writes, give up every lease this instance holds (its
   * deploys in progress stay in progress: another instance, or this one
   * after a restart, adopts them) and disconnect. Server claims stay.
   */
  close(): Promise<void>;
  /**
   * The engine is stopping: calls waiting for an unreachable backend give up
   * (DeployError 'cancelled') instead of waiting for it. Optional: a store
   * that never waits has nothing to do.
   */
  interrupt?(): void;

  // ------------------------------------------------------------ claims and records

  /**
   * Insert the record of a new deploy, claim its server for it and lease it
   * to this instance: all or nothing, atomically across instances. Refused
   * (nothing written) with `holder` when another deploy holds the server's
   * claim, and with `latest` when the server's newest record is not
   * `expectLatest` (undefined: the server had none), so a deploy decided on
   * what the caller read never lands on a server that changed meanwhile.
   */
  create(record: DeployRecord, expectLatest: string | undefined): Promise<ClaimResult>;
  /**
   * Claim the server for an existing deploy (an undeploy of an active or
   * failed deploy, a clean-up retry) and lease it to this instance,
   * atomically. Refused with `holder` when another deploy holds the claim,
   * or when this deploy is already leased by another live instance
   * (`holder` is then the deploy itself). Granted again to the instance that
   * already holds both. The caller reads the record again after a grant.
   */
  claim(deployId: string): Promise<ClaimResult>;
  /**
   * Write the whole record. A deploy leased by another live instance is not
   * written: the call fails with a DeployError 'lease-lost' (the engine
   * stops that run without writing again). A record nobody leases (an
   * active deploy) may be written by the holder of its server's claim.
   */
  save(record: DeployRecord): Promise<void>;
  /**
   * The deploy left the in-progress states: write it, release its server
   * claim and its lease, and drop its recorded call-backs, at once. Only the
   * instance holding the lease finishes a deploy (else 'lease-lost').
   * `save` without a lease is allowed only for an ended deploy written as
   * ended: a run that lost its lease cannot bring a deploy back.
   */
  finish(record: DeployRecord): Promise<void>;
  get(id: string): Promise<DeployRecord | undefined>;
  /** The newest deploy (by `createdAt`) of a server, whatever its state. */
  latestFor(serverKey: string): Promise<DeployRecord | undefined>;
  /** Every record, or those in the given states, oldest first. */
  list(filter?: { states?: readonly ProvisionState[] }): Promise<DeployRecord[]>;
  /** Remove records that are not kept (see `neverPruned`: in progress, `active`, `clean failed`), last updated before `before`; returns how many. */
  prune(before: Date): Promise<number>;

  // ------------------------------------------------------------ leases

  /**
   * Renew this instance's leases on these deploys; returns the ids among
   * them that are no longer leased to it (taken over after an expiry): the
   * engine stops those runs at once, without writing.
   */
  renew(deployIds: readonly string[]): Promise<string[]>;
  /**
   * Lease every orphan (a deploy in progress that no live instance leases)
   * to this instance and return them, atomically: two instances never adopt
   * the same deploy. The file store's orphans are the deploys in progress
   * found at `open()` (the previous process died or stopped). A deploy
   * that ended (its end written) on an instance that died before `finish()`
   * released its server has its claim and lease released here once its
   * lease expired; it is not adopted.
   */
  adoptOrphans(): Promise<DeployRecord[]>;

  // ------------------------------------------------------------ ramdisk side (any instance)

  /**
   * The deploy a ramdisk belongs to: by `nodeId` when given (only while
   * that deploy is `deploying` or `wait call-back`), else by MAC among the
   * deploys in those two states, using their `data.macs` (compared
   * normalised, see normaliseMac). MACs matching more than one deploy give
   * `ambiguous`: no ramdisk is ever handed another server's deploy.
   */
  findForRamdisk(nodeId: string | undefined, macs: readonly string[]): Promise<RamdiskLookup>;
  /**
   * Record a call-back the engine has checked (deploy in progress, token
   * right), keeping the newest of each kind until taken, then tell the
   * deploy's owner: a `callback` event through its subscription. The record
   * survives until `takeCallback` or `finish`, so a call-back that arrives
   * before the step waits for it, or while the deploy changes owner, is not lost.
   */
  postCallback(deployId: string, kind: CallbackKind, body: Record<string, unknown>): Promise<void>;
  /** Take (and remove) the recorded call-back of this kind, if there is one. */
  takeCallback(deployId: string, kind: CallbackKind): Promise<Record<string, unknown> | undefined>;
  /** Ask the instance running this deploy to undeploy it: an `undeploy` event through its subscription. */
  requestUndeploy(deployId: string): Promise<void>;
  /**
   * Events for the deploys this instance runs (at least those; others are
   * ignored by the engine), delivered asynchronously, at least once. Returns
   * the unsubscribe function.
   */
  subscribe(listener: (event: DeployStoreEvent) => void): () => void;
}

/** The states in which a deploy holds its server's claim and a lease. */
export const IN_PROGRESS_STATES: readonly ProvisionState[] = ['deploying', 'wait call-back', 'deleting', 'cleaning', 'clean wait'];

export function isInProgress(r: Pick<DeployRecord, 'state'>): boolean {
  return IN_PROGRESS_STATES.includes(r.state);
}

/** Records no prune removes: in progress, active, or clean failed (the server must stay refused until an operator clears it). */
export function neverPruned(r: Pick<DeployRecord, 'state'>): boolean {
  return isInProgress(r) || r.state === 'active' || r.state === 'clean failed';
}

/** A deploy a ramdisk may call back to (not a tear-down): deploying, or cleaning (its agent). */
export function awaitsRamdisk(r: Pick<DeployRecord, 'state'>): boolean {
  return r.state === 'deploying' || r.state === 'wait call-back' || r.state === 'cleaning' || r.state === 'clean wait';
}
