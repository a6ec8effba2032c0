/**
 * lib/console against the simulated iLOs: the virtual serial port over SSH
 * (the simulator's iLO CLI, a real SSH server from ssh2) and IPMI
 * serial-over-LAN (real ipmitool against OpenIPMI's ipmi_sim, bridged to the
 * same simulated serial port), `auto`, host key pinning, and the hub that
 * shares one session per server.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { isBmcError } from '../../lib/bmc';
import { ConsoleHub, fetchHostKey, HINTS, openConsole, type ConsoleChannel, type ConsoleConfig, type ConsoleStatus } from '../../lib/console';
import { consoleHints } from '../../lib/console/hints';
import { Fleet, type SimIlo } from '../../sim/fleet';
import { needTools } from '../helpers/env';

const noIpmi = needTools('ipmitool', 'ipmi_sim', 'script');
let fleet: Fleet;

function cfg(ilo: SimIlo, over: Partial<ConsoleConfig> = {}): ConsoleConfig {
  return {
    host: ilo.host,
    username: ilo.username,
    password: ilo.password,
    method: 'ssh',
    sshPort: ilo.console!.ssh!.port,
    sshHostKey: ilo.console!.ssh!.openssh,
    ...(ilo.console?.ipmi ? { ipmiPort: ilo.console.ipmi.port } : {}),
    ...over,
  };
}

async function until<T>(what: string, f: () => T | undefined | false, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function collect(ch: ConsoleChannel): { text(): string } {
  let out = '';
  ch.stream.on('data', (d: Buffer) => (out += d.toString('utf8')));
  return { text: () => out };
}

/** A UDP port nobody answers on. */
function deadUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

before(async () => {
  fleet = await Fleet.start({ servers: 2, models: ['gen10', 'gen9'], console: { ssh: true, ipmi: !noIpmi }, timings: { powerOnMs: 50, postMs: 100, hardOffMs: 0 } });
});
after(async () => {
  await fleet?.stop();
});

describe('console over SSH (iLO CLI vsp)', () => {
  test('the server POSTs on the console, keystrokes reach its serial port, close hands the port back', async () => {
    const ilo = fleet.ilos[0]!;
    const ch = await openConsole(cfg(ilo));
    assert.equal(ch.via, 'ssh');
    const out = collect(ch);
    ilo.server.powerOn();
    await until('the POST screen', () => /ProLiant System BIOS/.test(out.text()));
    assert.doesNotMatch(out.text(), /hpiLO->|Press 'ESC \('/, 'the CLI banner is not console output');
    ch.stream.write('root\r');
    await until('the keystrokes at the serial port', () => ilo.server.serial.inputReceived().includes('root\r'));
    assert.equal(ilo.server.serial.vspHolder !== undefined, true);
    const end = await ch.close();
    assert.equal(end.by, 'closed');
    assert.equal(ilo.server.serial.vspHolder, undefined, 'ESC ( and exit released the virtual serial port');
    ilo.server.hardOff();
  });

  test('the host key must be the pinned one: another is refused before any login, and named', async () => {
    const ilo = fleet.ilos[0]!;
    const cli = ilo.console!.ssh!.cli;
    const before = { ...cli.logins };
    const other = `SHA256:${Buffer.alloc(32, 1).toString('base64').replace(/=+$/, '')}`;
    await assert.rejects(openConsole(cfg(ilo, { sshHostKey: other })), (e: unknown) => isBmcError(e, 'connection') && e.message.includes(ilo.console!.ssh!.openssh) && /not the pinned one/.test(e.message));
    assert.deepEqual(cli.logins, before, 'no password was sent');
  });

  test('fetching the host key (trust on first use) reads it without logging in', async () => {
    const ilo = fleet.ilos[0]!;
    const before = { ...ilo.console!.ssh!.cli.logins };
    const key = await fetchHostKey({ host: ilo.host, port: ilo.console!.ssh!.port });
    assert.equal(key.openssh, ilo.console!.ssh!.openssh);
    assert.equal(key.fingerprint256, ilo.console!.ssh!.fingerprint256);
    assert.equal(key.algorithm, 'ecdsa-sha2-nistp256');
    assert.deepEqual(ilo.console!.ssh!.cli.logins, before);
  });

  test('a wrong password is a login error; a busy port, busy; SSH switched off, a connection error with the fix', async () => {
    const ilo = fleet.ilos[0]!;
    await assert.rejects(openConsole(cfg(ilo, { password: 'wrong-one' })), (e: unknown) => isBmcError(e, 'login'));
    const first = await openConsole(cfg(ilo));
    try {
      await assert.rejects(openConsole(cfg(ilo)), (e: unknown) => isBmcError(e, 'busy') && /in use by another session/.test(e.message));
    } finally {
      await first.close();
    }
    ilo.console!.ssh!.cli.enabled = false;
    try {
      const err = await openConsole(cfg(ilo)).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(isBmcError(err, 'connection'), String(err));
      assert.ok(consoleHints(err, 'ssh').includes(HINTS.ssh));
    } finally {
      ilo.console!.ssh!.cli.enabled = true;
    }
  });

  test('a serial break is not offered over SSH (and says which way has one)', async () => {
    const ch = await openConsole(cfg(fleet.ilos[0]!));
    try {
      await assert.rejects(ch.sendBreak(), (e: unknown) => isBmcError(e, 'not-supported') && /IPMI serial-over-LAN sends one/.test(e.message));
    } finally {
      await ch.close();
    }
  });
});

describe('console over IPMI serial-over-LAN (ipmitool, ipmi_sim)', { skip: noIpmi }, () => {
  test('output, keystrokes and a break through ipmitool; close ends the SOL session', async () => {
    const ilo = fleet.ilos[1]!;
    const ch = await openConsole(cfg(ilo, { method: 'ipmi', ipmiCipherSuite: 3 }));
    assert.equal(ch.via, 'ipmi');
    const out = collect(ch);
    ilo.server.powerOn();
    await until('the POST screen over SOL', () => /ProLiant System BIOS/.test(out.text()));
    ch.stream.write('~user\r');
    await until('the keystrokes at the serial port', () => ilo.server.serial.inputReceived().includes('~user\r'));
    await ch.sendBreak();
    ch.stream.write('after-break\r');
    await until('keystrokes after the break', () => ilo.server.serial.inputReceived().includes('after-break\r'));
    assert.doesNotMatch(ilo.server.serial.inputReceived(), /~B/, "the break is ipmitool's, not typed text");
    assert.doesNotMatch(out.text(), /send break/, "ipmitool's own echo is not console output");
    assert.equal((await ch.close()).by, 'closed');
    ilo.server.hardOff();
  });

  test('auto: IPMI when it answers, SSH when IPMI over LAN is off; both failing says why for each', async () => {
    const ilo = fleet.ilos[1]!;
    const viaIpmi = await openConsole(cfg(ilo, { method: 'auto', ipmiCipherSuite: 3 }));
    assert.equal(viaIpmi.via, 'ipmi');
    await viaIpmi.close();
    const dead = await deadUdpPort();
    const viaSsh = await openConsole(cfg(ilo, { method: 'auto', ipmiPort: dead, ipmiCipherSuite: 3 }));
    assert.equal(viaSsh.via, 'ssh');
    await viaSsh.close();
    const err = await openConsole(cfg(ilo, { method: 'auto', ipmiPort: dead, ipmiCipherSuite: 3, sshHostKey: '' })).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isBmcError(err), String(err));
    assert.match(err.message, /IPMI: .*; SSH: not tried, no host key is pinned/);
    const hints = consoleHints(err);
    assert.ok(hints.includes(HINTS.ipmiOverLan), hints.join('\n'));
    assert.ok(hints.includes(HINTS.ssh), hints.join('\n'));
  });
});

describe('console hub: one session per server, shared', () => {
  function hubFor(ilo: SimIlo, over: () => Partial<ConsoleConfig> = () => ({})): ConsoleHub {
    return new ConsoleHub({
      resolve: (key) => (key === ilo.name ? { key, label: ilo.name, open: (o) => openConsole(cfg(ilo, over()), o) } : undefined),
      lingerMs: 200,
      retryFirstMs: 100,
    });
  }

  test("viewers, a flow and a deploy share one session; the deploy reads the last lines; one viewer types at a time", async () => {
    const ilo = fleet.ilos[0]!;
    const cli = ilo.console!.ssh!.cli;
    const hub = hubFor(ilo);
    const logins = cli.logins.ok;
    const alice = hub.attach(ilo.name, { name: 'alice', kind: 'viewer', canWrite: true });
    const bob = hub.attach(ilo.name, { name: 'bob', kind: 'viewer', canWrite: true });
    const deploy = hub.attach(ilo.name, { name: 'deploy d-1', kind: 'deploy' });
    const flow = hub.attach(ilo.name, { name: 'flow', kind: 'flow', canWrite: true });
    await until('the session', () => alice.status().state === 'open');
    assert.equal(cli.logins.ok, logins + 1, 'one SSH session for four holders');
    ilo.server.powerOn();
    await until('POST lines', () => deploy.lines(100).some((l) => /ProLiant System BIOS/.test(l)));
    assert.ok(deploy.lines(100).length <= 100);

    assert.equal(alice.isWriter(), true, 'the first viewer types');
    assert.equal(bob.isWriter(), false);
    await assert.rejects(bob.write('x'), (e: unknown) => isBmcError(e, 'permission') && /alice is typing/.test(e.message));
    await assert.rejects(deploy.write('x'), (e: unknown) => isBmcError(e, 'permission'));
    bob.takeWriter();
    assert.equal(alice.isWriter(), false, 'taking over is explicit and moves the keyboard');
    await bob.write('from-bob\r');
    await flow.write('from-flow\r');
    await until('both lines at the serial port', () => /from-bob\r[\s\S]*from-flow\r/.test(ilo.server.serial.inputReceived()));

    for (const a of [alice, bob, deploy, flow]) a.detach();
    await until('the session closed after the last holder left', () => hub.get(ilo.name) === undefined && ilo.server.serial.vspHolder === undefined);
    ilo.server.hardOff();
    await hub.close();
  });

  test('a dropped session reconnects while held; a refused login is not repeated', async () => {
    const ilo = fleet.ilos[0]!;
    const cli = ilo.console!.ssh!.cli;
    let password = ilo.password;
    const hub = hubFor(ilo, () => ({ password }));
    const viewer = hub.attach(ilo.name, { name: 'carol', kind: 'viewer', canWrite: true });
    const states: ConsoleStatus['state'][] = [];
    viewer.console.on('status', (s: ConsoleStatus) => states.push(s.state));
    await until('open', () => viewer.status().state === 'open');
    const logins = cli.logins.ok;
    cli.dropSessions();
    await until('open again', () => viewer.status().state === 'open' && cli.logins.ok === logins + 1);
    assert.ok(states.includes('retrying'), states.join(','));
    await viewer.write('again\r');
    await until('keystrokes after the reconnect', () => ilo.server.serial.inputReceived().includes('again\r'));

    password = 'changed-on-the-ilo';
    const refused = cli.logins.refused;
    hub.reset(ilo.name);
    await until('unavailable', () => viewer.status().state === 'unavailable');
    const s = viewer.status();
    assert.equal(s.error?.code, 'login');
    assert.equal(s.retryAt, undefined, 'no automatic retry: iLOs lock accounts');
    assert.equal(cli.logins.refused, refused + 1);
    assert.ok(s.hints?.includes(HINTS.login));
    viewer.detach();
    await hub.close();
  });

  test('an unknown server is refused naming the field', () => {
    const hub = hubFor(fleet.ilos[0]!);
    assert.throws(() => hub.attach('nope', { name: 'x', kind: 'deploy' }), (e: unknown) => isBmcError(e, 'invalid-input') && e.field === 'server');
  });
});
