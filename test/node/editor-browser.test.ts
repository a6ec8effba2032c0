/**
 * The ilo-config dialog in a real editor (Debian's Chromium driven by
 * playwright-core, a real Node-RED with this package installed): the red
 * border on a bad port, "Test connection" failing on the iLO's self-signed
 * certificate and showing it, pinning it only after the operator's click,
 * and the test then logging in with the stored password.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { Fleet } from '../../sim/fleet';
import { freePort } from '../helpers/daemons';
import { needTools, repoRoot } from '../helpers/env';

const skip = needTools('chromium');
let fleet: Fleet;
let red: ChildProcess | undefined;
let browser: Browser | undefined;
let dir = '';
let url = '';
let output = '';

before(async () => {
  if (skip) return;
  fleet = await Fleet.start({ servers: 1, models: ['gen10'] });
  const ilo = fleet.ilos[0]!;
  dir = mkdtempSync(join(tmpdir(), 'ilo-editor-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(repoRoot, join(dir, 'node_modules', 'node-red-contrib-ilo-deploy'), 'dir');
  const port = await freePort();
  url = `http://127.0.0.1:${port}/`;
  writeFileSync(
    join(dir, 'settings.js'),
    `module.exports = ${JSON.stringify({
      uiHost: '127.0.0.1',
      uiPort: port,
      userDir: dir,
      flowFile: 'flows.json',
      credentialSecret: false,
      editorTheme: { tours: false, projects: { enabled: false } },
      telemetry: { enabled: false, updateNotification: false },
      diagnostics: { enabled: false },
      logging: { console: { level: 'info', metrics: false, audit: false } },
    })};\n`,
  );
  // A deployed config whose TLS is "verify": the fleet's certificates are not from a system CA.
  const flows = [
    { id: 'tab', type: 'tab', label: 'editor test' },
    { id: 'cfg', type: 'ilo-config', name: ilo.name, host: ilo.host, port: String(ilo.port), protocol: 'auto', redfishAuth: 'session', tlsMode: 'verify', caFile: '', fingerprint: '', legacyTls: false, timeout: '10' },
    { id: 'h', type: 'ilo-health', z: 'tab', name: '', server: 'cfg', x: 200, y: 100, wires: [[]] },
    { id: 'store', type: 'ilo-media-store', name: 'media', storeType: 'builtin', host: '127.0.0.1', port: String(await freePort()), stateDir: join(dir, 'store-state') },
    { id: 'vm', type: 'ilo-virtual-media', z: 'tab', name: '', server: 'cfg', store: 'store', action: 'insert', device: 'cdrom', url: '/srv/images/deploy.iso', urlType: 'str', x: 200, y: 200, wires: [[], []] },
  ];
  writeFileSync(join(dir, 'flows.json'), JSON.stringify(flows));
  writeFileSync(join(dir, 'flows_cred.json'), JSON.stringify({ cfg: { username: ilo.username, password: ilo.password } }));
  red = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', dir, '--settings', join(dir, 'settings.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
  red.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  red.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 60_000;
  while (!/Started flows/.test(output)) {
    if (red.exitCode !== null || Date.now() > deadline) throw new Error(`Node-RED did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage'] });
});

after(async () => {
  await browser?.close();
  if (red && red.exitCode === null) {
    red.kill('SIGINT');
    await once(red, 'exit');
  }
  await fleet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function openConfigDialog(page: Page): Promise<void> {
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as unknown as { RED?: { nodes?: { node(id: string): unknown } } }).RED?.nodes?.node('cfg') !== undefined, undefined, { timeout: 30_000 });
  await page.evaluate(() => (globalThis as unknown as { RED: { editor: { editConfig(a: string, t: string, id: string): void } } }).RED.editor.editConfig('', 'ilo-config', 'cfg'));
  await page.waitForSelector('#ilo-config-test', { state: 'visible' });
}

describe('ilo-config dialog in the editor (Chromium)', { skip }, () => {
  test('validation, test connection, trust-on-first-use pinning, stored password', async () => {
    const ilo = fleet.ilos[0]!;
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await openConfigDialog(page);

    // The label comes from the catalog, the port is checked before saving.
    assert.equal((await page.textContent('#ilo-config-test span'))?.trim(), 'Test connection');
    await page.fill('#node-config-input-port', '70000');
    await page.locator('#node-config-input-port').blur();
    await page.waitForFunction(() => document.querySelector('#node-config-input-port')?.classList.contains('input-error'));
    await page.fill('#node-config-input-port', String(ilo.port));
    await page.locator('#node-config-input-port').blur();
    await page.waitForFunction(() => !document.querySelector('#node-config-input-port')?.classList.contains('input-error'));

    // The scheduling fields: labelled from the catalog, a malformed pool or capabilities marked before saving.
    assert.equal((await page.textContent('label[for="node-config-input-pool"] span'))?.trim(), 'Pool');
    assert.equal((await page.textContent('label[for="node-config-input-capabilities"] span'))?.trim(), 'Capabilities');
    for (const [field, bad, good] of [
      ['pool', 'rack a', 'rack-a'],
      ['capabilities', 'boot_mode=uefi', 'boot_mode:uefi,secure_boot:true'],
      ['properties', 'memory_mb', 'memory_mb:65536'],
    ] as const) {
      const sel = `#node-config-input-${field}`;
      await page.fill(sel, bad);
      await page.locator(sel).blur();
      await page.waitForFunction((q) => document.querySelector(q)?.classList.contains('input-error'), sel);
      await page.fill(sel, good);
      await page.locator(sel).blur();
      await page.waitForFunction((q) => !document.querySelector(q)?.classList.contains('input-error'), sel);
    }

    // TLS "verify" refuses the self-signed certificate: the result shows it, nothing is pinned yet.
    await page.click('#ilo-config-test');
    await page.waitForSelector('#ilo-config-test-result .ilo-config-pin', { timeout: 30_000 });
    const failed = (await page.textContent('#ilo-config-test-result')) ?? '';
    assert.match(failed, /connection: TLS: the iLO's certificate was refused/);
    assert.ok(failed.includes(ilo.fingerprint.toUpperCase()), failed);
    assert.match(failed, /Trust on first use/);
    assert.equal(await page.inputValue('#node-config-input-tlsMode'), 'verify', 'nothing pinned without the click');
    assert.ok(!failed.includes(ilo.password));

    await page.click('#ilo-config-test-result .ilo-config-pin');
    assert.equal(await page.inputValue('#node-config-input-tlsMode'), 'pinned');
    assert.equal(await page.inputValue('#node-config-input-fingerprint'), ilo.fingerprint.toUpperCase());
    assert.ok(await page.isVisible('#node-config-input-fingerprint'), 'the pin row is shown');

    // The password field shows the stored one (placeholder): the test uses it, for the deployed host.
    assert.equal(await page.inputValue('#node-config-input-password'), '__PWRD__');
    await page.click('#ilo-config-test');
    await page.waitForSelector('#ilo-config-test-result.ilo-config-ok', { timeout: 30_000 });
    const ok = (await page.textContent('#ilo-config-test-result')) ?? '';
    assert.match(ok, /Logged in\./);
    assert.match(ok, /ProLiant .*Gen10/);
    assert.match(ok, /redfish/);
    assert.match(ok, /This is the pinned certificate/);

    await page.screenshot({ path: join(dir, 'ilo-config-dialog.png') });
    if (process.env.ILO_EDITOR_SCREENSHOT) await page.screenshot({ path: process.env.ILO_EDITOR_SCREENSHOT });
    assert.deepEqual(errors, [], 'no script errors in the editor');
    await page.close();
  });

  test('the media store dialog tests the running store; help comes from the catalog; node labels are translated', async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as unknown as { RED?: { nodes?: { node(id: string): unknown } } }).RED?.nodes?.node('store') !== undefined, undefined, { timeout: 30_000 });
    const labels = await page.evaluate(() => {
      const RED = (globalThis as unknown as { RED: { nodes: { node(id: string): { _def: { label: () => string; paletteLabel: () => string; _: unknown } } & Record<string, unknown> } } }).RED;
      const vm = RED.nodes.node('vm');
      return { label: vm._def.label.call(vm), palette: vm._def.paletteLabel.call(vm._def) };
    });
    assert.deepEqual(labels, { label: 'vmedia insert cdrom', palette: 'ilo virtual media' });
    const help = await page.evaluate(async () => {
      const el = document.querySelector('script[data-help-name="ilo-virtual-media"]');
      return el ? el.innerHTML : '';
    });
    assert.match(help, /<h3>Errors<\/h3>/);
    await page.evaluate(() => (globalThis as unknown as { RED: { editor: { editConfig(a: string, t: string, id: string): void } } }).RED.editor.editConfig('', 'ilo-media-store', 'store'));
    await page.waitForSelector('#ilo-ms-test', { state: 'visible' });
    // The flow has no authType (as a hand-written or older flow): the dialog shows the runtime's default.
    assert.equal(await page.inputValue('#node-config-input-authType'), 'none');
    assert.equal(await page.isVisible('#node-config-input-authUrl'), false);
    await page.click('#ilo-ms-test');
    await page.waitForSelector('#ilo-ms-test-result.ilo-ms-ok', { timeout: 30_000 });
    assert.match((await page.textContent('#ilo-ms-test-result')) ?? '', /Works \(checked through the running store; deploy to apply changes\): URLs start with http:\/\/127\.0\.0\.1:\d+/);
    await page.fill('#node-config-input-fileRoots', 'relative/path');
    await page.locator('#node-config-input-fileRoots').blur();
    await page.waitForFunction(() => document.querySelector('#node-config-input-fileRoots')?.classList.contains('input-error'));
    if (process.env.ILO_EDITOR_SCREENSHOT) await page.screenshot({ path: process.env.ILO_EDITOR_SCREENSHOT.replace(/\.png$/, '-store.png') });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('every node that picks a server shares one editor script: a fleet or an ilo-config is required on the chosen side, and the dialog shows that side', async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => Boolean((globalThis as unknown as { RED?: { nodes?: { node(id: string): unknown } } }).RED?.nodes?.node('h')), undefined, { timeout: 30_000 });
    type Red = { nodes: { node(id: string): Record<string, unknown>; getType(t: string): { defaults: Record<string, unknown> } }; editor: { validateNode(n: unknown): void; edit(n: unknown): void } };
    const validity = await page.evaluate(() => {
      const RED = (globalThis as unknown as { RED: Red }).RED;
      const h = RED.nodes.node('h');
      const check = (): boolean => {
        h.dirty = true;
        RED.editor.validateNode(h);
        return h.valid as boolean;
      };
      const asConfigured = check();
      h.target = 'fleet';
      const fleetWithoutOne = check();
      h.target = 'config';
      h.server = '';
      const configWithoutOne = check();
      h.server = 'cfg';
      const back = check();
      const types = ['ilo-power', 'ilo-health', 'ilo-boot-mode', 'ilo-virtual-media', 'ilo-inspect', 'ilo-deploy-flow', 'ilo-console'].map((t) => Object.keys(RED.nodes.getType(t).defaults).filter((k) => ['target', 'server', 'fleet', 'serverName'].includes(k)).length);
      return { asConfigured, fleetWithoutOne, configWithoutOne, back, types };
    });
    assert.deepEqual(validity, { asConfigured: true, fleetWithoutOne: false, configWithoutOne: false, back: true, types: [4, 4, 4, 4, 4, 4, 4] });
    await page.evaluate(() => (globalThis as unknown as { RED: Red }).RED.editor.edit((globalThis as unknown as { RED: Red }).RED.nodes.node('h')));
    await page.waitForSelector('#node-input-target', { state: 'visible' });
    assert.equal(await page.isVisible('#node-input-fleet'), false, 'an ilo-config node: no fleet row');
    await page.selectOption('#node-input-target', 'fleet');
    await page.waitForSelector('#node-input-serverName', { state: 'visible' });
    assert.equal(await page.isVisible('#node-input-server'), false, 'a fleet: no ilo-config row');
    await page.click('#node-dialog-cancel');
    assert.deepEqual(errors, []);
    await page.close();
  });
});
