/**
 * Which server(s) a message is for, for every node that talks to an iLO.
 *
 * A node is bound either to one ilo-config (a fixed server), or to an
 * ilo-fleet, and then takes the server from its own "server name" setting
 * or from `msg.server`: a name, a list of names (a batch), "*" (the whole
 * fleet) or `{ pool: "name" }` (every server of a pool: a batch). The
 * deploy node alone also takes `{ pool: "name", any: true, capabilities,
 * properties }`: ONE server of the pool, picked among those that meet the
 * requirements and are free (lib/deploy/scheduling; `poolPickOf` reads it,
 * `poolCandidates` lists the servers with their facts); the other nodes
 * refuse it. `resolveServers` turns the rest into targets, each with the server's shared iLO client; an unknown name is
 * a ServerNotFoundError (code "not-found", statusCode 404) naming it, before
 * anything is sent to any iLO.
 *
 * `handleServerInput` wires a node's input to it: one server works on the
 * message itself, exactly as before; a batch sends one message per server
 * (a copy of the input with `msg.server` and `msg.topic` set to the
 * server's name), at most the fleet's "servers at once" in flight, and a
 * server that fails gets its message too, with `payload.error`.
 */
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import { BmcError, type Bmc } from '../../lib/bmc';
import { factsOf, parseRequirementMap, type PoolCandidate, type PoolRequest } from '../../lib/deploy/scheduling';
import { ServerNotFoundError, type InventoryServer } from '../../lib/inventory';
import { STATUS, errorCode, getIloConfig, type IloConfigNode } from './node-red';

/** One server a message is for. */
export interface ServerTarget {
  /** The name flows use: the fleet's server name, or the ilo-config's label. */
  name: string;
  /** Stable, unique key for what is kept per server (published media, deploy records). */
  key: string;
  /** The server's shared iLO client. */
  getBmc(): Promise<Bmc>;
  /** The inventory entry, when the server comes from a fleet. */
  inventory?: InventoryServer;
}

/** What an ilo-fleet node offers the nodes that use it (see nodes/ilo-fleet). */
export interface FleetNode extends Node {
  readonly label: string;
  /** Servers of one batch in flight at once. */
  readonly maxInFlight: number;
  servers(): readonly InventoryServer[];
  lookup(name: string): InventoryServer | undefined;
  /** The client of one of its servers; throws when that server's entry is unusable. */
  bmcFor(server: InventoryServer): Promise<Bmc>;
  /** Keep an inspection's result as the server's properties and capabilities (ilo-inspect). */
  recordInspection?(name: string, result: { properties: object; capabilities: Record<string, string>; inspectedAt: string }): void;
  /** Ironic properties from a server's last inspection (memory_mb, cpus, cpu_arch, local_gb), if any. */
  inspected?(name: string): { properties: object } | undefined;
}

/** A node's server settings (the same field names in every node). */
export interface ServerSelection {
  /** "config" (default) or "fleet". */
  target?: string;
  /** The ilo-config node id. */
  server?: string;
  /** The ilo-fleet node id. */
  fleet?: string;
  /** A fixed server name in the fleet; empty: msg.server. */
  serverName?: string;
}

export interface ResolvedServers {
  targets: ServerTarget[];
  /** Several servers were asked for (a list, "*" or a pool), even if one matched. */
  batch: boolean;
  /** Bound of a batch's servers in flight. */
  maxInFlight: number;
}

export const DEFAULT_MAX_IN_FLIGHT = 8;
/** Names in one msg.server list. */
const MAX_NAMES = 10_000;

function fleetTarget(fleet: FleetNode, s: InventoryServer): ServerTarget {
  return { name: s.name, key: `${fleet.id}-${s.id}`, inventory: s, getBmc: () => fleet.bmcFor(s) };
}

function getFleet(RED: NodeAPI, id: string | undefined): FleetNode | undefined {
  if (!id) return undefined;
  const n = RED.nodes.getNode(id) as (FleetNode & { type?: string }) | null;
  return n && typeof n.lookup === 'function' ? n : undefined;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `"${v.slice(0, 40)}"`;
  if (Array.isArray(v)) return 'a list';
  return v === null ? 'null' : typeof v;
}

/**
 * The servers a message is for. Throws a BmcError "invalid-input" naming the
 * field for a bad selection, and a ServerNotFoundError for unknown names.
 */
export function resolveServers(RED: NodeAPI, sel: ServerSelection, msgServer: unknown): ResolvedServers {
  if (sel.target !== 'fleet') {
    const config = getIloConfig(RED, sel.server);
    if (!config) throw new BmcError('invalid-input', 'server: no iLO configuration (ilo-config) is selected', { field: 'server' });
    return { targets: [{ name: config.label, key: config.id, getBmc: () => config.getBmc() }], batch: false, maxInFlight: 1 };
  }
  const fleet = getFleet(RED, sel.fleet);
  if (!fleet) throw new BmcError('invalid-input', 'fleet: no fleet (ilo-fleet) is selected, or it is disabled', { field: 'fleet' });
  const fixed = typeof sel.serverName === 'string' ? sel.serverName.trim() : '';
  const field = fixed ? 'serverName' : 'msg.server';
  const wanted: unknown = fixed || msgServer;
  const inFleet = `fleet "${fleet.label}"`;
  const maxInFlight = fleet.maxInFlight > 0 ? fleet.maxInFlight : DEFAULT_MAX_IN_FLIGHT;
  if (typeof wanted === 'string' && wanted.trim() !== '') {
    const name = wanted.trim();
    if (name === '*') return { targets: fleet.servers().map((s) => fleetTarget(fleet, s)), batch: true, maxInFlight };
    const s = fleet.lookup(name);
    if (!s) throw new ServerNotFoundError([name], inFleet, field);
    return { targets: [fleetTarget(fleet, s)], batch: false, maxInFlight };
  }
  if (Array.isArray(wanted)) {
    if (wanted.length === 0) throw new BmcError('invalid-input', `${field}: expected at least one server name (got an empty list)`, { field });
    if (wanted.length > MAX_NAMES) throw new BmcError('invalid-input', `${field}: expected at most ${MAX_NAMES} names`, { field });
    const names: string[] = [];
    for (const [i, n] of wanted.entries()) {
      if (typeof n !== 'string' || n.trim() === '') throw new BmcError('invalid-input', `${field}[${i}]: expected a server name (got ${describe(n)})`, { field: `${field}[${i}]` });
      if (!names.includes(n.trim())) names.push(n.trim());
    }
    const missing = names.filter((n) => !fleet.lookup(n));
    if (missing.length > 0) throw new ServerNotFoundError(missing, inFleet, field);
    return { targets: names.map((n) => fleetTarget(fleet, fleet.lookup(n)!)), batch: true, maxInFlight };
  }
  if (poolPickOf(wanted, field)) {
    throw new BmcError('invalid-input', `${field}.any: only the ilo-deploy-flow node picks one server of a pool; here { pool: "name" } without "any" means every server of the pool`, { field: `${field}.any` });
  }
  if (typeof wanted === 'object' && wanted !== null && typeof (wanted as { pool?: unknown }).pool === 'string') {
    const pool = (wanted as { pool: string }).pool.trim();
    const members = fleet.servers().filter((s) => s.pool === pool);
    if (members.length === 0) throw new ServerNotFoundError([`pool ${pool}`], inFleet, `${field}.pool`);
    return { targets: members.map((s) => fleetTarget(fleet, s)), batch: true, maxInFlight };
  }
  throw new BmcError('invalid-input', `${field}: expected the name of a server in ${inFleet}, a list of names, "*" or { pool: "name" } (got ${describe(wanted)})`, { field });
}

/** Fields of a pool pick (`{ pool, any: true, capabilities, properties, allowFailed }`). */
const PICK_FIELDS = ['pool', 'any', 'capabilities', 'properties', 'allowFailed'];

/**
 * The pool deploy a message asks for: `{ pool?: "name", any: true,
 * capabilities?: {k: requirement} | "k:v,k:v", properties?: {k: requirement},
 * allowFailed?: boolean }` (no pool: any server of the fleet). Undefined for
 * anything else; a server object with requirements but without `any: true`
 * is refused (it would otherwise be a batch over every server of the pool).
 */
export function poolPickOf(v: unknown, field = 'msg.server'): PoolRequest | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const asksToPick = o.any !== undefined || o.capabilities !== undefined || o.properties !== undefined || o.allowFailed !== undefined;
  if (!asksToPick) return undefined;
  if (o.any !== true) throw new BmcError('invalid-input', `${field}.any: expected true to pick one free server that meets the requirements ({ pool, any: true, capabilities, properties }); { pool } alone is every server of the pool`, { field: `${field}.any` });
  for (const k of Object.keys(o)) {
    if (!PICK_FIELDS.includes(k)) throw new BmcError('invalid-input', `${field}.${k.slice(0, 40)}: unknown field; a pool pick may hold ${PICK_FIELDS.join(', ')}`, { field: `${field}.${k.slice(0, 40)}` });
  }
  if (o.pool !== undefined && (typeof o.pool !== 'string' || o.pool.trim() === '')) throw new BmcError('invalid-input', `${field}.pool: expected the name of a pool (got ${describe(o.pool)})`, { field: `${field}.pool` });
  if (o.allowFailed !== undefined && typeof o.allowFailed !== 'boolean') throw new BmcError('invalid-input', `${field}.allowFailed: expected true or false (got ${describe(o.allowFailed)})`, { field: `${field}.allowFailed` });
  return {
    pool: typeof o.pool === 'string' ? o.pool.trim() : undefined,
    capabilities: parseRequirementMap(o.capabilities, `${field}.capabilities`),
    properties: parseRequirementMap(o.properties, `${field}.properties`),
    allowFailed: o.allowFailed === true,
  };
}

/** What an inspection (ilo-inspect) left for a server: capabilities and properties. */
export type Inspected = { capabilities?: Record<string, string>; properties?: object } | undefined;

/**
 * The servers of a fleet a pool pick chooses among (the pool's, or the
 * whole fleet's), each with its facts: the inventory entry's capabilities
 * over what inspection found (`inspected(name)`, e.g. the global context's
 * iloInspections, and the fleet's own record of its last inspection).
 */
export function poolCandidates(RED: NodeAPI, sel: ServerSelection, pool: string | undefined, inspected: (name: string) => Inspected, field = 'msg.server'): Array<{ target: ServerTarget; candidate: Omit<PoolCandidate, 'key'> }> {
  const fleet = getFleet(RED, sel.fleet);
  if (!fleet) throw new BmcError('invalid-input', 'fleet: no fleet (ilo-fleet) is selected, or it is disabled', { field: 'fleet' });
  const members = fleet.servers().filter((s) => pool === undefined || s.pool === pool);
  if (members.length === 0) throw new ServerNotFoundError([pool === undefined ? 'any server' : `pool ${pool}`], `fleet "${fleet.label}"`, `${field}.pool`);
  return members.map((s) => {
    const seen = inspected(s.name);
    const properties = { ...(seen?.properties ?? {}), ...(fleet.inspected?.(s.name)?.properties ?? {}) };
    return { target: fleetTarget(fleet, s), candidate: { name: s.name, facts: factsOf({ capabilities: s.capabilities, properties: s.properties }, { capabilities: seen?.capabilities, properties }) } };
  });
}

/** What an ilo-config node says of its server for scheduling (its pool, capabilities "k:v,k:v" and properties "k:v,k:v"). */
export interface ScheduledConfig extends IloConfigNode {
  readonly scheduling?: { pool?: string; capabilities?: string; properties?: string };
}

/**
 * The ilo-config nodes a pool pick chooses among when the deploy node is
 * bound to ilo-config nodes (not a fleet): every ilo-config of the runtime
 * in that pool (any pool given: every one that has a pool), each with its
 * facts, configured ones over what inspection found.
 */
export function configPoolCandidates(RED: NodeAPI, pool: string | undefined, inspected: (name: string) => Inspected, field = 'msg.server'): Array<{ config: ScheduledConfig; candidate: Omit<PoolCandidate, 'key'> }> {
  const ids: string[] = [];
  RED.nodes.eachNode((n) => {
    if (n.type === 'ilo-config') ids.push(n.id);
  });
  const out: Array<{ config: ScheduledConfig; candidate: Omit<PoolCandidate, 'key'> }> = [];
  for (const id of ids) {
    const config = RED.nodes.getNode(id) as ScheduledConfig | null;
    const own = config?.scheduling;
    if (!config || !own?.pool || (pool !== undefined && own.pool !== pool)) continue;
    const seen = inspected(config.label);
    out.push({ config, candidate: { name: config.label, facts: factsOf({ capabilities: own.capabilities, properties: own.properties }, seen) } });
  }
  if (out.length === 0) throw new ServerNotFoundError([pool === undefined ? 'any pool' : `pool ${pool}`], 'the iLO configurations (ilo-config)', `${field}.pool`);
  return out;
}

export interface ServerWork<M, P = undefined> {
  target: ServerTarget;
  /** What `prepare` made of the message (checked once, before any server is contacted). */
  input: P;
  msg: M;
  signal: AbortSignal;
  send: (m: NodeMessage | Array<NodeMessage | null>) => void;
  /** The node's status (in a batch the node shows the batch's progress instead). */
  status: (s: NodeStatus) => void;
  batch: boolean;
}

/** Runs `fn` over `items`, at most `limit` at a time, stopping early when the signal aborts. */
export async function boundedEach<T>(items: readonly T[], limit: number, signal: AbortSignal, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !signal.aborted) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/**
 * Wires a node's input to `work`, once per server the message is for.
 * `prepare` checks the message's own settings first (a bad one fails the
 * message before any iLO is contacted). For one server every message ends
 * in one `send(msg)` + `done()`, or `done(err)` (Catch nodes see it); for a
 * batch, one message per server then `done()`. In-flight work is aborted
 * on close.
 */
export function handleServerInput<M extends NodeMessageInFlow & { server?: unknown }, P = undefined>(
  RED: NodeAPI,
  node: Node,
  selection: ServerSelection,
  prepare: (msg: M) => P | Promise<P>,
  work: (w: ServerWork<M, P>) => Promise<void>,
): void {
  const inflight = new Set<AbortController>();
  node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessage | Array<NodeMessage | null>) => void, done: (err?: Error) => void) => {
    const abort = new AbortController();
    inflight.add(abort);
    const status = (s: NodeStatus): void => node.status(s);
    Promise.resolve()
      .then(async () => {
        const input = await prepare(msg as M);
        return { input, r: resolveServers(RED, selection, (msg as M).server) };
      })
      .then(async ({ input, r }) => {
        if (!r.batch) {
          await work({ target: r.targets[0]!, input, msg: msg as M, signal: abort.signal, send, status, batch: false });
          send(msg);
          return;
        }
        let ok = 0;
        let failed = 0;
        const total = r.targets.length;
        node.status(STATUS.busy(`0/${total}…`));
        await boundedEach(r.targets, r.maxInFlight, abort.signal, async (target) => {
          const m = RED.util.cloneMessage(msg) as M & { topic?: string; error?: unknown; payload?: unknown };
          m.server = target.name;
          m.topic = target.name;
          try {
            await work({ target, input, msg: m, signal: abort.signal, send, status: () => undefined, batch: true });
            ok++;
          } catch (err) {
            failed++;
            const e = err as Error & { code?: string };
            const error = { code: errorCode(err), message: e?.message ?? String(err) };
            m.payload = { server: target.name, error };
            m.error = { ...error, server: target.name };
          }
          send(m);
          if (!abort.signal.aborted) node.status(STATUS.busy(`${ok + failed}/${total}…`));
        });
        if (abort.signal.aborted) return;
        node.status(failed === 0 ? STATUS.ok(`${ok} servers ok`) : { fill: 'red', shape: 'ring', text: `${ok} ok, ${failed} failed` });
      })
      .then(() => done())
      .catch((err: unknown) => {
        node.status(STATUS.error(errorCode(err)));
        done(err instanceof Error ? err : new Error(String(err)));
      })
      .finally(() => inflight.delete(abort));
  });
  node.on('close', (_removed: boolean, done: () => void) => {
    for (const a of inflight) a.abort();
    inflight.clear();
    node.status(STATUS.clear);
    done();
  });
}

/** The selection fields of a node's settings. */
export function selectionOf(def: ServerSelection): ServerSelection {
  return { target: def.target, server: def.server, fleet: def.fleet, serverName: def.serverName };
}
