/**
 * Automated cleaning, as Ironic does it between tenants (and, when asked,
 * before a first deploy): boot the agent ramdisk by virtual media (agent_ilo's
 * own steps: whatever process deployed the server, cleaning runs
 * ironic-python-agent, as Ironic's does), run the plan's steps (the agent's
 * and the iLO's, clean-steps.ts), then power off. The run shows `cleaning`,
 * `clean wait` while the agent boots, then `available`; a failure ends in
 * `clean failed` naming the step, after the clean-up (media ejected,
 * objects removed, server off).
 *
 * The steps are the `clean` stage of every process: after its tear-down
 * steps (undeploy), and before its deploy steps (a deploy asking for it);
 * they run only when the record has a clean plan (step-runner.ts).
 */
import type { DeployProcess, Step } from '../step';
import { newToken } from '../tokens';
import { agentClient } from './agent-connection';
import { waitForAgent } from './agent-ilo';
import { runCleanStepsStep } from './clean-steps';
import type { CleaningData } from './data';
import type { DeployDeps } from './deps';
import { attachMediaStep, cleanUp, detachDeployMediaStep, inspectServer, powerOffStep, powerOnStep, publishDeployMediaStep, required, type Ctx } from './steps';
import { DeployError, badInput } from '../errors';
import type { CleanPlan, DeployRequest, StepData } from '../types';
import { CLEAN_STEPS, checkCleanRamdisk } from './clean-plan';

type CleanStep = Step<DeployDeps, CleaningData>;

/** The same step, as part of a cleaning: its own name (a deploy after a cleaning runs the original too). */
function asClean<T extends StepData>(step: Step<DeployDeps, T>, title?: string): Step<DeployDeps, T> {
  return { ...step, name: `clean-${step.name}`, title: title ?? step.title, stage: 'clean' };
}

/** What a previous agent left (its URL, certificate, heartbeat) would refuse or confuse the next one: forgotten. */
function forgetAgent(ctx: Ctx<CleaningData>): void {
  for (const k of ['agentUrl', 'agentVerifyCa', 'agentVersion', 'agentCleanSteps', 'cleanVersion', 'cleanAt', 'cleanSent'] as const) delete ctx.data[k];
  const completed = ctx.record.completed;
  for (let i = completed.length - 1; i >= 0; i--) if (completed[i] === 'callback:heartbeat') completed.splice(i, 1);
}

/** The agent ramdisk the cleaning boots: the plan's, else the deploy's own when it deployed with agent_ilo. */
function cleaningRamdisk(ctx: Ctx<CleaningData>): { deployIso?: string; deployKernel?: string; deployRamdisk?: string } {
  const plan = required(ctx.record.clean, 'the clean plan');
  if (plan.deployIso || plan.deployKernel) return plan;
  const req = ctx.record.request;
  if (req.method === 'agent_ilo' && (req.deployIso || req.deployKernel)) return req;
  throw new DeployError('invalid-input', `clean.deployIso: cleaning boots ironic-python-agent, and ${ctx.record.serverName} was deployed with ${req.method}; give the agent's ISO (or deployKernel and deployRamdisk) for cleaning`, { field: 'clean.deployIso' });
}

function prepareStep(): CleanStep {
  return {
    name: 'clean-prepare',
    title: 'Prepare the cleaning',
    stage: 'clean',
    resumable: true,
    timeoutMs: 30_000,
    async run(ctx) {
      cleaningRamdisk(ctx);
      forgetAgent(ctx);
      ctx.data.cleaning = { done: [], skipped: [] };
      await ctx.save();
    },
  };
}

function finishStep(): CleanStep {
  return {
    name: 'clean-finish',
    title: 'Power off after cleaning',
    stage: 'clean',
    resumable: true,
    timeoutMs: (ctx) => ctx.deps.settings.powerTimeoutMs + 120_000,
    async run(ctx) {
      const bmc = await ctx.deps.bmc();
      const { powerTimeoutMs, pollIntervalMs } = ctx.deps.settings;
      if ((await bmc.getPowerState()) === 'on') {
        // The agent shuts itself down (standby.power_off); the iLO's hard power-off if it does not.
        try {
          await agentClient(ctx).powerOff(ctx.signal);
          await bmc.waitForPowerState('off', { timeoutMs: Math.min(powerTimeoutMs, 60_000), intervalMs: pollIntervalMs, signal: ctx.signal });
        } catch {
          await bmc.powerOff();
          await bmc.waitForPowerState('off', { timeoutMs: powerTimeoutMs, intervalMs: pollIntervalMs, signal: ctx.signal });
        }
      }
      forgetAgent(ctx);
      // The cleaning agent is gone: its token goes too (a deploy after it hands its own agent a new one).
      ctx.record.token = newToken();
      await ctx.save();
    },
  };
}

/** The cleaning's steps, in order. */
export function cleaningSteps(): CleanStep[] {
  return [
    prepareStep(),
    asClean(inspectServer(true)),
    asClean(powerOffStep()),
    asClean(
      publishDeployMediaStep(
        (ctx) => ({
          'ipa-api-url': ctx.deps.settings.apiUrl,
          'ipa-agent-token': ctx.record.token,
          'ipa-driver-name': 'agent_ilo',
          boot_method: 'vmedia',
          BOOTIF: required(ctx.data.bootMac, 'the boot MAC'),
          'coreos.configdrive': 0,
        }),
        cleaningRamdisk,
      ),
      'Build and publish the cleaning agent media',
    ),
    asClean(attachMediaStep()),
    asClean(powerOnStep('Power on into the cleaning agent')),
    asClean(waitForAgent()),
    asClean(detachDeployMediaStep()),
    runCleanStepsStep(),
    finishStep(),
  ];
}

/**
 * A process that also cleans: after its tear-down when the undeploy asks,
 * before its deploy when the deploy asks. A failed cleaning's clean-up
 * ejects the virtual media whatever the process (pxe_ilo's does not).
 */
export function withCleaning(proc: DeployProcess<DeployDeps>): DeployProcess<DeployDeps> {
  // The cleaning's step data (CleaningData) lives beside the process's own in the record's data.
  const steps = cleaningSteps() as unknown as Step<DeployDeps>[];
  return {
    ...proc,
    validate(req) {
      proc.validate(req);
      if (req.clean) checkCleanRequest(req);
    },
    deploySteps: [...steps, ...proc.deploySteps],
    teardownSteps: [...proc.teardownSteps, ...steps],
    cleanup: async (ctx) => (ctx.record.state === 'clean failed' ? cleanUp(ctx, { virtualMedia: true }) : proc.cleanup(ctx)),
  };
}

/** A deploy's clean plan (made by clean-plan.ts, or by a library caller): known steps, and an agent to run them. */
function checkCleanRequest(req: DeployRequest): void {
  const plan = req.clean as CleanPlan;
  if (!Array.isArray(plan.steps)) throw badInput('clean.steps', 'a list of clean steps', plan.steps);
  plan.steps.forEach((s, i) => {
    if (!(s?.step in CLEAN_STEPS)) throw badInput(`clean.steps[${i}].step`, `one of ${Object.keys(CLEAN_STEPS).join(', ')}`, s?.step);
    if (!Number.isInteger(s.priority) || s.priority < 1) throw badInput(`clean.steps[${i}].priority`, 'a whole number above 0 (steps at 0 are left out of a plan)', s.priority);
  });
  checkCleanRamdisk(plan, req.method, 'clean.deployIso');
}
