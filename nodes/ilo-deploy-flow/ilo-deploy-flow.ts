/**
 * ilo-deploy-flow: deploy, undeploy, rebuild or query a server with one of
 * Ironic's iLO processes (agent_ilo, iscsi_ilo, pxe_ilo). Output 1 carries
 * the result (once), output 2 the progress of every step.
 */
import { join } from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { DeployError, badInput } from '../../lib/deploy/errors';
import { DEFAULT_SETTINGS, type DeploySettings } from '../../lib/deploy/processes';
import { DEPLOY_METHODS, type DeployMethod, type DeployProgress, type DeployRequest, type DeployStatus } from '../../lib/deploy/types';
import { STATUS, evaluateProperty, pick, requireIloConfig } from '../common/node-red';
import { DEFAULT_API_PATH, baseDir, engineReady, getEngine, mountRamdiskApi } from './engine-host';

type Action = 'deploy' | 'undeploy' | 'rebuild' | 'status';
const ACTIONS: readonly Action[] = ['deploy', 'undeploy', 'rebuild', 'status'];

interface IloDeployFlowDef extends NodeDef {
  server: string;
  store: string;
  method: DeployMethod | 'msg';
  action: Action | 'msg';
  image: string;
  imageType: string;
  deployIso: string;
  deployIsoType: string;
  deployKernel: string;
  deployKernelType: string;
  deployRamdisk: string;
  deployRamdiskType: string;
  bootMode: '' | 'bios' | 'uefi' | 'msg';
  /** Send output 1 when the deploy has "finished", or at once ("started") with its id. */
  respond: 'finished' | 'started';
  apiUrl: string;
  callbackTimeout: string | number;
  writeTimeout: string | number;
  powerTimeout: string | number;
  tftpRoot: string;
  deployKernelParams: string;
}

interface DeployMessage extends NodeMessageInFlow {
  action?: unknown;
  method?: unknown;
  bootMode?: unknown;
  deployId?: unknown;
  /** Extra request fields: imageChecksum, imageType, imageFormat, rootMb, bootOption, instanceKernel, instanceRamdisk, bootMac, kernelParams. */
  deploy?: Partial<DeployRequest>;
}

interface Pending {
  msg: DeployMessage;
  send: (m: NodeMessage | Array<NodeMessage | null>) => void;
  done: (err?: Error) => void;
}

const EXTRA_FIELDS = ['imageChecksum', 'imageType', 'imageFormat', 'rootMb', 'bootOption', 'instanceKernel', 'instanceRamdisk', 'bootMac', 'kernelParams'] as const;

export = function register(RED: NodeAPI): void {
  const settings = RED.settings as unknown as { iloDeployFlowApiPath?: string; iloDeployFlowApiUrl?: string };
  const apiPath = settings.iloDeployFlowApiPath ?? DEFAULT_API_PATH;
  mountRamdiskApi(RED, apiPath);

  function IloDeployFlow(this: Node, def: IloDeployFlowDef): void {
    RED.nodes.createNode(this, def);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the helper functions below are declarations, not arrows
    const node = this;
    const engine = getEngine(RED);
    const pending = new Map<string, Pending>();
    const lastTransfer = new Map<string, number>();

    const owned = (refs: Readonly<Record<string, string>> | undefined): boolean => refs?.node === node.id;

    const onProgress = (p: DeployProgress, refs?: Readonly<Record<string, string>>): void => {
      if (!owned(refs)) return;
      if (p.transfer) {
        const last = lastTransfer.get(p.deployId) ?? 0;
        if (Date.now() - last < 1000 && (p.transfer.percent ?? 0) < 100) return;
        lastTransfer.set(p.deployId, Date.now());
      }
      node.status(statusFor(p));
      node.send([null, { topic: p.server, deployId: p.deployId, payload: p } as NodeMessage]);
    };

    const onFinished = (s: DeployStatus, refs?: Readonly<Record<string, string>>): void => {
      if (!owned(refs)) return;
      lastTransfer.delete(s.deployId);
      node.status(finalStatus(s));
      const p = pending.get(s.deployId);
      pending.delete(s.deployId);
      const failed = s.state === 'deploy failed' || s.state === 'error';
      if (p) {
        p.msg.payload = s;
        p.msg.deployId = s.deployId;
        if (failed) p.done(failure(s));
        else {
          p.send([p.msg, null]);
          p.done();
        }
        return;
      }
      if (!resultSentAtStart.has(s.deployId)) {
        // A deploy resumed after a restart: its original message is gone, so a new one carries the result.
        const msg: NodeMessage = { topic: s.server, payload: s, deployId: s.deployId, resumed: true } as NodeMessage;
        if (failed) node.error(failure(s), msg);
        else node.send([msg, null]);
      }
      resultSentAtStart.delete(s.deployId);
    };
    const resultSentAtStart = new Set<string>();

    engine.on('progress', onProgress);
    engine.on('finished', onFinished);

    node.on('input', (raw: NodeMessageInFlow, send: (m: NodeMessage | Array<NodeMessage | null>) => void, done: (err?: Error) => void) => {
      const msg = raw as DeployMessage;
      handle(msg, send, done).catch((err: unknown) => {
        node.status(STATUS.error(err instanceof DeployError ? err.code : ((err as { code?: string }).code ?? 'error')));
        done(err instanceof Error ? err : new Error(String(err)));
      });
    });

    async function handle(msg: DeployMessage, send: Pending['send'], done: Pending['done']): Promise<void> {
      const action = parseAction(pick(def.action, msg.action, 'msg.action', 'action'));
      const config = requireIloConfig(RED, def.server);
      const eng = await engineReady(RED);
      if (msg.topic === undefined || msg.topic === '') msg.topic = config.label;
      const byId = action === 'status' || action === 'undeploy';
      const wanted = byId && typeof msg.deployId === 'string' && msg.deployId ? msg.deployId : undefined;
      const known = wanted === undefined ? undefined : await eng.status(wanted);
      // A deploy asked for by id must exist (an HTTP flow answers 404 otherwise); looking it up needs no iLO.
      if (wanted !== undefined && known?.deployId !== wanted) throw new DeployError('not-found', `no deploy ${wanted}`);
      if (action === 'status' && known) {
        msg.payload = known;
        send([msg, null]);
        return done();
      }
      const serverKey = (await config.getBmc()).target;

      if (action === 'status') {
        msg.payload = (await eng.status(serverKey)) ?? { server: config.label, state: 'available' };
        send([msg, null]);
        return done();
      }

      let started: DeployStatus;
      if (action === 'undeploy') {
        const current = await eng.status(serverKey);
        if (known && current?.deployId !== known.deployId) {
          throw new DeployError('busy', `${config.label}: deploy ${known.deployId} is not its current deploy (${current?.deployId ?? 'none'} is); undeploy that one`);
        }
        started = await eng.undeploy(serverKey);
      } else {
        if (!def.store || !RED.nodes.getNode(def.store)) throw badInput('store', 'an ilo-media-store configuration (where the deploy media and images are published)');
        const request = await buildRequest(msg);
        const run = { serverKey, serverName: config.label, refs: { server: def.server, store: def.store, node: node.id, settings: JSON.stringify(buildSettings(request.method)) }, request };
        started = action === 'rebuild' ? await eng.rebuild(run) : await eng.deploy(run);
      }
      node.status(STATUS.busy(`${action}: started`));
      if (def.respond === 'started') {
        resultSentAtStart.add(started.deployId);
        msg.payload = started;
        msg.deployId = started.deployId;
        send([msg, null]);
        return done();
      }
      pending.set(started.deployId, { msg, send, done });
    }

    async function value(v: string | undefined, type: string | undefined, msg: DeployMessage): Promise<string | undefined> {
      if (!v && (type ?? 'str') === 'str') return undefined;
      const r = await evaluateProperty(RED, v ?? '', type || 'str', node, msg);
      return r === undefined || r === null || r === '' ? undefined : String(r);
    }

    async function buildRequest(msg: DeployMessage): Promise<DeployRequest> {
      const m = pick(def.method, msg.method, 'msg.method', 'method');
      if (typeof m.value !== 'string' || !DEPLOY_METHODS.includes(m.value as DeployMethod)) throw badInput(m.field, DEPLOY_METHODS.join(', '), m.value);
      const request: DeployRequest = {
        method: m.value as DeployMethod,
        image: (await value(def.image, def.imageType, msg)) ?? '',
        deployIso: await value(def.deployIso, def.deployIsoType, msg),
        deployKernel: await value(def.deployKernel, def.deployKernelType, msg),
        deployRamdisk: await value(def.deployRamdisk, def.deployRamdiskType, msg),
      };
      const bm = def.bootMode === 'msg' ? { value: msg.bootMode, field: 'msg.bootMode' } : { value: def.bootMode || undefined, field: 'bootMode' };
      if (bm.value !== undefined && bm.value !== '') {
        if (bm.value !== 'bios' && bm.value !== 'uefi') throw badInput(bm.field, 'bios or uefi', bm.value);
        request.bootMode = bm.value;
      }
      const extra = msg.deploy;
      if (extra !== undefined && (typeof extra !== 'object' || extra === null)) throw badInput('msg.deploy', 'an object with extra deploy fields', extra);
      for (const k of EXTRA_FIELDS) if (extra?.[k] !== undefined) (request as unknown as Record<string, unknown>)[k] = extra[k];
      return request;
    }

    function buildSettings(method: DeployMethod): DeploySettings {
      const apiUrl = (def.apiUrl || settings.iloDeployFlowApiUrl || '').replace(/\/+$/, '');
      if (!/^https?:\/\/[^/\s]+/.test(apiUrl)) {
        throw badInput('apiUrl', `the URL the servers use to reach this Node-RED's ramdisk API, e.g. http://10.0.0.1:1880${apiPath}`, apiUrl || undefined);
      }
      if (method === 'pxe_ilo' && !def.tftpRoot) throw badInput('tftpRoot', 'the TFTP root directory the servers PXE-boot from (pxe_ilo)');
      const secs = (v: string | number | undefined, dflt: number): number => {
        const n = v === '' || v === undefined ? NaN : Number(v);
        return Number.isFinite(n) && n > 0 ? n * 1000 : dflt;
      };
      return {
        ...DEFAULT_SETTINGS,
        apiUrl,
        callbackTimeoutMs: secs(def.callbackTimeout, DEFAULT_SETTINGS.callbackTimeoutMs),
        writeTimeoutMs: secs(def.writeTimeout, DEFAULT_SETTINGS.writeTimeoutMs),
        powerTimeoutMs: secs(def.powerTimeout, DEFAULT_SETTINGS.powerTimeoutMs),
        workDir: join(baseDir(RED), 'work'),
        tftpRoot: def.tftpRoot || undefined,
        deployKernelParams: def.deployKernelParams || undefined,
      };
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

function parseAction(p: { value: unknown; field: string }): Action {
  if (typeof p.value !== 'string' || !ACTIONS.includes(p.value as Action)) throw badInput(p.field, ACTIONS.join(', '), p.value);
  return p.value as Action;
}

function statusFor(p: DeployProgress): ReturnType<(typeof STATUS)['busy']> {
  if (p.state === 'deploy failed' || p.state === 'error') return STATUS.error(p.step ? `failed: ${p.step}` : 'failed');
  if (p.transfer?.percent !== undefined) return STATUS.busy(`${p.stepIndex ?? '?'}/${p.stepCount} ${p.transfer.percent}%`);
  if (p.state === 'wait call-back') return STATUS.busy(`${p.stepIndex ?? '?'}/${p.stepCount} wait call-back`);
  return STATUS.busy(p.stepIndex ? `step ${p.stepIndex}/${p.stepCount}: ${p.step}` : p.state);
}

function finalStatus(s: DeployStatus): ReturnType<(typeof STATUS)['ok']> {
  if (s.state === 'active') return STATUS.ok('active');
  if (s.state === 'available') return STATUS.idle('available');
  return STATUS.error(s.failedStep ? `failed: ${s.failedStep}` : s.state);
}

function failure(s: DeployStatus): Error {
  const err = new DeployError('failed', `deploy ${s.deployId} on ${s.server}: ${s.lastError ?? s.state}${s.cleanup && !s.cleanup.done ? ` (clean-up incomplete: ${s.cleanup.errors.join('; ')})` : ''}`, { step: s.failedStep });
  return err;
}
