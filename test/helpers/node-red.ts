/**
 * node-red-node-test-helper set-up shared by the node tests.
 */
import helper from 'node-red-node-test-helper';
import type { Node } from 'node-red';

helper.init(require.resolve('node-red'));

export { helper };

/** Resolve with the next message a helper node receives (or reject on timeout). */
export function nextMessage<T = Record<string, unknown>>(node: Node, timeoutMs = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no message within ${timeoutMs} ms`)), timeoutMs);
    node.once('input', (msg: T) => {
      clearTimeout(t);
      resolve(msg);
    });
  });
}

/** Resolve with the next message a catch node receives. */
export const nextError = nextMessage;

/** Resolve when `predicate(status)` holds for a status the node sets. */
export function statusMatching(node: Node, predicate: (s: { fill?: string; shape?: string; text?: string }) => boolean, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no matching status within ${timeoutMs} ms`)), timeoutMs);
    const orig = node.status.bind(node);
    // The helper already spies on status; wrap once more to observe calls as they happen.
    node.status = ((s: { fill?: string; shape?: string; text?: string }) => {
      orig(s as never);
      if (predicate(s)) {
        clearTimeout(t);
        node.status = orig;
        resolve();
      }
    }) as typeof node.status;
  });
}
