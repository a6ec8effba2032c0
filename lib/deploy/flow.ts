/**
 * What a deploy-flow node does, without Node-RED: turn its configuration and
 * a message into an engine call (deploy, rebuild, undeploy, status), with the
 * defaults and checks that belong to it, and turn what the engine reports
 * into a result, a status line and log lines. The node is left with reading
 * its fields and the message, and with sending.
 */
import { DeployError, badInput } from './errors';
import type { DeployEngine } from './engine';
import { DEFAULT_SETTINGS, type DeploySettings } from './processes/deps';
import type { ToolRequirement } from './preflight';
import type { StartRequest } from './records';
import { checkCleanRamdisk, cleanPlan, cleanSteps } from './processes/clean-plan';
import { deployOnPool, type PoolCandidate, type PoolRequest } from './scheduling';
import { DEPLOY_METHODS, type CleanPlan, type DeployMethod, type DeployProgress, type DeployRequest, type DeployStatus } from './types';

export type FlowAction = 'deploy' | 'undeploy' | 'rebuild' | 'status';
export const FLOW_ACTIONS: readonly FlowAction[] = ['deploy', 'undeploy', 'rebuild', 'status'];

/** A value and the name of the field it came from (`action`, or `msg.action` when the message gave it). */
export interface Given {
  value: unknown;
  field: string;
}

/** The request fields a message may carry in `msg.deploy`. */
export const EXTRA_FIELDS = ['imageChecksum', 'imageType', 'imageFormat', 'rootMb', 'bootOption', 'instanceKernel', 'instanceRamdisk', 'bootMac', 'kernelParams', 'configDrive', 'rootDeviceHints'] as const;

export function parseAction(p: Given): FlowAction {
  if (typeof p.value !== 'string' || !FLOW_ACTIONS.includes(p.value as FlowAction)) throw badInput(p.field, FLOW_ACTIONS.join(', '), p.value);
  return p.value as FlowAction;
}

/** What the node read for a deploy request: each value with its field. */
export interface FlowRequestInput {
  method: Given;
  image?: Given;
  deployIso?: Given;
  deployKernel?: Given;
  deployRamdisk?: Given;
  bootMode?: Given;
  /** The node's config drive field, over `msg.deploy.configDrive` when it gives one. */
  configDrive?: Given;
  /** `msg.deploy`: the other request fields. */
  extra?: unknown;
}

/** The deploy request, its values type-checked and named by field; the process checks the rest. */
export function buildDeployRequest(input: FlowRequestInput): DeployRequest {
  const m = input.method;
  if (typeof m.value !== 'string' || !DEPLOY_METHODS.includes(m.value as DeployMethod)) throw badInput(m.field, DEPLOY_METHODS.join(', '), m.value);
  const request: DeployRequest = {
    method: m.value as DeployMethod,
    image: reference(input.image) ?? '',
    deployIso: reference(input.deployIso),
    deployKernel: reference(input.deployKernel),
    deployRamdisk: reference(input.deployRamdisk),
  };
  const bm = input.bootMode;
  if (bm && bm.value !== undefined && bm.value !== '') {
    if (bm.value !== 'bios' && bm.value !== 'uefi') throw badInput(bm.field, 'bios or uefi', bm.value);
    request.bootMode = bm.value;
  }
  const extra = input.extra;
  if (extra !== undefined && (typeof extra !== 'object' || extra === null || Array.isArray(extra))) throw badInput('msg.deploy', 'an object with extra deploy fields', extra);
  for (const k of EXTRA_FIELDS) {
    const v = (extra as Record<string, unknown> | undefined)?.[k];
    if (v !== undefined) (request as unknown as Record<string, unknown>)[k] = v;
  }
  const cd = input.configDrive;
  if (cd && cd.value !== undefined && cd.value !== null && cd.value !== '') {
    if (typeof cd.value !== 'string' && (typeof cd.value !== 'object' || Array.isArray(cd.value))) {
      throw badInput(cd.field, 'a config drive: an object { meta_data, user_data, network_data, vendor_data }, or a string (base64 of a gzipped image, or a URL)', cd.value);
    }
    request.configDrive = cd.value as DeployRequest['configDrive'];
  }
  return request;
}

/** An image reference as given: absent or empty is "not given"; anything but a string is refused. */
function reference(g: Given | undefined): string | undefined {
  if (!g || g.value === undefined || g.value === null || g.value === '') return undefined;
  if (typeof g.value !== 'string') throw badInput(g.field, 'a string: an http(s) URL, a file path, swift:container/object or glance:<id>', g.value);
  return g.value;
}

/** A deploy-flow node's settings fields (strings and numbers as the editor saves them). */
export interface FlowSettingsFields {
  apiUrl?: string;
  tftpRoot?: string;
  deployKernelParams?: string;
  callbackTimeout?: string | number;
  writeTimeout?: string | number;
  powerTimeout?: string | number;
}

export interface FlowSettingsContext {
  /** The runtime's default callback URL (settings.js `iloDeployFlowApiUrl`). */
  defaultApiUrl?: string;
  /** Where the ramdisk API is mounted, for the hint in the error. */
  apiPath: string;
  /** Staging space for images and kernels. */
  workDir: string;
  /** Tools the runtime adds to each method's preflight (settings.js `iloDeployRequiredTools`). */
  requiredTools?: Partial<Record<DeployMethod, ToolRequirement[]>>;
}

/** The settings a deploy runs with: the node's fields over the defaults. */
export function deploySettingsFor(method: DeployMethod, f: FlowSettingsFields, ctx: FlowSettingsContext): DeploySettings {
  const apiUrl = (f.apiUrl || ctx.defaultApiUrl || '').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+/.test(apiUrl)) {
    throw badInput('apiUrl', `the URL the servers use to reach this Node-RED's ramdisk API, e.g. http://10.0.0.1:1880${ctx.apiPath}`, apiUrl || undefined);
  }
  if (method === 'pxe_ilo' && !f.tftpRoot) throw badInput('tftpRoot', 'the TFTP root directory the servers PXE-boot from (pxe_ilo)');
  const secs = (v: string | number | undefined, dflt: number): number => {
    const n = v === '' || v === undefined ? NaN : Number(v);
    return Number.isFinite(n) && n > 0 ? n * 1000 : dflt;
  };
  return {
    ...DEFAULT_SETTINGS,
    apiUrl,
    callbackTimeoutMs: secs(f.callbackTimeout, DEFAULT_SETTINGS.callbackTimeoutMs),
    writeTimeoutMs: secs(f.writeTimeout, DEFAULT_SETTINGS.writeTimeoutMs),
    powerTimeoutMs: secs(f.powerTimeout, DEFAULT_SETTINGS.powerTimeoutMs),
    workDir: ctx.workDir,
    tftpRoot: f.tftpRoot || undefined,
    deployKernelParams: f.deployKernelParams || undefined,
    requiredTools: ctx.requiredTools?.[method]?.length ? ctx.requiredTools[method] : undefined,
  };
}

/** A deploy-flow node's cleaning fields: when it cleans ('' never, 'undeploy', 'always': also before a deploy) and its steps (JSON over the defaults). */
export interface FlowCleanFields {
  clean?: string;
  cleanSteps?: string;
}

export const CLEAN_MODES = ['', 'undeploy', 'always'] as const;

/**
 * The cleaning an action does: `msg.deploy.clean` when the message gives it
 * (true, false, or a plan), else the node's option. A rebuild never cleans
 * (nor does Ironic's).
 */
export function cleanPlanFor(action: FlowAction, f: FlowCleanFields, msgClean: unknown): CleanPlan | undefined {
  if (action !== 'deploy' && action !== 'undeploy') return undefined;
  const mode = f.clean ?? '';
  if (!(CLEAN_MODES as readonly string[]).includes(mode)) throw badInput('clean', "'' (no cleaning), undeploy or always", mode);
  const steps = cleanSteps(f.cleanSteps, 'cleanSteps');
  if (msgClean !== undefined) return cleanPlan(msgClean, 'msg.deploy.clean', steps);
  return (action === 'undeploy' ? mode !== '' : mode === 'always') ? { steps } : undefined;
}

/** The server a node is configured for. */
export interface FlowServer {
  name: string;
  /** Its server key (the iLO's host:port), known without asking the iLO. */
  key(): Promise<string>;
}

export interface FlowCall {
  action: FlowAction;
  /** `msg.deployId`: status and undeploy of that deploy, from its record alone. */
  deployId?: unknown;
  /** Only a deploy of this method is found by id (an HTTP API per method answers 404 for the others). */
  method?: DeployMethod;
  server: FlowServer;
  /** The deploy to start (deploy, rebuild): built only when needed. */
  start(): Promise<StartRequest>;
  /** The cleaning an undeploy does (cleanPlanFor), if any. */
  clean?: CleanPlan;
  /** A pool deploy: any free server of these that meets the request (scheduling/pick.ts) instead of `server`. */
  pool?: FlowPool;
}

/** A pool deploy's part of a call: what it asks for, the pool's servers, and the deploy to start on the one picked. */
export interface FlowPool {
  request: PoolRequest;
  candidates: PoolCandidate[];
  start(picked: PoolCandidate): Promise<StartRequest>;
}

/** What a pool deploy picked: named in the answer beside the deploy's status. */
export interface PoolPicked {
  server: string;
  pool?: string;
  /** Servers in the pool, and how many met the requirements. */
  servers: number;
  matched: number;
}

export interface FlowOutcome {
  /** What goes out now (status), or what was started (deploy, rebuild, undeploy). */
  payload: DeployStatus | { server: string; state: 'available' };
  /** The deploy or tear-down started: its end comes as the engine's 'finished' event. */
  started?: DeployStatus;
  /** A pool deploy: the server it picked. */
  picked?: PoolPicked;
}

const DEPLOY_ID = /^[A-Za-z0-9-]{1,64}$/;

/** What a flow needs of the engine (any DeployEngine). */
export type FlowEngine = Pick<DeployEngine<unknown>, 'status' | 'undeploy' | 'deploy' | 'rebuild'>;

/** One message's work. Status and undeploy of a given deploy need nothing but its record: a dead iLO does not stop them. */
export async function runFlowAction(engine: FlowEngine, call: FlowCall): Promise<FlowOutcome> {
  if (call.pool) {
    // Picking is for a new deploy: a rebuild, an undeploy or a status is of a server named, or of a deploy id.
    if (call.action !== 'deploy') throw badInput('msg.action', 'deploy (a pool picks a server for a new deploy; name the server, or give msg.deployId, for the others)', call.action);
    const { status, picked, matched } = await deployOnPool(engine, call.pool.request, call.pool.candidates, call.pool.start);
    return { payload: status, started: status, picked: { server: picked.name, pool: call.pool.request.pool, servers: call.pool.candidates.length, matched } };
  }
  const byId = (call.action === 'status' || call.action === 'undeploy') && call.deployId !== undefined && call.deployId !== '';
  if (byId) {
    if (typeof call.deployId !== 'string' || !DEPLOY_ID.test(call.deployId)) throw badInput('msg.deployId', 'a deploy id (letters, digits and dashes)', call.deployId);
    const known = await engine.status(call.deployId);
    // A deploy asked for by id must exist (an HTTP flow answers 404 otherwise).
    if (known?.deployId !== call.deployId || (call.method && known.method !== call.method)) throw new DeployError('not-found', `no ${call.method ? `${call.method} ` : ''}deploy ${call.deployId}`);
    if (call.action === 'status') return { payload: known };
    if (call.clean) checkCleanRamdisk(call.clean, known.method, 'msg.deploy.clean.deployIso');
    const started = await engine.undeploy({ deployId: call.deployId }, { clean: call.clean });
    return { payload: started, started };
  }
  const key = await call.server.key();
  if (call.action === 'status') return { payload: (await engine.status(key)) ?? { server: call.server.name, state: 'available' } };
  if (call.action === 'undeploy') {
    const current = call.clean && (await engine.status(key));
    if (call.clean && current) checkCleanRamdisk(call.clean, current.method, 'msg.deploy.clean.deployIso');
    const started = await engine.undeploy(key, { clean: call.clean });
    return { payload: started, started };
  }
  const run = await call.start();
  const started = call.action === 'rebuild' ? await engine.rebuild(run) : await engine.deploy(run);
  return { payload: started, started };
}

/** The error a failed deploy or tear-down ends its message with (a Catch node sees it). */
export function failureOf(s: DeployStatus): DeployError | undefined {
  if (s.state !== 'deploy failed' && s.state !== 'error' && s.state !== 'clean failed') return undefined;
  const pending = s.cleanup && !s.cleanup.done ? ` (clean-up incomplete: ${s.cleanup.errors.join('; ')}${s.cleanup.retryAt ? `; tried again at ${s.cleanup.retryAt}` : ''})` : '';
  return new DeployError('failed', `deploy ${s.deployId} on ${s.server}: ${s.lastError ?? s.state}${pending}`, { step: s.failedStep });
}

export type StatusKind = 'busy' | 'ok' | 'idle' | 'error';

/** The node's status line while it goes. */
export function progressStatus(p: DeployProgress): { kind: StatusKind; text: string } {
  if (p.state === 'deploy failed' || p.state === 'error' || p.state === 'clean failed') return { kind: 'error', text: p.step ? `failed: ${p.step}` : 'failed' };
  // The last progress of a deploy or tear-down says its end: shown as the final status is, not as work going on.
  if (p.state === 'active') return { kind: 'ok', text: 'active' };
  if (p.state === 'available') return { kind: 'idle', text: 'available' };
  if (p.transfer?.percent !== undefined) return { kind: 'busy', text: `${p.stepIndex ?? '?'}/${p.stepCount} ${p.transfer.percent}%` };
  if (p.state === 'wait call-back' || p.state === 'clean wait') return { kind: 'busy', text: `${p.stepIndex ?? '?'}/${p.stepCount} ${p.state}` };
  return { kind: 'busy', text: p.stepIndex ? `step ${p.stepIndex}/${p.stepCount}: ${p.step}` : p.state };
}

/** The node's status line at the end. */
export function finalStatus(s: DeployStatus): { kind: StatusKind; text: string } {
  if (s.state === 'active') return { kind: 'ok', text: 'active' };
  if (s.state === 'available') return { kind: 'idle', text: 'available' };
  return { kind: 'error', text: s.failedStep ? `failed: ${s.failedStep}` : s.state };
}

/** A log line for the runtime's log: server, deploy id, what happened; never a secret (statuses hold none). */
export function logLine(event: 'started' | 'finished', s: DeployStatus): { level: 'info' | 'warn'; text: string } {
  const what = s.action === 'undeploy' ? 'undeploy' : `${s.action} (${s.method})`;
  const head = `${what} ${s.deployId} on ${s.server}`;
  if (event === 'started') return { level: 'info', text: `${head}: started` };
  const failure = failureOf(s);
  if (!failure) return { level: 'info', text: `${head}: ${s.state}` };
  return { level: 'warn', text: `${head}: ${s.state}${s.failedStep ? ` at step ${s.failedStep}` : ''}: ${failure.message.replace(/^deploy \S+ on [^:]+: /, '')}` };
}

/** At most about one transfer progress message a second per deploy (and every 100 %). */
export class ProgressGate {
  private readonly last = new Map<string, number>();

  pass(p: DeployProgress): boolean {
    if (!p.transfer) return true;
    const prev = this.last.get(p.deployId) ?? 0;
    if (Date.now() - prev < 1000 && (p.transfer.percent ?? 0) < 100) return false;
    this.last.set(p.deployId, Date.now());
    return true;
  }

  forget(deployId: string): void {
    this.last.delete(deployId);
  }
}
