/**
 * Small helpers every node shares: typed access to the config node,
 * promise-returning property evaluation, and status shapes.
 */
import type { Node, NodeAPI, NodeMessage, NodeStatus } from 'node-red';
import type { Bmc } from '../../lib/bmc';

/** What an ilo-config node offers the nodes that use it. */
export interface IloConfigNode extends Node {
  /** The iLO client (created on first use, shared by every node using this config). */
  getBmc(): Promise<Bmc>;
  /** A short human name for status and messages, e.g. "server-1 (10.0.0.5)". */
  readonly label: string;
}

export function getIloConfig(RED: NodeAPI, id: string | undefined): IloConfigNode | undefined {
  if (!id) return undefined;
  return (RED.nodes.getNode(id) as IloConfigNode | null) ?? undefined;
}

/** RED.util.evaluateNodeProperty as a promise (the callback form works for jsonata and async context stores). */
export function evaluateProperty(RED: NodeAPI, value: string, type: string, node: Node, msg: NodeMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    RED.util.evaluateNodeProperty(value, type, node, msg, (err: Error | null, result: unknown) => (err ? reject(err) : resolve(result)));
  });
}

export const STATUS = {
  clear: {} as NodeStatus,
  busy: (text: string): NodeStatus => ({ fill: 'yellow', shape: 'ring', text }),
  ok: (text: string): NodeStatus => ({ fill: 'green', shape: 'dot', text }),
  idle: (text: string): NodeStatus => ({ fill: 'grey', shape: 'ring', text }),
  error: (text: string): NodeStatus => ({ fill: 'red', shape: 'ring', text: text.length > 32 ? `${text.slice(0, 31)}…` : text }),
};
