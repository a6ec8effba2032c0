/**
 * The deploy engine: runs a process (an ordered list of named steps, each
 * with an undo) for one server at a time, keeps Ironic's provision states,
 * enforces a timeout on every step, cleans up on every failure path, and
 * persists each deploy so a restart resumes it or fails it cleanly.
 *
 * It knows nothing of iLOs, stores or Node-RED: the host application gives
 * it the processes and a `resolveDeps(record)` that turns a record's
 * references into whatever the steps need.
 */
import { EventEmitter } from 'node:events';
import { DeployError, badInput } from './errors';
import { DeployStateStore } from './state-store';
import { newDeployId, newToken, tokenMatches } from './tokens';
import type { CallbackKind, DeployProcess, Step, StepContext } from './step';
import type { DeployMethod, DeployProgress, DeployRecord, DeployRequest, DeployStatus, ProvisionState } from './types';

export type { CallbackKind, DeployProcess, Step, StepContext } from './step';

export interface EngineOptions<TDeps> {
  stateDir: string;
  processes: Partial<Record<DeployMethod, DeployProcess<TDeps>>>;
  resolveDeps(record: DeployRecord): Promise<TDeps>;
  /** Default wait for a ramdisk callback (Ironic: 1800 s). */
  callbackTimeoutMs?: number;
  /** Default bound for a step without its own. */
  stepTimeoutMs?: number;
  /** Terminal records older than this are pruned at start (default 30 days). */
  retentionMs?: number;
  log?: { info(m: string): void; warn(m: string): void };
}

export interface StartRequest {
  serverKey: string;
  serverName: string;
  refs: Record<string, string>;
  request: DeployRequest;
}

interface Waiter {
  kind: CallbackKind;
  resolve(body: Record<string, unknown>): void;
}

interface Running {
  abort: AbortController;
  done: Promise<DeployRecord>;
}

const ACTIVE_STATES: ProvisionState[] = ['deploying', 'wait call-back', 'deleting'];

export class DeployEngine<TDeps> extends EventEmitter {
  private readonly store: DeployStateStore;
  private readonly records = new Map<string, DeployRecord>();
  private readonly locks = new Map<string, string>(); // serverKey -> deploy id
  private readonly running = new Map<string, Running>();
  private readonly waiters = new Map<string, Waiter>();
  /** Callbacks that arrived before the step began waiting. */
  private readonly early = new Map<string, { kind: CallbackKind; body: Record<string, unknown> }>();
  /** The newest record of each server. */
  private readonly latest = new Map<string, DeployRecord>();
  /** Deploys in progress by the (normalised) MACs their servers reported, for ramdisk lookups; and the reverse. */
  private readonly byMac = new Map<string, Set<string>>();
  private readonly macsOf = new Map<string, string[]>();
  private stopped = false;
  readonly callbackTimeoutMs: number;

  constructor(private readonly opts: EngineOptions<TDeps>) {
    super();
    this.store = new DeployStateStore(opts.stateDir);
    this.callbackTimeoutMs = opts.callbackTimeoutMs ?? 1_800_000;
  }

  // ------------------------------------------------------------ lifecycle

  /** Load persisted deploys; resume or fail those that were in flight. */
  async start(): Promise<{ resumed: string[]; failed: string[] }> {
    await this.store.init();
    const { records, errors } = await this.store.loadAll();
    for (const e of errors) this.opts.log?.warn(`deploy state: ${e}`);
    const resumed: string[] = [];
    const failed: string[] = [];
    const cutoff = Date.now() - (this.opts.retentionMs ?? 30 * 24 * 3600_000);
    for (const r of records.sort((a, b) => a.createdAt.localeCompare(b.createdAt))) {
      if (!ACTIVE_STATES.includes(r.state) && r.state !== 'active' && Date.parse(r.updatedAt) < cutoff) {
        await this.store.remove(r.id);
        continue;
      }
      this.records.set(r.id, r);
      this.latest.set(r.serverKey, r);
      if (!ACTIVE_STATES.includes(r.state)) continue;
      this.locks.set(r.serverKey, r.id);
      const proc = this.process(r.method);
      const steps = r.state === 'deleting' ? proc.teardownSteps : proc.deploySteps;
      const at = r.step?.index ?? steps.findIndex((s) => !r.completed.includes(s.name));
      const step = steps[Math.max(0, at)];
      if (r.state === 'deleting' || !step || step.resumable) {
        resumed.push(r.id);
        this.launch(r, r.state === 'deleting' ? 'teardown' : 'deploy', Math.max(0, at));
      } else {
        failed.push(r.id);
        this.launchFailure(
          r,
          step,
          new DeployError('interrupted', `Node-RED restarted during "${step.title}", which cannot be resumed safely`, { step: step.name }),
        );
      }
    }
    return { resumed, failed };
  }

  /** Stop running deploys without failing them: they resume at the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const r of this.running.values()) r.abort.abort(new DeployError('cancelled', 'the deploy engine is stopping'));
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
    await this.store.flush();
  }

  // ------------------------------------------------------------ operator API

  deploy(req: StartRequest): DeployStatus {
    return this.begin(req, 'deploy');
  }

  /** Deploy again over an active or failed deploy (its instance artefacts are torn down first). */
  rebuild(req: StartRequest): DeployStatus {
    const last = this.latestFor(req.serverKey);
    if (!last || !['active', 'deploy failed', 'error'].includes(last.state)) {
      throw new DeployError('invalid-input', `rebuild: ${req.serverName} has no active or failed deploy to rebuild (state ${last?.state ?? 'available'})`, { field: 'action' });
    }
    return this.begin(req, 'rebuild');
  }

  /** Tear down the server's deploy; a deploy in progress is cancelled and cleaned up first. */
  async undeploy(serverKey: string): Promise<DeployStatus> {
    const last = this.latestFor(serverKey);
    if (!last || last.state === 'available') throw new DeployError('not-found', `nothing is deployed on ${serverKey}`);
    if (last.state === 'deleting') return this.view(last);
    const run = this.running.get(last.id);
    if (run) {
      run.abort.abort(new DeployError('cancelled', 'undeploy requested'));
      await run.done;
    }
    last.action = 'undeploy';
    last.state = 'deleting';
    last.completed = [];
    last.step = undefined;
    last.steps = this.process(last.method).teardownSteps.map((s) => s.name);
    this.locks.set(last.serverKey, last.id);
    await this.persist(last);
    this.launch(last, 'teardown', 0);
    return this.view(last);
  }

  status(idOrServerKey: string): DeployStatus | undefined {
    const r = this.records.get(idOrServerKey) ?? this.latestFor(idOrServerKey);
    return r ? this.view(r) : undefined;
  }

  list(): DeployStatus[] {
    return [...this.records.values()].map((r) => this.view(r));
  }

  /** Resolves when the deploy (or tear-down) reaches a terminal state. */
  async wait(id: string): Promise<DeployStatus> {
    const run = this.running.get(id);
    if (run) await run.done;
    const r = this.records.get(id);
    if (!r) throw new DeployError('not-found', `no deploy ${id}`);
    return this.view(r);
  }

  // ------------------------------------------------------------ ramdisk side

  /**
   * Find the deploy a ramdisk belongs to (by node id, else by MACs); only
   * deploys in progress. MACs that match more than one deploy find none:
   * no ramdisk is ever handed another server's deploy.
   */
  findForRamdisk(nodeId: string | undefined, macs: string[]): DeployRecord | undefined {
    if (nodeId) {
      const r = this.records.get(nodeId);
      return r && inProgress(r) ? r : undefined;
    }
    const ids = new Set<string>();
    for (const mac of macs) for (const id of this.byMac.get(normaliseMac(mac)) ?? []) ids.add(id);
    if (ids.size > 1) {
      const servers = [...ids].map((id) => this.records.get(id)?.serverName ?? id);
      this.opts.log?.warn(`ramdisk lookup: MACs ${macs.join(', ')} match deploys on ${servers.join(' and ')}; refused (two servers report the same MAC)`);
      return undefined;
    }
    const [id] = ids;
    const r = id === undefined ? undefined : this.records.get(id);
    return r && inProgress(r) ? r : undefined;
  }

  /**
   * A callback from a ramdisk. Returns the HTTP status the API should give:
   * 202 accepted, 401 bad token, 404 no such deploy in progress, 409 unexpected.
   * A call with a wrong token changes nothing.
   */
  callback(nodeId: string, kind: CallbackKind, token: unknown, body: Record<string, unknown>): { status: number; message: string } {
    const r = this.records.get(nodeId);
    if (!r || (r.state !== 'deploying' && r.state !== 'wait call-back')) return { status: 404, message: 'no deploy in progress for this node' };
    if (!tokenMatches(r.token, token)) {
      this.opts.log?.warn(`deploy ${r.id} (${r.serverName}): ${kind} refused: missing or wrong token`);
      return { status: 401, message: 'missing or invalid token' };
    }
    if (kind === 'heartbeat') {
      const url = body.callback_url;
      const known = r.data.agentUrl;
      if (known && url && url !== known) return { status: 409, message: 'callback_url changed during the deploy' };
    }
    const waiter = this.waiters.get(r.id);
    if (waiter && waiter.kind === kind) {
      this.waiters.delete(r.id);
      waiter.resolve(body);
    } else if (!waiter && !r.completed.includes(`callback:${kind}`)) {
      this.early.set(r.id, { kind, body });
    }
    return { status: 202, message: 'accepted' };
  }

  /** The opaque references a deploy was started with (e.g. which Node-RED node owns it). */
  refs(id: string): Readonly<Record<string, string>> | undefined {
    return this.records.get(id)?.refs;
  }

  // ------------------------------------------------------------ internals

  private process(method: DeployMethod): DeployProcess<TDeps> {
    const p = this.opts.processes[method];
    if (!p) throw badInput('method', `one of ${Object.keys(this.opts.processes).join(', ')}`, method);
    return p;
  }

  private latestFor(serverKey: string): DeployRecord | undefined {
    return this.latest.get(serverKey);
  }

  /** Keep the MAC index in step with the record: only deploys in progress are found by a ramdisk. */
  private indexMacs(r: DeployRecord): void {
    const reported = inProgress(r) && Array.isArray(r.data.macs) ? r.data.macs : [];
    const macs = [...new Set(reported.map((m) => normaliseMac(String(m))).filter(Boolean))];
    const old = this.macsOf.get(r.id) ?? [];
    if (old.length === macs.length && old.every((m, i) => m === macs[i])) return;
    for (const m of old) {
      const ids = this.byMac.get(m);
      ids?.delete(r.id);
      if (ids?.size === 0) this.byMac.delete(m);
    }
    for (const m of macs) {
      const ids = this.byMac.get(m) ?? new Set<string>();
      ids.add(r.id);
      this.byMac.set(m, ids);
    }
    if (macs.length) this.macsOf.set(r.id, macs);
    else this.macsOf.delete(r.id);
  }

  private begin(req: StartRequest, action: 'deploy' | 'rebuild'): DeployStatus {
    if (this.stopped) throw new DeployError('cancelled', 'the deploy engine is stopping');
    if (!req.serverKey) throw badInput('server', 'an iLO to deploy');
    const proc = this.process(req.request?.method);
    proc.validate(req.request);
    const holder = this.locks.get(req.serverKey);
    if (holder) {
      const h = this.records.get(holder);
      throw new DeployError('busy', `${req.serverName} is busy: deploy ${holder} is ${h?.state ?? 'in progress'}; one deploy per server at a time`);
    }
    const previous = this.latestFor(req.serverKey);
    if (action === 'deploy' && previous && (previous.state === 'active' || previous.state === 'error')) {
      throw new DeployError('busy', `${req.serverName} is ${previous.state} (deploy ${previous.id}); undeploy or rebuild it first`);
    }
    const now = new Date().toISOString();
    const record: DeployRecord = {
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
    if (action === 'rebuild' && previous) {
      // The new deploy inherits what the old one left published (boot ISO…), so it is cleaned up too.
      record.published = [...previous.published];
      previous.published = [];
      previous.state = 'available';
      void this.persist(previous);
    }
    this.records.set(record.id, record);
    this.latest.set(record.serverKey, record);
    this.locks.set(record.serverKey, record.id);
    this.launch(record, 'deploy', 0);
    return this.view(record);
  }

  private launch(record: DeployRecord, kind: 'deploy' | 'teardown', from: number): void {
    const abort = new AbortController();
    const done = (async () => {
      try {
        await this.persist(record);
        if (kind === 'deploy') await this.runDeploy(record, from, abort.signal);
        else await this.runTeardown(record, from, abort.signal);
      } catch (err) {
        // Never lose a deploy's state: an unexpected error still ends in a recorded state.
        this.opts.log?.warn(`deploy ${record.id}: internal error: ${(err as Error).stack ?? String(err)}`);
        record.state = kind === 'deploy' ? 'deploy failed' : 'error';
        record.lastError = (err as Error).message;
        await this.persist(record).catch(() => undefined);
      } finally {
        this.running.delete(record.id);
        this.waiters.delete(record.id);
        this.early.delete(record.id);
        if (!ACTIVE_STATES.includes(record.state) && this.locks.get(record.serverKey) === record.id) this.locks.delete(record.serverKey);
        if (!this.stopped || !ACTIVE_STATES.includes(record.state)) this.emit('finished', this.view(record));
      }
      return record;
    })();
    this.running.set(record.id, { abort, done });
  }

  private launchFailure(record: DeployRecord, step: Step<TDeps>, err: DeployError): void {
    const abort = new AbortController();
    const done = (async () => {
      try {
        const deps = await this.opts.resolveDeps(record);
        await this.fail(record, this.process(record.method).deploySteps, step, err, deps, abort.signal);
      } catch (e) {
        record.state = 'deploy failed';
        record.lastError = `${err.message}; clean-up impossible: ${(e as Error).message}`;
        record.cleanup = { done: false, errors: [(e as Error).message] };
        record.finishedAt = new Date().toISOString();
        await this.persist(record).catch(() => undefined);
      } finally {
        this.running.delete(record.id);
        if (this.locks.get(record.serverKey) === record.id) this.locks.delete(record.serverKey);
        this.emit('finished', this.view(record));
      }
      return record;
    })();
    this.running.set(record.id, { abort, done });
  }

  private async runDeploy(record: DeployRecord, from: number, signal: AbortSignal): Promise<void> {
    const proc = this.process(record.method);
    const steps = proc.deploySteps;
    let deps: TDeps;
    try {
      deps = await this.opts.resolveDeps(record);
    } catch (err) {
      record.state = 'deploy failed';
      record.lastError = `cannot start: ${(err as Error).message}`;
      record.finishedAt = new Date().toISOString();
      record.cleanup = { done: false, errors: ['the iLO or store configuration could not be resolved'] };
      await this.persist(record);
      return;
    }
    for (let i = from; i < steps.length; i++) {
      const step = steps[i] as Step<TDeps>;
      if (record.completed.includes(step.name)) continue;
      if (record.state !== 'wait call-back') record.state = 'deploying';
      record.step = { index: i, name: step.name, startedAt: new Date().toISOString() };
      await this.persist(record);
      this.report(record, `${step.title}`);
      const ctx = this.context(record, deps, signal);
      try {
        await this.bounded(step, ctx, signal);
      } catch (err) {
        if (this.stopped && signal.aborted) return; // resumes at the next start
        await this.fail(record, steps, step, err, deps, signal);
        return;
      }
      record.completed.push(step.name);
      if (record.state === 'wait call-back') record.state = 'deploying';
      await this.persist(record);
    }
    record.state = 'active';
    record.step = undefined;
    record.finishedAt = new Date().toISOString();
    record.callbackDeadline = undefined;
    // The ramdisk is gone: its token has no further use.
    record.token = newToken();
    await this.persist(record);
    this.report(record, 'Deployed: active');
  }

  private async runTeardown(record: DeployRecord, from: number, signal: AbortSignal): Promise<void> {
    const proc = this.process(record.method);
    let deps: TDeps;
    try {
      deps = await this.opts.resolveDeps(record);
    } catch (err) {
      record.state = 'error';
      record.lastError = `tear-down impossible: ${(err as Error).message}`;
      await this.persist(record);
      return;
    }
    const errors: string[] = [];
    const steps = proc.teardownSteps;
    for (let i = from; i < steps.length; i++) {
      const step = steps[i] as Step<TDeps>;
      record.step = { index: i, name: step.name, startedAt: new Date().toISOString() };
      await this.persist(record);
      this.report(record, step.title);
      try {
        await this.bounded(step, this.context(record, deps, signal), signal);
        record.completed.push(step.name);
      } catch (err) {
        if (this.stopped && signal.aborted) return;
        errors.push(`${step.title}: ${(err as Error).message}`);
      }
    }
    record.step = undefined;
    record.finishedAt = new Date().toISOString();
    record.cleanup = { done: errors.length === 0, errors };
    record.state = errors.length === 0 ? 'available' : 'error';
    if (errors.length) record.lastError = `tear-down incomplete: ${errors.join('; ')}`;
    await this.persist(record);
    this.report(record, errors.length ? `Tear-down failed: ${errors.join('; ')}` : 'Torn down: available');
  }

  /** Undo what was done (in reverse), then the process's guaranteed clean-up; keep the reason. */
  private async fail(record: DeployRecord, steps: Step<TDeps>[], failed: Step<TDeps>, err: unknown, deps: TDeps, signal: AbortSignal): Promise<void> {
    const reason = describe(err);
    record.state = 'deploy failed';
    record.failedStep = failed.name;
    record.lastError = `${failed.title}: ${reason}`;
    await this.persist(record);
    this.report(record, `Failed at "${failed.title}": ${reason}; cleaning up`);
    // Clean-up runs even when the deploy was cancelled: give it its own signal.
    const cleanupAbort = new AbortController();
    const ctx = this.context(record, deps, cleanupAbort.signal);
    const errors: string[] = [];
    const undoList = steps.filter((s) => s === failed || record.completed.includes(s.name)).reverse();
    for (const s of undoList) {
      if (!s.undo) continue;
      try {
        await withTimeout(s.undo(ctx), 120_000, `undo of "${s.title}"`);
      } catch (e) {
        errors.push(`undo ${s.title}: ${describe(e)}`);
      }
    }
    try {
      errors.push(...(await withTimeout(this.process(record.method).cleanup(ctx), 300_000, 'clean-up')));
    } catch (e) {
      errors.push(`clean-up: ${describe(e)}`);
    }
    void signal;
    record.cleanup = { done: errors.length === 0, errors };
    record.step = undefined;
    record.callbackDeadline = undefined;
    record.finishedAt = new Date().toISOString();
    record.token = newToken();
    await this.persist(record);
    this.report(record, errors.length ? `Clean-up incomplete: ${errors.join('; ')}` : 'Cleaned up: media ejected, objects removed, server off');
  }

  private async bounded(step: Step<TDeps>, ctx: StepContext<TDeps>, outer: AbortSignal): Promise<void> {
    const limit = typeof step.timeoutMs === 'function' ? step.timeoutMs(ctx) : (step.timeoutMs ?? this.opts.stepTimeoutMs ?? 600_000);
    const own = new AbortController();
    const onOuter = (): void => own.abort(outer.reason);
    outer.addEventListener('abort', onOuter, { once: true });
    if (outer.aborted) own.abort(outer.reason);
    const timer = setTimeout(() => own.abort(new DeployError('timeout', `"${step.title}" did not finish within ${Math.round(limit / 1000)} s`, { step: step.name })), limit);
    const stepCtx: StepContext<TDeps> = { ...ctx, signal: own.signal };
    try {
      await Promise.race([
        step.run(stepCtx),
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

  private context(record: DeployRecord, deps: TDeps, signal: AbortSignal): StepContext<TDeps> {
    const ctx: StepContext<TDeps> = {
      record,
      deps,
      signal,
      data: record.data,
      save: () => this.persist(record),
      progress: (message, transfer) => this.report(record, message, transfer),
      setState: async (state) => {
        record.state = state;
        await this.persist(record);
        this.report(record, state === 'wait call-back' ? 'Waiting for the ramdisk to call back' : `State: ${state}`);
      },
      published: async (obj) => {
        record.published = record.published.filter((p) => p.name !== obj.name).concat(obj);
        await this.persist(record);
      },
      forgetPublished: async (name) => {
        record.published = record.published.filter((p) => p.name !== name);
        await this.persist(record);
      },
      waitForCallback: (kind, timeoutMs) => this.expectCallback(record, kind, timeoutMs, signal),
    };
    return ctx;
  }

  private async expectCallback(record: DeployRecord, kind: CallbackKind, timeoutMs: number, signal: AbortSignal): Promise<Record<string, unknown>> {
    // A deadline that survives restarts: a resumed wait only gets what is left.
    const deadline = record.callbackDeadline ? Date.parse(record.callbackDeadline) : Date.now() + timeoutMs;
    if (!record.callbackDeadline) {
      record.callbackDeadline = new Date(deadline).toISOString();
    }
    if (record.state !== 'wait call-back') {
      record.state = 'wait call-back';
      await this.persist(record);
      this.report(record, kind === 'heartbeat' ? 'Waiting for the agent to call back' : 'Waiting for the deploy ramdisk to call back');
    }
    const early = this.early.get(record.id);
    if (early && early.kind === kind) {
      this.early.delete(record.id);
      return this.accepted(record, kind, early.body);
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new DeployError('timeout', `no callback from the ramdisk within ${Math.round(timeoutMs / 1000)} s`);
    const body = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(record.id);
        reject(new DeployError('timeout', `no callback from the ramdisk within ${Math.round(timeoutMs / 1000)} s (Ironic's deploy_callback_timeout)`));
      }, left);
      const onAbort = (): void => {
        clearTimeout(timer);
        this.waiters.delete(record.id);
        reject(signal.reason);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.set(record.id, {
        kind,
        resolve: (b) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          resolve(b);
        },
      });
    });
    return this.accepted(record, kind, body);
  }

  private async accepted(record: DeployRecord, kind: CallbackKind, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    record.callbackDeadline = undefined;
    record.completed.push(`callback:${kind}`);
    record.state = 'deploying';
    await this.persist(record);
    this.report(record, kind === 'heartbeat' ? 'The agent called back' : 'The deploy ramdisk called back');
    return body;
  }

  private async persist(record: DeployRecord): Promise<void> {
    record.updatedAt = new Date().toISOString();
    // Every change of state or of data.macs is persisted: the one place to keep the index right.
    this.indexMacs(record);
    await this.store.save(record);
  }

  private report(record: DeployRecord, message: string, transfer?: DeployProgress['transfer']): void {
    const p: DeployProgress = {
      deployId: record.id,
      server: record.serverName,
      method: record.method,
      action: record.action,
      state: record.state,
      step: record.step?.name,
      stepIndex: record.step ? record.step.index + 1 : undefined,
      stepCount: record.steps.length,
      message,
      transfer,
      time: new Date().toISOString(),
    };
    this.emit('progress', p);
  }

  private view(r: DeployRecord): DeployStatus {
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
}

function inProgress(r: DeployRecord): boolean {
  return r.state === 'deploying' || r.state === 'wait call-back';
}

export function normaliseMac(mac: string): string {
  const hex = String(mac).toLowerCase().replace(/^01-/, '').replace(/[^0-9a-f]/g, '');
  return hex.length === 12 ? hex.match(/../g)!.join(':') : '';
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
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
