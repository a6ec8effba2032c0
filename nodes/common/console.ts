/**
 * The serial consoles of the configured servers, shared by every node, the
 * editor's console sidebar and (later) the deploy engine: one ConsoleHub per
 * runtime, so one console session per server.
 *
 * Which server a key names is decided in one place, `resolveConsoleTarget`:
 * today a key is the id of a deployed ilo-config node; when servers come
 * from a fleet (fleet node + msg.server), only this function and
 * `consoleKeyOf` change.
 */
import type { Node, NodeAPI } from 'node-red';
import { ConsoleHub, type ConsoleTarget } from '../../lib/console';

/** What a config node offers to have a console (ilo-config implements it). */
export interface ConsoleCapableNode extends Node {
  consoleTarget(): ConsoleTarget | undefined;
}

let hub: ConsoleHub | undefined;
let runtime: NodeAPI | undefined;

/** The runtime's console hub (created on first use). */
export function consoleHub(RED: NodeAPI): ConsoleHub {
  runtime = RED;
  hub ??= new ConsoleHub({ resolve: (key) => (runtime ? resolveConsoleTarget(runtime, key) : undefined) });
  return hub;
}

/** The key of a node's configured server (its `server` field: an ilo-config id). */
export function consoleKeyOf(serverField: string | undefined): string | undefined {
  return serverField || undefined;
}

/** The console target a key names now, or undefined when no such server is deployed. */
export function resolveConsoleTarget(RED: NodeAPI, key: string): ConsoleTarget | undefined {
  const node = RED.nodes.getNode(key) as Partial<ConsoleCapableNode> | null;
  return typeof node?.consoleTarget === 'function' ? node.consoleTarget() : undefined;
}

export interface ConsoleServerEntry {
  key: string;
  label: string;
  method: string;
}

/** Every deployed server with a console configuration, for the editor's list. */
export function consoleServers(RED: NodeAPI): ConsoleServerEntry[] {
  const out: ConsoleServerEntry[] = [];
  RED.nodes.eachNode((n: { id: string; type: string; name?: string; host?: string; consoleMethod?: string }) => {
    if (n.type !== 'ilo-config' || !resolveConsoleTarget(RED, n.id)) return;
    out.push({ key: n.id, label: n.name || n.host || n.id, method: n.consoleMethod || 'auto' });
  });
  return out.sort((a, b) => a.label.localeCompare(b.label));
}
