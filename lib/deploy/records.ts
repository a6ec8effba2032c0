/**
 * A deploy record's life outside the steps: how one is made for a request,
 * what the operator sees of it (status, progress; neither holds the token
 * or the step data), and which one an undeploy or a refusal names.
 */
import type { DeployStore } from './deploy-store';
import { LibError } from '../errors';
import { DeployError } from './errors';
import type { DeployProcess, Step } from './step';
import { newDeployId, newToken } from './tokens';
import type { DeployProgress, DeployRecord, DeployRequest, DeployStatus, ProvisionState } from './types';

/** What a host asks the engine to deploy. */
export interface StartRequest {
  /** What is claimed: one deploy per server at a time (the iLO's host:port). */
  serverKey: string;
  serverName: string;
  /** Opaque references the host resolves to clients and settings (`resolveDeps`); not secrets. */
  refs: Record<string, string>;
  request: DeployRequest;
  /**
   * Start only if the server's newest deploy is in one of these states (a
   * server never deployed counts as `available`); the store's claim makes the
   * check hold until the deploy is recorded. A pool deploy uses it so that
   * a server that changed after it was picked is refused, not deployed.
   */
  onlyFrom?: readonly ProvisionState[];
}

export function newRecord<TDeps>(req: StartRequest, proc: DeployProcess<TDeps>, action: 'deploy' | 'rebuild'): DeployRecord {
  const now = new Date().toISOString();
  return {
    id: newDeployId(),
    serverKey: req.serverKey,
    serverName: req.serverName,
    refs: { ...req.refs },
    method: req.request.method,
    action,
    state: 'deploying',
    request: { ...req.request },
    clean: req.request.clean,
    steps: stepNames(proc.deploySteps, req.request.clean !== undefined),
    completed: [],
    token: newToken(),
    data: {},
    published: [],
    createdAt: now,
    updatedAt: now,
  };
}

/** The steps a run shows: cleaning steps only when it cleans. */
export function stepNames(steps: readonly Pick<Step<never>, 'name' | 'stage'>[], cleans: boolean): string[] {
  return steps.filter((s) => cleans || s.stage !== 'clean').map((s) => s.name);
}

/** 1-based position of the current step among those the run shows. */
function stepIndexOf(r: DeployRecord): number | undefined {
  if (!r.step) return undefined;
  const at = r.steps.indexOf(r.step.name);
  return at >= 0 ? at + 1 : r.step.index + 1;
}

export function statusOf(r: DeployRecord): DeployStatus {
  return {
    deployId: r.id,
    server: r.serverName,
    method: r.method,
    action: r.action,
    state: r.state,
    step: r.step?.name,
    stepIndex: stepIndexOf(r),
    stepCount: r.steps.length,
    lastError: r.lastError,
    failedStep: r.failedStep,
    consoleTail: (r.state === 'deploy failed' || r.state === 'error') && r.consoleTail?.length ? [...r.consoleTail] : undefined,
    cleanup: r.cleanup,
    result: r.data.result,
    cleaning: r.data.cleaning,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    finishedAt: r.finishedAt,
  };
}

/** Console lines a record keeps: enough to see why a ramdisk never called back. */
export const CONSOLE_TAIL_LINES = 100;

/** One more console line on a running deploy's record (the oldest dropped past CONSOLE_TAIL_LINES). */
export function addConsoleLine(r: DeployRecord, line: string): void {
  const tail = (r.consoleTail ??= []);
  tail.push(line);
  if (tail.length > CONSOLE_TAIL_LINES) tail.splice(0, tail.length - CONSOLE_TAIL_LINES);
}

export function progressOf(r: DeployRecord, message: string, transfer?: DeployProgress['transfer']): DeployProgress {
  return {
    deployId: r.id,
    server: r.serverName,
    method: r.method,
    action: r.action,
    state: r.state,
    step: r.step?.name,
    stepIndex: stepIndexOf(r),
    stepCount: r.steps.length,
    message,
    transfer,
    time: new Date().toISOString(),
  };
}

/** The record an undeploy acts on: a server's newest deploy, or the given one if it is its server's newest. */
export async function undeployable(store: DeployStore, target: string | { deployId: string }): Promise<DeployRecord> {
  if (typeof target === 'string') {
    const last = await store.latestFor(target);
    if (!last || last.state === 'available') throw new DeployError('not-found', `nothing is deployed on ${target}`);
    return last;
  }
  const rec = await store.get(target.deployId);
  if (!rec) throw new DeployError('not-found', `no deploy ${target.deployId}`);
  const current = await store.latestFor(rec.serverKey);
  if (current?.id !== rec.id) {
    throw new DeployError('busy', `${rec.serverName}: deploy ${rec.id} is not its current deploy (${current?.id ?? 'none'} is); undeploy that one`);
  }
  // The deploy exists and is its server's newest: undeploying it again conflicts with its state (HTTP 409).
  if (rec.state === 'available') throw new LibError('conflict', `deploy ${rec.id} on ${rec.serverName} is already undeployed (state available)`, { field: 'deployId' });
  return rec;
}

/** A server whose cleaning failed takes no deploy until an operator clears it (Ironic: `manage`, then `provide` cleans again). */
export function cleanFailedRefusal(previous: DeployRecord | undefined, serverName: string): DeployError | undefined {
  if (previous?.state !== 'clean failed') return undefined;
  return new DeployError(
    'busy',
    `${serverName} failed cleaning at step ${previous.failedStep ?? '?'} (deploy ${previous.id}): ${previous.lastError ?? 'clean failed'}; it takes no deploy until cleared: undeploy it (with cleaning, to clean it again; without, to accept it as it is)`,
    { step: previous.failedStep },
  );
}

/** The refusal of a start whose server is not in one of the states it accepts (StartRequest.onlyFrom). */
export function stateRefusal(req: StartRequest, previous: DeployRecord | undefined): DeployError | undefined {
  const state = previous?.state ?? 'available';
  if (!req.onlyFrom || req.onlyFrom.includes(state)) return undefined;
  return new DeployError('busy', `${req.serverName} is ${state}${previous ? ` (deploy ${previous.id})` : ''}`);
}

/** The refusal when another deploy holds the server. */
export async function busy(store: DeployStore, serverName: string, holder: string | undefined): Promise<DeployError> {
  const h = holder === undefined ? undefined : await store.get(holder);
  return new DeployError('busy', `${serverName} is busy: deploy ${holder ?? '?'} is ${h?.state ?? 'in progress'}; one deploy per server at a time`);
}
