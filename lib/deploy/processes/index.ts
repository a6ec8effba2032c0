import type { DeployProcess } from '../step';
import type { DeployMethod } from '../types';
import { agentIloProcess } from './agent-ilo';
import type { DeployDeps } from './deps';
import { iscsiIloProcess } from './iscsi-ilo';
import { pxeIloProcess } from './pxe-ilo';

export * from './deps';
export type * from './data';
export { agentIloProcess } from './agent-ilo';
export { iscsiIloProcess } from './iscsi-ilo';
export { pxeIloProcess } from './pxe-ilo';
export { iscsiTargetIqn } from './iscsi-steps';
export { retryTransient, isPermanentFailure } from './retry';
export type { RetryPolicy } from './retry';

/** The three processes, ready for a DeployEngine. */
export function deployProcesses(): Record<DeployMethod, DeployProcess<DeployDeps>> {
  return { agent_ilo: agentIloProcess(), iscsi_ilo: iscsiIloProcess(), pxe_ilo: pxeIloProcess() };
}
