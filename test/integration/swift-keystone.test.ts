/**
 * Keystone v3 against a real Keystone (Debian `keystone`, sqlite) and a
 * Swift proxy that authenticates with it (authtoken + keystoneauth), both
 * started by this file: password and application-credential logins, the
 * catalog's object-store endpoint, and a Swift media store through it. The
 * Glance image source finds its endpoint in the same catalog (the Glance
 * behind it is the stand-in: there is no real Glance here).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GlanceClient, publishImage } from '../../lib/images';
import { BuiltinMediaStore, SwiftMediaStore } from '../../lib/store';
import { OpenStackError, OpenStackSession, SwiftClient, createHttpAgent, type KeystonePasswordConfig } from '../../lib/swift';
import { needTools } from '../helpers/env';
import { startGlanceStandIn, type GlanceStandIn } from '../helpers/glance-standin';
import { iloFetch } from '../helpers/ilo-fetch';
import { KEYSTONE_TOOLS, startKeystone, type Keystone } from '../helpers/keystone';
import { streamOf } from '../helpers/media-store-suite';
import { SAIO_TOOLS, startSaio, type Saio } from '../helpers/swift-saio';

const skip = needTools(...SAIO_TOOLS, ...KEYSTONE_TOOLS);

describe('Keystone v3 with a real Keystone and a Keystone-authenticated Swift', { skip }, () => {
  let ks: Keystone;
  let saio: Saio;
  let glance: GlanceStandIn;
  let demoProject: string;
  let password: KeystonePasswordConfig;
  let appCred: { id: string; secret: string };
  const clients: SwiftClient[] = [];

  before(async () => {
    ks = await startKeystone();
    const service = await ks.createProject('service');
    await ks.createUser('swift', 'swiftpass', service, 'admin');
    saio = await startSaio({ maxFileSize: 2 * 1024 * 1024, keystone: { url: ks.url, swiftUser: 'swift', swiftPassword: 'swiftpass', serviceProject: 'service' } });
    await ks.registerService('object-store', 'swift', `${saio.keystoneProxyUrl}/v1/AUTH_%(project_id)s`);
    demoProject = await ks.createProject('demo');
    const demoUser = await ks.createUser('demo', 'demo-secret-71', demoProject, 'member');
    const demoToken = await ks.tokenFor('demo', 'demo-secret-71', 'demo');
    const created = await ks.api<{ application_credential: { id: string; secret: string } }>(
      'POST',
      `/users/${demoUser}/application_credentials`,
      { application_credential: { name: 'ilo-media' } },
      demoToken,
    );
    appCred = created.application_credential;
    const admin = await ks.adminToken();
    glance = await startGlanceStandIn(async (token) => {
      const res = await fetch(`${ks.url}/auth/tokens`, { headers: { 'x-auth-token': admin, 'x-subject-token': token } });
      await res.arrayBuffer();
      return res.status === 200;
    });
    await ks.registerService('image', 'glance', glance.url);
    password = { type: 'keystone-password', authUrl: ks.url.replace(/\/v3$/, ''), username: 'demo', password: 'demo-secret-71', projectName: 'demo' };
  });
  after(async () => {
    for (const c of clients) await c.close();
    await glance?.close();
    await saio?.stop();
    await ks?.stop();
  });
  const client = (auth: ConstructorParameters<typeof SwiftClient>[0]['auth']): SwiftClient => {
    const c = new SwiftClient({ auth });
    clients.push(c);
    return c;
  };

  test('password: a project-scoped token whose catalog names the Keystone-authenticated Swift for the project', async () => {
    const c = client(password);
    assert.equal(await c.storageUrl(), `${saio.keystoneProxyUrl}/v1/AUTH_${demoProject}`);
    await c.putContainer('hello');
    await c.putObject('hello', 'world', Buffer.from('via keystone'));
    assert.equal((await c.headObject('hello', 'world'))?.size, 12);
    assert.equal(c.session.stats.logins, 1);
  });

  test('a wrong password is refused with an auth error that does not contain it', async () => {
    const c = client({ ...password, password: 'wrong-pw-5521' });
    await assert.rejects(c.headAccount(), (err: unknown) => err instanceof OpenStackError && err.service === 'keystone' && err.code === 'auth' && !err.message.includes('wrong-pw-5521'));
  });

  test('application credential: the same project, without a user name or password', async () => {
    const c = client({ type: 'keystone-application-credential', authUrl: ks.url, applicationCredentialId: appCred.id, applicationCredentialSecret: appCred.secret });
    assert.equal(await c.storageUrl(), `${saio.keystoneProxyUrl}/v1/AUTH_${demoProject}`);
    await c.putContainer('appcred');
    assert.deepEqual(await c.listObjects('appcred'), []);
  });

  test('a token past its renewal time is replaced by a new login', async () => {
    let skew = 0;
    const agent = createHttpAgent();
    try {
      const session = new OpenStackSession({ auth: password, agent, now: () => Date.now() + skew });
      const first = (await session.grant()).token;
      assert.equal((await session.grant()).token, first);
      skew = 3600 * 1000 - 1000; // Keystone tokens live an hour by default
      assert.notEqual((await session.grant()).token, first);
      assert.equal(session.stats.logins, 2);
    } finally {
      await agent.close();
    }
  });

  test('a Swift media store authenticated by application credential publishes, and its temp URLs are accepted', async () => {
    const c = client({ type: 'keystone-application-credential', authUrl: ks.url, applicationCredentialId: appCred.id, applicationCredentialSecret: appCred.secret });
    await c.setTempUrlKey('keystone-account-key');
    const store = new SwiftMediaStore({ client: c, container: 'ilo_media', tempUrl: { digest: 'sha1' } });
    const data = randomBytes(5 * 1024 * 1024);
    const p = await store.publish('deploy.iso', streamOf(data), { ttlSeconds: 120, size: data.length });
    assert.ok(p.url.startsWith(`${saio.keystoneProxyUrl}/v1/AUTH_${demoProject}/ilo_media/deploy.iso?temp_url_sig=`));
    const r = await iloFetch(p.url, { range: 'bytes=3000000-3004095', hostWithoutPort: true });
    assert.equal(r.status, 206);
    assert.ok(r.body.equals(data.subarray(3000000, 3004096)));
    await store.unpublish('deploy.iso');
    assert.equal((await iloFetch(p.url)).status, 404);
  });

  test('Glance image source: endpoint from the catalog, token checked by Keystone, os_hash (sha512) verified while streaming', async () => {
    const data = randomBytes(400_000);
    glance.add({ id: '6a1f3c2e-0d4b-4b8e-9a51-2f7e0c1d9b10', name: 'ubuntu-22.04', data, disk_format: 'qcow2' });
    const dir = await mkdtemp(join(tmpdir(), 'ilo-ks-glance-'));
    const store = await BuiltinMediaStore.open({ stateDir: dir });
    const agent = createHttpAgent();
    try {
      const g = new GlanceClient({ session: new OpenStackSession({ auth: password, agent }), agent });
      const p = await publishImage(store, 'glance:6a1f3c2e-0d4b-4b8e-9a51-2f7e0c1d9b10', { ttlSeconds: 60, sources: { glance: g } });
      assert.equal(p.name, 'ubuntu-22.04.qcow2');
      assert.equal(p.verified, true);
      assert.deepEqual(p.checksum, { algorithm: 'sha512', value: createHash('sha512').update(data).digest('hex') });
      assert.ok((await iloFetch(p.url)).body.equals(data));
      assert.ok(glance.requests.includes('GET /v2/images/6a1f3c2e-0d4b-4b8e-9a51-2f7e0c1d9b10/file'));
    } finally {
      await store.close();
      await agent.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
