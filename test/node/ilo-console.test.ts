/**
 * The ilo-console node in a flow (node-red-node-test-helper) against a
 * simulated iLO reached over SSH: console lines leave as messages, a
 * message types on the console, a break over SSH fails with a clear error.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Node } from 'node-red';
import { Fleet } from '../../sim/fleet';
import { helper, nextMessage, statusMatching } from '../helpers/node-red';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled node modules are CommonJS `export =` functions
const iloConfig = require('../../nodes/ilo-config/ilo-config');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
const iloConsole = require('../../nodes/ilo-console/ilo-console');

let fleet: Fleet;

function flow(output: 'line' | 'burst' = 'line') {
  const ilo = fleet.ilos[0]!;
  return {
    ilo,
    flow: [
      { id: 'tab', type: 'tab', label: 'test' },
      {
        id: 'cfg',
        type: 'ilo-config',
        z: 'tab',
        name: ilo.name,
        host: ilo.host,
        port: ilo.port,
        tlsMode: 'pinned',
        fingerprint: ilo.fingerprint,
        consoleMethod: 'ssh',
        sshPort: String(ilo.console!.ssh!.port),
        sshHostKey: ilo.console!.ssh!.fingerprint256,
      },
      { id: 'con', type: 'ilo-console', z: 'tab', server: 'cfg', output, enter: true, wires: [['out']] },
      { id: 'out', type: 'helper', z: 'tab' },
      { id: 'catch', type: 'catch', z: 'tab', scope: null, uncaught: false, x: 100, y: 200, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ],
    credentials: { cfg: { username: ilo.username, password: ilo.password } },
  };
}

/** Resolves once the node shows `text` (now, or later). */
function statusIs(node: Node, text: string): Promise<void> {
  const spy = (node as unknown as { status: { lastCall?: { args: Array<{ text?: string }> } } }).status;
  if (spy.lastCall?.args[0]?.text === text) return Promise.resolve();
  return statusMatching(node, (s) => s.text === text);
}

/** The first message whose payload matches. */
function messageMatching(node: Node, re: RegExp, ms = 20_000): Promise<{ payload: string; topic: string }> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no message matching ${re} within ${ms} ms`)), ms);
    const on = (msg: { payload: string; topic: string }): void => {
      if (!re.test(msg.payload)) return;
      clearTimeout(t);
      node.off('input', on as never);
      resolve(msg);
    };
    node.on('input', on as never);
  });
}

describe('ilo-console node', () => {
  before(async () => {
    fleet = await Fleet.start({ servers: 1, models: ['gen9'], console: { ssh: true }, timings: { powerOnMs: 50, postMs: 100 } });
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
    fleet.ilos[0]!.server.hardOff();
  });
  after(async () => {
    await helper.stopServer();
    await fleet.stop();
  });

  test('each console line is a message; a message types a line; the status says how the console is reached', async () => {
    const { flow: f, credentials, ilo } = flow();
    await helper.load([iloConfig, iloConsole], f, credentials);
    const con = helper.getNode('con') as Node;
    await statusIs(con, 'open (ssh)');
    const out = helper.getNode('out') as Node;
    const bios = messageMatching(out, /ProLiant System BIOS/);
    const booted = messageMatching(out, /Reached target Multi-User System/);
    ilo.server.powerOn();
    const msg = await bios;
    assert.equal(msg.topic, ilo.name);
    // The installed OS boots to "login: " (no newline yet, so not a line); typing completes the line.
    await booted;
    const echoed = messageMatching(out, /login: root$/);
    con.receive({ payload: 'root' } as never);
    await echoed;
    assert.match(ilo.server.serial.inputReceived(), /root\r$/, 'Enter follows the text');
  });

  test('a break over SSH fails with not-supported, seen by a Catch node', async () => {
    const { flow: f, credentials } = flow();
    await helper.load([iloConfig, iloConsole], f, credentials);
    const con = helper.getNode('con') as Node;
    await statusIs(con, 'open (ssh)');
    const caught = nextMessage<{ error: { message: string } }>(helper.getNode('caught') as Node);
    con.receive({ break: true } as never);
    assert.match((await caught).error.message, /has no serial break/);
    const bad = nextMessage<{ error: { message: string } }>(helper.getNode('caught') as Node);
    con.receive({ payload: { not: 'text' } } as never);
    assert.match((await bad).error.message, /payload: expected the text to type/);
  });

  test('burst mode passes the output as it comes, escapes included', async () => {
    const { flow: f, credentials, ilo } = flow('burst');
    await helper.load([iloConfig, iloConsole], f, credentials);
    const con = helper.getNode('con') as Node;
    await statusIs(con, 'open (ssh)');
    const out = helper.getNode('out') as Node;
    const clear = messageMatching(out, new RegExp(String.fromCharCode(27) + '\\[2J'));
    ilo.server.powerOn();
    await clear;
  });
});
