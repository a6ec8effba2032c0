/**
 * lib/ipmi without a BMC: option checks, the command lines and environment
 * ipmitool gets (through a stand-in program that records them), how ipmitool's
 * words become typed errors, and the SDR parser on text ipmitool printed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { isBmcError } from '../../lib/bmc/errors';
import { diagnose, meaningfulLines } from '../../lib/ipmi/diagnose';
import { Ipmitool, parseSdrVerbose } from '../../lib/ipmi';
import { escapeSolInput, scriptArgs, shellQuote } from '../../lib/ipmi/sol';

const PASSWORD = 'S3cret-pw!';
const base = { host: '10.0.0.5', username: 'admin', password: PASSWORD };

describe('Ipmitool options', () => {
  const bad: Array<[string, Record<string, unknown>]> = [
    ['host', { host: '-oProxyCommand=x' }],
    ['host', { host: 'a b' }],
    ['port', { port: 70000 }],
    ['interface', { interface: 'open' }],
    ['username', { username: 'a-name-longer-than-16' }],
    ['password', { password: 'p'.repeat(21) }],
    ['password', { interface: 'lan', password: 'p'.repeat(17) }],
    ['cipherSuite', { cipherSuite: 18 }],
    ['privilege', { privilege: 'root' }],
    ['retries', { retries: 0 }],
    ['timeoutMs', { timeoutMs: 5 }],
  ];
  for (const [field, change] of bad) {
    test(`${field} ${JSON.stringify(change)} is refused, naming the field`, () => {
      assert.throws(
        () => new Ipmitool({ ...base, ...change } as never),
        (err: unknown) => isBmcError(err, 'invalid-input') && err.field === field && err.message.startsWith(`${field}: expected`) && !err.message.includes('p'.repeat(17)),
      );
    });
  }

  test('the options shown on the instance do not carry the password', () => {
    const ipmi = new Ipmitool({ ...base, privilege: 'operator' });
    assert.equal(JSON.stringify(ipmi).includes(PASSWORD), false);
    assert.equal(inspect(ipmi, { depth: 5, showHidden: true }).includes(PASSWORD), false);
    assert.equal(ipmi.options.privilege, 'OPERATOR');
    assert.equal(ipmi.target, '10.0.0.5:623');
    assert.equal(new Ipmitool({ ...base, host: 'fe80::1' }).target, '[fe80::1]:623');
  });
});

describe('ipmitool command lines and environment (recorded by a stand-in ipmitool)', () => {
  let dir: string;
  let fake: string;
  const record = (): { argv: string[]; env: string }[] =>
    readFileSync(join(dir, 'calls'), 'utf8')
      .split('\u0001')
      .filter((c) => c.trim())
      .map((c) => {
        const [argv = '', env = ''] = c.split('\u0002');
        return { argv: argv.split('\n').slice(0, -1), env: env.trim() };
      });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fake-ipmitool-'));
    fake = join(dir, 'ipmitool');
    // Writes its argv (one per line) and the password it was given, then answers by the FAKE_REPLY file.
    writeFileSync(
      fake,
      `#!/bin/sh
for a in "$@"; do printf '%s\\n' "$a"; done >> '${dir}/calls'
printf '\\002%s\\001' "$IPMI_PASSWORD" >> '${dir}/calls'
. '${dir}/reply'
`,
    );
    chmodSync(fake, 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const reply = (sh: string): void => {
    writeFileSync(join(dir, 'reply'), sh);
    writeFileSync(join(dir, 'calls'), '');
  };

  test('power status: -E with the password in IPMI_PASSWORD, cipher 3, never the password in argv', async () => {
    reply(`echo 'Chassis Power is on'`);
    const ipmi = new Ipmitool({ ...base, port: 6230, ipmitoolPath: fake, retries: 2, retryIntervalSec: 3 });
    assert.equal(await ipmi.powerStatus(), 'on');
    const [call] = record();
    assert.deepEqual(call?.argv, ['-I', 'lanplus', '-H', '10.0.0.5', '-p', '6230', '-U', 'admin', '-E', '-C', '3', '-N', '3', '-R', '2', '-v', 'power', 'status']);
    assert.equal(call?.env, PASSWORD);
  });

  test('bootdev flags, lan without a cipher suite, privilege level', async () => {
    reply(`dev=; prev=; for a in "$@"; do [ "$prev" = bootdev ] && dev=$a; prev=$a; done; echo "Set Boot Device to $dev"`);
    const ipmi = new Ipmitool({ ...base, interface: 'lan', privilege: 'operator', ipmitoolPath: fake });
    await ipmi.bootdev('pxe', { efiboot: true, persistent: true });
    await ipmi.bootdev('disk');
    const [a, b] = record();
    assert.deepEqual(a?.argv, ['-I', 'lan', '-H', '10.0.0.5', '-p', '623', '-U', 'admin', '-E', '-L', 'OPERATOR', '-N', '1', '-R', '3', '-v', 'chassis', 'bootdev', 'pxe', 'options=efiboot,persistent']);
    assert.deepEqual(b?.argv.slice(-3), ['chassis', 'bootdev', 'disk']);
  });

  test('an empty password is passed as -P "" (nothing secret), not through -E', async () => {
    reply(`echo 'Chassis Power is off'`);
    await new Ipmitool({ ...base, password: '', ipmitoolPath: fake }).powerStatus();
    const [call] = record();
    assert.deepEqual(call?.argv.slice(8, 10), ['-P', '']);
    assert.ok(!call?.argv.includes('-E'));
    assert.equal(call?.env, '');
  });

  test('a message that contains the password is redacted', async () => {
    reply(`echo "Error: session for password $IPMI_PASSWORD refused" >&2; exit 1`);
    await assert.rejects(new Ipmitool({ ...base, ipmitoolPath: fake }).powerStatus(), (err: unknown) => {
      assert.ok(isBmcError(err));
      assert.ok(!err.message.includes(PASSWORD) && !(err.iloMessage ?? '').includes(PASSWORD), err.message);
      assert.match(err.message, /password \*\*\* refused/);
      return true;
    });
  });

  test('exit 0 without the expected answer is a protocol error', async () => {
    reply(`exit 0`);
    await assert.rejects(new Ipmitool({ ...base, ipmitoolPath: fake }).power('on'), (err: unknown) => isBmcError(err, 'protocol'));
  });

  test('"auto" tries suite 17, falls back to 3 when refused, and stays on 3', async () => {
    reply(`case " $* " in *" -C 17 "*) echo 'Error in open session response message : invalid authentication algorithm' >&2; exit 1;; esac; echo 'Chassis Power is off'`);
    const ipmi = new Ipmitool({ ...base, cipherSuite: 'auto', ipmitoolPath: fake });
    await ipmi.powerStatus();
    await ipmi.powerStatus();
    assert.deepEqual(record().map((c) => c.argv[c.argv.indexOf('-C') + 1]), ['17', '3', '3']);
    assert.equal(ipmi.activeCipherSuite, 3);
  });

  test('calls on one instance run one at a time', async () => {
    reply(`echo start >> '${dir}/order'; sleep 0.1; echo end >> '${dir}/order'; echo 'Chassis Power is on'`);
    writeFileSync(join(dir, 'order'), '');
    const ipmi = new Ipmitool({ ...base, ipmitoolPath: fake });
    await Promise.all([ipmi.powerStatus(), ipmi.powerStatus(), ipmi.powerStatus()]);
    assert.equal(readFileSync(join(dir, 'order'), 'utf8'), 'start\nend\n'.repeat(3));
  });

  test('a missing ipmitool is reported as not-supported, naming the package', async () => {
    await assert.rejects(new Ipmitool({ ...base, ipmitoolPath: join(dir, 'nope') }).powerStatus(), (err: unknown) => isBmcError(err, 'not-supported') && /Debian package: ipmitool/.test(err.message));
  });

  test('bad action and device are refused before anything runs', async () => {
    reply('exit 0');
    const ipmi = new Ipmitool({ ...base, ipmitoolPath: fake });
    await assert.rejects(ipmi.power('explode' as never), (err: unknown) => isBmcError(err, 'invalid-input') && err.field === 'action');
    await assert.rejects(ipmi.bootdev('usb' as never), (err: unknown) => isBmcError(err, 'invalid-input') && err.field === 'device');
    assert.deepEqual(record(), []);
  });
});

describe("ipmitool's words as typed errors (text printed by ipmitool 1.8.19)", () => {
  const cases: Array<[string, string, string]> = [
    ['wrong password (lanplus, -v)', 'Loading IANA PEN Registry...\n> RAKP 2 HMAC is invalid\nError: Unable to establish IPMI v2 / RMCP+ session\n', 'login'],
    ['unknown user', 'Loading IANA PEN Registry...\nRAKP 2 message indicates an error : unauthorized name\nError: Unable to establish IPMI v2 / RMCP+ session\n', 'login'],
    ['wrong password (lan)', 'Loading IANA PEN Registry...\nActivate Session command failed\nError: Unable to establish LAN session\nError: Unable to establish IPMI v1.5 / RMCP session\n', 'login'],
    ['no answer (lanplus)', 'Loading IANA PEN Registry...\nGet Auth Capabilities error\nError issuing Get Channel Authentication Capabilities request\nError: Unable to establish IPMI v2 / RMCP+ session\n', 'connection'],
    ['no answer (lan)', 'Get Auth Capabilities command failed\nError: Unable to establish LAN session\n', 'connection'],
    ['cipher suite refused', 'Error in open session response message : invalid authentication algorithm\n\nError: Unable to establish IPMI v2 / RMCP+ session\n', 'not-supported'],
    ['SOL held by another session', 'Info: SOL payload already active on another session\n', 'busy'],
    ['boot device refused (exit 0)', 'Loading IANA PEN Registry...\nRunning Get VSO Capabilities my_addr 0x20, transit 0, target 0x20\nInvalid completion code received: Invalid command\nDiscovered IPMB address 0x0\nSet Chassis Boot Parameter 5 failed: Unspecified error\n', 'other'],
    ['boot parameter not supported', 'Set Chassis Boot Parameter 5 failed: Invalid data field in request\n', 'not-supported'],
  ];
  for (const [what, text, code] of cases) {
    test(`${what} -> ${code}`, () => assert.equal(diagnose(text).code, code));
  }

  test('the -v chatter is not part of the message', () => {
    assert.deepEqual(meaningfulLines(cases[7]?.[1] ?? ''), ['Set Chassis Boot Parameter 5 failed: Unspecified error']);
    assert.equal(diagnose(cases[5]?.[1] ?? '').cipherRefused, true);
  });
});

describe('sensor listing parser', () => {
  // `ipmitool -v sdr list` from ipmi_sim, with a reading above a threshold and one sensor without a reading.
  const sdr = `Sensor ID              : Inlet Temp (0x1)
 Entity ID             : 7.1 (System Board)
 Sensor Type (Threshold)  : Temperature (0x01)
 Sensor Reading        : 85 (+/- 0) degrees C
 Status                : Upper Critical
 Positive Hysteresis   : Unspecified
 Assertions Enabled    : unc- unc+ ucr- ucr+ unr- unr+ 

Sensor ID              : PSU Presence (0x3)
 Entity ID             : 7.1 (System Board)
 Sensor Type (Discrete): Entity Presence (0x25)
 Sensor Reading        : 0h
 Event Message Control : Per-threshold
 States Asserted       : Entity Presence
                         [Device Absent]
 Event Enable          : Event Messages Disabled
 OEM                   : 0

Sensor ID              : CPU Volt (0x4)
 Entity ID             : 7.1 (System Board)
 Sensor Type (Threshold)  : Voltage (0x02)
 Sensor Reading        : No Reading
 Status                : Not Available

Sensor ID              : 12V (0x30)
 Entity ID             : 10.1 (Power Supply)
 Sensor Type (Threshold)  : Voltage (0x02)
 Sensor Reading        : 11.880 (+/- 0.060) Volts
 Status                : Lower Non-Critical
 Lower Non-Critical    : 11.900
`;
  test('numeric readings, units, normalised status, discrete states', () => {
    const s = parseSdrVerbose(sdr);
    assert.deepEqual(
      s.map((x) => [x.name, x.number, x.type, x.kind, x.reading, x.unit, x.status, x.states]),
      [
        ['Inlet Temp', 1, 'Temperature', 'threshold', 85, 'degrees C', 'critical', []],
        ['PSU Presence', 3, 'Entity Presence', 'discrete', null, null, 'ok', ['Device Absent']],
        ['CPU Volt', 4, 'Voltage', 'threshold', null, null, 'unavailable', []],
        ['12V', 0x30, 'Voltage', 'threshold', 11.88, 'Volts', 'non-critical', []],
      ],
    );
    assert.equal(s[3]?.entity, 'Power Supply');
  });

  test('controller locators and empty text give no sensors', () => {
    assert.deepEqual(parseSdrVerbose('Device ID              : Sim BMC\n Entity ID              : 7.1 (System Board)\n'), []);
    assert.deepEqual(parseSdrVerbose(''), []);
  });
});

describe('serial-over-LAN plumbing', () => {
  test('a "~" at a line start is doubled, elsewhere left alone, across writes', () => {
    const state = { atLineStart: true };
    assert.equal(escapeSolInput(Buffer.from('~a~b\r~'), state).toString(), '~~a~b\r~~');
    assert.equal(escapeSolInput(Buffer.from('x\n'), state).toString(), 'x\n');
    assert.equal(escapeSolInput(Buffer.from('~.'), state).toString(), '~~.');
  });

  test('the command given to script survives /bin/sh word for word', () => {
    const words = ['/opt/ipmi tool/ipmitool', "it's", '$HOME', '`id`', '-U', 'a"b'];
    const [, , , , , , cmd] = scriptArgs(words);
    const out = execFileSync('/bin/sh', ['-c', (cmd as string).replace(/^exec /, "printf '%s\\n' ")], { encoding: 'utf8' });
    assert.deepEqual(out.split('\n').slice(0, -1), words);
    assert.equal(shellQuote("a'b"), `'a'\\''b'`);
  });
});
