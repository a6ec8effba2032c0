/**
 * The ilo-fleet dialog's buttons on the admin app (helper.request()):
 * import answers the whole table or the first error with its line and
 * field; export carries no credential; the state answers password flags,
 * never a password; test connection uses a stored password only for the
 * address its server was deployed with; the SSH host key is the one the
 * row's iLO presents.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { Fleet } from '../../sim/fleet';
import { helper } from '../helpers/node-red';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled node modules are CommonJS `export =` functions
const iloFleet = require('../../nodes/ilo-fleet/ilo-fleet');

type Reply = { status: number; text: string; body: Record<string, unknown> };

let sim: Fleet;

async function post(path: string, body: Record<string, unknown>): Promise<Reply> {
  const res = await helper.request().post(path).send(body).set('content-type', 'application/json');
  return { status: res.status, text: res.text, body: res.body as Record<string, unknown> };
}

function rows() {
  return sim.ilos.map((ilo, i) => ({ id: `id${i}`, name: ilo.name, host: ilo.host, port: ilo.port, protocol: 'auto', tlsMode: 'pinned', fingerprint: ilo.fingerprint, macs: [] }));
}

async function deploy(): Promise<void> {
  const [a, b] = sim.ilos;
  await helper.load([iloFleet], [{ id: 'fleet', type: 'ilo-fleet', name: 'lab', servers: rows(), timeout: 10 }] as never, {
    fleet: { username: a!.username, password: 'default-is-wrong', staged: JSON.stringify({ id0: a!.password, id1: b!.password }) },
  } as never);
}

describe('ilo-fleet admin endpoints', () => {
  before(async () => {
    sim = await Fleet.start({ servers: 2, models: ['gen9', 'gen10'], console: { ssh: true } });
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await helper.stopServer();
    await sim.stop();
  });

  test('import: the table after the file, the file\'s passwords only to stage them; a bad file: its line and field, the table unchanged', async () => {
    await deploy();
    const ok = await post('/ilo-fleet/import', { text: 'name,ilo_address,ilo_password,pool\nserver-1,10.0.0.9,new-pw,r1\nfresh,10.0.0.10,,r2\n', format: 'auto', mode: 'merge', servers: rows() });
    assert.equal(ok.status, 200, ok.text);
    const servers = ok.body.servers as Array<{ id: string; name: string; host: string; pool?: string }>;
    assert.deepEqual(servers.map((s) => [s.name, s.host, s.pool ?? '']), [['server-1', '10.0.0.9', 'r1'], ['server-2', '127.0.0.1', ''], ['fresh', '10.0.0.10', 'r2']]);
    assert.equal(servers[0]!.id, 'id0', 'same name, same id: the stored password stays attached');
    assert.deepEqual(ok.body.secrets, { id0: { password: 'new-pw' } });
    const bad = await post('/ilo-fleet/import', { text: 'servers:\n  - nope\n', format: 'yaml', servers: rows() });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.ok, false);
    assert.equal(bad.body.code, 'invalid-input');
    assert.equal(bad.body.line, 1);
    assert.match(String(bad.body.error), /line 1, servers: expected a mapping/);
    assert.equal(bad.body.servers, undefined, 'no table comes back from a refused file');
  });

  test('export: CSV, JSON, YAML without a credential', async () => {
    for (const format of ['csv', 'json', 'yaml']) {
      const r = await post('/ilo-fleet/export', { servers: rows(), format });
      assert.equal(r.status, 200);
      const text = String(r.body.text);
      assert.ok(text.includes('server-2') && text.includes(sim.ilos[1]!.fingerprint.toUpperCase()), text);
      for (const ilo of sim.ilos) assert.ok(!text.includes(ilo.password));
    }
  });

  test('state: which servers have a stored password, never the password', async () => {
    await deploy();
    const res = await helper.request().get('/ilo-fleet/fleet/state');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.passwords, ['id0', 'id1']);
    assert.equal(res.body.defaultPassword, true);
    for (const ilo of sim.ilos) assert.ok(!res.text.includes(ilo.password));
    assert.ok(!res.text.includes('default-is-wrong'));
  });

  test('test connection: the stored password for the deployed address; another address needs it typed; a typed one is used as typed; the answer has neither', async () => {
    await deploy();
    const [a] = sim.ilos;
    const stored = await post('/ilo-fleet/test', { id: 'fleet', server: rows()[0], username: '', password: '', fleetPassword: '__PWRD__' });
    assert.equal(stored.body.ok, true, stored.text);
    assert.equal(stored.body.productName, 'ProLiant DL380 Gen9');
    assert.ok(!stored.text.includes(a!.password));
    const moved = await post('/ilo-fleet/test', { id: 'fleet', server: { ...rows()[0], host: 'localhost' }, password: '' });
    assert.equal(moved.body.ok, false);
    assert.equal(moved.body.field, 'password');
    assert.match(String(moved.body.error), /only sent to the deployed iLO 127\.0\.0\.1:/);
    const typed = await post('/ilo-fleet/test', { id: 'fleet', server: rows()[0], username: a!.username, password: 'wrong-pw' });
    assert.equal(typed.body.ok, false);
    assert.equal(typed.body.code, 'login');
    assert.ok(!typed.text.includes('wrong-pw'));
  });

  test('SSH host key: the key the row\'s iLO presents on its SSH port, for pinning; no login; a bad port or host names the field', async () => {
    await deploy();
    const [a] = sim.ilos;
    const ssh = a!.console!.ssh!;
    const logins = { ...ssh.cli.logins };
    const r = await post('/ilo-fleet/ssh-host-key', { host: a!.host, sshPort: String(ssh.port) });
    assert.equal(r.status, 200, r.text);
    const key = r.body.hostKey as { fingerprint256: string; openssh: string; algorithm: string };
    assert.equal(key.fingerprint256, ssh.fingerprint256);
    assert.equal(key.openssh, ssh.openssh);
    assert.deepEqual(ssh.cli.logins, logins, 'nothing but the handshake: no login tried');
    const badPort = await post('/ilo-fleet/ssh-host-key', { host: a!.host, sshPort: '70000' });
    assert.equal(badPort.status, 400, badPort.text);
    assert.equal(badPort.body.field, 'sshPort');
    const badHost = await post('/ilo-fleet/ssh-host-key', { host: 'a b;c', sshPort: '22' });
    assert.equal(badHost.status, 400, badHost.text);
    assert.equal(badHost.body.field, 'host');
  });

  test('discover: only the range given; a range too large is refused before anything is probed', async () => {
    const [a] = sim.ilos;
    const r = await post('/ilo-fleet/discover', { range: `${a!.host}:${a!.port}`, timeout: 5 });
    assert.equal(r.status, 200, r.text);
    const results = r.body.results as Array<{ status: string; name: string; serialNumber: string }>;
    assert.equal(results.length, 1);
    assert.equal(results[0]!.status, 'ilo');
    assert.equal(results[0]!.serialNumber, a!.server.identity.serialNumber);
    assert.equal(sim.ilos[1]!.server.requests.total, 0, 'the other iLO was not asked');
    const big = await post('/ilo-fleet/discover', { range: '10.0.0.0/20' });
    assert.equal(big.status, 400);
    assert.match(String(big.body.error), /range: expected at most 1024 addresses/);
  });
});
