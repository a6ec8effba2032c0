/**
 * One deploy engine per Node-RED runtime, shared by every ilo-deploy-flow
 * node: its state lives in <userDir>/ilo-deploy (or, with settings.js
 * `iloDeployStore`, in PostgreSQL shared with other instances), its ramdisk
 * API is mounted once on Node-RED's HTTP server (RED.httpNode) under
 * `iloDeployFlowApiPath`.
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, NodeAPI } from 'node-red';
import { parseAgentTlsSettings, type AgentTlsSettings } from '../../lib/deploy/agent-tls';
import { endpointTarget } from '../../lib/bmc/endpoint';
import { DeployEngine } from '../../lib/deploy/engine';
import { DeployError } from '../../lib/deploy/errors';
import { parseRequiredTools, type ToolRequirement } from '../../lib/deploy/preflight';
import { deployProcesses, type DeployDeps, type DeploySettings, type MediaPort } from '../../lib/deploy/processes';
import { createRamdiskApi } from '../../lib/deploy/ramdisk-api';
import type { DeployMethod, DeployProgress, DeployRecord, DeployStatus } from '../../lib/deploy/types';
import { addConsoleLine } from '../../lib/deploy/records';
import type { ConsoleAttachment, ConsoleStatus } from '../../lib/console';
import type { Bmc } from '../../lib/bmc';
import { consoleHub, consoleKeyOf } from '../common/console';
import { createDeployStore, describeDeployStore, parseDeployStoreSettings } from '../../lib/deploy/store-settings';
import type { IloConfigNode } from '../common/node-red';
import type { FleetNode } from '../common/servers';
import type { MediaStoreNode } from '../ilo-media-store/types';

export const DEFAULT_API_PATH = '/ilo-deploy';

let engine: DeployEngine<DeployDeps> | undefined;
let starting: Promise<void> | undefined;

let tools: Partial<Record<DeployMethod, ToolRequirement[]>> | undefined;

/** settings.js `iloDeployRequiredTools`: programs a method needs here besides its own (e.g. tgtd for a simulated DIB ramdisk). */
export function requiredTools(RED: NodeAPI): Partial<Record<DeployMethod, ToolRequirement[]>> {
  if (tools) return tools;
  const parsed = parseRequiredTools((RED.settings as unknown as { iloDeployRequiredTools?: unknown }).iloDeployRequiredTools);
  for (const p of parsed.problems) RED.log.warn(`[ilo-deploy] settings.iloDeployRequiredTools: ${p} (left out)`);
  tools = parsed.tools;
  return tools;
}

let agentTlsSettings: AgentTlsSettings | undefined;

/** settings.js `iloDeployAgentCa` (CA of agents with their own certificates) and `iloDeployAgentRequireTls` (refuse http:// agents). */
export function agentTls(RED: NodeAPI): AgentTlsSettings {
  if (agentTlsSettings) return agentTlsSettings;
  const s = RED.settings as unknown as { iloDeployAgentCa?: unknown; iloDeployAgentRequireTls?: unknown };
  const parsed = parseAgentTlsSettings({ ca: s.iloDeployAgentCa, requireTls: s.iloDeployAgentRequireTls });
  for (const p of parsed.problems) RED.log.warn(`[ilo-deploy] settings.${p} (left out)`);
  agentTlsSettings = { ca: parsed.ca, requireTls: parsed.requireTls };
  return agentTlsSettings;
}

export function baseDir(RED: NodeAPI): string {
  return join(RED.settings.userDir ?? join(tmpdir(), 'node-red-ilo-deploy'), 'ilo-deploy');
}

/** A config node, waiting a little for it: after a restart or redeploy the nodes are being (re)created. */
async function waitForNode<T extends Node>(RED: NodeAPI, id: string | undefined, what: string): Promise<T> {
  if (!id) throw new DeployError('invalid-input', `${what}: no configuration node is selected`, { field: what });
  for (let i = 0; i < 150; i++) {
    const n = RED.nodes.getNode(id) as T | null;
    if (n) return n;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new DeployError('failed', `${what}: the configuration node ${id} no longer exists`);
}

/**
 * Deploys as resolveDeps last saw them (the engine's own record objects),
 * and the console each running one holds: its lines go on the record, so a
 * failed deploy's status carries the last of them.
 */
const consoleWatch = new Map<string, { record: DeployRecord; attachment?: ConsoleAttachment; stop?: () => void }>();

/** Forget a deploy that never ran (refused before it started): after this long without progress. */
const UNSTARTED_FORGET_MS = 10 * 60_000;

function noteRecord(record: DeployRecord): void {
  if (consoleWatch.get(record.id)?.record === record) return;
  stopConsole(record.id);
  consoleWatch.set(record.id, { record });
  setTimeout(() => {
    const w = consoleWatch.get(record.id);
    if (w?.record === record && !w.attachment) consoleWatch.delete(record.id);
  }, UNSTARTED_FORGET_MS).unref();
}

/** On a deploy's first progress: hold its server's console (when one is configured) and keep its lines on the record. */
function startConsole(RED: NodeAPI, p: DeployProgress): void {
  const w = consoleWatch.get(p.deployId);
  // Not a run: the upkeep of an active deploy, or the last word of one that ended.
  if (!w || w.attachment || ['active', 'available', 'deploy failed', 'error'].includes(p.state)) return;
  const key = consoleKeyOf(w.record.refs);
  if (!key || !consoleHub(RED).resolveTarget(key)) return;
  try {
    const attachment = consoleHub(RED).attach(key, { name: `deploy ${w.record.id}`, kind: 'deploy' });
    const onLine = (line: string): void => addConsoleLine(w.record, line);
    attachment.console.on('line', onLine);
    w.attachment = attachment;
    w.stop = () => {
      attachment.console.off('line', onLine);
      attachment.detach();
    };
  } catch (err) {
    RED.log.warn(`[ilo-deploy] deploy ${w.record.id}: its console cannot be followed: ${(err as Error).message}`);
  }
}

/** How long a power-on waits for the deploy's console to open (an iLO's SSH login takes a second or two). */
const CONSOLE_OPEN_WAIT_MS = 10_000;

/** Resolves when the deploy's console is no longer connecting (open, or failed), or after CONSOLE_OPEN_WAIT_MS; at once without one. */
function consoleReady(deployId: string): Promise<void> {
  const a = consoleWatch.get(deployId)?.attachment;
  if (!a || a.status().state !== 'connecting') return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      a.console.off('status', onStatus);
      resolve();
    };
    const onStatus = (s: ConsoleStatus): void => {
      if (s.state !== 'connecting') done();
    };
    const timer = setTimeout(done, CONSOLE_OPEN_WAIT_MS);
    a.console.on('status', onStatus);
  });
}

function stopConsole(deployId: string): void {
  const w = consoleWatch.get(deployId);
  consoleWatch.delete(deployId);
  w?.stop?.();
}

/**
 * A deploy's iLO client from its record's references: its ilo-config
 * (`server`), or its fleet and the server's id there (`fleet`,
 * `fleetServer`; by `serverName` when the id is gone, e.g. after a
 * re-import).
 */
async function bmcOf(RED: NodeAPI, refs: Readonly<Record<string, string>>): Promise<Bmc> {
  if (!refs.fleet) return (await waitForNode<IloConfigNode>(RED, refs.server, 'server')).getBmc();
  const fleet = await waitForNode<FleetNode>(RED, refs.fleet, 'fleet');
  const s = fleet.servers().find((x) => x.id === refs.fleetServer) ?? fleet.lookup(refs.serverName ?? '');
  if (!s) throw new DeployError('failed', `server "${refs.serverName ?? refs.fleetServer}" is no longer in fleet "${fleet.label}"`);
  return fleet.bmcFor(s);
}

export function getEngine(RED: NodeAPI): DeployEngine<DeployDeps> {
  if (engine) return engine;
  const dir = baseDir(RED);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const log = { info: (m: string) => RED.log.info(`[ilo-deploy] ${m}`), warn: (m: string) => RED.log.warn(`[ilo-deploy] ${m}`) };
  // A bad iloDeployStore stops here, loudly: falling back to files would split a shared fleet.
  const storeSettings = parseDeployStoreSettings((RED.settings as unknown as { iloDeployStore?: unknown }).iloDeployStore);
  RED.log.info(`[ilo-deploy] deploy store: ${describeDeployStore(storeSettings, join(dir, 'state'))}`);
  engine = new DeployEngine<DeployDeps>({
    store: createDeployStore(storeSettings, { dir: join(dir, 'state'), log }),
    processes: deployProcesses(),
    requireAgentTls: agentTls(RED).requireTls,
    log,
    async resolveDeps(record: DeployRecord): Promise<DeployDeps> {
      noteRecord(record);
      // The agent CA is the runtime's as it is now (a CA renewed since the deploy started is the one used).
      const settings = { ...(JSON.parse(record.refs.settings ?? '{}') as DeploySettings), agentCa: agentTls(RED).ca };
      return {
        settings,
        bmc: () => bmcOf(RED, record.refs),
        media: async () => (await (await waitForNode<MediaStoreNode>(RED, record.refs.store, 'store')).ready) as unknown as MediaPort,
        consoleReady: () => consoleReady(record.id),
      };
    },
  });
  // Every ilo-deploy-flow node listens for progress and results: a flow may hold many.
  engine.setMaxListeners(0);
  engine.on('progress', (p: DeployProgress) => startConsole(RED, p));
  engine.on('finished', (s: DeployStatus) => stopConsole(s.deployId));
  starting = engine.start().then(
    ({ resumed, failed }) => {
      if (resumed.length) RED.log.info(`[ilo-deploy] resumed ${resumed.length} deploy(s) after the restart`);
      if (failed.length) RED.log.warn(`[ilo-deploy] ${failed.length} deploy(s) interrupted by the restart could not be resumed; they are marked failed and cleaned up`);
    },
    (err: Error) => RED.log.error(`[ilo-deploy] cannot open the deploy store: ${err.message}`),
  );
  return engine;
}

export async function engineReady(RED: NodeAPI): Promise<DeployEngine<DeployDeps>> {
  const e = getEngine(RED);
  await starting;
  return e;
}

/** The server key without asking the iLO (a dead iLO must not stop a status or an undeploy). */
export async function serverKeyOf(config: IloConfigNode): Promise<string> {
  const t = config.deployedTarget;
  return t?.host ? endpointTarget(t.host, t.port) : (await config.getBmc()).target;
}

/**
 * Before another node (ilo-power) turns a server on or resets it (the
 * server's key: its iLO's endpoint, as serverKeyOf gives it): the
 * upkeep of an active deploy on it, e.g. a netboot instance's boot ISO
 * signed again and inserted. Nothing when this Node-RED runs no deploy
 * engine (no ilo-deploy-flow node).
 */
export async function beforePowerOn(RED: NodeAPI, serverKey: string): Promise<{ deployId: string } | undefined> {
  if (!engine) return undefined;
  return (await engineReady(RED)).beforePowerOn(serverKey);
}

/** Mount the ramdisk API once per runtime. */
export function mountRamdiskApi(RED: NodeAPI, path: string): void {
  const app = RED.httpNode as unknown as { use?: (p: string, h: (req: unknown, res: unknown) => void) => void } | undefined;
  if (!app?.use) {
    RED.log.warn('[ilo-deploy] httpNodeRoot is disabled: deploy ramdisks cannot call back');
    return;
  }
  const handler = createRamdiskApi({
    findForRamdisk: (id, macs) => getEngine(RED).findForRamdisk(id, macs),
    callback: (id, kind, token, body) => getEngine(RED).callback(id, kind, token, body),
  });
  app.use(path, (req, res) => {
    handler(req as Parameters<typeof handler>[0], res as Parameters<typeof handler>[1]).catch((err: unknown) => RED.log.warn(`[ilo-deploy] ramdisk API: ${(err as Error).message}`));
  });
}

/** For tests: forget the engine so a new one loads the state, as after a restart. */
export async function resetEngineForRestart(): Promise<void> {
  const e = engine;
  engine = undefined;
  starting = undefined;
  tools = undefined;
  agentTlsSettings = undefined;
  await e?.stop();
  for (const id of [...consoleWatch.keys()]) stopConsole(id);
}
