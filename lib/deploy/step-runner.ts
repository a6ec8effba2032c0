/**
 * Runs a process's steps for one record: each under its deadline, the
 * record written before and after each, and on failure the undo of what
 * was done (in reverse) and the process's guaranteed clean-up, keeping the
 * reason. It decides nothing about claims, leases or what comes next: it
 * leaves the record in its end state and says whether it got there.
 */
import { DeployError } from './errors';
import type { CallbackKind, DeployProcess, Step, StepContext } from './step';
import { newToken } from './tokens';
import type { DeployProgress, DeployRecord, ProvisionState } from './types';

export interface RunnerHost {
  persist(record: DeployRecord): Promise<void>;
  report(record: DeployRecord, message: string, transfer?: DeployProgress['transfer']): void;
  /** A step's wait for a ramdisk call-back (see callbacks.ts). */
  waitForCallback(record: DeployRecord, kind: CallbackKind, timeoutMs: number, signal: AbortSignal): Promise<Record<string, unknown>>;
  /** The run was stopped without failing it (the engine is stopping, or another instance took the deploy over): leave the record as it is. */
  halted(signal: AbortSignal): boolean;
  /** A tear-down ends incomplete: the host says when it is tried again (`record.cleanup.retryAt`), before it is written. */
  teardownIncomplete(record: DeployRecord): void;
  /** Bound of a step without its own. */
  readonly stepTimeoutMs: number;
}

/** `ended`: the record is in its end state (active, deploy failed, available, error); `halted`: it stays in progress, to be resumed. */
export type RunOutcome = 'ended' | 'halted';

const UNDO_TIMEOUT_MS = 120_000;
const CLEANUP_TIMEOUT_MS = 300_000;

export class StepRunner<TDeps> {
  constructor(private readonly host: RunnerHost) {}

  /** The deploy steps from `from` on (completed ones skipped), then `active`; a failure ends in `deploy failed`, cleaned up. */
  async deploy(proc: DeployProcess<TDeps>, record: DeployRecord, deps: TDeps, from: number, signal: AbortSignal): Promise<RunOutcome> {
    const steps = proc.deploySteps;
    const guarded = proc.guardDeps ? proc.guardDeps(deps, signal) : deps;
    for (let i = from; i < steps.length; i++) {
      const step = steps[i] as Step<TDeps>;
      if (record.completed.includes(step.name) || skipped(step, record)) continue;
      // Stopped while the last step ended anyway (it did not notice): nothing more here; whoever resumes starts from this step.
      if (this.host.halted(signal)) return 'halted';
      record.state = stateFor(step, record.state);
      record.step = { index: i, name: step.name, startedAt: new Date().toISOString() };
      await this.host.persist(record);
      this.host.report(record, step.title);
      try {
        await this.bounded(step, this.context(record, guarded, signal), signal);
      } catch (err) {
        if (this.host.halted(signal)) return 'halted';
        await this.fail(proc, record, step, err, deps);
        return 'ended';
      }
      record.completed.push(step.name);
      if (record.state === 'wait call-back') record.state = 'deploying';
      if (record.state === 'clean wait') record.state = 'cleaning';
      await this.host.persist(record);
    }
    record.state = 'active';
    record.step = undefined;
    record.finishedAt = new Date().toISOString();
    record.callbackDeadline = undefined;
    // The ramdisk is gone: its token has no further use.
    record.token = newToken();
    await this.host.persist(record);
    this.host.report(record, 'Deployed: active');
    return 'ended';
  }

  /** Every tear-down step from `from` on, whatever failed before it: `available`, or `error` with what could not be done. */
  async teardown(proc: DeployProcess<TDeps>, record: DeployRecord, deps: TDeps, from: number, signal: AbortSignal): Promise<RunOutcome> {
    const errors: string[] = [];
    const steps = proc.teardownSteps;
    const guarded = proc.guardDeps ? proc.guardDeps(deps, signal) : deps;
    for (let i = from; i < steps.length; i++) {
      const step = steps[i] as Step<TDeps>;
      if (this.host.halted(signal)) return 'halted';
      if (skipped(step, record)) continue;
      // A tear-down left incomplete is not cleaned: it is tried again first.
      if (step.stage === 'clean' && errors.length) break;
      record.state = step.stage === 'clean' ? stateFor(step, record.state) : 'deleting';
      record.step = { index: i, name: step.name, startedAt: new Date().toISOString() };
      await this.host.persist(record);
      this.host.report(record, step.title);
      try {
        await this.bounded(step, this.context(record, guarded, signal), signal);
        record.completed.push(step.name);
        if (record.state === 'clean wait') record.state = 'cleaning';
      } catch (err) {
        if (this.host.halted(signal)) return 'halted';
        if (step.stage === 'clean') {
          await this.fail(proc, record, step, err, deps);
          return 'ended';
        }
        errors.push(`${step.title}: ${describe(err)}`);
      }
    }
    record.step = undefined;
    record.finishedAt = new Date().toISOString();
    record.cleanup = { done: errors.length === 0, errors };
    record.state = errors.length === 0 ? 'available' : 'error';
    if (errors.length) {
      record.lastError = `tear-down incomplete: ${errors.join('; ')}`;
      this.host.teardownIncomplete(record);
    }
    await this.host.persist(record);
    const again = record.cleanup.retryAt ? `; tried again at ${record.cleanup.retryAt}` : '';
    this.host.report(record, errors.length ? `Tear-down failed: ${errors.join('; ')}${again}` : record.clean ? 'Cleaned: available' : 'Torn down: available');
    return 'ended';
  }

  /** Undo what was done (in reverse, the failed step too), then the process's guaranteed clean-up; keep the reason. */
  async fail(proc: DeployProcess<TDeps>, record: DeployRecord, failed: Step<TDeps>, err: unknown, deps: TDeps): Promise<void> {
    const reason = describe(err);
    record.state = failed.stage === 'clean' ? 'clean failed' : 'deploy failed';
    // A clean step that ran several (the agent's and the iLO's) names the one that failed.
    record.failedStep = (failed.stage === 'clean' && err instanceof DeployError && err.step) || failed.name;
    record.lastError = `${failed.title}: ${reason}`;
    await this.host.persist(record);
    this.host.report(record, `Failed at "${failed.title}": ${reason}; cleaning up`);
    // Clean-up runs even when the deploy was cancelled: it gets its own signal.
    const ctx = this.context(record, deps, new AbortController().signal);
    const errors: string[] = [];
    const ran = record.action === 'undeploy' ? proc.teardownSteps : proc.deploySteps;
    const undoList = ran.filter((s) => s === failed || record.completed.includes(s.name)).reverse();
    for (const s of undoList) {
      if (!s.undo) continue;
      try {
        await withTimeout(s.undo(ctx), UNDO_TIMEOUT_MS, `undo of "${s.title}"`);
      } catch (e) {
        errors.push(`undo ${s.title}: ${describe(e)}`);
      }
    }
    try {
      errors.push(...(await withTimeout(proc.cleanup(ctx), CLEANUP_TIMEOUT_MS, 'clean-up')));
    } catch (e) {
      errors.push(`clean-up: ${describe(e)}`);
    }
    record.cleanup = { done: errors.length === 0, errors };
    record.step = undefined;
    record.callbackDeadline = undefined;
    record.finishedAt = new Date().toISOString();
    record.token = newToken();
    await this.host.persist(record);
    this.host.report(record, errors.length ? `Clean-up incomplete: ${errors.join('; ')}` : 'Cleaned up: media ejected, objects removed, server off');
  }

  /** What a step may do to its record (every change written through the host). */
  context(record: DeployRecord, deps: TDeps, signal: AbortSignal): StepContext<TDeps> {
    const { host } = this;
    return {
      record,
      deps,
      signal,
      data: record.data,
      save: () => host.persist(record),
      progress: (message, transfer) => host.report(record, message, transfer),
      setState: async (state) => {
        record.state = state;
        await host.persist(record);
        host.report(record, state === 'wait call-back' ? 'Waiting for the ramdisk to call back' : `State: ${state}`);
      },
      published: async (obj) => {
        record.published = record.published.filter((p) => p.name !== obj.name).concat(obj);
        await host.persist(record);
      },
      forgetPublished: async (name) => {
        record.published = record.published.filter((p) => p.name !== name);
        await host.persist(record);
      },
      waitForCallback: (kind, timeoutMs) => host.waitForCallback(record, kind, timeoutMs, signal),
    };
  }

  /** `run` under the step's deadline and the run's signal; the step sees a signal that fires for either. */
  private async bounded(step: Step<TDeps>, ctx: StepContext<TDeps>, outer: AbortSignal): Promise<void> {
    const limit = typeof step.timeoutMs === 'function' ? step.timeoutMs(ctx) : (step.timeoutMs ?? this.host.stepTimeoutMs);
    const own = new AbortController();
    const onOuter = (): void => own.abort(outer.reason);
    outer.addEventListener('abort', onOuter, { once: true });
    if (outer.aborted) own.abort(outer.reason);
    const timer = setTimeout(() => own.abort(new DeployError('timeout', `"${step.title}" did not finish within ${Math.round(limit / 1000)} s`, { step: step.name })), limit);
    try {
      await Promise.race([
        step.run({ ...ctx, signal: own.signal }),
        new Promise<never>((_, reject) => {
          if (own.signal.aborted) reject(own.signal.reason);
          own.signal.addEventListener('abort', () => reject(own.signal.reason), { once: true });
        }),
      ]);
    } finally {
      clearTimeout(timer);
      outer.removeEventListener('abort', onOuter);
    }
  }
}

/** A cleaning step of a run without a clean plan does not happen (nor count). */
function skipped<TDeps>(step: Step<TDeps>, record: DeployRecord): boolean {
  return step.stage === 'clean' && !record.clean;
}

/** The state a step runs in: `cleaning` (or `clean wait`) for a cleaning step, else `deploying` (or `wait call-back`). */
function stateFor<TDeps>(step: Step<TDeps>, current: ProvisionState): ProvisionState {
  if (step.stage === 'clean') return current === 'clean wait' ? current : 'cleaning';
  return current === 'wait call-back' ? current : 'deploying';
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeployError('timeout', `${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
