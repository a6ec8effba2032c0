/**
 * The step that runs a cleaning's plan once the agent is up, as Ironic's
 * conductor does: the agent's steps (`clean.get_clean_steps` once, then
 * `clean.execute_clean_step` for each, polled until it ends) and the iLO's
 * out-of-band ones, in the plan's order. Where it got is saved after each
 * step, so a restart resumes at the step it was in (an agent step already
 * sent is polled again, not sent twice). An out-of-band step this iLO
 * cannot do is skipped with a note, as Ironic skips a step the hardware
 * does not support; any other failure names its step.
 */
import { isBmcError } from '../../bmc/errors';
import type { Bmc } from '../../bmc/types';
import type { AgentClient } from '../agent-client';
import { DeployError } from '../errors';
import type { Step } from '../step';
import { describe } from '../step-runner';
import type { CleanStepSpec } from '../types';
import { agentClient } from './agent-connection';
import { CLEAN_STEPS, isAgentStep, type CleanStepName } from './clean-plan';
import type { CleaningData } from './data';
import type { DeployDeps } from './deps';
import { required, whenNotInPost, type Ctx } from './steps';

type CleanCtx = Ctx<CleaningData>;

/** Ironic's out-of-band steps, through the Bmc interface. */
const OUT_OF_BAND: Record<Exclude<CleanStepName, 'erase_devices_metadata' | 'erase_devices'>, (bmc: Bmc, ctx: CleanCtx) => Promise<void>> = {
  reset_secure_boot_keys_to_default: (bmc) => bmc.resetSecureBootKeys('default'),
  clear_secure_boot_keys: (bmc) => bmc.resetSecureBootKeys('delete'),
  reset_bios_to_default: (bmc) => bmc.resetBiosToDefault(),
  eject_media: (bmc) => bmc.detachDeployMedia(),
  clear_one_time_boot: (bmc, ctx) => whenNotInPost(ctx, 'Clear the one-time boot', () => bmc.setOneTimeBoot('normal')),
};

/** The node and ports Ironic sends with clean commands (the agent's hardware managers may look at them). */
function nodeAndPorts(ctx: CleanCtx): { node: Record<string, unknown>; ports: Array<Record<string, unknown>> } {
  return {
    node: { uuid: ctx.record.id, name: ctx.record.serverName, properties: {}, instance_info: {}, driver_internal_info: {} },
    ports: (ctx.data.macs ?? []).map((address) => ({ address })),
  };
}

async function offeredSteps(ctx: CleanCtx, agent: AgentClient): Promise<string[]> {
  if (ctx.data.agentCleanSteps) return ctx.data.agentCleanSteps;
  const r = (await agent.run('clean.get_clean_steps', nodeAndPorts(ctx), true, ctx.signal)).command_result ?? {};
  const byManager = (r.clean_steps ?? {}) as Record<string, unknown>;
  const names = Object.values(byManager).flatMap((list) => (Array.isArray(list) ? list.map((s) => String((s as { step?: unknown }).step)) : []));
  ctx.data.agentCleanSteps = [...new Set(names)];
  ctx.data.cleanVersion = (r.hardware_manager_version ?? {}) as Record<string, unknown>;
  await ctx.save();
  return ctx.data.agentCleanSteps;
}

async function runAgentStep(ctx: CleanCtx, agent: AgentClient, spec: CleanStepSpec): Promise<void> {
  const offered = await offeredSteps(ctx, agent);
  if (!offered.includes(spec.step)) throw new Error(`the agent offers no clean step ${spec.step} (it offers ${offered.join(', ') || 'none'})`);
  if (!ctx.data.cleanSent) {
    const step = { step: spec.step, priority: spec.priority, interface: 'deploy', reboot_requested: false, abortable: true, ...(spec.args ? { args: spec.args } : {}) };
    await agent.run('clean.execute_clean_step', { step, ...nodeAndPorts(ctx), clean_version: ctx.data.cleanVersion ?? {} }, false, ctx.signal);
    ctx.data.cleanSent = true;
    await ctx.save();
  }
  const started = Date.now();
  await agent.waitFor('execute_clean_step', {
    timeoutMs: ctx.deps.settings.writeTimeoutMs,
    intervalMs: ctx.deps.settings.pollIntervalMs,
    signal: ctx.signal,
    onPoll: (c) => {
      if (c.command_status === 'RUNNING') ctx.progress(`The agent runs ${spec.step} (${Math.round((Date.now() - started) / 1000)} s)`);
    },
  });
}

export function runCleanStepsStep(): Step<DeployDeps, CleaningData> {
  return {
    name: 'clean-steps',
    title: 'Run the clean steps',
    stage: 'clean',
    resumable: true,
    timeoutMs: (ctx) => (ctx.record.clean?.steps.length ?? 1) * (ctx.deps.settings.writeTimeoutMs + 300_000),
    async run(ctx) {
      const plan = required(ctx.record.clean, 'the clean plan');
      const cleaning = (ctx.data.cleaning ??= { done: [], skipped: [] });
      const agent = plan.steps.some((s) => isAgentStep(s.step)) ? agentClient(ctx) : undefined;
      for (let i = ctx.data.cleanAt ?? 0; i < plan.steps.length; i++) {
        const spec = plan.steps[i] as CleanStepSpec;
        ctx.progress(`Clean step ${i + 1}/${plan.steps.length}: ${spec.step} (priority ${spec.priority})`);
        try {
          if (isAgentStep(spec.step)) await runAgentStep(ctx, agent as AgentClient, spec);
          else await OUT_OF_BAND[spec.step as keyof typeof OUT_OF_BAND](await ctx.deps.bmc(), ctx);
          cleaning.done.push(spec.step);
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          if (!isBmcError(err, 'not-supported') || CLEAN_STEPS[spec.step as CleanStepName]?.interface !== 'management') {
            throw new DeployError('failed', `clean step ${spec.step} failed: ${describe(err)}`, { step: spec.step, cause: err });
          }
          cleaning.skipped.push({ step: spec.step, reason: err.message });
          ctx.progress(`Clean step ${spec.step} skipped: not supported on this iLO (${err.message})`);
        }
        ctx.data.cleanAt = i + 1;
        ctx.data.cleanSent = false;
        await ctx.save();
      }
    },
  };
}
