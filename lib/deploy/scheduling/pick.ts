/**
 * A pool deploy: "any available server of pool rack-a with boot_mode uefi
 * and at least 64 GiB". The servers of the pool whose facts meet the
 * requirements (match.ts) and that are free are tried one after the other,
 * best fit first, until the engine starts a deploy on one. Whether a server
 * is free is decided by the deploy store's claim, not by timing: the engine
 * starts a deploy only when the server's newest record is still the one it
 * read and no other deploy holds it (DeployStore.create), and only from the
 * states a pool accepts (StartRequest.onlyFrom). Concurrent pool deploys
 * therefore never get the same server; one that loses a claim goes on to the
 * next candidate, and when none is left it is refused with the reason.
 *
 * A server is offered by a pool when its newest deploy is `available` (or it
 * never deployed). Never when it is deploying, deleting or cleaning (busy),
 * `active` (deployed), or `clean failed` (until an operator clears it). A
 * server whose last deploy failed (`deploy failed`) is left out unless the
 * request says `allowFailed: true`; `error` (a tear-down left incomplete) is
 * never offered (the engine refuses to deploy over it).
 */
import { LibError } from '../../errors';
import { isDeployError } from '../errors';
import type { StartRequest } from '../records';
import type { DeployStatus, ProvisionState } from '../types';
import { describeRequirements, unmet, type Requirements, type ServerFacts } from './match';

/** What a pool deploy asks for. */
export interface PoolRequest extends Requirements {
  /** The pool's name; undefined: every server given. */
  pool?: string;
  /** Offer servers whose last deploy failed (`deploy failed`) too. */
  allowFailed?: boolean;
}

/** One server of the pool, as the host knows it. */
export interface PoolCandidate {
  name: string;
  /** Its server key (the engine's claim is per key). */
  key: string;
  facts: ServerFacts;
}

/** What a pool deploy needs of the engine. */
export interface PoolEngine {
  status(serverKey: string): Promise<DeployStatus | undefined>;
  deploy(req: StartRequest): Promise<DeployStatus>;
}

/** Why a pool had no server to give: how many it has, how many matched, and what each matching one was doing. */
export interface PoolRefusal {
  pool?: string;
  requirements: string;
  servers: number;
  matched: number;
  /** Matching servers not free: name and state (or why the claim was refused). */
  busy: Array<{ server: string; state: string }>;
  /** Servers that did not match, and the first requirement each misses. */
  unmatched: Array<{ server: string; reason: string }>;
}

/** The refusal of a pool deploy (409): `pool` says why, by the numbers. */
export class NoServerAvailableError extends LibError<'conflict'> {
  constructor(readonly pool: PoolRefusal) {
    const where = pool.pool === undefined ? 'the fleet' : `pool "${pool.pool}"`;
    const busy = pool.busy.length ? ` (${pool.busy.slice(0, 10).map((b) => `${b.server}: ${b.state}`).join('; ')}${pool.busy.length > 10 ? '; …' : ''})` : '';
    super('conflict', `no server of ${where} is available for ${pool.requirements}: ${pool.servers} in the pool, ${pool.matched} match the requirements, ${pool.busy.length} of them busy${busy}`, { field: 'server' });
    this.name = 'NoServerAvailableError';
  }

  protected override details(): Record<string, unknown> {
    return { pool: this.pool };
  }
}

/**
 * Thrown by a pool deploy's `start` when this one server cannot take the
 * request (root device hints that no disk of its last inspection matches):
 * the pool goes on to the next candidate and counts this one as unmatched.
 * Outside a pool it is a plain 409 naming the field.
 */
export class ServerUnsuitableError extends LibError<'conflict'> {
  constructor(message: string, field: string) {
    super('conflict', message, { field });
    this.name = 'ServerUnsuitableError';
  }
}

/** The states a pool offers a server in. */
export function offeredStates(req: Pick<PoolRequest, 'allowFailed'>): ProvisionState[] {
  return req.allowFailed ? ['available', 'deploy failed'] : ['available'];
}

function num(facts: ServerFacts, key: string): number {
  const n = Number(facts.properties[key]);
  return Number.isFinite(n) ? n : Number.POSITIVE_INFINITY;
}

/** Best fit first: the smallest server that meets the requirements (the big ones stay for requests that need them), then by name. */
export function pickOrder(a: PoolCandidate, b: PoolCandidate): number {
  for (const key of ['memory_mb', 'cpus', 'local_gb']) {
    const d = num(a.facts, key) - num(b.facts, key);
    if (d !== 0 && Number.isFinite(d)) return d;
  }
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * Start a deploy on one free matching server of the pool (`start` builds
 * the engine request for it). Resolves with the deploy started and the
 * server picked; rejects with NoServerAvailableError (409) when none could
 * be had, and with any other error of the engine's as it is (a bad request
 * is bad on every server).
 */
export async function deployOnPool(engine: PoolEngine, req: PoolRequest, candidates: readonly PoolCandidate[], start: (c: PoolCandidate) => Promise<StartRequest>): Promise<{ status: DeployStatus; picked: PoolCandidate; matched: number }> {
  const unmatched: PoolRefusal['unmatched'] = [];
  const matching: PoolCandidate[] = [];
  for (const c of candidates) {
    const reason = unmet(c.facts, req);
    if (reason) unmatched.push({ server: c.name, reason });
    else matching.push(c);
  }
  const offered = offeredStates(req);
  const busy: PoolRefusal['busy'] = [];
  const free: PoolCandidate[] = [];
  for (const c of matching) {
    const state = (await engine.status(c.key))?.state ?? 'available';
    if (offered.includes(state)) free.push(c);
    else busy.push({ server: c.name, state });
  }
  let matched = matching.length;
  for (const c of free.sort(pickOrder)) {
    let startRequest: StartRequest;
    try {
      startRequest = await start(c);
    } catch (err) {
      if (!(err instanceof ServerUnsuitableError)) throw err;
      // This server cannot take it (its disks, say): it does not match after all.
      matched -= 1;
      unmatched.push({ server: c.name, reason: err.message });
      continue;
    }
    try {
      const status = await engine.deploy({ ...startRequest, onlyFrom: offered });
      return { status, picked: c, matched };
    } catch (err) {
      // Taken meanwhile (another request's claim won, or its state changed): the next one.
      if (!isDeployError(err, 'busy')) throw err;
      busy.push({ server: c.name, state: `taken meanwhile: ${err.message}` });
    }
  }
  throw new NoServerAvailableError({ pool: req.pool, requirements: describeRequirements(req), servers: candidates.length, matched, busy, unmatched });
}
