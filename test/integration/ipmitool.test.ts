/**
 * lib/ipmi against a real OpenIPMI ipmi_sim on 127.0.0.1, through the real
 * ipmitool. What is asserted is what an operator would check: the power and
 * boot device the (simulated) chassis received, the sensor values configured
 * in the simulator, the serial console text, and the errors.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isBmcError } from '../../lib/bmc/errors';
import { Ipmitool, type IpmitoolOptions } from '../../lib/ipmi';
import { needTools } from '../helpers/env';
import { SIM_OPERATOR, SIM_SENSORS, SIM_USER, startIpmiSim, type IpmiSim } from '../helpers/ipmi-sim';

const skip = needTools('ipmitool', 'ipmi_sim', 'sdrcomp');
const skipSol = skip || needTools('script');

async function eventually<T>(read: () => T, ok: (v: T) => boolean, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = read();
    if (ok(v)) return v;
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(v)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('ipmitool against OpenIPMI ipmi_sim', { skip }, () => {
  let sim: IpmiSim;
  let work: string;
  let argvLog: string;
  let ipmi: Ipmitool;
  const opts = (extra: Partial<IpmitoolOptions> = {}): IpmitoolOptions => ({
    host: '127.0.0.1',
    port: sim.port,
    ...SIM_USER,
    retries: 1,
    ipmitoolPath: join(work, 'ipmitool'),
    ...extra,
  });

  before(async () => {
    sim = await startIpmiSim();
    work = mkdtempSync(join(tmpdir(), 'ipmitool-test-'));
    argvLog = join(work, 'argv.log');
    // The real ipmitool, behind a wrapper that writes down each command line as the kernel saw it.
    writeFileSync(join(work, 'ipmitool'), `#!/bin/sh\ntr '\\0' ' ' < /proc/$$/cmdline >> '${argvLog}'\necho >> '${argvLog}'\nexec ipmitool "$@"\n`);
    chmodSync(join(work, 'ipmitool'), 0o755);
    ipmi = new Ipmitool(opts());
  });
  after(async () => {
    await sim?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('power on / off / soft / reset / cycle reach the chassis and power status follows', async () => {
    assert.equal(await ipmi.powerStatus(), 'off');
    await ipmi.power('on');
    assert.equal(sim.hook().power, '1');
    assert.equal(await ipmi.powerStatus(), 'on');

    await ipmi.power('reset');
    assert.ok(sim.hook().calls.includes('set reset 1'), 'the chassis got a reset');

    await ipmi.power('soft');
    assert.ok(sim.hook().calls.includes('set shutdown 1'), 'the chassis got an ACPI shutdown request');
    assert.equal(await ipmi.powerStatus(), 'off');

    await ipmi.power('on');
    const before = sim.hook().calls.length;
    await ipmi.power('cycle');
    // The BMC powers off at once and back on about a second later.
    const calls = await eventually(() => sim.hook().calls.slice(before), (c) => c.includes('set power 1'), 'power back on after cycle');
    assert.ok(calls.indexOf('set power 0') < calls.indexOf('set power 1'), `off then on: ${calls.join(' | ')}`);
    assert.equal(await ipmi.powerStatus(), 'on');

    await ipmi.power('off');
    assert.equal(sim.hook().power, '0');
    assert.equal(await ipmi.powerStatus(), 'off');
  });

  test('boot devices reach the chassis hook (disk is "default" to the BMC)', async () => {
    for (const [device, seen] of [['pxe', 'pxe'], ['cdrom', 'cdrom'], ['bios', 'bios'], ['disk', 'default'], ['none', 'none']] as const) {
      await ipmi.bootdev(device);
      assert.equal(sim.hook().boot, seen, `bootdev ${device}`);
      assert.equal(sim.hook().calls.at(-1), `set boot ${seen}`);
    }
  });

  test('efiboot and persistent are sent in the boot flags (as the BMC logs the request)', async () => {
    const trace = await sim.traceMessages();
    try {
      await ipmi.bootdev('disk', { efiboot: true });
      await ipmi.bootdev('pxe', { persistent: true });
      await ipmi.bootdev('cdrom', { efiboot: true, persistent: true });
      await ipmi.bootdev('pxe');
      await new Promise((r) => setTimeout(r, 100));
      // Set System Boot Options (netfn 0, cmd 8), parameter 5: data byte 1 is the flags
      // (0x80 valid, 0x40 persistent, 0x20 EFI), byte 2 the device (0x04 pxe, 0x08 disk, 0x14 cdrom).
      const flags = [...trace.text().matchAll(/netfn=0x0 cmd=0x8 [^\n]*\n\r?[^\n]*\n\r? (05 [0-9a-f]{2} [0-9a-f]{2})/g)].map((m) => m[1]);
      assert.deepEqual(flags, ['05 a0 08', '05 c0 04', '05 e0 14', '05 80 04']);
    } finally {
      await trace.close();
    }
  });

  test('floppy and safe: the BMC refuses, ipmitool exits 0, and we still report the failure', async () => {
    await ipmi.bootdev('pxe');
    for (const device of ['floppy', 'safe'] as const) {
      await assert.rejects(ipmi.bootdev(device), (err: unknown) => {
        assert.ok(isBmcError(err), String(err));
        assert.match(err.iloMessage ?? '', /Set Chassis Boot Parameter 5 failed: Unspecified error/);
        assert.equal(err.status, '0', 'ipmitool itself exited 0');
        assert.equal(err.target, `127.0.0.1:${sim.port}`);
        return true;
      });
    }
    assert.equal(sim.hook().boot, 'pxe', 'the boot device did not change');
  });

  test('sensors: names, types, readings and units as configured in the simulator', async () => {
    const sensors = await ipmi.sensors();
    const by = new Map(sensors.map((s) => [s.name, s]));
    assert.deepEqual([...by.keys()].sort(), ['CPU Volt', 'Fan 1', 'Inlet Temp', 'PSU Presence']);
    assert.deepEqual(
      { ...by.get('Inlet Temp') },
      { name: 'Inlet Temp', number: 1, type: 'Temperature', kind: 'threshold', reading: 42, unit: 'degrees C', status: 'ok', statusText: 'ok', states: [], entity: 'System Board' },
    );
    const fan = by.get('Fan 1');
    assert.equal(fan?.reading, SIM_SENSORS.fan.reading);
    assert.equal(fan?.unit, 'RPM');
    assert.equal(fan?.type, 'Fan');
    const psu = by.get('PSU Presence');
    assert.equal(psu?.kind, 'discrete');
    assert.equal(psu?.type, 'Entity Presence');
    assert.equal(psu?.reading, null);
    assert.deepEqual(psu?.states, ['Device Present']);
    const volt = by.get('CPU Volt');
    assert.equal(volt?.reading, null);
    assert.equal(volt?.status, 'unavailable');
  });

  test('a temperature set above its critical threshold reads as critical', async () => {
    await sim.command(`sensor_set_value 0x20 0 ${SIM_SENSORS.inletTemp.number} 0x55 0`);
    try {
      const temp = (await ipmi.sensors()).find((s) => s.name === 'Inlet Temp');
      assert.equal(temp?.reading, 0x55);
      assert.equal(temp?.status, 'critical');
      assert.equal(temp?.statusText, 'Upper Critical');
    } finally {
      await sim.command(`sensor_set_value 0x20 0 ${SIM_SENSORS.inletTemp.number} ${SIM_SENSORS.inletTemp.raw} 0`);
    }
  });

  test('a wrong password is a login error that does not contain the password', async () => {
    const wrong = 'Wrong-Secret-99';
    await assert.rejects(new Ipmitool(opts({ password: wrong })).powerStatus(), (err: unknown) => {
      assert.ok(isBmcError(err, 'login'), String(err));
      assert.match(err.message, /RAKP 2 HMAC is invalid/);
      assert.ok(!JSON.stringify({ ...err, message: err.message, stack: err.stack }).includes(wrong));
      return true;
    });
    await assert.rejects(new Ipmitool(opts({ username: 'nobody' })).powerStatus(), (err: unknown) => isBmcError(err, 'login') && /unauthorized name/.test(err.message));
    await assert.rejects(new Ipmitool(opts({ interface: 'lan', password: wrong })).powerStatus(), (err: unknown) => isBmcError(err, 'login'));
  });

  test('no BMC listening: a connection error', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createSocket('udp4');
      s.bind(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
    await assert.rejects(new Ipmitool(opts({ port, retries: 1 })).powerStatus(), (err: unknown) => isBmcError(err, 'connection') && /Get Channel Authentication Capabilities|Get Auth Capabilities/.test(err.message));
  });

  test('a run longer than timeoutMs is a timeout error', async () => {
    // Nothing answers on this port, and ipmitool's own retries would take 6 s.
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    try {
      await assert.rejects(new Ipmitool(opts({ port: s.address().port, retries: 2, timeoutMs: 500 })).powerStatus(), (err: unknown) => isBmcError(err, 'timeout'));
    } finally {
      s.close();
    }
  });

  test('cipher suite 17 is refused by this BMC; "auto" falls back to 3 and keeps it', async () => {
    await assert.rejects(new Ipmitool(opts({ cipherSuite: 17 })).powerStatus(), (err: unknown) => isBmcError(err, 'not-supported') && /invalid authentication algorithm/.test(err.message));
    const auto = new Ipmitool(opts({ cipherSuite: 'auto' }));
    assert.equal(auto.activeCipherSuite, undefined);
    assert.equal(await auto.powerStatus(), 'off');
    assert.equal(auto.activeCipherSuite, 3);
    const mark = readFileSync(argvLog, 'utf8').length;
    await auto.powerStatus();
    assert.deepEqual(commandLines(readFileSync(argvLog, 'utf8').slice(mark)).map((l) => l.match(/ -C (\d+)/)?.[1]), ['3'], 'the second call goes straight to suite 3');
  });

  test('IPMI 1.5 (lan) and an operator account work too', async () => {
    assert.equal(await new Ipmitool(opts({ interface: 'lan' })).powerStatus(), 'off');
    assert.equal(await new Ipmitool(opts({ ...SIM_OPERATOR, privilege: 'operator' })).powerStatus(), 'off');
  });

  test('the password never appeared on a command line (every real run above)', () => {
    const lines = commandLines(readFileSync(argvLog, 'utf8'));
    assert.ok(lines.length >= 20, `recorded ${lines.length} runs`);
    for (const line of lines) {
      assert.ok(!line.includes(SIM_USER.password) && !line.includes(SIM_OPERATOR.password), line);
      assert.match(line, / -E /, 'the password is read from the environment');
    }
  });

  describe('serial-over-LAN', { skip: skipSol }, () => {
    test('console text reaches the session, keystrokes reach the serial port, close ends it', async () => {
      const sol = await ipmi.solActivate();
      try {
        let seen = '';
        sol.stream.on('data', (d: Buffer) => (seen += d.toString('latin1')));
        // What the session's processes show to anyone running ps: no password.
        for (const pid of processTree(sol.pid)) {
          const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
          assert.ok(!cmdline.includes(SIM_USER.password), cmdline);
        }
        await sim.serialWrite('login: \r\n');
        await eventually(() => seen, (s) => s.includes('login: '), 'serial output in the session');
        sol.stream.write('root\r');
        await eventually(() => sim.serialReceived().toString('latin1'), (s) => s.includes('root\r'), 'typed text at the serial port');
        // A "~" at a line start is ipmitool's escape: it must still arrive as typed.
        sol.stream.write('~/bin/true\r');
        await eventually(() => sim.serialReceived().toString('latin1'), (s) => s.includes('root\r~/bin/true\r'), 'a line starting with ~');
        assert.doesNotMatch(seen, /SOL Session operational/, 'ipmitool banner is not console output');
      } finally {
        const end = await sol.close();
        assert.deepEqual(end, { by: 'closed', exitCode: 0 });
      }
    });

    test('a second session is refused as busy; force takes it over', async () => {
      const first = await ipmi.solActivate();
      try {
        const other = new Ipmitool(opts());
        await assert.rejects(other.solActivate(), (err: unknown) => isBmcError(err, 'busy') && /already active/.test(err.message));
        const second = await other.solActivate({ force: true });
        await second.close();
      } finally {
        await first.close();
      }
      assert.equal(await ipmi.solDeactivate(), false, 'nothing left active');
    });

    test('a wrong password fails the activation with a login error', async () => {
      await assert.rejects(new Ipmitool(opts({ password: 'nope-nope' })).solActivate(), (err: unknown) => isBmcError(err, 'login'));
    });
  });
});

function commandLines(log: string): string[] {
  return log.split('\n').filter((l) => l.trim().length > 0);
}

/** pid and all its descendants (Linux /proc). */
function processTree(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  const out = [pid];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const c of children.split(' ').filter(Boolean)) out.push(...processTree(Number(c)));
  }
  return out;
}
