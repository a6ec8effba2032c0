/**
 * A broken or hostile Redfish service: answers the client must not take
 * for a success or let escape as an untyped error. The peer here is a small
 * HTTPS server that answers what no simulated (or real) iLO sends: a power
 * action answered with 303 See Other, a redirect loop, a PowerState that is
 * an object.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { BmcError } from '../../lib/bmc/errors';
import { RedfishBmc } from '../../lib/bmc/redfish/provider';
import { createFleetCa } from '../../sim/certs';

type Answer = { status: number; headers?: Record<string, string>; body?: unknown };

const SYSTEM = '/redfish/v1/Systems/1/';
const RESET = `${SYSTEM}Actions/ComputerSystem.Reset/`;

describe('Redfish client against a hostile service', () => {
  let server: Server;
  let ca: string;
  let port: number;
  /** What the system resource reports as PowerState. */
  let powerState: unknown = 'On';
  const resets: string[] = [];

  const answer = (method: string, path: string, body: string): Answer => {
    if (path === '/redfish/v1/') return { status: 200, body: { '@odata.id': path, Systems: { '@odata.id': '/redfish/v1/Systems/' } } };
    if (path.startsWith('/redfish/v1/Systems/?')) return { status: 200, body: { Members: [{ '@odata.id': SYSTEM }] } };
    if (path === SYSTEM) {
      return {
        status: 200,
        body: { '@odata.id': SYSTEM, PowerState: powerState, Actions: { '#ComputerSystem.Reset': { target: RESET } }, Oem: { Hpe: { Actions: { '#HpeComputerSystemExt.SystemReset': { target: '/loop/0/' } } } } },
      };
    }
    // The power action "done" elsewhere: 303 See Other, the server did nothing.
    if (method === 'POST' && path === RESET) {
      resets.push(body);
      return { status: 303, headers: { location: SYSTEM } };
    }
    // A redirect loop: /loop/N/ -> /loop/N+1/ forever.
    const loop = /^\/loop\/(\d+)\/$/.exec(path);
    if (loop) return { status: 307, headers: { location: `/loop/${Number(loop[1]) + 1}/` } };
    return { status: 404, body: {} };
  };

  before(async () => {
    const fleetCa = await createFleetCa('hostile');
    const leaf = await fleetCa.issue('hostile-redfish');
    ca = fleetCa.cert;
    server = createServer({ key: leaf.key, cert: leaf.cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const a = answer(req.method ?? 'GET', req.url ?? '/', Buffer.concat(chunks).toString());
        const text = a.body === undefined ? '' : JSON.stringify(a.body);
        res.writeHead(a.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...a.headers });
        res.end(text);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const bmc = (): RedfishBmc => new RedfishBmc({ host: '127.0.0.1', port, username: 'u', password: 'p', tls: { mode: 'ca', ca }, redfishAuth: 'basic', requestTimeoutMs: 3000 });

  test('a power action answered 303 See Other is an error, not a success', async () => {
    const b = bmc();
    try {
      await assert.rejects(b.powerOn(), (err: unknown) => {
        assert.ok(err instanceof BmcError, `a BmcError, got ${String(err)}`);
        assert.equal(err.code, 'protocol');
        assert.match(err.message, /303/);
        return true;
      });
      assert.equal(resets.length, 1, 'the action was sent once (a 303 is not followed by a GET taken for the result)');
    } finally {
      await b.close();
    }
  });

  test('a redirect loop is an error after a few hops, not a success', async () => {
    const b = bmc();
    try {
      await assert.rejects(b.coldBoot(), (err: unknown) => {
        assert.ok(err instanceof BmcError, `a BmcError, got ${String(err)}`);
        assert.equal(err.code, 'protocol');
        assert.match(err.message, /redirected/);
        return true;
      });
    } finally {
      await b.close();
    }
  });

  for (const [label, value] of [
    ['an object', { toString: 'On' }],
    ['an object whose toString is not a function', { toString: null, valueOf: null }],
    ['a number', 1],
    ['null', null],
  ] as const) {
    test(`a PowerState that is ${label} is a typed protocol error`, async () => {
      powerState = value;
      const b = bmc();
      try {
        await assert.rejects(b.getPowerState(), (err: unknown) => {
          assert.ok(err instanceof BmcError, `a BmcError, got ${String((err as Error)?.stack ?? err)}`);
          assert.equal(err.code, 'protocol');
          return true;
        });
      } finally {
        powerState = 'On';
        await b.close();
      }
    });
  }
});
