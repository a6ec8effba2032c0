/**
 * The step contract: what a deploy process is made of, and what a step may
 * do while it runs. A process (agent_ilo, iscsi_ilo, pxe_ilo, and later
 * cleaning or inspection) is an ordered list of named steps, each with an
 * undo; the engine runs them one at a time under a deadline, persists the
 * record after each, undoes in reverse on failure, and resumes after a
 * restart at the step it was in (or fails it cleanly if that step cannot be
 * run again).
 *
 * A step passes what later steps need through `ctx.data`, typed per process
 * (`TData`, see processes/data.ts): it is saved with the record, so a resumed
 * deploy finds it again.
 */
import type { DeployMethod, DeployProgress, DeployRecord, DeployRequest, ProvisionState, PublishedObject, StepData } from './types';

export type CallbackKind = 'heartbeat' | 'pass_deploy_info' | 'pass_bootloader_install_info';
export const CALLBACK_KINDS: readonly CallbackKind[] = ['heartbeat', 'pass_deploy_info', 'pass_bootloader_install_info'];

export interface StepContext<TDeps, TData extends StepData = StepData> {
  readonly record: DeployRecord;
  readonly deps: TDeps;
  /** Aborted when the step times out, the deploy is cancelled, or the engine stops. */
  readonly signal: AbortSignal;
  /** Values later steps need (the record's `data`, typed for the process); persisted by `save()`. */
  readonly data: TData;
  save(): Promise<void>;
  progress(message: string, transfer?: DeployProgress['transfer']): void;
  setState(state: ProvisionState): Promise<void>;
  /** Record an object published for the iLO (removed by clean-up). */
  published(obj: PublishedObject): Promise<void>;
  forgetPublished(name: string): Promise<void>;
  /**
   * Wait for the ramdisk's call-back of this kind (accepted only with the
   * deploy's token, on any instance sharing the deploy store). The deadline
   * is persisted: a resumed wait only gets what is left of it.
   */
  waitForCallback(kind: CallbackKind, timeoutMs: number): Promise<Record<string, unknown>>;
}

export interface Step<TDeps, TData extends StepData = StepData> {
  name: string;
  /** What the operator sees, e.g. "Power off". */
  title: string;
  run(ctx: StepContext<TDeps, TData>): Promise<void>;
  /** Reverse what `run` did (called on failure, also for the step that failed). Must not throw for "nothing to undo". */
  undo?(ctx: StepContext<TDeps, TData>): Promise<void>;
  /** Upper bound for `run`. */
  timeoutMs?: number | ((ctx: StepContext<TDeps, TData>) => number);
  /** May be run again from the start after a restart (or a takeover by another instance) interrupted it. */
  resumable?: boolean;
  /**
   * A cleaning step (processes/cleaning.ts): run only when the record has a
   * clean plan, in state `cleaning`; its failure ends in `clean failed`
   * (after the clean-up), and the rest of the run does not happen.
   */
  stage?: 'clean';
}

export interface DeployProcess<TDeps, TData extends StepData = StepData> {
  method: DeployMethod;
  /** Check the request before anything starts; throw a DeployError naming the field. */
  validate(request: DeployRequest): void;
  /**
   * Checks that need this machine or the deploy's dependencies (the tools
   * the process runs, the image references), before the server is claimed
   * and before any step touches it; throw a DeployError ('invalid-input'
   * naming the field, 'missing-tool' naming the tool and its package).
   */
  preflight?(request: DeployRequest, deps: TDeps): Promise<void>;
  /**
   * Before a resumed deploy (after a restart, or taken over from another
   * instance) runs its next step: the name of an earlier step to run again
   * from, when what the completed steps left is no longer usable (the deploy
   * media is no longer served where the iLO was told to read it); undefined
   * to go on where it stopped.
   */
  resumeFrom?(ctx: StepContext<TDeps, TData>): Promise<string | undefined>;
  /**
   * What an active deploy needs kept up for as long as it lasts (a netboot
   * instance: the boot media the iLO reads kept served and inserted). Run
   * by the engine, under the server's claim, when the record's
   * `data.upkeepAt` comes (`due`), and before a power-on or reset made
   * through this package (`power-on`). It sets the next `upkeepAt`, or
   * clears it; it throws when the server cannot be kept booting.
   */
  upkeep?(ctx: StepContext<TDeps, TData>, why: 'due' | 'power-on'): Promise<void>;
  /**
   * The dependencies as the steps of one run see them: once `signal` is
   * aborted they refuse to act (the run lost its lease: another instance may
   * drive the server now), even inside a step that does not watch the signal.
   * Undo and clean-up after a failure get the dependencies unguarded.
   */
  guardDeps?(deps: TDeps, signal: AbortSignal): TDeps;
  deploySteps: Step<TDeps, TData>[];
  /** Tear-down of an active (or failed) deploy: every step idempotent. */
  teardownSteps: Step<TDeps, TData>[];
  /** Guaranteed clean-up after a failure: eject media, unpublish, power off. Idempotent. Returns what could not be done. */
  cleanup(ctx: StepContext<TDeps, TData>): Promise<string[]>;
}
