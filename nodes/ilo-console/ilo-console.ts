/**
 * ilo-console: a server's serial console in a flow. Every console line (or
 * every burst of output) leaves as a message, so a flow can react to
 * "login:" or a kernel panic; a message in sends text (or a break). The
 * session is the one the editor's console shows (one per server).
 *
 * The server is an ilo-config, or a fleet's server: a fixed name (followed
 * from the start, as an ilo-config's), or msg.server (a name, a list, "*"
 * or { pool }: followed from the first message that names it until the flow
 * stops).
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { BmcError } from '../../lib/bmc';
import type { ConsoleAttachment, ConsoleStatus } from '../../lib/console';
import { consoleHub, consoleKeyOf } from '../common/console';
import { errorCode, STATUS } from '../common/node-red';
import { resolveServers, selectionOf, type ServerSelection, type ServerTarget } from '../common/servers';

interface IloConsoleDef extends NodeDef, ServerSelection {
  /** `line`: one message per line; `burst`: one per chunk of output, as received. */
  output?: 'line' | 'burst';
  /** Append a carriage return (Enter) to text sent from msg.payload. Default true. */
  enter?: boolean;
}

interface ConsoleInput extends NodeMessageInFlow {
  server?: unknown;
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

  /** One console the node follows: its lines leave as messages, its status shows on the node. */
  interface Followed {
    name: string;
    attachment: ConsoleAttachment;
    stop(): void;
  }

  function setUp(node: Node, def: IloConsoleDef): void {
    const selection = selectionOf(def);
    const fromFleet = selection.target === 'fleet';
    // Bound to one ilo-config or to fixed fleet server(s): followed from the start; else from the first msg.server.
    const fixed = !fromFleet || (typeof def.serverName === 'string' && def.serverName.trim() !== '');
    const enterByDefault = def.enter !== false && (def.enter as unknown) !== 'false';
    const followed = new Map<string, Followed>();

    const follow = (key: string, name: string): Followed => {
      const known = followed.get(key);
      if (known) return known;
      const attachment = consoleHub(RED).attach(key, { name: `flow node ${def.name || def.id}`, kind: 'flow', canWrite: true });
      const sc = attachment.console;
      const label = fromFleet ? name : sc.label;
      const extra = fromFleet ? { server: name } : {};
      const onLine = (line: string): void => node.send({ topic: label, ...extra, payload: line });
      const onData = (d: Buffer): void => node.send({ topic: label, ...extra, payload: d.toString('utf8') });
      const onStatus = (s: ConsoleStatus): void => {
        showStatus(label, s);
        if (s.state === 'unavailable' && s.error) node.warn(`console of ${label}: ${s.error.message}${s.hints?.length ? ` (${s.hints.join(' ')})` : ''}`);
      };
      const event = def.output === 'burst' ? 'data' : 'line';
      const onOutput = def.output === 'burst' ? onData : onLine;
      sc.on(event, onOutput);
      sc.on('status', onStatus);
      const f: Followed = {
        name: label,
        attachment,
        stop: () => {
          sc.off(event, onOutput);
          sc.off('status', onStatus);
          attachment.detach();
        },
      };
      followed.set(key, f);
      showStatus(label, sc.status);
      return f;
    };
    // With several consoles (fleet servers), the status names the one it is about.
    const showStatus = (label: string, s: ConsoleStatus): void => {
      const st = statusOf(s);
      node.status(followed.size > 1 ? { ...st, text: `${label}: ${st.text}` } : st);
    };
    const keyOf = (t: ServerTarget): string | undefined => (t.inventory ? consoleKeyOf({ fleet: selection.fleet, fleetServer: t.inventory.id }) : consoleKeyOf({ server: selection.server }));

    if (fixed) {
      try {
        const targets = fromFleet ? resolveServers(RED, selection, undefined).targets : [];
        const keys = fromFleet ? targets.map((t) => ({ key: keyOf(t), name: t.name })) : [{ key: consoleKeyOf({ server: selection.server }), name: '' }];
        if (keys.some((k) => !k.key)) node.status(STATUS.error('no server'));
        else for (const k of keys) follow(k.key!, k.name);
      } catch (err) {
        node.status(STATUS.error(errorCode(err)));
        node.error((err as Error).message);
      }
    } else node.status(STATUS.idle('msg.server'));

    node.on('input', (msg: ConsoleInput, _send: unknown, done: (err?: Error) => void) => {
      const work = async (): Promise<void> => {
        let targets: Followed[];
        if (fixed) {
          if (followed.size === 0) {
            if (fromFleet) throw new BmcError('invalid-input', `serverName: no server "${String(def.serverName).trim()}" with a console in the selected fleet`, { field: 'serverName' });
            throw new BmcError('invalid-input', 'server: no iLO configuration (ilo-config) with a console is selected', { field: 'server' });
          }
          targets = [...followed.values()];
        } else {
          // Each server msg.server names is followed from now on (a message without payload only does that).
          targets = resolveServers(RED, selection, msg.server).targets.map((t) => follow(keyOf(t)!, t.name));
        }
        const p = msg.payload;
        const typing = !(p === undefined || p === null || (msg.break === true && p === ''));
        if (typing && typeof p !== 'string' && !Buffer.isBuffer(p)) throw new BmcError('invalid-input', `payload: expected the text to type (a string or Buffer), got ${typeof p}`, { field: 'payload' });
        const enter = msg.enter === undefined ? enterByDefault : msg.enter === true;
        for (const f of targets) {
          if (msg.break === true) await f.attachment.sendBreak();
          if (typing) await f.attachment.write(Buffer.concat([Buffer.isBuffer(p) ? p : Buffer.from(p as string, 'utf8'), Buffer.from(enter ? '\r' : '')]));
        }
      };
      work().then(
        () => done(),
        (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      for (const f of followed.values()) f.stop();
      followed.clear();
      node.status(STATUS.clear);
      done();
    });
  }

  RED.nodes.registerType('ilo-console', IloConsole);
};
