import type { DeployProcess } from '../step';
import type { DeployMethod } from '../types';
import { agentIloProcess } from './agent-ilo';
import { withCleaning } from './cleaning';
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
export { withCleaning, cleaningSteps } from './cleaning';
export { CLEAN_STEPS, cleanPlan, cleanSteps } from './clean-plan';
export type { CleanStepName } from './clean-plan';
export type { RetryPolicy } from './retry';

/** The three processes, each able to clean (before a deploy, after a tear-down: cleaning.ts), ready for a DeployEngine. */
export function deployProcesses(): Record<DeployMethod, DeployProcess<DeployDeps>> {
  return { agent_ilo: withCleaning(agentIloProcess()), iscsi_ilo: withCleaning(iscsiIloProcess()), pxe_ilo: withCleaning(pxeIloProcess()) };
}
