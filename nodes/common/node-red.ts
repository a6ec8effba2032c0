/**
 * Small helpers every node shares: typed access to the config node,
 * promise-returning property evaluation, and status shapes.
 */
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import { BmcError, type Bmc } from '../../lib/bmc';

/** What an ilo-config node offers the nodes that use it. */
export interface IloConfigNode extends Node {
  /** The iLO client (created on first use, shared by every node using this config). */
  getBmc(): Promise<Bmc>;
  /** A short human name for status and messages, e.g. "server-1 (10.0.0.5)". */
  readonly label: string;
  /** The address and port it is configured with, known without connecting. */
  readonly deployedTarget?: { host: string; port: number };
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

/** The selected ilo-config, or an error naming the field. */
export function requireIloConfig(RED: NodeAPI, id: string | undefined): IloConfigNode {
  const config = getIloConfig(RED, id);
  if (!config) throw new BmcError('invalid-input', 'server: no iLO configuration (ilo-config) is selected', { field: 'server' });
  return config;
}

/**
 * Wire a node's input to `work`: every message ends in exactly one `done()`
 * (after `send`) or `done(err)` (so Catch nodes see it, and the status turns
 * red with the error's code); in-flight work is aborted on close. `work`
 * may send extra messages (e.g. progress on a second output) with `send`.
 */
export function handleInput<M extends NodeMessageInFlow>(
  node: Node,
  work: (msg: M, signal: AbortSignal, send: (m: NodeMessage | Array<NodeMessage | null>) => void) => Promise<void>,
): void {
  const inflight = new Set<AbortController>();
  node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessage | Array<NodeMessage | null>) => void, done: (err?: Error) => void) => {
    const abort = new AbortController();
    inflight.add(abort);
    work(msg as M, abort.signal, send)
      .then(() => {
        send(msg);
        done();
      })
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

/** The typed error's code (BmcError, StoreError, DeployError all have one), else "error". */
export function errorCode(err: unknown): string {
  if (err instanceof BmcError) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[a-z][a-z-]*$/.test(code) ? code : 'error';
}

/**
 * A value the node may take from its own setting or from msg: the node's
 * setting wins when set; `field` names where a bad value came from.
 */
export function pick<T>(nodeValue: T | '' | 'msg' | undefined, msgValue: unknown, msgField: string, nodeField: string): { value: unknown; field: string } {
  if (nodeValue !== undefined && nodeValue !== '' && nodeValue !== 'msg') return { value: nodeValue, field: nodeField };
  return { value: msgValue, field: msgField };
}
