/**
 * ilo-deploy-flow: deploy, undeploy, rebuild or query a server with one of
 * Ironic's iLO processes (agent_ilo, iscsi_ilo, pxe_ilo). Output 1 carries
 * the result (once), output 2 the progress of every step. What each message
 * does is lib/deploy/flow.ts; this file reads the node's fields and the
 * message, sends, and logs.
 */
import { join } from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { badInput } from '../../lib/deploy/errors';
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
  type FlowSettingsFields,
  type Given,
  type StatusKind,
} from '../../lib/deploy/flow';
import type { DeployMethod, DeployProgress, DeployRequest, DeployStatus } from '../../lib/deploy/types';
import { isLibError } from '../../lib/errors';
import { STATUS, evaluateProperty, pick, requireIloConfig } from '../common/node-red';
import { DEFAULT_API_PATH, baseDir, engineReady, getEngine, mountRamdiskApi, requiredTools, serverKeyOf } from './engine-host';

interface IloDeployFlowDef extends NodeDef, FlowSettingsFields, FlowCleanFields {
  server: string;
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
  action?: unknown;
  method?: unknown;
  bootMode?: unknown;
  deployId?: unknown;
  /** Extra request fields: imageChecksum, imageType, imageFormat, rootMb, bootOption, instanceKernel, instanceRamdisk, bootMac, kernelParams, configDrive; and clean (true, false or a plan: cleanPlanFor). */
  deploy?: Partial<Omit<DeployRequest, 'clean'>> & { clean?: unknown };
}

type Send = (m: NodeMessage | Array<NodeMessage | null>) => void;
type Done = (err?: Error) => void;
type Refs = Readonly<Record<string, string>> | undefined;

const status = (s: { kind: StatusKind; text: string }): ReturnType<(typeof STATUS)['ok']> => STATUS[s.kind](s.text);

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
    const pending = new Map<string, { msg: DeployMessage; send: Send; done: Done }>();
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
      const p = pending.get(s.deployId);
      pending.delete(s.deployId);
      if (p) {
        p.msg.payload = s;
        p.msg.deployId = s.deployId;
        if (failed) return p.done(failed);
        p.send([p.msg, null]);
        return p.done();
      }
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
      handle(raw as DeployMessage, send, done).catch((err: unknown) => {
        node.status(STATUS.error(isLibError(err) ? err.code : ((err as { code?: string }).code ?? 'error')));
        done(err instanceof Error ? err : new Error(String(err)));
      });
    });

    async function handle(msg: DeployMessage, send: Send, done: Done): Promise<void> {
      const action = parseAction(pick(def.action, msg.action, 'msg.action', 'action'));
      const config = requireIloConfig(RED, def.server);
      const eng = await engineReady(RED);
      if (msg.topic === undefined || msg.topic === '') msg.topic = config.label;
      const clean = cleanPlanFor(action, def, msg.deploy?.clean);
      const out = await runFlowAction(eng, {
        clean: action === 'undeploy' ? clean : undefined,
        action,
        deployId: msg.deployId,
        server: { name: config.label, key: () => serverKeyOf(config) },
        start: async () => {
          if (!def.store || !RED.nodes.getNode(def.store)) throw badInput('store', 'an ilo-media-store configuration (where the deploy media and images are published)');
          const request = await requestOf(msg);
          if (clean && action === 'deploy') request.clean = clean;
          const deploySettings = deploySettingsFor(request.method, def, { defaultApiUrl: settings.iloDeployFlowApiUrl, apiPath, workDir: join(baseDir(RED), 'work'), requiredTools: requiredTools(RED) });
          return { serverKey: await serverKeyOf(config), serverName: config.label, refs: { server: def.server, store: def.store, node: node.id, settings: JSON.stringify(deploySettings) }, request };
        },
      });
      msg.payload = out.payload;
      if (!out.started) {
        send([msg, null]);
        return done();
      }
      log(logLine('started', out.started));
      node.status(STATUS.busy(`${action}: started`));
      msg.deployId = out.started.deployId;
      if (def.respond === 'started') {
        answered.add(out.started.deployId);
        send([msg, null]);
        return done();
      }
      pending.set(out.started.deployId, { msg, send, done });
    }

    async function requestOf(msg: DeployMessage): Promise<DeployRequest> {
      const field = async (name: string, v: string | undefined, type: string | undefined): Promise<Given> => ({
        field: name,
        value: !v && (type ?? 'str') === 'str' ? undefined : await evaluateProperty(RED, v ?? '', type || 'str', node, msg),
      });
      return buildDeployRequest({
        method: pick(def.method, msg.method, 'msg.method', 'method'),
        image: await field('image', def.image, def.imageType),
        deployIso: await field('deployIso', def.deployIso, def.deployIsoType),
        deployKernel: await field('deployKernel', def.deployKernel, def.deployKernelType),
        deployRamdisk: await field('deployRamdisk', def.deployRamdisk, def.deployRamdiskType),
        bootMode: def.bootMode === 'msg' ? { value: msg.bootMode, field: 'msg.bootMode' } : { value: def.bootMode || undefined, field: 'bootMode' },
        configDrive: def.configDrive ? await field('configDrive', def.configDrive, def.configDriveType || 'json') : undefined,
        extra: msg.deploy,
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
