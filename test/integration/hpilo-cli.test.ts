/**
 * A real RIBCL client (python-hpilo's hpilo_cli, Debian python3-hpilo)
 * drives the simulator: if it accepts our replies, they look like an iLO's.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { RibclBmc } from '../../lib/bmc/ribcl/provider';
import { Fleet, type SimIlo } from '../../sim/fleet';
import { needTools, ribclRecordedDir } from '../helpers/env';
import { patternImage, startMediaServer, type MediaServer } from '../../sim/media-server';

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

/** Top-level categories and per-sensor fields of python-hpilo's documented (real iLO 4) get_embedded_health output. */
function documentedHealthShape(): { categories: string[]; temperatureFields: string[]; fanFields: string[] } {
  const text = readFileSync(join(ribclRecordedDir, 'docs-output-parsed', 'get_embedded_health'), 'utf8');
  const categories = [...text.matchAll(/^[{ ]'([a-z_]+)':/gm)].map((m) => m[1]!);
  const keysAfter = (marker: string): string[] => {
    const at = text.indexOf(marker);
    return [...text.slice(at + marker.length, text.indexOf('}', at)).matchAll(/'([a-z_]+)':/g)].map((m) => m[1]!).sort();
  };
  return { categories, temperatureFields: keysAfter("'01-Inlet Ambient': {"), fanFields: keysAfter("'Virtual Fan': {") };
}

describe('hpilo_cli (python-hpilo) and our client on the same simulated servers: management', { skip }, () => {
  let fleet: Fleet;
  let media: MediaServer;
  let dir: string;
  const ours = new Map<string, RibclBmc>();

  async function hpilo(ilo: SimIlo, ...args: string[]): Promise<unknown> {
    const env = { ...process.env };
    delete env.REQUESTS_CA_BUNDLE;
    delete env.CURL_CA_BUNDLE;
    writeFileSync(join(dir, `${ilo.name}.conf`), `[ilo]\nlogin = ${ilo.username}\npassword = ${ilo.password}\n`, { mode: 0o600 });
    const { stdout } = await run('hpilo_cli', ['-c', join(dir, `${ilo.name}.conf`), '-o', String(ilo.port), '-t', '10', '-j', ilo.host, ...args], { env, timeout: 30_000 });
    return stdout.trim() === '' ? null : JSON.parse(stdout);
  }

  async function hpiloFails(ilo: SimIlo, ...args: string[]): Promise<string> {
    try {
      await hpilo(ilo, ...args);
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      return `${e.stdout ?? ''}${e.stderr ?? ''}`;
    }
    throw new Error(`hpilo_cli ${args.join(' ')} succeeded, expected a failure`);
  }

  const client = (ilo: SimIlo): RibclBmc => {
    let c = ours.get(ilo.name);
    if (!c) {
      c = new RibclBmc({ host: ilo.host, port: ilo.port, username: ilo.username, password: ilo.password, tls: { mode: 'ca', ca: fleet.ca.cert } });
      ours.set(ilo.name, c);
    }
    return c;
  };

  before(async () => {
    fleet = await Fleet.start({ servers: 3, models: ['gen9', 'gen8', 'gen10'], timings: { powerOnMs: 50, postMs: 50 } });
    media = await startMediaServer();
    media.put('deploy.iso', patternImage(2 * 1024 * 1024));
    dir = mkdtempSync(join(tmpdir(), 'hpilo-mgmt-'));
  });
  after(async () => {
    await Promise.all([...ours.values()].map((c) => c.close()));
    await fleet?.stop();
    await media?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('virtual media: hpilo_cli inserts, connects and ejects; the simulated iLO reads the image; our client reads the same status', async () => {
    const ilo = fleet.ilos[0]!;
    const before = media.requests.length;
    await hpilo(ilo, 'insert_virtual_media', 'device=cdrom', `image_url=${media.url('deploy.iso')}`);
    await hpilo(ilo, 'set_vm_status', 'device=cdrom', 'boot_option=connect', 'write_protect=True');
    assert.ok(media.requests.length > before, 'the image server was read');
    const theirs = (await hpilo(ilo, 'get_vm_status', 'device=cdrom')) as Record<string, string>;
    assert.deepEqual(theirs, { vm_applet: 'CONNECTED', device: 'CDROM', boot_option: 'BOOT_ALWAYS', write_protect: 'YES', image_inserted: 'YES', image_url: media.url('deploy.iso') });
    const mine = await client(ilo).getVirtualMediaStatus('cdrom');
    assert.deepEqual(mine, { device: 'cdrom', inserted: true, imageUrl: theirs.image_url, bootOption: 'boot-always', writeProtected: true, connected: true });
    await hpilo(ilo, 'set_vm_status', 'device=cdrom', 'boot_option=boot_once', 'write_protect=True');
    assert.equal((await client(ilo).getVirtualMediaStatus('cdrom')).bootOption, 'boot-once');
    await hpilo(ilo, 'eject_virtual_media', 'device=cdrom');
    assert.equal((await client(ilo).getVirtualMediaStatus('cdrom')).inserted, false);
    // What our client inserts, hpilo_cli reads.
    await client(ilo).insertVirtualMedia('floppy', media.url('deploy.iso'));
    assert.equal(((await hpilo(ilo, 'get_vm_status', 'device=floppy')) as Record<string, string>).image_url, media.url('deploy.iso'));
    await client(ilo).ejectVirtualMedia('floppy');
  });

  test('an image the iLO cannot read: hpilo_cli gets the iLO error on connect, as our client does', async () => {
    const ilo = fleet.ilos[0]!;
    await hpilo(ilo, 'insert_virtual_media', 'device=cdrom', `image_url=${media.url('missing.iso')}`);
    assert.match(await hpiloFails(ilo, 'set_vm_status', 'device=cdrom', 'boot_option=connect', 'write_protect=True'), /IloError: Virtual Media image not found at the URL/);
    await assert.rejects(client(ilo).insertVirtualMedia('cdrom', media.url('missing.iso')), { code: 'media', reason: 'media-not-found' });
    await hpilo(ilo, 'eject_virtual_media', 'device=cdrom');
  });

  test('boot mode, one-time boot and persistent order: hpilo_cli and our client agree', async () => {
    const ilo = fleet.ilos[0]!;
    assert.equal(await hpilo(ilo, 'get_current_boot_mode'), 'UEFI');
    await hpilo(ilo, 'set_pending_boot_mode', 'boot_mode=legacy');
    assert.equal(await hpilo(ilo, 'get_pending_boot_mode'), 'LEGACY');
    assert.deepEqual(await client(ilo).getBootMode(), { current: 'uefi', pending: 'bios', supported: 'bios-and-uefi' });
    await client(ilo).setPendingBootMode('uefi');
    assert.equal(await hpilo(ilo, 'get_pending_boot_mode'), 'UEFI');

    assert.equal(await hpilo(ilo, 'get_one_time_boot'), 'normal');
    await hpilo(ilo, 'set_one_time_boot', 'device=cdrom');
    assert.equal(await client(ilo).getOneTimeBoot(), 'cdrom');
    await client(ilo).setOneTimeBoot('network');
    assert.equal(await hpilo(ilo, 'get_one_time_boot'), 'network');
    await client(ilo).setOneTimeBoot('normal');

    const theirs = (await hpilo(ilo, 'get_persistent_boot')) as Array<[string, string]>;
    const mine = await client(ilo).getPersistentBootOrder();
    assert.deepEqual(theirs, mine.map((e) => [e.id, e.description]));
  });

  test('a BIOS-only Gen8: hpilo_cli sees LEGACY_ONLY and "Feature not supported" for a UEFI switch; ours says not-supported', async () => {
    const gen8 = fleet.ilos[1]!;
    assert.equal(await hpilo(gen8, 'get_supported_boot_mode'), 'LEGACY_ONLY');
    assert.match(await hpiloFails(gen8, 'set_pending_boot_mode', 'boot_mode=uefi'), /IloFeatureNotSupported: Feature not supported - SET_PENDING_BOOT_MODE/);
    await assert.rejects(client(gen8).setPendingBootMode('uefi'), { code: 'not-supported' });
    assert.equal(await hpilo(gen8, 'get_persistent_boot').then((x) => JSON.stringify(x)), JSON.stringify(['cdrom', 'floppy', 'usb', 'hdd', 'network']));
  });

  test('embedded health: python-hpilo parses it into the shape it documents for a real iLO 4, with the values our client reads', async () => {
    const ilo = fleet.ilos[2]!;
    ilo.server.health.set('Fan 2', 'Degraded');
    const theirs = (await hpilo(ilo, 'get_embedded_health')) as Record<string, Record<string, Record<string, unknown>>>;
    const documented = documentedHealthShape();
    for (const category of Object.keys(theirs)) assert.ok(documented.categories.includes(category), `category ${category} is one a real iLO 4 has`);
    for (const c of ['fans', 'temperature', 'power_supplies', 'health_at_a_glance', 'firmware_information', 'nic_information']) assert.ok(c in theirs, c);
    assert.deepEqual(Object.keys(theirs.temperature!['01-Inlet Ambient']!).sort(), documented.temperatureFields);
    assert.deepEqual(Object.keys(theirs.fans!['Fan 1']!).sort(), documented.fanFields);
    const mine = await client(ilo).getHealth();
    assert.deepEqual(
      mine.fans.map((f) => [f.name, f.reading?.value]),
      Object.values(theirs.fans!).map((f) => [f.label, (f.speed as [number, string])[0]]),
    );
    assert.deepEqual(
      mine.temperatures.map((t) => t.name),
      Object.keys(theirs.temperature!),
    );
    assert.equal(theirs.fans!['Fan 2']!.status, 'Degraded');
    assert.equal(mine.fans.find((f) => f.name === 'Fan 2')?.status, 'degraded');
    assert.equal((theirs.health_at_a_glance!.fans as Record<string, string>).status, 'Degraded');
    assert.equal(mine.summary.fans, 'degraded');
    ilo.server.health.reset();
  });

  test('host data and licences: python-hpilo and our client read the same serial, UUID, MACs and licence', async () => {
    const ilo = fleet.ilos[2]!;
    const records = (await hpilo(ilo, 'get_host_data')) as Array<Record<string, unknown>>;
    const sys = records.find((r) => r.type === 1)!;
    const macRecord = records.find((r) => r.type === 209) as { fields: Array<{ name: string; value: string | number }> };
    const theirMacs = macRecord.fields.filter((f) => f.name === 'MAC').map((f) => String(f.value).toLowerCase().replace(/-/g, ':'));
    const mine = await client(ilo).getHostInfo();
    assert.equal(mine.serialNumber, String(sys['Serial Number']).trim());
    assert.equal(mine.uuid, sys.cUUID);
    assert.equal(mine.productName, sys['Product Name']);
    assert.deepEqual(
      mine.nics.map((n) => n.mac),
      theirMacs.slice(0, -1),
      'the last MAC is the iLO port, which host NICs leave out',
    );
    const licences = (await hpilo(ilo, 'get_all_licenses')) as Array<Record<string, string>>;
    assert.equal((await client(ilo).getLicence()).type, licences[0]!.license_type);
  });
});
