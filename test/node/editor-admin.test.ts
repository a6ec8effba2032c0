/**
 * The dialogs' buttons: POST ilo-config/test, ilo-config/certificate and
 * ilo-media-store/test on the admin app (helper.request(), supertest),
 * against a simulated fleet, a built-in store and (when installed) a real
 * Swift. No answer may ever carry a password.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { SwiftClient } from '../../lib/swift';
import { Fleet, type SimIlo } from '../../sim/fleet';
import { freePort } from '../helpers/daemons';
import { needTools } from '../helpers/env';
import { helper } from '../helpers/node-red';
import { SAIO_TOOLS, startSaio, type Saio } from '../helpers/swift-saio';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled node modules are CommonJS `export =` functions
const iloConfig = require('../../nodes/ilo-config/ilo-config');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
const mediaStore = require('../../nodes/ilo-media-store/ilo-media-store');

type Reply = { status: number; text: string; body: Record<string, unknown> };

let fleet: Fleet;
let dir = '';
let caFile = '';

/** POST to the admin app; the reply's raw text is kept to look for secrets. */
async function post(path: string, body: Record<string, unknown>): Promise<Reply> {
  const res = await helper.request().post(path).send(body).set('content-type', 'application/json');
  return { status: res.status, text: res.text, body: res.body as Record<string, unknown> };
}

function dialog(ilo: SimIlo, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { host: ilo.host, port: String(ilo.port), protocol: 'auto', redfishAuth: 'session', tlsMode: 'ca', caFile, fingerprint: '', legacyTls: false, timeout: '10', username: ilo.username, password: ilo.password, ...over };
}

/** A deployed ilo-config "cfg" for `ilo`, its password in the credential store. */
async function deployConfig(ilo: SimIlo): Promise<void> {
  await helper.load(
    [iloConfig],
    [{ id: 'cfg', type: 'ilo-config', name: ilo.name, host: ilo.host, port: ilo.port, protocol: 'auto', tlsMode: 'ca', caFile, timeout: 10 }] as never,
    { cfg: { username: ilo.username, password: ilo.password } } as never,
  );
}

before(async () => {
  fleet = await Fleet.start({ servers: 2, models: ['gen9', 'gen10'], licensed: [true, false] });
  dir = mkdtempSync(join(tmpdir(), 'ilo-admin-'));
  caFile = join(dir, 'fleet-ca.pem');
  writeFileSync(caFile, fleet.ca.cert);
  await helper.startServer();
});
afterEach(async () => {
  await helper.unload();
});
after(async () => {
  await helper.stopServer();
  await fleet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('POST ilo-config/test', () => {
  test('with the dialog values: what the iLO is, its power state, licence and certificate; never the password', async () => {
    await helper.load([iloConfig], []);
    const ilo = fleet.ilos[0]!;
    const r = await post('/ilo-config/test', dialog(ilo));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.ok, true, r.text);
    assert.equal(r.body.protocol, 'ribcl', 'auto chose RIBCL for the iLO 4');
    assert.equal(r.body.generation, 'Gen9');
    assert.match(String(r.body.productName), /ProLiant .*Gen9/);
    assert.match(String(r.body.iloFirmware), /\d/);
    assert.equal(r.body.powerState, ilo.server.powerState);
    assert.deepEqual(r.body.licence, { type: 'iLO 4 Advanced', tier: 'advanced', virtualMedia: true });
    const cert = r.body.certificate as { fingerprint256: string; subject: string; issuer: string; validTo: string; trusted: boolean };
    assert.equal(cert.fingerprint256, ilo.fingerprint.toUpperCase());
    assert.equal(cert.trusted, true, 'signed by the CA file the dialog names');
    assert.match(cert.validTo, /\d{4}/);
    assert.ok(cert.subject && cert.issuer);
    assert.ok(!r.text.includes(ilo.password), 'no password in the answer');
  });

  test('Redfish (iLO 5): the same report; an unlicensed iLO says virtual media is not licensed', async () => {
    await helper.load([iloConfig], []);
    const r = await post('/ilo-config/test', dialog(fleet.ilos[1]!));
    assert.equal(r.body.ok, true, r.text);
    assert.equal(r.body.protocol, 'redfish');
    assert.equal(r.body.generation, 'Gen10');
    assert.equal((r.body.licence as { virtualMedia: boolean }).virtualMedia, false);
  });

  test('a wrong password: ok false with the login error, and neither password in the answer', async () => {
    await helper.load([iloConfig], []);
    const ilo = fleet.ilos[0]!;
    const wrong = 'Wrong-Pa55word!';
    const r = await post('/ilo-config/test', dialog(ilo, { password: wrong }));
    assert.equal(r.status, 200);
    assert.equal(r.body.ok, false);
    assert.equal(r.body.code, 'login');
    assert.match(String(r.body.error), /login failed/i);
    assert.ok(!r.text.includes(wrong) && !r.text.includes(ilo.password), r.text);
  });

  test('a pinned fingerprint that does not match: refused, showing the certificate the iLO really has', async () => {
    await helper.load([iloConfig], []);
    const ilo = fleet.ilos[0]!;
    const r = await post('/ilo-config/test', dialog(ilo, { tlsMode: 'pinned', caFile: '', fingerprint: 'AB'.repeat(32) }));
    assert.equal(r.body.ok, false);
    assert.equal(r.body.code, 'connection');
    assert.match(String(r.body.error), /does not match the pinned fingerprint/);
    assert.equal((r.body.certificate as { fingerprint256: string }).fingerprint256, ilo.fingerprint.toUpperCase());
    const ok = await post('/ilo-config/test', dialog(ilo, { tlsMode: 'pinned', caFile: '', fingerprint: ilo.fingerprint }));
    assert.equal(ok.body.ok, true, ok.text);
  });

  test('the placeholder password means the stored one, only for the deployed host and an existing node', async () => {
    const ilo = fleet.ilos[0]!;
    await deployConfig(ilo);
    const stored = await post('/ilo-config/test', dialog(ilo, { id: 'cfg', password: '__PWRD__' }));
    assert.equal(stored.body.ok, true, stored.text);
    assert.ok(!stored.text.includes(ilo.password));
    const empty = await post('/ilo-config/test', dialog(ilo, { id: 'cfg', password: '' }));
    assert.equal(empty.body.ok, true, 'an empty password field means the stored one too');

    const other = fleet.ilos[1]!;
    const before = other.server.requests.total;
    const elsewhere = await post('/ilo-config/test', dialog(other, { id: 'cfg', password: '__PWRD__' }));
    assert.equal(elsewhere.status, 400);
    assert.equal(elsewhere.body.field, 'password');
    assert.match(String(elsewhere.body.error), /only sent to the deployed iLO/);
    assert.equal(other.server.requests.total, before, 'the other iLO was never contacted');

    const unknown = await post('/ilo-config/test', dialog(ilo, { id: 'no-such-node', password: '__PWRD__' }));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.ok, false);
    const fresh = await post('/ilo-config/test', dialog(ilo, { password: '__PWRD__' }));
    assert.equal(fresh.status, 400);
    assert.match(String(fresh.body.error), /^password: expected the password/);
  });

  test('bad dialog values are named: host, timeout, TLS CA file', async () => {
    await helper.load([iloConfig], []);
    const ilo = fleet.ilos[0]!;
    const host = await post('/ilo-config/test', dialog(ilo, { host: 'not a host' }));
    assert.equal(host.status, 400);
    assert.equal(host.body.field, 'host');
    const timeout = await post('/ilo-config/test', dialog(ilo, { timeout: '-1' }));
    assert.equal(timeout.body.field, 'timeout');
    const ca = await post('/ilo-config/test', dialog(ilo, { caFile: join(dir, 'missing.pem') }));
    assert.equal(ca.body.field, 'tls.caFile');
  });
});

describe('POST ilo-config/certificate (trust on first use)', () => {
  test('shows the fingerprint the iLO presents, and whether it is trusted without pinning', async () => {
    await helper.load([iloConfig], []);
    const ilo = fleet.ilos[1]!;
    const plain = await post('/ilo-config/certificate', { host: ilo.host, port: ilo.port, tlsMode: 'pinned', fingerprint: '' });
    assert.equal(plain.body.ok, true, plain.text);
    const cert = plain.body.certificate as { fingerprint256: string; trusted: boolean; trustProblem?: string };
    assert.equal(cert.fingerprint256, ilo.fingerprint.toUpperCase());
    assert.match(cert.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.equal(cert.trusted, false, 'the fleet CA is not a system CA');
    assert.ok(cert.trustProblem);
    const withCa = await post('/ilo-config/certificate', { host: ilo.host, port: ilo.port, tlsMode: 'ca', caFile });
    assert.equal((withCa.body.certificate as { trusted: boolean }).trusted, true);
  });

  test('nothing listening: a connection error', async () => {
    await helper.load([iloConfig], []);
    const port = await freePort();
    const r = await post('/ilo-config/certificate', { host: '127.0.0.1', port });
    assert.equal(r.body.ok, false);
    assert.equal(r.body.code, 'connection');
    assert.match(String(r.body.error), /ECONNREFUSED/);
  });
});

describe('POST ilo-media-store/test', () => {
  test('built-in store: the port is bound, a probe is served and removed, and the port is free again afterwards', async () => {
    await helper.load([mediaStore], []);
    const port = await freePort();
    const images = mkdtempSync(join(dir, 'images-'));
    const r = await post('/ilo-media-store/test', { storeType: 'builtin', host: '127.0.0.1', port: String(port), fileRoots: `${images}, ${join(dir, 'nope')}` });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.ok, true, r.text);
    assert.equal(r.body.kind, 'builtin');
    assert.equal(r.body.url, `http://127.0.0.1:${port}`);
    assert.equal(r.body.usedRunningStore, false);
    assert.ok((r.body.checks as string[]).some((c) => /answered a Range GET/.test(c)));
    assert.deepEqual(r.body.warnings, [`fileRoots: ${join(dir, 'nope')} cannot be read (ENOENT)`]);
    await assert.rejects(
      new Promise((resolve, reject) => connect(port, '127.0.0.1').on('connect', resolve).on('error', reject)),
      /ECONNREFUSED/,
      'the check closed its store',
    );
  });

  test('built-in store whose port another program holds: refused, naming the port', async (t) => {
    await helper.load([mediaStore], []);
    const squatter: Server = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    t.after(() => squatter.close());
    const port = (squatter.address() as { port: number }).port;
    const r = await post('/ilo-media-store/test', { storeType: 'builtin', host: '127.0.0.1', port: String(port) });
    assert.equal(r.body.ok, false);
    assert.equal(r.body.field, 'port');
    assert.match(String(r.body.error), /EADDRINUSE/);
  });

  test('built-in store already deployed on that port: the probe goes through the running store', async () => {
    const port = await freePort();
    const cfg = { storeType: 'builtin', host: '127.0.0.1', port: String(port), stateDir: join(dir, 'state-running') };
    await helper.load([mediaStore], [{ id: 'store', type: 'ilo-media-store', ...cfg }] as never);
    const r = await post('/ilo-media-store/test', { id: 'store', ...cfg });
    assert.equal(r.body.ok, true, r.text);
    assert.equal(r.body.usedRunningStore, true);
  });

  test('a bad setting names the field', async () => {
    await helper.load([mediaStore], []);
    const r = await post('/ilo-media-store/test', { storeType: 'builtin', port: '70000' });
    assert.equal(r.status, 400);
    assert.equal(r.body.field, 'port');
    const swift = await post('/ilo-media-store/test', { storeType: 'swift', authType: 'tempauth', authUrl: 'http://127.0.0.1:1/auth/v1.0', username: 'test:tester', password: '' });
    assert.equal(swift.body.field, 'password');
  });

  test('Swift: tempauth works and the temp URL key signs a URL Swift honours; a wrong key fails; no secret in any answer', { skip: needTools(...SAIO_TOOLS) }, async (t) => {
    const saio: Saio = await startSaio();
    t.after(() => saio.stop());
    const admin = new SwiftClient({ auth: { type: 'tempauth', authUrl: saio.authUrl, user: saio.user, key: saio.key } });
    await admin.setTempUrlKey('dialog-check-key');
    await admin.close();
    await helper.load([mediaStore], []);
    const base = { storeType: 'swift', container: 'dialog-check', authType: 'tempauth', authUrl: saio.authUrl, username: saio.user };
    const ok = await post('/ilo-media-store/test', { ...base, password: saio.key });
    assert.equal(ok.body.ok, true, ok.text);
    assert.ok((ok.body.checks as string[]).some((c) => /temp URL works/.test(c)));
    assert.ok(!ok.text.includes(saio.key));
    const check = new SwiftClient({ auth: { type: 'tempauth', authUrl: saio.authUrl, user: saio.user, key: saio.key } });
    t.after(() => check.close());
    assert.deepEqual(await check.listObjects('dialog-check'), [], 'the probe object was removed');

    const badKey = await post('/ilo-media-store/test', { ...base, password: saio.key, tempUrlKey: 'not-the-key-123' });
    assert.equal(badKey.body.ok, false);
    assert.match(String(badKey.body.error), /HTTP 401/);
    assert.ok(!badKey.text.includes('not-the-key-123'));
    const badPassword = await post('/ilo-media-store/test', { ...base, password: 'wrong-key-456' });
    assert.equal(badPassword.body.ok, false);
    assert.ok(!badPassword.text.includes('wrong-key-456'));
  });
});
