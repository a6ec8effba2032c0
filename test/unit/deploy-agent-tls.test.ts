/**
 * Agent TLS as Ironic does it (ironic/api/controllers/v1/ramdisk.py,
 * conductor/utils.py store_agent_certificate, drivers/modules/agent_client.py
 * _get_verify): the heartbeat's agent_verify_ca (API 1.68), pinned at the
 * first heartbeat, a change refused, and the agent client trusting exactly
 * that certificate, with the host checked against it. The certificates are
 * shaped as ironic-python-agent's own (sim/ramdisk/agent-cert.ts).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AgentClient } from '../../lib/deploy/agent-client';
import { agentTrust, heartbeatCaFault, parseAgentTlsSettings } from '../../lib/deploy/agent-tls';
import { checkCallback } from '../../lib/deploy/callbacks';
import { createRamdiskApi } from '../../lib/deploy/ramdisk-api';
import type { DeployRecord } from '../../lib/deploy/types';
import { createFleetCa } from '../../sim/certs';
import { generateAgentCertificate, type AgentCertificate } from '../../sim/ramdisk/agent-cert';

function waitingRecord(data: DeployRecord['data']): DeployRecord {
  const now = new Date().toISOString();
  return {
    id: 'd-1',
    serverKey: 'ilo:443',
    serverName: 'server-1',
    refs: {},
    method: 'agent_ilo',
    action: 'deploy',
    state: 'wait call-back',
    request: { method: 'agent_ilo', image: '/img' },
    steps: [],
    completed: [],
    token: 'tok',
    data,
    published: [],
    createdAt: now,
    updatedAt: now,
  };
}

describe('agent TLS: the heartbeat', () => {
  let mine: AgentCertificate;
  let other: AgentCertificate;
  before(async () => {
    mine = await generateAgentCertificate('10.0.0.5', 'ipa-host');
    other = await generateAgentCertificate('10.0.0.5', 'ipa-host');
  });

  test('the simulated agent\'s certificate has the real agent\'s shape: self-signed, EC P-384, CN the host name, the address as its only (IP) subjectAltName', () => {
    const x = new X509Certificate(mine.cert);
    assert.equal(x.subject, 'CN=ipa-host');
    assert.equal(x.issuer, x.subject);
    assert.equal(x.subjectAltName, 'IP Address:10.0.0.5');
    assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'secp384r1');
    assert.ok(x.verify(x.publicKey), 'self-signed');
  });

  test('agent_verify_ca is refused below API 1.68 (Ironic\'s words), and must be a PEM certificate; absent or empty is no certificate', () => {
    assert.equal(heartbeatCaFault({ agent_verify_ca: mine.cert }, '1.67'), 'Field "agent_verify_ca" not recognised in this version');
    assert.equal(heartbeatCaFault({ agent_verify_ca: mine.cert }, '1.68'), undefined);
    assert.match(heartbeatCaFault({ agent_verify_ca: 42 }, '1.68') ?? '', /"agent_verify_ca" must be a string/);
    assert.match(heartbeatCaFault({ agent_verify_ca: 'hello' }, '1.68') ?? '', /"agent_verify_ca" is not a PEM certificate/);
    assert.match(heartbeatCaFault({ agent_verify_ca: '-----BEGIN CERTIFICATE-----\nAAAA' }, '1.68') ?? '', /not a PEM certificate: a certificate block has no END line/);
    for (const v of [undefined, null, '']) assert.equal(heartbeatCaFault({ agent_verify_ca: v }, '1.1'), undefined);
  });

  test('the ramdisk API answers 400 to agent_verify_ca asked at 1.67, and passes it on at 1.68', async () => {
    const seen: Record<string, unknown>[] = [];
    const handler = createRamdiskApi({ findForRamdisk: async () => undefined, callback: async (_id, _kind, _token, body) => (seen.push(body), { status: 202, message: 'accepted' }) });
    const server: Server = createHttpServer((req, res) => void handler(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/heartbeat/d-1`;
      const post = (version: string): Promise<Response> =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'X-OpenStack-Ironic-API-Version': version }, body: JSON.stringify({ callback_url: 'https://10.0.0.5:9999', agent_token: 'tok', agent_verify_ca: mine.cert }) });
      const old = await post('1.67');
      assert.equal(old.status, 400);
      assert.equal(((await old.json()) as { faultstring: string }).faultstring, 'Field "agent_verify_ca" not recognised in this version');
      assert.equal(seen.length, 0, 'nothing reached the engine');
      assert.equal((await post('1.68')).status, 202);
      assert.equal(seen[0]?.agent_verify_ca, mine.cert);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test('once pinned, a heartbeat with another certificate is refused (400, Ironic\'s message, a log line naming both); the same one (even re-wrapped) or none is accepted', () => {
    const r = waitingRecord({ agentUrl: 'https://10.0.0.5:9999', agentVerifyCa: mine.cert });
    r.completed.push('callback:heartbeat');
    const body = (ca?: string): Record<string, unknown> => ({ callback_url: 'https://10.0.0.5:9999', agent_token: 'tok', ...(ca === undefined ? {} : { agent_verify_ca: ca }) });
    const refused = checkCallback(r, 'heartbeat', 'tok', body(other.cert));
    assert.equal(refused.status, 400);
    assert.equal(refused.message, 'Detected change in ramdisk provided "agent_verify_ca"');
    assert.equal(refused.post, false);
    assert.match(refused.log ?? '', /not the one its first heartbeat sent/);
    assert.match(refused.log ?? '', /SHA-256 [0-9A-F:]+…/);
    assert.equal(checkCallback(r, 'heartbeat', 'tok', body(mine.cert.replace(/\n/g, '\r\n'))).status, 202);
    assert.equal(checkCallback(r, 'heartbeat', 'tok', body()).status, 202);
    // The token is checked first: a wrong one learns nothing about the certificate.
    assert.equal(checkCallback(r, 'heartbeat', 'nope', body(other.cert)).status, 401);
  });

  test('with TLS required, an http:// callback_url is refused (Ironic\'s "TLS is required by configuration"); https passes', () => {
    const r = waitingRecord({});
    const plain = checkCallback(r, 'heartbeat', 'tok', { callback_url: 'http://10.0.0.5:9999' }, { requireTls: true });
    assert.equal(plain.status, 400);
    assert.equal(plain.message, 'TLS is required by configuration');
    assert.match(plain.log ?? '', /http:\/\/10\.0\.0\.5:9999 does not use TLS.*iloDeployAgentRequireTls/);
    assert.equal(checkCallback(r, 'heartbeat', 'tok', { callback_url: 'https://10.0.0.5:9999' }, { requireTls: true }).status, 202);
    assert.equal(checkCallback(r, 'heartbeat', 'tok', { callback_url: 'http://10.0.0.5:9999' }).status, 202, 'not required: accepted');
  });

  test('settings.js: the agent CA as a file or as PEM text, require-TLS a boolean; what is wrong is said and left out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-tls-'));
    try {
      const file = join(dir, 'ca.pem');
      writeFileSync(file, mine.cert);
      assert.deepEqual(parseAgentTlsSettings({ ca: file, requireTls: true }), { ca: mine.cert, requireTls: true, problems: [] });
      assert.deepEqual(parseAgentTlsSettings({ ca: mine.cert }), { ca: mine.cert, requireTls: false, problems: [] });
      assert.deepEqual(parseAgentTlsSettings({}), { ca: undefined, requireTls: false, problems: [] });
      const bad = parseAgentTlsSettings({ ca: join(dir, 'missing.pem'), requireTls: 'yes' });
      assert.equal(bad.ca, undefined);
      assert.equal(bad.requireTls, false);
      assert.deepEqual(bad.problems, ['iloDeployAgentRequireTls: expected true or false, got "yes"', `iloDeployAgentCa: cannot read ${join(dir, 'missing.pem')}: ENOENT`]);
      writeFileSync(file, 'not a certificate');
      assert.match(parseAgentTlsSettings({ ca: file }).problems[0] ?? '', /^iloDeployAgentCa: not a PEM certificate/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('agent TLS: the agent client trusts exactly what it is given', () => {
  const address = '127.0.0.1';
  let mine: AgentCertificate;
  let elsewhere: AgentCertificate;
  let signed: AgentCertificate;
  let operatorCa: string;
  const servers: Server[] = [];

  /** A stand-in agent serving HTTPS with `cert`; it answers the command list. */
  async function agentWith(cert: AgentCertificate): Promise<string> {
    const server = createServer({ key: cert.key, cert: cert.cert }, (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ commands: [] }));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, address, () => r()));
    return `https://${address}:${(server.address() as AddressInfo).port}`;
  }

  before(async () => {
    mine = await generateAgentCertificate(address, 'ipa-host');
    elsewhere = await generateAgentCertificate('127.0.0.2', 'ipa-host');
    const ca = await createFleetCa('operator agent CA');
    const leaf = await ca.issue('agent', [address]);
    signed = { key: leaf.key, cert: leaf.cert };
    operatorCa = ca.cert;
  });
  after(async () => {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  });

  test('pinned: the agent presenting the certificate from its heartbeat is reached', async () => {
    const url = await agentWith(mine);
    assert.deepEqual(await new AgentClient(url, 'tok', { trust: agentTrust(mine.cert, operatorCa) }).list(), []);
  });

  test('pinned: another certificate for the same address is refused, even when the operator CA would accept it', async () => {
    const url = await agentWith(signed);
    await assert.rejects(new AgentClient(url, 'tok', { trust: agentTrust(mine.cert, operatorCa) }).list(), (err: Error) => {
      assert.match(err.message, /^the agent at 127\.0\.0\.1:\d+ is not trusted: its TLS certificate is not the one it sent in its first heartbeat/);
      return true;
    });
  });

  test('pinned: its own certificate, but made for another address than the callback URL\'s, is refused (the host check, as any TLS client does)', async () => {
    const url = await agentWith(elsewhere);
    await assert.rejects(new AgentClient(url, 'tok', { trust: agentTrust(elsewhere.cert, undefined) }).list(), /not trusted: .*ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  test('no certificate in the heartbeat: the operator CA verifies the agent\'s own certificate; without it, the error says what to configure', async () => {
    const url = await agentWith(signed);
    assert.deepEqual(await new AgentClient(url, 'tok', { trust: agentTrust(undefined, operatorCa) }).list(), []);
    await assert.rejects(new AgentClient(url, 'tok', { trust: agentTrust(undefined, undefined) }).list(), (err: Error) => {
      assert.match(err.message, /not trusted: it sent no certificate in its heartbeat \(agent_verify_ca\) and no CA of this system signed its TLS certificate/);
      assert.match(err.message, /give the CA that signs the agents' certificates in settings\.js iloDeployAgentCa$/);
      return true;
    });
    const self = await agentWith(mine);
    await assert.rejects(new AgentClient(self, 'tok', { trust: agentTrust(undefined, operatorCa) }).list(), /not trusted: its TLS certificate is not signed by the agent CA/);
  });
});
