/**
 * The deploy engine: the life of deploys. It starts a deploy (or rebuild,
 * or undeploy) once the server is claimed in the deploy store, runs it
 * (step-runner.ts), meets the ramdisk's call-backs (callbacks.ts), resumes
 * what a restart or a dead instance left in progress, and reports progress
 * and results as events:
 *
 *   'progress' (p: DeployProgress, refs)   a step started, a transfer moved
 *   'finished' (s: DeployStatus, refs)     a deploy or tear-down ended (on the instance that ran it)
 *
 * It knows nothing of iLOs, media or Node-RED (the host gives it the
 * processes and `resolveDeps(record)`), nor which DeployStore it has.
 */
import { EventEmitter } from 'node:events';
import { awaitCallback, CallbackRendezvous, lookupRamdisk, receiveCallback } from './callbacks';
import { isInProgress, type DeployStore, type DeployStoreEvent } from './deploy-store';
import { DeployError, badInput, isDeployError } from './errors';
import { busy, cleanFailedRefusal, newRecord, stateRefusal, progressOf, statusOf, stepNames, undeployable, type StartRequest } from './records';
import { CALLBACK_KINDS, type CallbackKind, type DeployProcess } from './step';
import { StepRunner, describe, type RunOutcome } from './step-runner';
import { newToken } from './tokens';
import type { CleanPlan, DeployMethod, DeployProgress, DeployRecord, DeployStatus } from './types';
import { ActiveUpkeep } from './upkeep';

export type { StartRequest } from './records';

export interface EngineOptions<TDeps> {
  /** Where records, claims, leases and call-backs live (FileDeployStore, or a shared store). */
  store: DeployStore;
  processes: Partial<Record<DeployMethod, DeployProcess<TDeps>>>;
  resolveDeps(record: DeployRecord): Promise<TDeps>;
  /** Default wait for a ramdisk callback (Ironic: 1800 s). */
  callbackTimeoutMs?: number;
  /** Default bound for a step without its own (600 s). */
  stepTimeoutMs?: number;
  /** Terminal records older than this are pruned at start (default 30 days). */
  retentionMs?: number;
  /** How often leases are renewed, orphans adopted and due tear-downs tried again (default a third of the store's lease, at most 20 s). */
  maintenanceMs?: number;
  /** A tear-down left incomplete (the iLO did not answer) is tried again after `firstMs` (default 60 s), the pause doubling up to `maxMs` (30 min). */
  cleanupRetry?: { firstMs?: number; maxMs?: number };
  /** Refuse an agent's heartbeat whose callback_url is not https:// (agent-tls.ts). */
  requireAgentTls?: boolean;
  log?: { info(m: string): void; warn(m: string): void };
  /** The clock active deploys' upkeep times are read against (default Date.now); for tests that move time on. */
  now?: () => number;
}

interface Run {
  record: DeployRecord;
  abort: AbortController;
  done: Promise<DeployRecord>;
  /** An undeploy asked for while the deploy ran: the tear-down follows its end, with the claim kept. */
  undeploy?: 'asked' | 'started';
  /** The cleaning that undeploy asked for. */
  clean?: CleanPlan;
  /** Tear-down attempts before this one. */
  attempts?: number;
}

type Phase = { kind: 'deploy' | 'teardown'; from: number; resumed?: boolean } | { kind: 'interrupted'; stepIndex: number };

export class DeployEngine<TDeps> extends EventEmitter {
  readonly callbackTimeoutMs: number;
  private readonly store: DeployStore;
  private readonly runs = new Map<string, Run>();
  private readonly rendezvous: CallbackRendezvous;
  private readonly runner: StepRunner<TDeps>;
  private readonly upkeep: ActiveUpkeep<TDeps>;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private unsubscribe?: () => void;

  constructor(private readonly opts: EngineOptions<TDeps>) {
    super();
    this.store = opts.store;
    this.callbackTimeoutMs = opts.callbackTimeoutMs ?? 1_800_000;
    this.rendezvous = new CallbackRendezvous(this.store);
    this.runner = new StepRunner<TDeps>({
      persist: (r) => this.persist(r),
      report: (r, m, t) => this.report(r, m, t),
      waitForCallback: (r, kind, timeoutMs, signal) => awaitCallback({ persist: (x) => this.persist(x), report: (x, m) => this.report(x, m) }, this.rendezvous, r, kind, timeoutMs, signal),
      halted: (signal) => signal.aborted && (this.stopped || isDeployError(signal.reason, 'lease-lost')),
      teardownIncomplete: (r) => this.retryLater(r),
      stepTimeoutMs: opts.stepTimeoutMs ?? 600_000,
    });
    this.upkeep = new ActiveUpkeep<TDeps>({ ...opts, context: (r, d, s) => this.runner.context(r, d, s), now: opts.now ?? Date.now, busy: (id) => this.runs.has(id) });
  }

  // ------------------------------------------------------------ lifecycle

  /** Open the store; resume (or fail cleanly) the deploys left in progress; keep leases alive from now on. */
  async start(): Promise<{ resumed: string[]; failed: string[] }> {
    await this.store.open();
    this.unsubscribe = this.store.subscribe((e) => this.onStoreEvent(e));
    await this.store.prune(new Date(Date.now() - (this.opts.retentionMs ?? 30 * 24 * 3600_000)));
    const adopted = await this.adopt();
    const every = this.opts.maintenanceMs ?? Math.min(20_000, Math.floor(this.store.leaseMs / 3));
    this.timer = setInterval(() => this.tick(), every);
    this.timer.unref();
    return adopted;
  }

  /** Stop running deploys without failing them: they resume at the next start (or on another instance). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.store.interrupt?.();
    await this.ticking;
    for (const r of this.runs.values()) r.abort.abort(new DeployError('cancelled', 'the deploy engine is stopping'));
    await Promise.allSettled([...this.runs.values()].map((r) => r.done));
    this.unsubscribe?.();
    await this.store.close();
  }

  // ------------------------------------------------------------ operator API

  deploy(req: StartRequest): Promise<DeployStatus> {
    return this.begin(req, 'deploy');
  }

  /** Deploy again over an active or failed deploy (it takes over what that one left published). */
  rebuild(req: StartRequest): Promise<DeployStatus> {
    return this.begin(req, 'rebuild');
  }

  /**
   * Tear down a server's deploy (`serverKey`), or a given deploy, which must
   * be its server's current one. A deploy in progress is cancelled and
   * cleaned up first; this returns at once, the status heading for `deleting`.
   * With `clean`, the server is cleaned after the tear-down (processes/cleaning.ts).
   */
  async undeploy(target: string | { deployId: string }, opts: { clean?: CleanPlan } = {}): Promise<DeployStatus> {
    if (this.stopped) throw new DeployError('cancelled', 'the deploy engine is stopping');
    const rec = await undeployable(this.store, target);
    if (rec.action === 'undeploy' && isInProgress(rec)) return statusOf(rec); // tearing down (or cleaning) already
    const run = this.runs.get(rec.id);
    if (run || isInProgress(rec)) {
      if (run) {
        run.undeploy ??= 'asked';
        run.clean ??= opts.clean;
        run.abort.abort(new DeployError('cancelled', 'undeploy requested'));
      } else {
        await this.store.requestUndeploy(rec.id); // it runs on another instance
      }
      return { ...statusOf(run?.record ?? rec), action: 'undeploy', state: 'deleting' };
    }
    // Not while an upkeep of this deploy holds the server here (the store would grant its claim again).
    return this.upkeep.exclusive(rec.id, async () => {
      const claim = await this.store.claim(rec.id);
      if (!claim.ok) throw await busy(this.store, rec.serverName, claim.holder);
      const fresh = await this.claimed(rec.id, (r) => r.state !== 'available' && !isInProgress(r));
      if (!fresh) return (await this.status(rec.id)) as DeployStatus; // changed meanwhile: nothing left to undeploy here
      this.toTeardown(fresh, opts.clean);
      await this.persist(fresh);
      this.launch(fresh, { kind: 'teardown', from: 0 });
      return statusOf(fresh);
    });
  }

  /**
   * Before a power-on or reset of a server made outside the engine (the
   * ilo-power node): its active deploy's upkeep, e.g. a netboot instance's
   * boot ISO published and inserted again with a fresh URL. Resolves with
   * the deploy it ran for (undefined: nothing to do).
   */
  beforePowerOn(serverKey: string): Promise<{ deployId: string } | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    return this.upkeep.beforePowerOn(serverKey);
  }

  /** A deploy by id, or the newest deploy of a server by its key. */
  async status(idOrServerKey: string): Promise<DeployStatus | undefined> {
    const r = (await this.store.get(idOrServerKey)) ?? (await this.store.latestFor(idOrServerKey));
    return r && statusOf(r);
  }

  async list(): Promise<DeployStatus[]> {
    return (await this.store.list()).map(statusOf);
  }

  /** Resolves when the deploy (or tear-down) is no longer in progress, wherever it runs. */
  async wait(id: string): Promise<DeployStatus> {
    for (;;) {
      const run = this.runs.get(id);
      if (run) await run.done;
      const r = await this.store.get(id);
      if (!r) throw new DeployError('not-found', `no deploy ${id}`);
      if (!isInProgress(r) || this.stopped) return statusOf(r);
      if (!this.runs.has(id)) await new Promise((res) => setTimeout(res, 500));
    }
  }

  // ------------------------------------------------------------ ramdisk side (any instance)

  /** The deploy a ramdisk belongs to (by node id, else by MACs); only deploys waiting for a ramdisk. */
  findForRamdisk(nodeId: string | undefined, macs: string[]): ReturnType<typeof lookupRamdisk> {
    return lookupRamdisk(this.store, nodeId, macs, this.opts.log);
  }

  /** A ramdisk's call-back; the HTTP status for the ramdisk API (see checkCallback). A wrong token changes nothing. */
  callback(nodeId: string, kind: CallbackKind, token: unknown, body: Record<string, unknown>): Promise<{ status: number; message: string }> {
    return receiveCallback(this.store, nodeId, kind, token, body, this.opts.log, { requireTls: this.opts.requireAgentTls });
  }

  // ------------------------------------------------------------ starting runs

  private async begin(req: StartRequest, action: 'deploy' | 'rebuild'): Promise<DeployStatus> {
    if (this.stopped) throw new DeployError('cancelled', 'the deploy engine is stopping');
    if (!req.serverKey) throw badInput('server', 'an iLO to deploy');
    const proc = this.process(req.request?.method);
    proc.validate(req.request);
    const previous = await this.store.latestFor(req.serverKey);
    if (action === 'rebuild' && (!previous || !['active', 'deploy failed', 'error'].includes(previous.state))) {
      throw new DeployError('invalid-input', `rebuild: ${req.serverName} has no active or failed deploy to rebuild (state ${previous?.state ?? 'available'})`, { field: 'action' });
    }
    if (previous && isInProgress(previous)) throw await busy(this.store, req.serverName, previous.id);
    const refusal = cleanFailedRefusal(previous, req.serverName) ?? stateRefusal(req, previous);
    if (refusal) throw refusal;
    if (action === 'deploy' && previous && (previous.state === 'active' || previous.state === 'error')) {
      throw new DeployError('busy', `${req.serverName} is ${previous.state} (deploy ${previous.id}); undeploy or rebuild it first`);
    }
    const record = newRecord(req, proc, action);
    // The new deploy inherits what the old one left published (boot ISO…), so it is cleaned up too.
    if (action === 'rebuild' && previous) record.published = [...previous.published];
    let deps: TDeps;
    try {
      deps = await this.opts.resolveDeps(record);
    } catch (err) {
      throw new DeployError('failed', `cannot start: ${describe(err)}`, { cause: err });
    }
    await proc.preflight?.(record.request, deps);
    if (this.stopped) throw new DeployError('cancelled', 'the deploy engine is stopping');
    const claim = await this.store.create(record, previous?.id);
    if (!claim.ok) {
      if (claim.holder) throw await busy(this.store, req.serverName, claim.holder);
      throw new DeployError('busy', `${req.serverName} changed meanwhile (its newest deploy is now ${claim.latest}); look at it and try again`);
    }
    if (action === 'rebuild' && previous) {
      previous.published = [];
      previous.state = 'available';
      await this.persist(previous);
    }
    this.launch(record, { kind: 'deploy', from: 0 });
    return statusOf(record);
  }

  /** Resume (or fail cleanly) every deploy in progress that no instance runs. */
  private async adopt(): Promise<{ resumed: string[]; failed: string[] }> {
    const resumed: string[] = [];
    const failed: string[] = [];
    for (const r of await this.store.adoptOrphans()) {
      if (this.runs.has(r.id)) continue;
      const proc = this.opts.processes[r.method];
      const teardown = r.action === 'undeploy'; // deleting, or cleaning after it
      const steps = proc ? (teardown ? proc.teardownSteps : proc.deploySteps) : [];
      const at = Math.max(0, r.step?.index ?? steps.findIndex((s) => !r.completed.includes(s.name)));
      const step = steps[at];
      if (proc && (teardown || !step || step.resumable)) {
        resumed.push(r.id);
        this.launch(r, { kind: teardown ? 'teardown' : 'deploy', from: at, resumed: true });
      } else {
        failed.push(r.id);
        this.launch(r, { kind: 'interrupted', stepIndex: at });
      }
    }
    return { resumed, failed };
  }

  private launch(record: DeployRecord, phase: Phase): void {
    const run = { record, abort: new AbortController() } as Run;
    this.runs.set(record.id, run);
    run.done = (async () => {
      try {
        await this.drive(run, phase);
      } catch (err) {
        if (isDeployError(err, 'lease-lost')) {
          this.opts.log?.warn(`deploy ${record.id} (${record.serverName}) was taken over by another instance, or its lease could not be renewed in time; stopped here`);
        } else if (!(this.stopped && run.abort.signal.aborted)) {
          // Never lose a deploy's state: an unexpected error still ends in a recorded state.
          this.opts.log?.warn(`deploy ${record.id}: internal error: ${(err as Error).stack ?? String(err)}`);
          record.state = phase.kind === 'teardown' ? 'error' : 'deploy failed';
          record.lastError = describe(err);
          await this.end(record).catch(() => undefined);
        }
      } finally {
        // A run stopped here may end after this instance took the deploy up again: the new run stays.
        if (this.runs.get(record.id) === run) this.runs.delete(record.id);
      }
      // An undeploy asked for just as the run ended starts on its own now.
      if (run.undeploy === 'asked' && !this.stopped) this.undeploy({ deployId: record.id }, { clean: run.clean }).catch((e: unknown) => this.opts.log?.warn(`undeploy of ${record.id}: ${describe(e)}`));
      return record;
    })();
  }

  private async drive(run: Run, phase: Phase): Promise<void> {
    const { record } = run;
    const proc = this.process(record.method);
    let deps: TDeps;
    try {
      deps = await this.opts.resolveDeps(record);
    } catch (err) {
      record.state = phase.kind === 'teardown' ? 'error' : 'deploy failed';
      record.lastError = `${phase.kind === 'teardown' ? 'tear-down impossible' : 'cannot start'}: ${describe(err)}`;
      record.finishedAt = new Date().toISOString();
      record.cleanup = { done: false, errors: ['the iLO or store configuration could not be resolved'] };
      return this.end(record);
    }
    const signal = run.abort.signal;
    if (phase.kind === 'interrupted') {
      const step = proc.deploySteps[phase.stepIndex] ?? proc.deploySteps[0];
      if (step) await this.runner.fail(proc, record, step, new DeployError('interrupted', `Node-RED restarted during "${step.title}", which cannot be resumed safely`, { step: step.name }), deps);
      return this.end(record);
    }
    let outcome: RunOutcome = 'ended';
    if (phase.kind === 'deploy') {
      const from = phase.resumed ? await this.rewind(proc, record, deps, phase.from, signal) : phase.from;
      outcome = await this.runner.deploy(proc, record, deps, from, signal);
      if (outcome === 'halted') return;
      if (run.undeploy !== 'asked') return this.end(record);
      // The deploy ended (cancelled and cleaned up, or done just before): its result goes out, then the tear-down runs with the claim kept.
      run.undeploy = 'started';
      this.emit('finished', statusOf(record), record.refs);
      run.abort = new AbortController();
      this.toTeardown(record, run.clean);
      await this.persist(record);
    }
    run.attempts = record.cleanup?.attempts ?? 0;
    outcome = await this.runner.teardown(proc, record, deps, phase.kind === 'teardown' ? phase.from : 0, run.abort.signal);
    if (outcome === 'ended') await this.end(record);
  }

  /** Clean-up pending: the tear-down is tried again by itself (retryTeardowns), the pause doubling, until it is done or the server is deployed again. */
  private retryLater(record: DeployRecord): void {
    const attempts = (this.runs.get(record.id)?.attempts ?? 0) + 1;
    const pause = Math.min((this.opts.cleanupRetry?.firstMs ?? 60_000) * 2 ** (attempts - 1), this.opts.cleanupRetry?.maxMs ?? 1_800_000);
    record.cleanup = { done: false, errors: record.cleanup?.errors ?? [], attempts, retryAt: new Date(Date.now() + pause).toISOString() };
  }

  /** Tear-downs left incomplete whose time has come: run again where the server's claim can be had. */
  private async retryTeardowns(): Promise<void> {
    const now = Date.now();
    for (const r of await this.store.list({ states: ['error'] })) {
      if (this.stopped || this.runs.has(r.id) || !r.cleanup?.retryAt || Date.parse(r.cleanup.retryAt) > now) continue;
      if (!(await this.store.claim(r.id)).ok) continue;
      const fresh = await this.claimed(r.id, (x) => x.state === 'error');
      if (!fresh) continue;
      this.opts.log?.info(`deploy ${fresh.id} on ${fresh.serverName}: tearing down again (attempt ${(fresh.cleanup?.attempts ?? 0) + 1}) after: ${fresh.lastError ?? 'an incomplete tear-down'}`);
      this.toTeardown(fresh, fresh.clean);
      await this.persist(fresh);
      this.launch(fresh, { kind: 'teardown', from: 0 });
    }
  }

  /** A resumed deploy goes back to an earlier step when the process says what the completed ones left is gone. */
  private async rewind(proc: DeployProcess<TDeps>, record: DeployRecord, deps: TDeps, from: number, signal: AbortSignal): Promise<number> {
    // Not resumed inside a call-back wait: the step run again boots the ramdisk anew, or comes after the call-backs; recorded ones are stale.
    if (record.state !== 'wait call-back') await this.forgetCallbacks(record.id);
    const back = proc.resumeFrom ? await proc.resumeFrom(this.runner.context(record, deps, signal)) : undefined;
    const at = back === undefined ? -1 : proc.deploySteps.findIndex((s) => s.name === back);
    // Back to a step before the one resumed, or to that one when it is already done (the instance died just after it).
    if (at < 0 || at > from || (at === from && !record.completed.includes(back as string))) return from;
    const again = new Set(proc.deploySteps.slice(at).map((s) => s.name));
    record.completed = record.completed.filter((n) => !again.has(n) && !n.startsWith('callback:'));
    record.callbackDeadline = undefined;
    record.state = 'deploying';
    // Resumed again before getting there (this instance died too), it starts from the first step not done, not the one it was in.
    record.step = undefined;
    // The ramdisk booted before (its call-backs recorded or still coming) is not the one that will answer now.
    record.token = newToken();
    await this.persist(record);
    await this.forgetCallbacks(record.id);
    this.report(record, `Resuming from "${proc.deploySteps[at]?.title}"`);
    return at;
  }

  private async forgetCallbacks(id: string): Promise<void> {
    for (const kind of CALLBACK_KINDS) await this.store.takeCallback(id, kind);
  }

  /** The record read again after its server was claimed; when it no longer qualifies, the claim goes back at once. */
  private async claimed(id: string, qualifies: (r: DeployRecord) => boolean): Promise<DeployRecord | undefined> {
    const fresh = await this.store.get(id);
    if (fresh && qualifies(fresh)) return fresh;
    if (fresh) await this.store.finish(fresh);
    return undefined;
  }

  private toTeardown(record: DeployRecord, clean: CleanPlan | undefined): void {
    record.action = 'undeploy';
    record.state = 'deleting';
    record.clean = clean;
    record.completed = [];
    record.step = undefined;
    record.steps = stepNames(this.process(record.method).teardownSteps, clean !== undefined);
  }

  /** The run's end: written for good, claim and lease released, result out. */
  private async end(record: DeployRecord): Promise<void> {
    record.updatedAt = new Date().toISOString();
    await this.store.finish(record);
    this.emit('finished', statusOf(record), record.refs);
  }

  // ------------------------------------------------------------ upkeep

  private tick(): void {
    if (this.ticking || this.stopped) return;
    this.ticking = (async () => {
      const lost = await this.store.renew([...this.runs.keys()]);
      for (const id of lost) this.runs.get(id)?.abort.abort(new DeployError('lease-lost', `deploy ${id} was taken over by another instance`));
      const { resumed, failed } = await this.adopt();
      if (resumed.length || failed.length) this.opts.log?.info(`took over ${resumed.length + failed.length} deploy(s) left by another instance (${failed.length} could not be resumed and were failed with clean-up)`);
      await this.retryTeardowns();
      await this.upkeep.due();
    })()
      .catch((err: unknown) => this.opts.log?.warn(`deploy store upkeep failed: ${describe(err)}`))
      .finally(() => {
        this.ticking = undefined;
      });
  }

  private onStoreEvent(e: DeployStoreEvent): void {
    if (e.type === 'callback') this.rendezvous.notify(e.deployId, e.kind);
    else if (e.type === 'lost') this.runs.get(e.deployId)?.abort.abort(new DeployError('lease-lost', `deploy ${e.deployId}: its lease could not be renewed in time`));
    else if (this.runs.has(e.deployId)) this.undeploy({ deployId: e.deployId }).catch((err: unknown) => this.opts.log?.warn(`undeploy of ${e.deployId}: ${describe(err)}`));
  }

  // ------------------------------------------------------------ helpers

  private process(method: DeployMethod): DeployProcess<TDeps> {
    const p = this.opts.processes[method];
    if (!p) throw badInput('method', `one of ${Object.keys(this.opts.processes).join(', ')}`, method);
    return p;
  }

  private async persist(record: DeployRecord): Promise<void> {
    record.updatedAt = new Date().toISOString();
    await this.store.save(record);
  }

  private report(record: DeployRecord, message: string, transfer?: DeployProgress['transfer']): void {
    this.emit('progress', progressOf(record, message, transfer), record.refs);
  }
}
