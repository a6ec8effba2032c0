/**
 * The "iLO console" sidebar in a real editor (Debian's Chromium driven by
 * playwright-core, a real Node-RED with adminAuth and this package
 * installed), against a simulated iLO whose serial console is reached
 * over SSH (`vsp`), as on an iLO 5 with IPMI over LAN off: the server's
 * POST and boot show in the terminal, a typed line reaches the server's
 * serial port, the session comes back after the iLO drops it and after the
 * editor's own connection drops, and a user without ilo-console.read gets
 * nothing (no tab, 401 for the ticket, the websocket refused). Servers of
 * a fleet (ilo-fleet) have consoles too: listed for the sidebar unless set
 * to "off", reached through the same ticket and websocket, over SSH and
 * over IPMI serial-over-LAN (real ipmitool against ipmi_sim), with the
 * server's own iLO account or the fleet's default one.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { Fleet } from '../../sim/fleet';
import { freePort } from '../helpers/daemons';
import { needTools, repoRoot } from '../helpers/env';

const skip = needTools('chromium');
const noIpmi = needTools('ipmitool', 'ipmi_sim', 'script');
const USERS = { admin: 'admin-pw-1', watcher: 'watcher-pw-2', viewer: 'viewer-pw-3' };
let fleet: Fleet;
let red: ChildProcess | undefined;
let browser: Browser | undefined;
let dir = '';
let base = '';
let output = '';

function bcryptHash(password: string): string {
  const editorApi = dirname(require.resolve('@node-red/editor-api/package.json', { paths: [dirname(require.resolve('node-red/package.json'))] }));
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- Node-RED's own bcrypt, so the hash is what it checks
  const bcrypt = require(require.resolve('bcryptjs', { paths: [editorApi] })) as { hashSync(p: string, rounds: number): string };
  return bcrypt.hashSync(password, 4);
}

async function token(user: keyof typeof USERS): Promise<string> {
  const res = await fetch(`${base}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: 'node-red-editor', grant_type: 'password', scope: '', username: user, password: USERS[user] }).toString(),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { access_token: string }).access_token;
}

before(async () => {
  // Server 1: an ilo-config; 2 and 3: servers of the fleet "lab" (SSH, IPMI).
  fleet = await Fleet.start({ servers: 3, models: ['gen10', 'gen10', 'gen9'], console: { ssh: true, ipmi: !noIpmi }, timings: { powerOnMs: 200, postMs: 300 } });
  const ilo = fleet.ilos[0]!;
  const [sshIlo, ipmiIlo] = [fleet.ilos[1]!, fleet.ilos[2]!];
  dir = mkdtempSync(join(tmpdir(), 'ilo-console-editor-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(repoRoot, join(dir, 'node_modules', 'node-red-contrib-ilo-deploy'), 'dir');
  const port = await freePort();
  base = `http://127.0.0.1:${port}/admin`;
  const users = [
    { username: 'admin', password: bcryptHash(USERS.admin), permissions: '*' },
    { username: 'watcher', password: bcryptHash(USERS.watcher), permissions: ['read', 'ilo-console.read'] },
    // Node-RED's "read" scope grants every *.read permission, ilo-console.read included: a user kept
    // from the console has the editor's read permissions listed one by one.
    {
      username: 'viewer',
      password: bcryptHash(USERS.viewer),
      permissions: ['settings.read', 'flows.read', 'nodes.read', 'plugins.read', 'library.read', 'context.read', 'credentials.read', 'status.read', 'debug.read'],
    },
  ];
  writeFileSync(
    join(dir, 'settings.js'),
    `module.exports = ${JSON.stringify({
      uiHost: '127.0.0.1',
      uiPort: port,
      userDir: dir,
      flowFile: 'flows.json',
      credentialSecret: false,
      httpAdminRoot: '/admin',
      adminAuth: { type: 'credentials', users },
      editorTheme: { tours: false, projects: { enabled: false } },
      telemetry: { enabled: false, updateNotification: false },
      diagnostics: { enabled: false },
      logging: { console: { level: 'info', metrics: false, audit: false } },
    })};\n`,
  );
  const flows = [
    { id: 'tab', type: 'tab', label: 'console test' },
    {
      id: 'cfg',
      type: 'ilo-config',
      name: ilo.name,
      host: ilo.host,
      port: String(ilo.port),
      protocol: 'auto',
      tlsMode: 'pinned',
      fingerprint: ilo.fingerprint,
      timeout: '10',
      consoleMethod: 'ssh',
      sshPort: String(ilo.console!.ssh!.port),
      sshHostKey: ilo.console!.ssh!.openssh,
    },
    {
      id: 'fleet-lab',
      type: 'ilo-fleet',
      name: 'lab',
      timeout: '10',
      servers: [
        { id: 's2', name: 'srv-ssh', host: sshIlo.host, port: sshIlo.port, tlsMode: 'pinned', fingerprint: sshIlo.fingerprint, macs: [], consoleMethod: 'ssh', sshPort: sshIlo.console!.ssh!.port, sshHostKey: sshIlo.console!.ssh!.openssh },
        ...(noIpmi ? [] : [{ id: 's3', name: 'srv-ipmi', host: ipmiIlo.host, port: ipmiIlo.port, tlsMode: 'pinned', fingerprint: ipmiIlo.fingerprint, macs: [], consoleMethod: 'ipmi', ipmiPort: ipmiIlo.console!.ipmi!.port }]),
        { id: 's4', name: 'srv-off', host: '192.0.2.44', port: 443, tlsMode: 'insecure', macs: [], consoleMethod: 'off' },
      ],
    },
  ];
  writeFileSync(join(dir, 'flows.json'), JSON.stringify(flows));
  // srv-ssh has its own account; srv-ipmi uses the fleet's default one.
  const lab = { username: ipmiIlo.username, password: ipmiIlo.password, usernames: JSON.stringify({ s2: sshIlo.username }), secrets: JSON.stringify({ s2: sshIlo.password }) };
  writeFileSync(join(dir, 'flows_cred.json'), JSON.stringify({ cfg: { username: ilo.username, password: ilo.password }, 'fleet-lab': lab }));
  red = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', dir, '--settings', join(dir, 'settings.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
  red.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  red.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 60_000;
  while (!/Started flows/.test(output)) {
    if (red.exitCode !== null || Date.now() > deadline) throw new Error(`Node-RED did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (skip) return;
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

async function login(page: Page, user: keyof typeof USERS): Promise<void> {
  await page.goto(`${base}/`);
  await page.waitForSelector('#node-dialog-login-username', { timeout: 30_000 });
  await page.fill('#node-dialog-login-username', user);
  await page.fill('#node-dialog-login-password', USERS[user]);
  await page.click('#node-dialog-login-submit');
  await page.waitForFunction(() => (globalThis as unknown as { RED?: { nodes?: { node(id: string): unknown } } }).RED?.nodes?.node('cfg') !== undefined, undefined, { timeout: 30_000 });
}

/** What the terminal shows, as a person reads it. */
function screen(page: Page): Promise<string> {
  return page.evaluate(() => (document.querySelector('.ilo-console-term .xterm-rows') as HTMLElement | null)?.innerText ?? '');
}

async function waitForScreen(page: Page, re: RegExp, what: string): Promise<string> {
  const end = Date.now() + 30_000;
  for (;;) {
    const text = await screen(page);
    if (re.test(text)) return text;
    if (Date.now() > end) throw new Error(`the console never showed ${what}; it shows:\n${text}\n--- Node-RED:\n${output.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('iLO console sidebar (Chromium, adminAuth)', { skip }, () => {
  test('shows the server booting, takes keystrokes, comes back after drops', async () => {
    const ilo = fleet.ilos[0]!;
    const page = await browser!.newPage({ viewport: { width: 1500, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await login(page, 'admin');
    await page.evaluate(() => (globalThis as unknown as { RED: { sidebar: { show(id: string): void } } }).RED.sidebar.show('ilo-console'));
    await page.waitForSelector('.ilo-console-term .xterm-rows', { timeout: 30_000 });
    await page.waitForFunction(() => /Open \(SSH vsp/.test(document.querySelector('.ilo-console-state')?.textContent ?? ''), undefined, { timeout: 30_000 });
    assert.equal(await page.inputValue('.ilo-console-server'), 'cfg');

    // The server's life on its serial port: POST, then the disk boot.
    ilo.server.powerOn();
    await waitForScreen(page, /ProLiant System BIOS/, 'the BIOS POST screen');
    await waitForScreen(page, /Booting .*Logical Drive/, 'the boot device');

    // The installed OS boots to a login prompt; type on it.
    await waitForScreen(page, /server-1 login:/, 'the login prompt');
    await page.click('.ilo-console-term');
    await page.keyboard.type('root');
    await page.keyboard.press('Enter');
    await waitForScreen(page, /login: root\s+Password:/, 'the echo of "root" and the password prompt');
    assert.match(ilo.server.serial.inputReceived(), /root\r/, 'the typed line reached the server');

    // The iLO drops the SSH session: the console says so, reconnects, and works again.
    const logins = ilo.console!.ssh!.cli.logins.ok;
    ilo.console!.ssh!.cli.dropSessions();
    await page.waitForFunction(() => /Dropped: reconnecting/.test(document.querySelector('.ilo-console-state')?.textContent ?? ''), undefined, { timeout: 10_000 });
    await page.waitForFunction(() => /Open \(SSH vsp/.test(document.querySelector('.ilo-console-state')?.textContent ?? ''), undefined, { timeout: 30_000 });
    assert.equal(ilo.console!.ssh!.cli.logins.ok, logins + 1, 'logged in to the iLO again after the drop');
    await page.click('.ilo-console-term');
    await page.keyboard.type('anything');
    await page.keyboard.press('Enter');
    await waitForScreen(page, /Welcome to the simulated/, 'the shell after the password');
    assert.match(ilo.server.serial.inputReceived(), /anything\r/);

    // The editor's own connection drops: it comes back and shows the recent screen again.
    await page.evaluate(() => (globalThis as unknown as { __iloConsole: { ws: { close(): void } } }).__iloConsole.ws.close());
    await page.waitForFunction(() => /Editor connection lost/.test(document.querySelector('.ilo-console-state')?.textContent ?? ''), undefined, { timeout: 10_000 });
    await page.waitForFunction(() => /Open \(SSH vsp/.test(document.querySelector('.ilo-console-state')?.textContent ?? ''), undefined, { timeout: 30_000 });
    await waitForScreen(page, /ProLiant System BIOS[\s\S]*Welcome to the simulated/, 'the replayed screen');
    await page.click('.ilo-console-term');
    await page.keyboard.type('hostname');
    await page.keyboard.press('Enter');
    await waitForScreen(page, /# hostname\s+server-1/, 'the answer to "hostname"');

    await page.screenshot({ path: join(dir, 'console.png') });
    if (process.env.ILO_CONSOLE_SCREENSHOT) await page.screenshot({ path: process.env.ILO_CONSOLE_SCREENSHOT });
    assert.deepEqual(errors, [], 'no script errors in the editor');
    assert.ok(!(await page.content()).includes(ilo.password), 'the iLO password never reaches the browser');
    await page.close();
  });

  test('a second viewer watches read-only until it takes over', async () => {
    const ilo = fleet.ilos[0]!;
    const first = await browser!.newPage();
    await login(first, 'admin');
    await first.evaluate(() => (globalThis as unknown as { RED: { actions: { invoke(a: string, k: string): void } } }).RED.actions.invoke('ilo-console:show', 'cfg'));
    await first.waitForFunction(() => /Open/.test(document.querySelector('.ilo-console-state')?.textContent ?? ''), undefined, { timeout: 30_000 });
    await first.waitForFunction(() => (globalThis as unknown as { __iloConsole: { writer: { you: boolean } | null } }).__iloConsole.writer?.you === true, undefined, { timeout: 10_000 });

    const second = await browser!.newPage();
    await login(second, 'watcher');
    await second.evaluate(() => (globalThis as unknown as { RED: { sidebar: { show(id: string): void } } }).RED.sidebar.show('ilo-console'));
    await second.waitForFunction(() => /Open/.test(document.querySelector('.ilo-console-state')?.textContent ?? ''), undefined, { timeout: 30_000 });
    // The watcher has no ilo-console.write: no take-over button, keystrokes go nowhere.
    assert.equal(await second.isVisible('.ilo-console-take'), false);
    const before = ilo.server.serial.inputReceived();
    await second.click('.ilo-console-term');
    await second.keyboard.type('ignored');
    await second.keyboard.press('Enter');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(ilo.server.serial.inputReceived(), before, "a watcher's keystrokes do not reach the server");
    await second.close();
    await first.close();
  });

  test('without ilo-console.read: no tab, no ticket, no websocket', async () => {
    const page = await browser!.newPage();
    await login(page, 'viewer');
    const hasTab = await page.evaluate(() => document.querySelector('#red-ui-tab-ilo-console') !== null || document.querySelector('.ilo-console-panel') !== null);
    assert.equal(hasTab, false, 'the console tab is not offered');
    await page.close();

    const viewer = await token('viewer');
    const res = await fetch(`${base}/ilo-console/ticket`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${viewer}` }, body: JSON.stringify({ server: 'cfg' }) });
    assert.equal(res.status, 401);
    assert.equal((await fetch(`${base}/ilo-console/servers`, { headers: { authorization: `Bearer ${viewer}` } })).status, 401);
    assert.equal((await fetch(`${base}/ilo-console/ticket`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"server":"cfg"}' })).status, 401, 'no token');

    // The websocket takes no token, only a ticket: a made-up one is refused before the upgrade.
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ilo-console/socket?ticket=made-up`);
    const refused = await new Promise<string>((resolve) => {
      ws.on('unexpected-response', (_req, r) => resolve(String(r.statusCode)));
      ws.on('open', () => resolve('opened'));
      ws.on('error', (e) => resolve(e.message));
    });
    assert.match(refused, /401/);

    // A watcher's ticket says read-only; a ticket works once.
    const watcher = await token('watcher');
    const t = (await (await fetch(`${base}/ilo-console/ticket`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${watcher}` }, body: '{"server":"cfg"}' })).json()) as {
      ticket: string;
      write: boolean;
    };
    assert.equal(t.write, false);
    const url = `${base.replace('http', 'ws')}/ilo-console/socket?ticket=${t.ticket}`;
    const hello = await new Promise<{ type: string; canWrite: boolean }>((resolve, reject) => {
      const s = new WebSocket(url);
      s.on('message', (d, binary) => {
        if (!binary) {
          resolve(JSON.parse(String(d)) as { type: string; canWrite: boolean });
          s.close();
        }
      });
      s.on('error', reject);
    });
    assert.equal(hello.type, 'hello');
    assert.equal(hello.canWrite, false);
    const again = await new Promise<string>((resolve) => {
      const s = new WebSocket(url);
      s.on('unexpected-response', (_req, r) => resolve(String(r.statusCode)));
      s.on('open', () => resolve('opened'));
      s.on('error', (e) => resolve(e.message));
    });
    assert.match(again, /401/, 'a ticket is used once');
  });
});

/** A console through the admin API: a ticket, then the websocket; output collected, keystrokes sent as the writer. */
async function openViewer(key: string, bearer: string): Promise<{ hello: { server: { key: string; label: string } }; text(): string; type(s: string): void; states: string[]; close(): void }> {
  const res = await fetch(`${base}/ilo-console/ticket`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, body: JSON.stringify({ server: key }) });
  assert.equal(res.status, 200, await res.clone().text());
  const { ticket } = (await res.json()) as { ticket: string };
  const ws = new WebSocket(`${base.replace('http', 'ws')}/ilo-console/socket?ticket=${ticket}`);
  let out = '';
  const states: string[] = [];
  const hello = await new Promise<{ server: { key: string; label: string } }>((resolve, reject) => {
    ws.on('message', (d, binary) => {
      if (binary) return void (out += d.toString());
      const m = JSON.parse(String(d)) as { type: string; status?: { state: string; via?: string } };
      if (m.status) states.push(m.status.via ? `${m.status.state} ${m.status.via}` : m.status.state);
      if (m.type === 'hello') resolve(m as never);
    });
    ws.on('error', reject);
  });
  ws.send(JSON.stringify({ type: 'take' }));
  return { hello, text: () => out, type: (s) => ws.send(Buffer.from(s), { binary: true }), states, close: () => ws.close() };
}

async function until(what: string, f: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('consoles of fleet servers (admin API and websocket)', () => {
  test('the list names fleet servers (not those set to off); their consoles work over SSH and IPMI with the fleet\'s accounts', async () => {
    const admin = await token('admin');
    const list = (await (await fetch(`${base}/ilo-console/servers`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { servers: Array<{ key: string; label: string; method: string }> };
    const labels = list.servers.map((s) => `${s.label}=${s.method}`);
    assert.deepEqual(labels, [`${fleet.ilos[0]!.name}=ssh`, ...(noIpmi ? [] : ['srv-ipmi (lab)=ipmi']), 'srv-ssh (lab)=ssh']);
    assert.ok(!JSON.stringify(list).includes(fleet.ilos[1]!.password) && !JSON.stringify(list).includes(fleet.ilos[2]!.password), 'no password in the list');

    const sshKey = list.servers.find((s) => s.label === 'srv-ssh (lab)')!.key;
    const sshIlo = fleet.ilos[1]!;
    const v = await openViewer(sshKey, admin);
    assert.equal(v.hello.server.label, 'srv-ssh (lab)');
    await until('the SSH console open', () => v.states.includes('open ssh'));
    sshIlo.server.powerOn();
    await until('the POST screen of srv-ssh', () => /ProLiant System BIOS/.test(v.text()));
    v.type('typed-on-fleet-server\r');
    await until('the keystrokes at srv-ssh\'s serial port', () => sshIlo.server.serial.inputReceived().includes('typed-on-fleet-server\r'));
    assert.ok(!v.text().includes(sshIlo.password), 'the password is not in the output');
    v.close();
    sshIlo.server.hardOff();

    // A key the fleet does not have is refused, as an unknown ilo-config is.
    const unknown = await fetch(`${base}/ilo-console/ticket`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` }, body: JSON.stringify({ server: 'fleet-lab/nope' }) });
    assert.equal(unknown.status, 404);
  });

  test('a fleet server over IPMI serial-over-LAN (ipmitool against ipmi_sim)', { skip: noIpmi }, async () => {
    const admin = await token('admin');
    const list = (await (await fetch(`${base}/ilo-console/servers`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { servers: Array<{ key: string; label: string }> };
    const ipmiIlo = fleet.ilos[2]!;
    const v = await openViewer(list.servers.find((s) => s.label === 'srv-ipmi (lab)')!.key, admin);
    await until('the IPMI console open', () => v.states.includes('open ipmi'));
    ipmiIlo.server.powerOn();
    await until('the POST screen of srv-ipmi over SOL', () => /ProLiant System BIOS/.test(v.text()));
    v.type('over-sol\r');
    await until('the keystrokes at srv-ipmi\'s serial port', () => ipmiIlo.server.serial.inputReceived().includes('over-sol\r'));
    v.close();
    ipmiIlo.server.hardOff();
  });
});
