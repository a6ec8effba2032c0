/** The agent client's command polling, against a small stand-in agent on loopback. */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { AgentClient } from '../../lib/deploy/agent-client';

describe('agent client polling', () => {
  let server: Server;
  let polls = 0;
  let url = '';
  before(async () => {
    server = createServer((_req, res) => {
      polls++;
      const status = polls < 25 ? 'RUNNING' : 'SUCCEEDED';
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ commands: [{ id: '1', command_name: 'prepare_image', command_status: status, command_result: null, command_error: null }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  test('a long wait leaves no abort listeners behind on the step signal (one per pause would pile up)', async () => {
    const step = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (w: Error): number => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const done = await new AgentClient(url, 'token').waitFor('prepare_image', { timeoutMs: 30_000, intervalMs: 1, signal: step.signal });
      assert.equal(done.command_status, 'SUCCEEDED');
      assert.ok(polls >= 25, `polled ${polls} times`);
      await new Promise((r) => setImmediate(r));
      // At most the HTTP client's own, for the last request: not one per pause.
      assert.ok(getEventListeners(step.signal, 'abort').length <= 1, `${getEventListeners(step.signal, 'abort').length} abort listeners left`);
      assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning'), []);
    } finally {
      process.off('warning', onWarning);
    }
  });

  test('aborting the step ends a pause at once with its reason', async () => {
    polls = 0;
    const step = new AbortController();
    const waiting = new AgentClient(url, 'token').waitFor('prepare_image', { timeoutMs: 30_000, intervalMs: 60_000, signal: step.signal });
    setTimeout(() => step.abort(new Error('deploy cancelled')), 100);
    await assert.rejects(waiting, /deploy cancelled/);
  });
});

describe('agent client: a failed command', () => {
  let server: Server;
  let url = '';
  // What ironic-python-agent answers after an image failed its checksum (ImageChecksumError, serialised as the agent does).
  const failed = {
    id: '2',
    command_name: 'prepare_image',
    command_status: 'FAILED',
    command_result: null,
    command_error: {
      type: 'ImageChecksumError',
      code: 500,
      message: 'Error verifying image checksum',
      details:
        'Image failed to verify against checksum. location: https://swift.example:8080/v1/AUTH_test/ilo_media/agent_ilo-x-image?temp_url_sig=5bd1c2&temp_url_expires=1700000000; image ID: x; image checksum: 0123abcd; verification checksum: 4567ef00',
    },
  };
  before(async () => {
    server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(req.method === 'POST' ? failed : { commands: [failed] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  test("keeps the agent's details (the checksums), not only its generic message, and no URL's signature", async () => {
    const check = (err: Error): boolean => {
      assert.match(err.message, /^prepare_image failed in the agent: Error verifying image checksum: Image failed to verify against checksum\. location: https:\/\/swift\.example:8080\/v1\/AUTH_test\/ilo_media\/agent_ilo-x-image\?…; image ID: x; image checksum: 0123abcd; verification checksum: 4567ef00$/);
      assert.doesNotMatch(err.message, /temp_url_sig|5bd1c2/);
      return true;
    };
    await assert.rejects(new AgentClient(url, 'token').waitFor('prepare_image', { timeoutMs: 5000, intervalMs: 1 }), check);
    await assert.rejects(new AgentClient(url, 'token').run('standby.prepare_image', {}, true), (err: Error) => {
      assert.match(err.message, /^standby\.prepare_image failed in the agent: Error verifying image checksum: Image failed .*verification checksum: 4567ef00$/);
      return true;
    });
  });
});
