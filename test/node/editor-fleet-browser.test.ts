/**
 * The ilo-fleet dialog in a real editor (Debian's Chromium, a real
 * Node-RED with this package) holding 1,002 servers: the table keeps a few
 * dozen rows in the DOM wherever it is scrolled, sorts by name and by
 * address (numerically), filters, edits a row, and tests a row's
 * connection: a pinned simulated iLO logs in, one whose certificate
 * verification fails shows the certificate and is pinned on the operator's
 * click, then logs in; its SSH host key is fetched and pinned the same way.
 * Saving writes the edited row into the flow.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { Fleet } from '../../sim/fleet';
import { freePort } from '../helpers/daemons';
import { needTools, repoRoot } from '../helpers/env';

const skip = needTools('chromium');
let sim: Fleet;
let red: ChildProcess | undefined;
let browser: Browser | undefined;
let dir = '';
let url = '';
let output = '';

const MAX_DOM_ROWS = 40;

function inventory(): Array<Record<string, unknown>> {
  const rows: Array<Record<string, unknown>> = [];
  for (let i = 1; i <= 1000; i++) {
    rows.push({
      id: `r${i}`,
      name: `node-${String(i).padStart(4, '0')}`,
      host: `10.20.${(i * 7) % 256}.${(i * 13) % 250}`,
      port: 443,
      protocol: 'auto',
      tlsMode: 'verify',
      macs: [],
      pool: `rack-${String(((i - 1) % 25) + 1).padStart(2, '0')}`,
    });
  }
  const [a, b] = sim.ilos;
  rows.splice(500, 0, { id: 'sa', name: 'sim-a', host: a!.host, port: a!.port, protocol: 'auto', tlsMode: 'pinned', fingerprint: a!.fingerprint, macs: [], pool: 'lab' });
  rows.splice(700, 0, { id: 'sb', name: 'sim-b', host: b!.host, port: b!.port, protocol: 'auto', tlsMode: 'verify', macs: [], pool: 'lab' });
  return rows;
}

before(async () => {
  if (skip) return;
  sim = await Fleet.start({ servers: 2, models: ['gen10', 'gen9'], username: 'admin', password: 'fleet-pw', console: { ssh: true } });
  dir = mkdtempSync(join(tmpdir(), 'ilo-fleet-editor-'));
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
  const flows = [
    { id: 'tab', type: 'tab', label: 'fleet editor test' },
    { id: 'fleet', type: 'ilo-fleet', name: 'dc-east', servers: inventory(), timeout: '10', redfishAuth: 'session', legacyTls: false, maxInFlight: 8 },
    { id: 'p', type: 'ilo-power', z: 'tab', name: '', target: 'fleet', server: '', fleet: 'fleet', serverName: '', action: 'status', wait: false, waitTimeout: 300, pollInterval: 2, x: 200, y: 100, wires: [[]] },
  ];
  writeFileSync(join(dir, 'flows.json'), JSON.stringify(flows));
  writeFileSync(join(dir, 'flows_cred.json'), JSON.stringify({ fleet: { username: 'admin', password: 'fleet-pw' } }));
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
  await sim?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Win = { RED: { nodes: { node(id: string): Record<string, unknown> | null }; editor: { editConfig(a: string, t: string, id: string): void } } };

async function rowsInDom(page: Page): Promise<number> {
  return page.locator('#ilo-fleet-rows .ilo-fleet-row').count();
}

async function visibleNames(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const vp = document.querySelector('#ilo-fleet-viewport') as HTMLElement;
    const top = vp.getBoundingClientRect().top;
    const bottom = top + vp.clientHeight;
    return Array.from(document.querySelectorAll('#ilo-fleet-rows .ilo-fleet-row'))
      .filter((r) => {
        const b = r.getBoundingClientRect();
        return b.top >= top - 1 && b.bottom <= bottom + 1;
      })
      .sort((x, y) => x.getBoundingClientRect().top - y.getBoundingClientRect().top)
      .map((r) => r.querySelector('.c-name')?.textContent ?? '');
  });
}

async function row(page: Page, name: string) {
  return page.locator('#ilo-fleet-rows .ilo-fleet-row', { has: page.locator('.c-name', { hasText: new RegExp(`^${name}$`) }) });
}

describe('ilo-fleet dialog with 1,002 servers (Chromium)', { skip }, () => {
  test('virtual table: sort, filter, edit, test connection with trust on first use', async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => Boolean((globalThis as unknown as Win).RED?.nodes?.node('fleet')) && Boolean((globalThis as unknown as { RED: { nodes: { getType(t: string): unknown } } }).RED.nodes.getType('ilo-fleet')), undefined, { timeout: 30_000 });
    await page.evaluate(() => (globalThis as unknown as Win).RED.editor.editConfig('', 'ilo-fleet', 'fleet'));
    await page.waitForSelector('#ilo-fleet-viewport', { state: 'visible' });
    await page.waitForFunction(() => document.querySelector('#ilo-fleet-count')?.textContent === '1002 servers');

    // Only the rows in sight are drawn.
    const first = await rowsInDom(page);
    assert.ok(first > 5 && first <= MAX_DOM_ROWS, `${first} rows in the DOM`);
    assert.deepEqual((await visibleNames(page)).slice(0, 2), ['node-0001', 'node-0002'], 'sorted by name at first');

    // Sort: name descending, then address (as numbers, not as text).
    await page.click('.ilo-fleet-head [data-key="name"]');
    assert.deepEqual((await visibleNames(page)).slice(0, 3), ['sim-b', 'sim-a', 'node-1000']);
    await page.click('.ilo-fleet-head [data-key="host"]');
    const byAddress = await page.evaluate(() => Array.from(document.querySelectorAll('#ilo-fleet-rows .ilo-fleet-row .c-host')).slice(0, 4).map((e) => e.textContent));
    const expectedHosts = inventoryHostsSorted().slice(0, 4);
    assert.deepEqual(byAddress, expectedHosts);

    // Scrolled to the end: the last rows are drawn, still a few dozen in the DOM.
    await page.evaluate(() => {
      const vp = document.querySelector('#ilo-fleet-viewport') as HTMLElement;
      vp.scrollTop = vp.scrollHeight;
    });
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#ilo-fleet-rows .c-host')).some((e) => /^127\.0\.0\.1:/.test(e.textContent ?? '')));
    const atEnd = await rowsInDom(page);
    assert.ok(atEnd <= MAX_DOM_ROWS, `${atEnd} rows in the DOM at the end`);

    // Filter: every word must match.
    await page.fill('#ilo-fleet-filter', 'rack-07');
    await page.waitForFunction(() => document.querySelector('#ilo-fleet-count')?.textContent === '40 of 1002 servers');
    const pools = await page.evaluate(() => Array.from(document.querySelectorAll('#ilo-fleet-rows .c-pool')).map((e) => e.textContent));
    assert.ok(pools.length > 0 && pools.every((p) => p === 'rack-07'), pools.join(','));
    await page.fill('#ilo-fleet-filter', 'sim');
    await page.waitForFunction(() => document.querySelector('#ilo-fleet-count')?.textContent === '2 of 1002 servers');

    // Test connection of a pinned iLO: logged in with the fleet's stored default account.
    await (await row(page, 'sim-a')).locator('.ilo-fleet-test').click();
    await page.waitForSelector('#ilo-fleet-row-result.ilo-fleet-ok-box', { timeout: 30_000 });
    assert.match((await page.textContent('#ilo-fleet-row-result')) ?? '', /Logged in\.[\s\S]*ProLiant DL380 Gen10[\s\S]*redfish/);
    await (await row(page, 'sim-a')).locator('.fa-check').waitFor();

    // One whose certificate is refused: the certificate is shown; nothing is pinned before the click.
    await (await row(page, 'sim-b')).locator('.ilo-fleet-test').click();
    await page.waitForSelector('#ilo-fleet-row-result .ilo-fleet-pin', { timeout: 30_000 });
    const refused = (await page.textContent('#ilo-fleet-row-result')) ?? '';
    assert.match(refused, /connection: TLS/);
    assert.ok(refused.includes(sim.ilos[1]!.fingerprint.toUpperCase()), refused);
    assert.ok(!refused.includes('fleet-pw'), 'no password in the answer');
    assert.equal(await page.inputValue('#ilo-fleet-row-tlsMode'), 'verify');
    await page.click('#ilo-fleet-row-result .ilo-fleet-pin');
    assert.equal(await page.inputValue('#ilo-fleet-row-tlsMode'), 'pinned');
    assert.equal(await page.inputValue('#ilo-fleet-row-fingerprint'), sim.ilos[1]!.fingerprint.toUpperCase());
    // The pinned row tests again: the stored password goes to the deployed address only, which this still is.
    await page.click('#ilo-fleet-row-test');
    await page.waitForSelector('#ilo-fleet-row-result.ilo-fleet-ok-box', { timeout: 30_000 });
    assert.match((await page.textContent('#ilo-fleet-row-result')) ?? '', /ProLiant DL380 Gen9[\s\S]*ribcl/);

    // The console over SSH: the row's host key fetched, compared and pinned on the operator's click.
    const ssh = sim.ilos[1]!.console!.ssh!;
    await page.selectOption('#ilo-fleet-row-consoleMethod', 'ssh');
    await page.fill('#ilo-fleet-row-sshPort', String(ssh.port));
    assert.ok(await page.locator('#ilo-fleet-row-sshHostKey').evaluate((e) => e.classList.contains('input-error')), 'SSH without a pinned key is marked');
    await page.click('#ilo-fleet-row-fetch-hostkey');
    await page.waitForSelector('#ilo-fleet-row-pin-hostkey', { timeout: 30_000 });
    assert.match((await page.textContent('#ilo-fleet-row-result')) ?? '', new RegExp(ssh.fingerprint256));
    await page.click('#ilo-fleet-row-pin-hostkey');
    assert.equal(await page.inputValue('#ilo-fleet-row-sshHostKey'), ssh.fingerprint256);
    assert.ok(!(await page.locator('#ilo-fleet-row-sshHostKey').evaluate((e) => e.classList.contains('input-error'))), 'the pinned key is accepted');

    if (process.env.ILO_EDITOR_SCREENSHOT) {
      await page.screenshot({ path: process.env.ILO_EDITOR_SCREENSHOT.replace(/\.png$/, '-fleet-row.png') });
      await page.fill('#ilo-fleet-filter', '');
      await page.locator('#ilo-fleet-filter').scrollIntoViewIfNeeded();
      await page.screenshot({ path: process.env.ILO_EDITOR_SCREENSHOT.replace(/\.png$/, '-fleet.png') });
      await page.fill('#ilo-fleet-filter', 'sim');
    }
    // Edit a row in the panel: the table shows it; Done writes it into the flow.
    await page.fill('#ilo-fleet-row-pool', 'bench');
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#ilo-fleet-rows .c-pool')).some((e) => e.textContent === 'bench'));
    await page.fill('#ilo-fleet-row-port', '70000');
    assert.ok(await page.locator('#ilo-fleet-row-port').evaluate((e) => e.classList.contains('input-error')), 'a bad port is marked');
    await page.fill('#ilo-fleet-row-port', String(sim.ilos[1]!.port));
    await page.click('#node-config-dialog-ok');
    await page.waitForSelector('#ilo-fleet-viewport', { state: 'detached' });
    const saved = await page.evaluate(() => {
      const n = (globalThis as unknown as Win).RED.nodes.node('fleet') as { servers: Array<Record<string, unknown>>; credentials?: Record<string, unknown> };
      return { count: n.servers.length, simB: n.servers.find((s) => s.name === 'sim-b'), creds: JSON.stringify(n.credentials ?? {}) };
    });
    assert.equal(saved.count, 1002);
    assert.equal(saved.simB?.pool, 'bench');
    assert.equal(saved.simB?.tlsMode, 'pinned');
    assert.equal(saved.simB?.fingerprint, sim.ilos[1]!.fingerprint.toUpperCase());
    assert.deepEqual([saved.simB?.consoleMethod, saved.simB?.sshPort, saved.simB?.sshHostKey], ['ssh', ssh.port, ssh.fingerprint256]);
    assert.ok(!saved.creds.includes('fleet-pw'), 'the editor never holds the stored password');

    // A server's own password, typed in the table: written once (write-only), stored by the runtime at Deploy.
    await page.evaluate(() => (globalThis as unknown as Win).RED.editor.editConfig('', 'ilo-fleet', 'fleet'));
    await page.waitForSelector('#ilo-fleet-viewport', { state: 'visible' });
    await page.fill('#ilo-fleet-filter', 'sim-b');
    await (await row(page, 'sim-b')).click();
    await page.fill('#ilo-fleet-row-password', 'own-pw-of-sim-b');
    await page.waitForFunction(() => /typed/.test(document.querySelector('#ilo-fleet-rows .c-password')?.textContent ?? ''));
    await page.click('#node-config-dialog-ok');
    await page.waitForSelector('#ilo-fleet-viewport', { state: 'detached' });
    await page.click('#red-ui-header-button-deploy');
    await page.waitForFunction(() => !(globalThis as unknown as { RED: { nodes: { dirty(): boolean } } }).RED.nodes.dirty(), undefined, { timeout: 30_000 });
    const passwordsHeld = (): Promise<string[]> => page.evaluate(async () => ((await (await fetch('ilo-fleet/fleet/state')).json()) as { passwords: string[] }).passwords);
    for (const end = Date.now() + 30_000; !(await passwordsHeld()).includes('sb'); ) {
      if (Date.now() > end) assert.fail(`the runtime never held sim-b's password: ${JSON.stringify(await passwordsHeld())}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.deepEqual(await passwordsHeld(), ['sb']);
    const flowFile = readFileSync(join(dir, 'flows.json'), 'utf8');
    assert.ok(!flowFile.includes('own-pw-of-sim-b') && !flowFile.includes('fleet-pw'), 'no password in the flow file');
    const credFile = JSON.parse(readFileSync(join(dir, 'flows_cred.json'), 'utf8')) as { fleet: { secrets?: string; staged?: string } };
    assert.deepEqual(JSON.parse(credFile.fleet.secrets ?? staged(credFile)), { sb: 'own-pw-of-sim-b' }, 'kept in the credentials file');
    const credsSeenByEditor = await page.evaluate(async () => (await fetch('credentials/ilo-fleet/fleet')).text());
    assert.ok(!credsSeenByEditor.includes('own-pw-of-sim-b') && !credsSeenByEditor.includes('fleet-pw'), credsSeenByEditor);
    assert.match(credsSeenByEditor, /"has_secrets":true|"has_staged":true/);
    assert.deepEqual(errors, [], 'no script errors in the editor');
    await page.close();
  });
});

/** Before the runtime rewrote the credentials (a restart), the editor's staged change is what the file holds. */
function staged(creds: { fleet: { staged?: string } }): string {
  return creds.fleet.staged ?? '{}';
}

function inventoryHostsSorted(): string[] {
  const flows = JSON.parse(readFileSync(join(dir, 'flows.json'), 'utf8')) as Array<{ id: string; servers?: Array<{ host: string; port: number }> }>;
  const rows = flows.find((f) => f.id === 'fleet')!.servers!;
  const key = (h: string): string => h.split('.').map((o) => o.padStart(3, '0')).join('.');
  return rows
    .map((r) => ({ k: `${key(r.host)}:${String(r.port).padStart(5, '0')}`, shown: `${r.host}${r.port !== 443 ? `:${r.port}` : ''}` }))
    .sort((a, b) => (a.k < b.k ? -1 : 1))
    .map((r) => r.shown);
}
