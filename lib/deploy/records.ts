/**
 * A deploy record's life outside the steps: how one is made for a request,
 * and what the operator sees of it (status, progress). Neither view holds
 * the token or the step data.
 */
import type { DeployProcess } from './step';
import { newDeployId, newToken } from './tokens';
import type { DeployProgress, DeployRecord, DeployRequest, DeployStatus } from './types';

/** What a host asks the engine to deploy. */
export interface StartRequest {
  /** What is claimed: one deploy per server at a time (the iLO's host:port). */
  serverKey: string;
  serverName: string;
  /** Opaque references the host resolves to clients and settings (`resolveDeps`); not secrets. */
  refs: Record<string, string>;
  request: DeployRequest;
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
    steps: proc.deploySteps.map((s) => s.name),
    completed: [],
    token: newToken(),
    data: {},
    published: [],
    createdAt: now,
    updatedAt: now,
  };
}

export function statusOf(r: DeployRecord): DeployStatus {
  return {
    deployId: r.id,
    server: r.serverName,
    method: r.method,
    action: r.action,
    state: r.state,
    step: r.step?.name,
    stepIndex: r.step ? r.step.index + 1 : undefined,
    stepCount: r.steps.length,
    lastError: r.lastError,
    failedStep: r.failedStep,
    cleanup: r.cleanup,
    result: r.data.result,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    finishedAt: r.finishedAt,
  };
}

export function progressOf(r: DeployRecord, message: string, transfer?: DeployProgress['transfer']): DeployProgress {
  return {
    deployId: r.id,
    server: r.serverName,
    method: r.method,
    action: r.action,
    state: r.state,
    step: r.step?.name,
    stepIndex: r.step ? r.step.index + 1 : undefined,
    stepCount: r.steps.length,
    message,
    transfer,
    time: new Date().toISOString(),
  };
}
