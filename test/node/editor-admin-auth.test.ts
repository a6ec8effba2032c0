/**
 * The dialogs' admin endpoints in a real Node-RED with adminAuth: the
 * package installed in the user directory, the editor under a custom
 * httpAdminRoot, tokens from /auth/token. The test helper stubs
 * RED.auth.needsPermission, so only a real runtime shows that the
 * endpoints refuse users without `ilo-config.write` / `ilo-media-store.write`
 * / `ilo-fleet.write` before contacting anything.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Fleet } from '../../sim/fleet';
import { freePort } from '../helpers/daemons';
import { repoRoot } from '../helpers/env';

let fleet: Fleet;
let red: ChildProcess | undefined;
let dir = '';
let base = '';
let output = '';

const USERS = { viewer: 'viewer-pw-1', operator: 'operator-pw-2', admin: 'admin-pw-3' };

function bcryptHash(password: string): string {
  const editorApi = dirname(require.resolve('@node-red/editor-api/package.json', { paths: [dirname(require.resolve('node-red/package.json'))] }));
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- Node-RED's own bcrypt, so the hash is what it checks
  const bcrypt = require(require.resolve('bcryptjs', { paths: [editorApi] })) as { hashSync(p: string, rounds: number): string };
  return bcrypt.hashSync(password, 4);
}

async function token(user: keyof typeof USERS, scope: string): Promise<string> {
  const res = await fetch(`${base}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: 'node-red-editor', grant_type: 'password', scope, username: user, password: USERS[user] }).toString(),
  });
  assert.equal(res.status, 200, `token for ${user}: ${await res.clone().text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

function post(path: string, body: unknown, bearer?: string): Promise<Response> {
  return fetch(`${base}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify(body),
  });
}

before(async () => {
  fleet = await Fleet.start({ servers: 1 });
  dir = mkdtempSync(join(tmpdir(), 'ilo-admin-auth-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(repoRoot, join(dir, 'node_modules', 'node-red-contrib-ilo-deploy'), 'dir');
  const port = await freePort();
  base = `http://127.0.0.1:${port}/admin`;
  const users = [
    { username: 'viewer', password: bcryptHash(USERS.viewer), permissions: 'read' },
    { username: 'operator', password: bcryptHash(USERS.operator), permissions: ['read', 'ilo-config.write'] },
    { username: 'admin', password: bcryptHash(USERS.admin), permissions: '*' },
  ];
  writeFileSync(
    join(dir, 'settings.js'),
    `module.exports = ${JSON.stringify({
      uiHost: '127.0.0.1',
      uiPort: port,
      userDir: dir,
      flowFile: 'flows.json',
      credentialSecret: 'test-secret',
      httpAdminRoot: '/admin',
      httpNodeRoot: '/api',
      adminAuth: { type: 'credentials', users },
      editorTheme: { tours: false, projects: { enabled: false } },
      telemetry: { enabled: false, updateNotification: false },
      diagnostics: { enabled: false },
      logging: { console: { level: 'info', metrics: false, audit: false } },
    })};\n`,
  );
  writeFileSync(join(dir, 'flows.json'), '[]');
  red = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', dir, '--settings', join(dir, 'settings.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
  red.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  red.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 60_000;
  while (!/Started flows/.test(output)) {
    if (red.exitCode !== null || Date.now() > deadline) throw new Error(`Node-RED did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

after(async () => {
  if (red && red.exitCode === null) {
    red.kill('SIGINT');
    await once(red, 'exit');
  }
  await fleet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('admin endpoints behind adminAuth (a real Node-RED)', () => {
  test('without the permission: 401 and the iLO is never contacted; with ilo-config.write: the test runs', async () => {
    assert.doesNotMatch(output, /\[error\].*ilo/i, output);
    const ilo = fleet.ilos[0]!;
    const body = { host: ilo.host, port: ilo.port, protocol: 'auto', tlsMode: 'pinned', fingerprint: ilo.fingerprint, timeout: 10, username: ilo.username, password: ilo.password };
    const before = ilo.server.requests.total;
    assert.equal((await post('ilo-config/test', body)).status, 401, 'no token');
    assert.equal((await post('ilo-config/test', body, await token('viewer', 'read'))).status, 401, 'read-only user');
    assert.equal((await post('ilo-config/certificate', body, await token('viewer', 'read'))).status, 401);
    assert.equal(ilo.server.requests.total, before, 'nothing reached the iLO');

    const operator = await token('operator', 'read ilo-config.write');
    const res = await post('ilo-config/test', body, operator);
    assert.equal(res.status, 200);
    const text = await res.text();
    const report = JSON.parse(text) as { ok: boolean; protocol: string; certificate: { fingerprint256: string } };
    assert.equal(report.ok, true, text);
    assert.equal(report.certificate.fingerprint256, ilo.fingerprint.toUpperCase());
    assert.ok(!text.includes(ilo.password));
  });

  test('ilo-media-store/test needs ilo-media-store.write: the operator is refused, an admin is not', async () => {
    const body = { storeType: 'builtin', host: '127.0.0.1', port: String(await freePort()) };
    assert.equal((await post('ilo-media-store/test', body)).status, 401);
    assert.equal((await post('ilo-media-store/test', body, await token('operator', 'read ilo-config.write'))).status, 401);
    const res = await post('ilo-media-store/test', body, await token('admin', '*'));
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { ok: boolean }).ok, true);
  });

  test('ilo-fleet endpoints need ilo-fleet.write (test, discover, import, export) or ilo-fleet.read (state); nothing is probed without it', async () => {
    const ilo = fleet.ilos[0]!;
    const server = { id: 'a1', name: 'one', host: ilo.host, port: ilo.port, protocol: 'auto', tlsMode: 'pinned', fingerprint: ilo.fingerprint, macs: [] };
    const before = ilo.server.requests.total;
    const operator = await token('operator', 'read ilo-config.write');
    for (const [path, body] of [
      ['ilo-fleet/test', { server, username: ilo.username, password: ilo.password }],
      ['ilo-fleet/discover', { range: `${ilo.host}:${ilo.port}` }],
      ['ilo-fleet/import', { text: 'name,ilo_address\nx,10.0.0.1\n' }],
      ['ilo-fleet/export', { servers: [server], format: 'csv' }],
    ] as const) {
      assert.equal((await post(path, body)).status, 401, `${path} without a token`);
      assert.equal((await post(path, body, operator)).status, 401, `${path} for a user without ilo-fleet.write`);
    }
    assert.equal((await fetch(`${base}/ilo-fleet/x/state`)).status, 401);
    assert.equal(ilo.server.requests.total, before, 'nothing reached the iLO');
    const res = await post('ilo-fleet/test', { server, username: ilo.username, password: ilo.password }, await token('admin', '*'));
    const text = await res.text();
    assert.equal((JSON.parse(text) as { ok: boolean }).ok, true, text);
    assert.ok(!text.includes(ilo.password));
  });
});
