/**
 * The HTTP API as a client (or a hostile web page) meets it: every
 * documented endpoint and this package's admin endpoints answer a body that
 * is not JSON, a body over the limit and a URL that does not decode with a
 * JSON error (no stack, no server path), in the demo and in a user's own
 * flows with the editor and the flows under different roots; the demo
 * refuses requests from other origins and other Host names; with
 * `npm start -- --secure` the editor and the API need credentials while the
 * deploy ramdisks still call back, and a deploy runs to active.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDemo, type RunningDemo } from '../helpers/demo';
import { repoRoot } from '../helpers/env';
import { NodeRedProcess } from '../helpers/node-red-process';

const JSON_TYPE = { 'content-type': 'application/json' };
const BIG = JSON.stringify({ server: 'x'.repeat(6 * 1024 * 1024) });

/** A JSON error: the status, a JSON body with `error`, nothing of the server's insides. */
async function jsonError(res: Response, status: number, what: string): Promise<{ error: string; code?: string }> {
  const text = await res.text();
  assert.equal(res.status, status, `${what}: ${text.slice(0, 300)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `${what}: content-type`);
  const body = JSON.parse(text) as { error: string; code?: string };
  assert.equal(typeof body.error, 'string', `${what}: an error message`);
  assert.doesNotMatch(text, /\n\s+at |node_modules|\.js:\d+|<html|<pre>/i, `${what}: no stack, no page`);
  assert.ok(!text.includes(repoRoot), `${what}: no server path`);
  return body;
}

/** A raw request (fetch cannot send a Host header of its choosing). */
function raw(url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The endpoints the README documents (flows) and the package's admin endpoints, with a valid-looking path. */
const POSTS = ['/servers/server-1/power', '/agent_ilo/deploy', '/iscsi_ilo/deploy', '/pxe_ilo/deploy', '/ilo-config/test', '/ilo-config/certificate', '/ilo-media-store/test'];

describe('the demo HTTP API', () => {
  let demo: RunningDemo;
  before(async () => {
    demo = await startDemo();
  });
  after(async () => {
    await demo?.stop();
  });

  test('a body that is not JSON, or too large: a JSON 400 / 413 on every endpoint', async () => {
    for (const path of POSTS) {
      const bad = await fetch(`${demo.url}${path}`, { method: 'POST', headers: JSON_TYPE, body: '{"server": "server-1",' });
      assert.equal((await jsonError(bad, 400, `malformed ${path}`)).code, 'invalid-input');
      const big = await fetch(`${demo.url}${path}`, { method: 'POST', headers: JSON_TYPE, body: BIG });
      assert.equal((await jsonError(big, 413, `oversize ${path}`)).code, 'too-large');
    }
    const del = await fetch(`${demo.url}/agent_ilo/deploy/abc`, { method: 'DELETE', headers: JSON_TYPE, body: '{' });
    await jsonError(del, 400, 'malformed DELETE');
  });

  test('a URL that does not decode: a JSON 400', async () => {
    for (const [method, path] of [
      ['GET', '/agent_ilo/deploy/%E0%A4%A'],
      ['DELETE', '/iscsi_ilo/deploy/%E0%A4%A'],
      ['GET', '/servers/%E0%A4%A/health'],
      ['POST', '/servers/%E0%A4%A/power'],
    ] as const) {
      const res = await fetch(`${demo.url}${path}`, { method, headers: JSON_TYPE, ...(method === 'POST' ? { body: '{}' } : {}) });
      assert.equal((await jsonError(res, 400, `${method} ${path}`)).code, 'invalid-input');
    }
  });

  test('"wait" must be a boolean: "yes" is a 400 naming the field', async () => {
    const res = await fetch(`${demo.url}/servers/server-1/power`, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ action: 'status', wait: 'yes' }) });
    const body = await jsonError(res, 400, 'wait "yes"');
    assert.match(body.error, /msg\.wait: expected true or false/);
  });

  test('another origin cannot drive it: deploy, undeploy, power and the admin test endpoints refuse it; nothing happens', async () => {
    const evil = { origin: 'http://evil.example' };
    const attempts: Array<[string, string, Record<string, string>, string | undefined]> = [
      ['POST', '/servers/server-1/power', { ...JSON_TYPE, ...evil }, JSON.stringify({ action: 'on' })],
      // A form post needs no preflight: the browser sends it as is.
      ['POST', '/servers/server-1/power', { 'content-type': 'application/x-www-form-urlencoded', ...evil }, 'action=on'],
      ['POST', '/agent_ilo/deploy', { ...JSON_TYPE, ...evil }, JSON.stringify({ server: 'server-1' })],
      ['POST', '/agent_ilo/deploy', { 'content-type': 'text/plain', ...evil }, JSON.stringify({ server: 'server-1' })],
      ['DELETE', '/agent_ilo/deploy/x', evil, undefined],
      ['GET', '/agent_ilo/deploy/x', { ...evil, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' }, undefined],
      ['POST', '/ilo-config/test', { ...JSON_TYPE, ...evil }, JSON.stringify({ host: '127.0.0.1', port: 22 })],
      ['POST', '/ilo-media-store/test', { ...JSON_TYPE, ...evil }, '{}'],
      // A page that hides its origin (a sandboxed frame: "null"), or a fetch without Origin but marked cross-site.
      ['POST', '/servers/server-1/power', { ...JSON_TYPE, origin: 'null' }, JSON.stringify({ action: 'on' })],
      ['POST', '/servers/server-1/power', { ...JSON_TYPE, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' }, JSON.stringify({ action: 'on' })],
    ];
    for (const [method, path, headers, body] of attempts) {
      const res = await fetch(`${demo.url}${path}`, { method, headers, body });
      assert.equal((await jsonError(res, 403, `${method} ${path} from ${JSON.stringify(headers)}`)).code, 'forbidden');
      assert.equal(res.headers.get('access-control-allow-origin'), null, `${method} ${path}: no CORS grant on the refusal`);
    }
    // DNS rebinding: the attacker's name resolving to 127.0.0.1.
    const rebound = await raw(`${demo.url}/servers/server-1/power`, 'POST', { host: `evil.example:${demo.port}`, ...JSON_TYPE }, JSON.stringify({ action: 'on' }));
    assert.equal(rebound.status, 421, rebound.text);
    // Nothing was powered on, and no deploy started.
    const status = await fetch(`${demo.url}/servers/server-1/power`, { method: 'POST', headers: { ...JSON_TYPE, origin: demo.url }, body: JSON.stringify({ action: 'status' }) });
    assert.equal(status.status, 200, 'the same origin is served');
    assert.equal(((await status.json()) as { powerState: string }).powerState, 'off');
    assert.doesNotMatch(demo.output(), /deploy [0-9a-f-]+ \(server-1\)/);
  });
});

describe('a user flow, the editor and the flows under different roots (httpAdminRoot /admin, httpNodeRoot /api)', () => {
  let red: NodeRedProcess;
  before(async () => {
    red = await NodeRedProcess.start({ roots: { admin: '/admin', node: '/api' } });
    await red.deploy([
      { id: 'user-tab', type: 'tab', label: 'my API' },
      { id: 'user-in', type: 'http in', z: 'user-tab', url: '/things/:name', method: 'post', wires: [['user-out']] },
      { id: 'user-out', type: 'http response', z: 'user-tab', statusCode: '200', wires: [] },
    ]);
  });
  after(async () => {
    await red?.stop();
  });

  test("a bad body or URL on the user's own http-in route and on the admin endpoints: JSON errors", async () => {
    const ok = await fetch(`${red.url}/api/things/a`, { method: 'POST', headers: JSON_TYPE, body: '{"a":1}' });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { a: 1 }, 'a good body still reaches the flow, parsed');
    await jsonError(await fetch(`${red.url}/api/things/a`, { method: 'POST', headers: JSON_TYPE, body: '{"a":' }), 400, 'malformed /api');
    await jsonError(await fetch(`${red.url}/api/things/a`, { method: 'POST', headers: JSON_TYPE, body: BIG }), 413, 'oversize /api');
    await jsonError(await fetch(`${red.url}/api/things/%E0%A4%A`, { method: 'POST', headers: JSON_TYPE, body: '{}' }), 400, 'bad URL /api');
    await jsonError(await fetch(`${red.url}/admin/ilo-config/test`, { method: 'POST', headers: JSON_TYPE, body: '{' }), 400, 'malformed admin');
    await jsonError(await fetch(`${red.url}/admin/ilo-config/test`, { method: 'POST', headers: JSON_TYPE, body: BIG }), 413, 'oversize admin');
    assert.doesNotMatch(red.output(), /SyntaxError|PayloadTooLargeError|URIError/, 'no stack in the log either');
  });
});

describe('npm start -- --secure', () => {
  let demo: RunningDemo;
  let auth: string;
  before(async () => {
    demo = await startDemo({ ILO_DEMO_SECURE: '1' });
    auth = `Basic ${Buffer.from(`api:${readFileSync(join(demo.dir, 'api-password'), 'utf8').trim()}`).toString('base64')}`;
  });
  after(async () => {
    await demo?.stop();
  });

  test('the editor and the API need credentials; with them a deploy runs to active (the ramdisk still calls back)', async () => {
    assert.match(demo.output(), /Secured:/);
    assert.equal((await fetch(`${demo.url}/flows`)).status, 401, 'the Admin API needs a login');
    assert.equal((await fetch(`${demo.url}/ilo-config/test`, { method: 'POST', headers: JSON_TYPE, body: '{}' })).status, 401, 'the admin test endpoint too');
    const anonymous = await fetch(`${demo.url}/agent_ilo/deploy`, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ server: 'server-1' }) });
    assert.equal((await jsonError(anonymous, 401, 'deploy without credentials')).code, 'unauthorized');
    const wrong = await fetch(`${demo.url}/servers/server-1/power`, { method: 'POST', headers: { ...JSON_TYPE, authorization: `Basic ${Buffer.from('api:wrong').toString('base64')}` }, body: '{"action":"status"}' });
    assert.equal(wrong.status, 401);

    // The editor's login, as the editor does it.
    const token = await fetch(`${demo.url}/auth/token`, {
      method: 'POST',
      headers: JSON_TYPE,
      body: JSON.stringify({ client_id: 'node-red-editor', grant_type: 'password', scope: '*', username: 'admin', password: readFileSync(join(demo.dir, 'admin-password'), 'utf8').trim() }),
    });
    assert.equal(token.status, 200);
    const { access_token } = (await token.json()) as { access_token: string };
    assert.equal((await fetch(`${demo.url}/flows`, { headers: { authorization: `Bearer ${access_token}` } })).status, 200);

    const started = await fetch(`${demo.url}/agent_ilo/deploy`, { method: 'POST', headers: { ...JSON_TYPE, authorization: auth }, body: JSON.stringify({ server: 'server-1' }) });
    const body = (await started.json()) as { deployId: string };
    assert.equal(started.status, 202, JSON.stringify(body));
    const end = Date.now() + 240_000;
    let state = '';
    while (state !== 'active') {
      assert.ok(Date.now() < end, `not active: ${state}\n${demo.output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 1000));
      const res = await fetch(`${demo.url}/agent_ilo/deploy/${body.deployId}`, { headers: { authorization: auth } });
      const s = (await res.json()) as { state: string; lastError?: string };
      assert.notEqual(s.state, 'deploy failed', s.lastError);
      state = s.state;
    }
  });
});
