/**
 * ilo-console: a server's serial console in a flow. Every console line (or
 * every burst of output) leaves as a message, so a flow can react to
 * "login:" or a kernel panic; a message in sends text (or a break). The
 * session is the one the editor's console shows (one per server).
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { BmcError } from '../../lib/bmc';
import type { ConsoleAttachment, ConsoleStatus } from '../../lib/console';
import { consoleHub, consoleKeyOf } from '../common/console';
import { errorCode, STATUS } from '../common/node-red';

interface IloConsoleDef extends NodeDef {
  server?: string;
  /** `line`: one message per line; `burst`: one per chunk of output, as received. */
  output?: 'line' | 'burst';
  /** Append a carriage return (Enter) to text sent from msg.payload. Default true. */
  enter?: boolean;
}

interface ConsoleInput extends NodeMessageInFlow {
  break?: unknown;
  enter?: unknown;
}

function statusOf(s: ConsoleStatus) {
  switch (s.state) {
    case 'open':
      return STATUS.ok(`open (${s.via})`);
    case 'connecting':
      return STATUS.busy('connecting');
    case 'retrying':
      return STATUS.busy(`retrying: ${s.error?.code ?? 'dropped'}`);
    case 'unavailable':
      return STATUS.error(s.error?.code ?? 'unavailable');
    default:
      return STATUS.idle('closed');
  }
}

export = function register(RED: NodeAPI): void {
  function IloConsole(this: Node, def: IloConsoleDef): void {
    RED.nodes.createNode(this, def);
    setUp(this, def);
  }

  function setUp(node: Node, def: IloConsoleDef): void {
    const key = consoleKeyOf(def.server);
    const enterByDefault = def.enter !== false && (def.enter as unknown) !== 'false';
    let attachment: ConsoleAttachment | undefined;
    let label = '';
    if (!key) node.status(STATUS.error('no server'));
    else {
      try {
        attachment = consoleHub(RED).attach(key, { name: `flow node ${def.name || def.id}`, kind: 'flow', canWrite: true });
        label = attachment.console.label;
      } catch (err) {
        node.status(STATUS.error(errorCode(err)));
        node.error((err as Error).message);
      }
    }
    const sc = attachment?.console;
    const onLine = (line: string): void => node.send({ topic: label, payload: line });
    const onData = (d: Buffer): void => node.send({ topic: label, payload: d.toString('utf8') });
    const onStatus = (s: ConsoleStatus): void => {
      node.status(statusOf(s));
      if (s.state === 'unavailable' && s.error) node.warn(`console of ${label}: ${s.error.message}${s.hints?.length ? ` (${s.hints.join(' ')})` : ''}`);
    };
    if (sc) {
      sc.on(def.output === 'burst' ? 'data' : 'line', def.output === 'burst' ? onData : onLine);
      sc.on('status', onStatus);
      node.status(statusOf(sc.status));
    }

    node.on('input', (msg: ConsoleInput, _send: unknown, done: (err?: Error) => void) => {
      const work = async (): Promise<void> => {
        if (!attachment) throw new BmcError('invalid-input', 'server: no iLO configuration (ilo-config) with a console is selected', { field: 'server' });
        if (msg.break === true) await attachment.sendBreak();
        if (msg.payload === undefined || msg.payload === null || (msg.break === true && msg.payload === '')) return;
        const p = msg.payload;
        if (typeof p !== 'string' && !Buffer.isBuffer(p)) throw new BmcError('invalid-input', `payload: expected the text to type (a string or Buffer), got ${typeof p}`, { field: 'payload' });
        const enter = msg.enter === undefined ? enterByDefault : msg.enter === true;
        await attachment.write(Buffer.concat([Buffer.isBuffer(p) ? p : Buffer.from(p, 'utf8'), Buffer.from(enter ? '\r' : '')]));
      };
      work().then(
        () => done(),
        (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      if (sc) {
        sc.off('line', onLine);
        sc.off('data', onData);
        sc.off('status', onStatus);
      }
      attachment?.detach();
      node.status(STATUS.clear);
      done();
    });
  }

  RED.nodes.registerType('ilo-console', IloConsole);
};
