/**
 * For nodes that publish through an `ilo-media-store`: show a long
 * transfer's progress on the node's status ("42% 840/2000 MB") and, when
 * asked, as messages.
 */
import type { Node, NodeMessage } from 'node-red';
import { formatProgress, type ProgressListener, type TransferProgress } from '../../lib/store/progress';

export interface ProgressMessage extends NodeMessage {
  payload: TransferProgress;
}

export function progressReporter(node: Node, opts: { onMessage?: (msg: ProgressMessage) => void; topic?: string } = {}): ProgressListener {
  return (p) => {
    node.status({ fill: p.done ? 'green' : 'blue', shape: p.done ? 'dot' : 'ring', text: formatProgress(p) });
    opts.onMessage?.({ topic: opts.topic ?? 'progress', payload: { ...p } });
  };
}
