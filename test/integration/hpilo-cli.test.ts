/**
 * A real RIBCL client (python-hpilo's hpilo_cli, Debian python3-hpilo)
 * drives the simulator: if it accepts our replies, they look like an iLO's.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { RibclBmc } from '../../lib/bmc/ribcl/provider';
import { Fleet, type SimIlo } from '../../sim/fleet';
import { needTools } from '../helpers/env';

const run = promisify(execFile);
const skip = needTools('hpilo_cli');

describe('hpilo_cli (python-hpilo) against the simulator', { skip }, () => {
  let fleet: Fleet;
  let ilo: SimIlo;
  let dir: string;
  let ours: RibclBmc;

  async function hpilo(...args: string[]): Promise<unknown> {
    // The password goes through a config file, not the command line.
    const env = { ...process.env };
    delete env.REQUESTS_CA_BUNDLE;
    delete env.CURL_CA_BUNDLE;
    const { stdout } = await run('hpilo_cli', ['-c', join(dir, 'hpilo.conf'), '-o', String(ilo.port), '-t', '10', '-j', ilo.host, ...args], { env, timeout: 30_000 });
    return stdout.trim() === '' ? null : JSON.parse(stdout);
  }

  before(async () => {
    fleet = await Fleet.start({ servers: 1, timings: { powerOnMs: 100, postMs: 50 } });
    ilo = fleet.ilos[0]!;
    dir = mkdtempSync(join(tmpdir(), 'hpilo-'));
    writeFileSync(join(dir, 'hpilo.conf'), `[ilo]\nlogin = ${ilo.username}\npassword = ${ilo.password}\n`, { mode: 0o600 });
    ours = new RibclBmc({ host: ilo.host, port: ilo.port, username: ilo.username, password: ilo.password, tls: { mode: 'pinned', fingerprint: ilo.fingerprint } });
  });
  after(async () => {
    await ours?.close();
    await fleet?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('get_host_power_status reads what the simulated host is', async () => {
    assert.equal(await hpilo('get_host_power_status'), 'OFF');
    ilo.server.powerOn();
    await ours.waitForPowerState('on', { timeoutMs: 3000, intervalMs: 25 });
    assert.equal(await hpilo('get_host_power_status'), 'ON');
  });

  test('set_host_power and hold_pwr_btn change the simulated host, and our client agrees', async () => {
    await hpilo('hold_pwr_btn');
    assert.equal(ilo.server.powerState, 'off');
    assert.equal(await ours.getPowerState(), 'off');
    await hpilo('set_host_power', 'host_power=True');
    assert.equal(await ours.waitForPowerState('on', { timeoutMs: 3000, intervalMs: 25 }), 'on');
    await hpilo('set_host_power', 'host_power=False');
    assert.equal(await ours.getPowerState(), 'off');
  });

  test('press_pwr_btn powers a stopped host on; identity queries parse', async () => {
    await hpilo('press_pwr_btn');
    assert.equal(await ours.waitForPowerState('on', { timeoutMs: 3000, intervalMs: 25 }), 'on');
    assert.equal(await hpilo('get_product_name'), ilo.server.identity.productName);
    const fw = (await hpilo('get_fw_version')) as Record<string, string>;
    assert.equal(fw.firmware_version, ilo.server.identity.firmwareVersion);
    assert.equal(fw.management_processor, ilo.server.identity.managementProcessor);
    await ours.powerOff();
  });

  test('wrong credentials are reported by hpilo_cli as a login failure', async () => {
    writeFileSync(join(dir, 'bad.conf'), `[ilo]\nlogin = ${ilo.username}\npassword = wrong\n`);
    await assert.rejects(
      run('hpilo_cli', ['-c', join(dir, 'bad.conf'), '-o', String(ilo.port), ilo.host, 'get_host_power_status'], { timeout: 30_000 }),
      (err: { stderr?: string; stdout?: string }) => /Login failed/i.test(`${err.stderr}${err.stdout}`),
    );
  });
});
