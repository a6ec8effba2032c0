/**
 * ilo-deploy-flow: deploy, undeploy, rebuild or query a server with one of
 * Ironic's iLO processes (agent_ilo, iscsi_ilo, pxe_ilo). Output 1 carries
 * the result (once), output 2 the progress of every step. What each message
 * does is lib/deploy/flow.ts; this file reads the node's fields and the
 * message, sends, and logs.
 */
import { join } from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { endpointTarget } from '../../lib/bmc/endpoint';
import { badInput, type DeployError } from '../../lib/deploy/errors';
import { inspectedDisks, refuseByInspection } from '../../lib/deploy/root-device-hints';
import {
  ProgressGate,
  buildDeployRequest,
  cleanPlanFor,
  deploySettingsFor,
  failureOf,
  finalStatus,
  logLine,
  parseAction,
  progressStatus,
  runFlowAction,
  type FlowAction,
  type FlowCleanFields,
  type FlowOutcome,
  type FlowSettingsFields,
  type Given,
  type StatusKind,
} from '../../lib/deploy/flow';
import type { DeployMethod, DeployProgress, DeployRequest, DeployStatus } from '../../lib/deploy/types';
import { isLibError } from '../../lib/errors';
import { ServerNotFoundError } from '../../lib/inventory';
import { keepAgentInventory, lastInspection } from '../common/inspections';
import { STATUS, evaluateProperty, pick, requireIloConfig } from '../common/node-red';
import { ServerUnsuitableError, type PoolCandidate, type PoolRequest } from '../../lib/deploy/scheduling';
import type { StartRequest } from '../../lib/deploy/records';
import { boundedEach, configPoolCandidates, poolCandidates, poolPickOf, resolveServers, selectionOf, type Inspected, type ServerSelection } from '../common/servers';
import { DEFAULT_API_PATH, baseDir, engineReady, getEngine, mountRamdiskApi, requiredTools, serverKeyOf } from './engine-host';
import { errorBody, httpRequestOf, httpStatusOf, locationOf, readHttpCall, type HttpCall, type HttpRequestLike } from './http';

interface IloDeployFlowDef extends NodeDef, FlowSettingsFields, FlowCleanFields, ServerSelection {
  store: string;
  method: DeployMethod | 'msg';
  action: FlowAction | 'msg';
  image: string;
  imageType: string;
  deployIso: string;
  deployIsoType: string;
  deployKernel: string;
  deployKernelType: string;
  deployRamdisk: string;
  deployRamdiskType: string;
  bootMode: '' | 'bios' | 'uefi' | 'msg';
  /** The config drive (empty: msg.deploy.configDrive, if any): JSON parts, or a property holding parts or Ironic's string. */
  configDrive?: string;
  configDriveType?: string;
  /** Send output 1 when the deploy has "finished", or at once ("started") with its id. */
  respond: 'finished' | 'started';
}

interface DeployMessage extends NodeMessageInFlow {
  /** A server name, a list of names, "*", { pool } (every server of it) or { pool, any: true, capabilities, properties } (one free server picked); over HTTP the body's or the path's. */
  server?: unknown;
  /** A pool deploy: the server it picked (also msg.payload.picked). */
  picked?: unknown;
  action?: unknown;
  method?: unknown;
  bootMode?: unknown;
  deployId?: unknown;
  /** Extra request fields: imageChecksum, imageType, imageFormat, rootMb, bootOption, instanceKernel, instanceRamdisk, bootMac, kernelParams, configDrive; and clean (true, false or a plan: cleanPlanFor). */
  deploy?: Partial<Omit<DeployRequest, 'clean'>> & { clean?: unknown };
  /** The HTTP answer (with msg.req/msg.res): an http response node sends it. */
  statusCode?: number;
  headers?: Record<string, string>;
  error?: unknown;
}

/** A server a message is for, and how its deploy record finds it again after a restart. */
interface DeployTarget {
  name: string;
  /** The iLO's endpoint (host:port), as bmc.target: one deploy per server. */
  key(): Promise<string>;
  /** ilo-config: { server }; fleet: { fleet, fleetServer (its id), serverName }. */
  refs: Record<string, string>;
}

/** One server's part of an HTTP batch answer. */
type BatchResult = { server: string; statusCode: number } & Record<string, unknown>;

type Send = (m: NodeMessage | Array<NodeMessage | null>) => void;
type Done = (err?: Error) => void;
type Refs = Readonly<Record<string, string>> | undefined;

const status = (s: { kind: StatusKind; text: string }): ReturnType<(typeof STATUS)['ok']> => STATUS[s.kind](s.text);

/** A pool pick (well formed or not): its 409 names no one deploy in the way. */
function isPoolPick(server: unknown): boolean {
  try {
    return poolPickOf(server) !== undefined;
  } catch {
    return true;
  }
}

export = function register(RED: NodeAPI): void {
  const settings = RED.settings as unknown as { iloDeployFlowApiPath?: string; iloDeployFlowApiUrl?: string };
  const apiPath = settings.iloDeployFlowApiPath ?? DEFAULT_API_PATH;
  mountRamdiskApi(RED, apiPath);

  function IloDeployFlow(this: Node, def: IloDeployFlowDef): void {
    RED.nodes.createNode(this, def);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the helper functions below are declarations, not arrows
    const node = this;
    const engine = getEngine(RED);
    /** Messages waiting for their deploy's end ("when the deploy has finished"). */
    const pending = new Map<string, { finish: (s: DeployStatus, failed: DeployError | undefined) => void; done: () => void }>();
    /** Deploys whose message was answered at the start ("when started"). */
    const answered = new Set<string>();
    const gate = new ProgressGate();
    const mine = (refs: Refs): boolean => refs?.node === node.id;

    const onProgress = (p: DeployProgress, refs: Refs): void => {
      if (!mine(refs) || !gate.pass(p)) return;
      node.status(status(progressStatus(p)));
      node.send([null, { topic: p.server, deployId: p.deployId, payload: p } as NodeMessage]);
    };

    const onFinished = (s: DeployStatus, refs: Refs): void => {
      if (!mine(refs)) return;
      gate.forget(s.deployId);
      node.status(status(finalStatus(s)));
      log(logLine('finished', s));
      const failed = failureOf(s);
      if (s.state === 'active' && s.result?.agentInventory) {
        keepAgentInventory(node, s.server, { reportedAt: s.finishedAt ?? new Date().toISOString(), deployId: s.deployId, inventory: s.result.agentInventory });
      }
      const p = pending.get(s.deployId);
      pending.delete(s.deployId);
      if (p) return p.finish(s, failed);
      if (!answered.delete(s.deployId)) {
        // A deploy resumed after a restart: its message is gone, so a new one carries the result.
        const msg = { topic: s.server, payload: s, deployId: s.deployId, resumed: true } as NodeMessage;
        if (failed) node.error(failed, msg);
        else node.send([msg, null]);
      }
    };

    engine.on('progress', onProgress);
    engine.on('finished', onFinished);

    node.on('input', (raw: NodeMessageInFlow, send: Send, done: Done) => {
      const msg = raw as DeployMessage;
      handle(msg, send, done).catch(async (err: unknown) => {
        node.status(STATUS.error(isLibError(err) ? err.code : ((err as { code?: string }).code ?? 'error')));
        const failure = err instanceof Error ? err : new Error(String(err));
        const req = httpRequestOf(msg);
        if (req) {
          // An HTTP request is answered with the error too (a Catch node still sees it).
          const body: Record<string, unknown> = errorBody(err);
          msg.statusCode = httpStatusOf(err);
          if (msg.statusCode === 409 && !isPoolPick(msg.server)) body.deploy = await blockingDeploy(msg).catch(() => undefined);
          msg.payload = body;
          send([msg, null]);
        }
        done(failure);
      });
    });

    /** The deploy in the way of a refused request (409): the one asked for, else the server's newest. */
    async function blockingDeploy(msg: DeployMessage): Promise<DeployStatus | undefined> {
      const eng = await engineReady(RED);
      if (typeof msg.deployId === 'string' && msg.deployId) return eng.status(msg.deployId);
      const t = targetsOf(msg, false).targets[0];
      return t ? eng.status(await t.key()) : undefined;
    }

    /** The servers a message is for: the node's ilo-config, or msg.server in its fleet. */
    function targetsOf(msg: DeployMessage, http: boolean): { targets: DeployTarget[]; batch: boolean; maxInFlight: number } {
      if (def.target === 'fleet') {
        let r;
        try {
          r = resolveServers(RED, selectionOf(def), msg.server);
        } catch (err) {
          // Over HTTP the request's fields are named as the body names them.
          if (http && err instanceof ServerNotFoundError) throw new ServerNotFoundError(err.servers, `the fleet`, 'server');
          if (http && isLibError(err) && err.field === 'msg.server') throw badInput('server', 'the name of a server, e.g. "server-1" (or a list of names)', msg.server);
          throw err;
        }
        return {
          batch: r.batch,
          maxInFlight: r.maxInFlight,
          targets: r.targets.map((t) => {
            const inv = t.inventory!;
            return { name: t.name, key: () => Promise.resolve(endpointTarget(inv.host, inv.port)), refs: { fleet: def.fleet ?? '', fleetServer: inv.id, serverName: inv.name } };
          }),
        };
      }
      const config = requireIloConfig(RED, def.server);
      // Over HTTP a request naming another server is not for this node.
      if (http && typeof msg.server === 'string' && msg.server !== '' && msg.server !== config.label) throw new ServerNotFoundError([msg.server], `this node (it deploys ${config.label})`, 'server');
      return { batch: false, maxInFlight: 1, targets: [{ name: config.label, key: () => serverKeyOf(config), refs: { server: def.server ?? '' } }] };
    }

    async function handle(msg: DeployMessage, send: Send, done: Done): Promise<void> {
      const req = httpRequestOf(msg);
      const call = req ? readHttpCall(req) : undefined;
      if (call) {
        msg.action = call.action;
        if (call.deployId !== undefined) msg.deployId = call.deployId;
        if (call.server !== undefined) msg.server = call.server;
        if (call.clean !== undefined) msg.deploy = { ...msg.deploy, clean: call.clean };
      }
      const action = call ? httpAction(call) : parseAction(pick(def.action, msg.action, 'msg.action', 'action'));
      const method = call?.method;
      if (method && def.method !== 'msg' && def.method !== method) throw badInput('method', `${def.method} (this node deploys with ${def.method})`, method);
      const eng = await engineReady(RED);
      const byId = (action === 'status' || action === 'undeploy') && msg.deployId !== undefined && msg.deployId !== '';
      // A fixed server name in the node wins over msg.server, as for every other node.
      const poolPick = byId || (def.target === 'fleet' && def.serverName?.trim()) ? undefined : poolPickOf(msg.server, call ? 'server' : 'msg.server');
      const pool = poolPick ? await poolOf(poolPick, call ? 'server' : 'msg.server') : undefined;
      const chosen = byId || pool ? undefined : targetsOf(msg, !!call);
      const startOn = async (t: DeployTarget, m: DeployMessage, clean: ReturnType<typeof cleanPlanFor>): Promise<StartRequest> => {
        if (!def.store || !RED.nodes.getNode(def.store)) throw badInput('store', 'an ilo-media-store configuration (where the deploy media and images are published)');
        const request = await requestOf(m, call);
        if (clean && action === 'deploy') request.clean = clean;
        refuseByLastInspection(t.name, request);
        const deploySettings = deploySettingsFor(request.method, def, { defaultApiUrl: settings.iloDeployFlowApiUrl, apiPath, workDir: join(baseDir(RED), 'work'), requiredTools: requiredTools(RED) });
        return { serverKey: await t.key(), serverName: t.name, refs: { ...t.refs, store: def.store, node: node.id, settings: JSON.stringify(deploySettings) }, request };
      };
      const one = async (t: DeployTarget | undefined, m: DeployMessage): Promise<FlowOutcome> => {
        const clean = cleanPlanFor(action, def, m.deploy?.clean);
        const out = await runFlowAction(eng, {
          clean: action === 'undeploy' ? clean : undefined,
          action,
          deployId: m.deployId,
          method: byId && method ? (method as DeployMethod) : undefined,
          server: t ?? { name: '', key: () => Promise.reject(new Error('no server')) },
          start: async () => {
            if (!t) throw badInput('msg.server', 'a server to deploy');
            return startOn(t, m, clean);
          },
          pool: pool && { request: pool.request, candidates: pool.candidates, start: (c) => startOn(pool.targets.get(c.name)!, m, clean) },
        });
        if (out.started) log(logLine('started', out.started));
        return out;
      };

      if (!chosen?.batch) {
        const t = chosen?.targets[0];
        if (t && (msg.topic === undefined || msg.topic === '')) msg.topic = t.name;
        const out = await one(t, msg);
        msg.payload = out.picked ? { ...out.payload, picked: out.picked } : out.payload;
        if (out.picked) {
          msg.picked = out.picked;
          msg.server = out.picked.server;
          if (msg.topic === undefined || msg.topic === '') msg.topic = out.picked.server;
        }
        if (req) {
          Object.assign(msg, answerOf(req, out));
          if (out.started) answered.add(out.started.deployId);
          node.status(out.started ? STATUS.busy(`${action}: started${out.picked ? ` on ${out.picked.server}` : ''}`) : STATUS.ok(`${action}: ${out.payload.state}`));
          send([msg, null]);
          return done();
        }
        if (!out.started) {
          send([msg, null]);
          return done();
        }
        node.status(STATUS.busy(`${action}: started${out.picked ? ` on ${out.picked.server}` : ''}`));
        msg.deployId = out.started.deployId;
        if (def.respond === 'started') {
          answered.add(out.started.deployId);
          send([msg, null]);
          return done();
        }
        pending.set(out.started.deployId, {
          done,
          finish: (s, failed) => {
            msg.payload = s;
            msg.deployId = s.deployId;
            if (failed) return done(failed);
            send([msg, null]);
            done();
          },
        });
        return;
      }

      // A batch: one result per server, at most the fleet's "servers at once" in flight.
      const { targets, maxInFlight } = chosen;
      const results: BatchResult[] = [];
      let left = targets.length;
      const settle = (): void => {
        if (--left > 0) return;
        const failed = results.filter((r) => r.statusCode >= 400).length;
        node.status(failed ? { fill: 'red', shape: 'ring', text: `${targets.length - failed} ok, ${failed} failed` } : STATUS.ok(`${targets.length} servers: ${action}`));
        if (req) {
          const codes = new Set(results.map((r) => r.statusCode));
          msg.statusCode = codes.size === 1 ? [...codes][0] : 207;
          msg.payload = { action, servers: results.sort((a, b) => targets.findIndex((t) => t.name === a.server) - targets.findIndex((t) => t.name === b.server)) };
          send([msg, null]);
        }
        done();
      };
      node.status(STATUS.busy(`${action}: ${targets.length} servers…`));
      await boundedEach(targets, maxInFlight, new AbortController().signal, async (t) => {
        const m = RED.util.cloneMessage(msg) as DeployMessage;
        m.server = t.name;
        m.topic = t.name;
        try {
          const out = await one(t, m);
          m.payload = out.payload;
          if (req) {
            const a = answerOf(req, out);
            if (out.started) answered.add(out.started.deployId);
            results.push({ server: t.name, statusCode: a.statusCode, ...(a.headers ? { location: a.headers.location } : {}), ...(out.payload as object) });
            return settle();
          }
          if (out.started) m.deployId = out.started.deployId;
          if (!out.started || def.respond === 'started') {
            if (out.started) answered.add(out.started.deployId);
            send([m, null]);
            return settle();
          }
          pending.set(out.started.deployId, {
            done: () => settle(),
            finish: (s, failed) => {
              m.payload = s;
              if (failed) m.error = { code: failed.code, message: failed.message, server: t.name };
              send([m, null]);
              settle();
            },
          });
        } catch (err) {
          const e = errorBody(err);
          if (req) {
            results.push({ server: t.name, statusCode: httpStatusOf(err), ...e });
            return settle();
          }
          m.payload = { server: t.name, error: { code: e.code, message: e.error } };
          m.error = { code: e.code, message: e.error, server: t.name };
          send([m, null]);
          settle();
        }
      });
    }

    /**
     * The servers a pool pick chooses among, with their facts and keys: the
     * fleet's (pool members), or the ilo-config nodes of that pool. What
     * ilo-inspect found (the global context) is beside what is configured.
     */
    async function poolOf(request: PoolRequest, field: string): Promise<{ request: PoolRequest; candidates: PoolCandidate[]; targets: Map<string, DeployTarget> }> {
      const inspected = (name: string): Inspected => lastInspection(node, name);
      const targets = new Map<string, DeployTarget>();
      const candidates: PoolCandidate[] = [];
      if (def.target === 'fleet') {
        for (const { target, candidate } of poolCandidates(RED, selectionOf(def), request.pool, inspected, field)) {
          const inv = target.inventory!;
          const key = endpointTarget(inv.host, inv.port);
          targets.set(candidate.name, { name: candidate.name, key: () => Promise.resolve(key), refs: { fleet: def.fleet ?? '', fleetServer: inv.id, serverName: inv.name } });
          candidates.push({ ...candidate, key });
        }
      } else {
        for (const { config, candidate } of configPoolCandidates(RED, request.pool, inspected, field)) {
          const key = await serverKeyOf(config);
          targets.set(candidate.name, { name: candidate.name, key: () => Promise.resolve(key), refs: { server: config.id } });
          candidates.push({ ...candidate, key });
        }
      }
      return { request, candidates, targets };
    }

    /**
     * Root device hints no disk of the server's last inspection (ilo-inspect
     * keeps them in the global context) can match: refused before anything
     * is booted, rather than failing in the ramdisk.
     */
    function refuseByLastInspection(server: string, request: DeployRequest): void {
      if (!request.rootDeviceHints) return;
      const inspected = lastInspection(node, server);
      const why = inspected && refuseByInspection(request.rootDeviceHints, inspectedDisks(inspected));
      if (why) throw new ServerUnsuitableError(`rootDeviceHints: ${why} of ${server}; inspect it again if its disks changed`, 'rootDeviceHints');
    }

    /** The answer to an HTTP request: 202 with where to follow a started deploy, else 200. */
    function answerOf(req: HttpRequestLike, out: FlowOutcome): { statusCode: number; headers?: { location: string } } {
      if (!out.started) return { statusCode: 200 };
      return { statusCode: 202, headers: { location: locationOf(req, out.started.deployId) } };
    }

    function httpAction(call: HttpCall): FlowAction {
      if (call.action !== 'deploy') return call.action;
      return def.action === 'rebuild' ? 'rebuild' : 'deploy';
    }

    async function requestOf(msg: DeployMessage, call: HttpCall | undefined): Promise<DeployRequest> {
      const field = async (name: string, v: string | undefined, type: string | undefined): Promise<Given> => ({
        field: name,
        value: !v && (type ?? 'str') === 'str' ? undefined : await evaluateProperty(RED, v ?? '', type || 'str', node, msg),
      });
      // An HTTP request's own image, boot mode and config drive come before the node's.
      const given = (name: string, v: unknown): Given | undefined => (v === undefined ? undefined : { field: name, value: v });
      return buildDeployRequest({
        method: call?.method ? { value: call.method, field: 'method' } : pick(def.method, msg.method, 'msg.method', 'method'),
        image: given('image', call?.image) ?? (await field('image', def.image, def.imageType)),
        deployIso: await field('deployIso', def.deployIso, def.deployIsoType),
        deployKernel: await field('deployKernel', def.deployKernel, def.deployKernelType),
        deployRamdisk: await field('deployRamdisk', def.deployRamdisk, def.deployRamdiskType),
        bootMode:
          given('bootMode', call?.bootMode) ??
          (def.bootMode === 'msg' ? { value: msg.bootMode, field: 'msg.bootMode' } : { value: def.bootMode || undefined, field: 'bootMode' }),
        configDrive: given('configDrive', call?.configDrive) ?? (def.configDrive ? await field('configDrive', def.configDrive, def.configDriveType || 'json') : undefined),
        extra: call ? { ...call.extra, ...(msg.deploy ?? {}) } : msg.deploy,
      });
    }

    function log(line: { level: 'info' | 'warn'; text: string }): void {
      if (line.level === 'warn') node.warn(line.text);
      else node.log(line.text);
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      // Deploys go on in the engine; a redeployed node with the same id picks their events up again.
      engine.off('progress', onProgress);
      engine.off('finished', onFinished);
      for (const p of pending.values()) p.done();
      pending.clear();
      node.status(STATUS.clear);
      done();
    });
  }

  RED.nodes.registerType('ilo-deploy-flow', IloDeployFlow, {
    settings: {
      iloDeployFlowApiPath: { value: DEFAULT_API_PATH, exportable: false },
      iloDeployFlowApiUrl: { value: '', exportable: true },
    },
  });
};
