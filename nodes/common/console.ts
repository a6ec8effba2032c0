/**
 * The serial consoles of the configured servers, shared by every node, the
 * editor's console sidebar and the deploy engine: one ConsoleHub per
 * runtime, so one console session per server.
 *
 * Which server a key names is decided here and only here:
 *   - `<ilo-config id>`: the server of a deployed ilo-config node;
 *   - `<ilo-fleet id>/<server id>`: a server of a deployed fleet (the id is
 *     the inventory's stable key, so a renamed server keeps its session).
 * `consoleKeyOf` makes a key from a node's or a deploy record's references,
 * `resolveConsoleTarget` turns a key into the server's console target now.
 */
import type { Node, NodeAPI } from 'node-red';
import { ConsoleHub, type ConsoleTarget } from '../../lib/console';

/** What a config node offers to have a console (ilo-config implements it). */
export interface ConsoleCapableNode extends Node {
  consoleTarget(): ConsoleTarget | undefined;
}

/** A fleet server that may have a console, for the editor's list. */
export interface FleetConsoleEntry {
  serverId: string;
  name: string;
  /** auto, ipmi, ssh or off. */
  method: string;
}

/** What a fleet node offers for its servers' consoles (ilo-fleet implements it). */
export interface ConsoleCapableFleet extends Node {
  readonly label: string;
  /** The console target of one of its servers, by server id (undefined: no such server). */
  consoleTargetOf(serverId: string): ConsoleTarget | undefined;
  consoleEntries(): FleetConsoleEntry[];
}

/** What names a server: a node's settings or a deploy record's refs. */
export interface ServerRefs {
  /** ilo-config node id. */
  server?: string;
  /** ilo-fleet node id (then `fleetServer` names the server). */
  fleet?: string;
  /** The server's id in the fleet's inventory. */
  fleetServer?: string;
}

let hub: ConsoleHub | undefined;
let runtime: NodeAPI | undefined;

/** The runtime's console hub (created on first use). */
export function consoleHub(RED: NodeAPI): ConsoleHub {
  runtime = RED;
  hub ??= new ConsoleHub({ resolve: (key) => (runtime ? resolveConsoleTarget(runtime, key) : undefined) });
  return hub;
}

const FLEET_SEPARATOR = '/';

/** The console key of the server that `refs` names, or undefined when they name none. */
export function consoleKeyOf(refs: Readonly<ServerRefs> | undefined): string | undefined {
  if (!refs) return undefined;
  if (refs.fleet) return refs.fleetServer ? `${refs.fleet}${FLEET_SEPARATOR}${refs.fleetServer}` : undefined;
  return refs.server || undefined;
}

/** A fleet key's parts, or undefined for an ilo-config key. */
function fleetPartsOf(key: string): { fleet: string; serverId: string } | undefined {
  const i = key.indexOf(FLEET_SEPARATOR);
  return i > 0 && i < key.length - 1 ? { fleet: key.slice(0, i), serverId: key.slice(i + 1) } : undefined;
}

function fleetNode(RED: NodeAPI, id: string): ConsoleCapableFleet | undefined {
  const n = RED.nodes.getNode(id) as Partial<ConsoleCapableFleet> | null;
  return typeof n?.consoleTargetOf === 'function' && typeof n.consoleEntries === 'function' ? (n as ConsoleCapableFleet) : undefined;
}

/** The console target a key names now, or undefined when no such server is deployed. */
export function resolveConsoleTarget(RED: NodeAPI, key: string): ConsoleTarget | undefined {
  const node = RED.nodes.getNode(key) as Partial<ConsoleCapableNode> | null;
  if (typeof node?.consoleTarget === 'function') return node.consoleTarget();
  const parts = fleetPartsOf(key);
  return parts ? fleetNode(RED, parts.fleet)?.consoleTargetOf(parts.serverId) : undefined;
}

/**
 * A fleet was (re)deployed or its inventory changed: every open session of
 * its servers reopens with the new settings, unless `revisionOf` gives the
 * revision it already uses; a server it no longer has (`undefined`) loses
 * its session (holders see it unavailable).
 */
export function resetFleetConsoles(RED: NodeAPI, fleetId: string, revisionOf: (serverId: string) => unknown): void {
  const h = consoleHub(RED);
  for (const key of h.keys()) {
    const parts = fleetPartsOf(key);
    if (parts?.fleet === fleetId) h.reset(key, revisionOf(parts.serverId));
  }
}

export interface ConsoleServerEntry {
  key: string;
  label: string;
  method: string;
}

/** Every deployed server with a console configuration, for the editor's list (fleet servers set to "off" are left out). */
export function consoleServers(RED: NodeAPI): ConsoleServerEntry[] {
  const out: ConsoleServerEntry[] = [];
  RED.nodes.eachNode((n: { id: string; type: string; name?: string; host?: string; consoleMethod?: string }) => {
    if (n.type === 'ilo-config') {
      if (resolveConsoleTarget(RED, n.id)) out.push({ key: n.id, label: n.name || n.host || n.id, method: n.consoleMethod || 'auto' });
      return;
    }
    if (n.type !== 'ilo-fleet') return;
    const fleet = fleetNode(RED, n.id);
    if (!fleet) return;
    for (const e of fleet.consoleEntries()) {
      if (e.method === 'off') continue;
      out.push({ key: consoleKeyOf({ fleet: n.id, fleetServer: e.serverId })!, label: `${e.name} (${fleet.label})`, method: e.method });
    }
  });
  return out.sort((a, b) => a.label.localeCompare(b.label));
}
