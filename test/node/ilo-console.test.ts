/**
 * The ilo-console node in a flow (node-red-node-test-helper) against a
 * simulated iLO reached over SSH: console lines leave as messages, a
 * message types on the console, a break over SSH fails with a clear error.
 * A fleet's server works the same, named in the node or by msg.server, and
 * an import that changes its console settings reopens its session.
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
// eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
const iloFleet = require('../../nodes/ilo-fleet/ilo-fleet');

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

/** A server as "rack-1" of a fleet; the console node names it (serverName) or takes msg.server. */
function fleetFlow(serverName: string) {
  // Another iLO than the ilo-config's: the session of one key lingers a while after its last holder, and an iLO has one serial session.
  const ilo = fleet.ilos[1]!;
  const row = { id: 'r1', name: 'rack-1', host: ilo.host, port: ilo.port, tlsMode: 'pinned', fingerprint: ilo.fingerprint, macs: [], consoleMethod: 'ssh', sshPort: ilo.console!.ssh!.port, sshHostKey: ilo.console!.ssh!.openssh };
  return {
    ilo,
    row,
    flow: [
      { id: 'tab', type: 'tab', label: 'test' },
      { id: 'fl', type: 'ilo-fleet', name: 'lab', servers: [row] },
      { id: 'con', type: 'ilo-console', z: 'tab', target: 'fleet', fleet: 'fl', serverName, output: 'line', enter: true, wires: [['out']] },
      { id: 'out', type: 'helper', z: 'tab' },
      { id: 'catch', type: 'catch', z: 'tab', scope: null, uncaught: false, x: 100, y: 200, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ],
    credentials: { fl: { username: ilo.username, password: ilo.password } },
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
    fleet = await Fleet.start({ servers: 2, models: ['gen9', 'gen9'], console: { ssh: true }, timings: { powerOnMs: 50, postMs: 100 } });
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
    for (const ilo of fleet.ilos) ilo.server.hardOff();
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
  test('a fleet server named in the node: its lines are messages (topic and msg.server its name), a message types on it', async () => {
    const { flow: f, credentials, ilo } = fleetFlow('rack-1');
    await helper.load([iloFleet, iloConsole], f, credentials);
    const con = helper.getNode('con') as Node;
    await statusIs(con, 'open (ssh)');
    const out = helper.getNode('out') as Node;
    const bios = messageMatching(out, /ProLiant System BIOS/);
    ilo.server.powerOn();
    const msg = (await bios) as { topic: string; server?: string };
    assert.equal(msg.topic, 'rack-1');
    assert.equal(msg.server, 'rack-1');
    con.receive({ payload: 'typed-in-fleet' } as never);
    const end = Date.now() + 20_000;
    while (!/typed-in-fleet\r/.test(ilo.server.serial.inputReceived()) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.match(ilo.server.serial.inputReceived(), /typed-in-fleet\r/);
  });

  test('a fleet server from msg.server: followed from the first message naming it; an unknown name is refused', async () => {
    const { flow: f, credentials, ilo } = fleetFlow('');
    await helper.load([iloFleet, iloConsole], f, credentials);
    const con = helper.getNode('con') as Node;
    const caught = nextMessage<{ error: { message: string } }>(helper.getNode('caught') as Node);
    con.receive({ server: 'rack-9', payload: 'x' } as never);
    assert.match((await caught).error.message, /msg\.server: no server named "rack-9" in fleet "lab"/);
    con.receive({ server: 'rack-1' } as never);
    await statusIs(con, 'open (ssh)');
    const out = helper.getNode('out') as Node;
    const bios = messageMatching(out, /ProLiant System BIOS/);
    ilo.server.powerOn();
    assert.equal((await bios).topic, 'rack-1');
  });

  test("an import that changes a fleet server's console settings reopens its session with them", async () => {
    const { flow: f, credentials, ilo } = fleetFlow('rack-1');
    await helper.load([iloFleet, iloConsole], f, credentials);
    const con = helper.getNode('con') as Node;
    await statusIs(con, 'open (ssh)');
    const fl = helper.getNode('fl') as unknown as { importInventory(text: string, o: { format: 'csv' }): unknown };
    const logins = ilo.console!.ssh!.cli.logins.ok;
    // The same server, now with a wrong SSH port: the session is reopened with it and fails.
    const head = 'name,ilo_address,client_port,ilo_tls_fingerprint,console_method,ssh_port,ssh_host_key';
    fl.importInventory(`${head}\nrack-1,${ilo.host},${ilo.port},${ilo.fingerprint},ssh,1,${ilo.console!.ssh!.openssh}\n`, { format: 'csv' });
    await statusMatching(con, (s) => /retrying|unavailable|connection/.test(String(s.text)));
    // Back to the right port: open again, with a new login.
    fl.importInventory(`${head}\nrack-1,${ilo.host},${ilo.port},${ilo.fingerprint},ssh,${ilo.console!.ssh!.port},${ilo.console!.ssh!.openssh}\n`, { format: 'csv' });
    await statusIs(con, 'open (ssh)');
    assert.ok(ilo.console!.ssh!.cli.logins.ok > logins, 'logged in again with the new settings');
  });
});
