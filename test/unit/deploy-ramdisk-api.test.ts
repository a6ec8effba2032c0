/**
 * The ramdisk API negotiates its version as Ironic does (ironic/api/controllers/base.py
 * and v1/__init__.py: the standard OpenStack-API-Version header, else the
 * legacy one, else the minimum; "latest"; 406 out of range).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createRamdiskApi } from '../../lib/deploy/ramdisk-api';

describe('ramdisk API version negotiation', () => {
  let server: Server;
  let url = '';
  before(async () => {
    const handler = createRamdiskApi({ findForRamdisk: async () => ({ id: 'd-1' }), callback: async () => ({ status: 202, message: 'accepted' }) });
    server = createServer((req, res) => void handler(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const ask = async (headers: Record<string, string>, path = '/v1/lookup?addresses=52:54:00:12:34:56'): Promise<Response> => fetch(`${url}${path}`, { headers });

  test('the version asked for comes back; none asked is the minimum; "latest" is the maximum; the standard header wins', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{}, '1.1'],
      [{ 'X-OpenStack-Ironic-API-Version': '1.31' }, '1.31'],
      [{ 'X-OpenStack-Ironic-API-Version': 'latest' }, '1.68'],
      [{ 'OpenStack-API-Version': 'compute 2.1, baremetal 1.50' }, '1.50'],
      [{ 'OpenStack-API-Version': 'baremetal 1.62', 'X-OpenStack-Ironic-API-Version': '1.20' }, '1.62'],
      [{ 'OpenStack-API-Version': 'compute 2.90', 'X-OpenStack-Ironic-API-Version': '1.22' }, '1.22'],
    ];
    for (const [headers, version] of cases) {
      for (const path of ['/v1/lookup?addresses=52:54:00:12:34:56', '/', '/v1']) {
        const res = await ask(headers, path);
        assert.equal(res.status, 200, `${JSON.stringify(headers)} ${path}`);
        assert.equal(res.headers.get('x-openstack-ironic-api-version'), version, `${JSON.stringify(headers)} ${path}`);
        assert.equal(res.headers.get('x-openstack-ironic-api-minimum-version'), '1.1');
        assert.equal(res.headers.get('x-openstack-ironic-api-maximum-version'), '1.68');
      }
    }
    const hb = await fetch(`${url}/v1/heartbeat/d-1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-OpenStack-Ironic-API-Version': '1.68' },
      body: JSON.stringify({ callback_url: 'http://10.0.0.5:9999', agent_token: 't' }),
    });
    assert.equal(hb.status, 202);
    assert.equal(hb.headers.get('x-openstack-ironic-api-version'), '1.68');
  });

  test('a version out of range, of another major, or malformed is refused with 406, saying the range', async () => {
    const cases: Array<[string, RegExp]> = [
      ['1.99', /^Version 1\.99 was requested but the minor version is not supported by this service\. The supported version range is: \[1\.1, 1\.68\]\.$/],
      ['1.0', /^Version 1\.0 was requested but the minor version is not supported/],
      ['2.1', /^Mutually exclusive versions requested\. Version 2\.1 requested but not supported by this service\. The supported version range is: \[1\.1, 1\.68\]\.$/],
      ['one.two', /^Invalid value for X-OpenStack-Ironic-API-Version header$/],
      ['1', /^Invalid value for X-OpenStack-Ironic-API-Version header$/],
    ];
    for (const [version, message] of cases) {
      const res = await ask({ 'X-OpenStack-Ironic-API-Version': version });
      assert.equal(res.status, 406, version);
      assert.equal(res.headers.get('x-openstack-ironic-api-maximum-version'), '1.68');
      assert.equal(res.headers.get('x-openstack-ironic-api-version'), null, 'no version was negotiated');
      const body = (await res.json()) as { error_message: string };
      assert.match((JSON.parse(body.error_message) as { faultstring: string }).faultstring, message, version);
    }
    assert.equal((await ask({ 'OpenStack-API-Version': 'baremetal 3.0' })).status, 406);
  });
});
