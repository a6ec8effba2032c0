/**
 * Discovery over a simulated range: four simulated iLOs (iLO 4 Gen8 and
 * Gen9, iLO 5 Gen10) among a silent TCP port, a plain HTTP server, an HTTPS
 * server that is not an iLO and a closed port. Each iLO is reported with
 * model, serial, generation, firmware and certificate; the others with why
 * not; addresses outside the range are never contacted; probes in flight
 * stay within the bound.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { discoverIlos, InventoryError, parseTargets, suggestedName } from '../../lib/inventory';
import { createFleetCa } from '../../sim/certs';
import { Fleet } from '../../sim/fleet';
import { MODELS } from '../../sim/models';
import { portFree } from '../helpers/node-red-process';

const listening: Array<TcpServer | HttpServer> = [];

interface Silent {
  connections: number;
  open: number;
  mostOpen: number;
}

const heldSockets = new Set<Socket>();

/** Accepts connections and never says a word (holds them until the test ends). */
async function silentServer(port: number, host: string, counter: Silent): Promise<void> {
  const srv = createTcpServer((s) => {
    counter.connections++;
    counter.open++;
    counter.mostOpen = Math.max(counter.mostOpen, counter.open);
    heldSockets.add(s);
    s.on('close', () => {
      counter.open--;
      heldSockets.delete(s);
    });
    s.on('error', () => undefined);
    s.resume(); // read (and drop) what comes, so a hang-up is seen
  });
  await listen(srv, port, host);
}

function listen(srv: TcpServer | HttpServer, port: number, host: string): Promise<void> {
  listening.push(srv);
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, host, () => resolve());
  });
}

/** A block of `n` consecutive free ports. */
async function freeBlock(n: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 11000);
    let ok = true;
    for (let p = base; p < base + n && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error('no block of free ports');
}

let sim: Fleet;
let outside: Fleet;
let base = 0;
const silent: Silent = { connections: 0, open: 0, mostOpen: 0 };
const witness: Silent = { connections: 0, open: 0, mostOpen: 0 };

describe('iLO discovery over a simulated range', () => {
  before(async () => {
    base = await freeBlock(11);
    sim = await Fleet.start({ servers: 4, basePort: base, models: ['gen8', 'gen9', 'gen10', 'gen10'] });
    await silentServer(base + 4, '127.0.0.1', silent);
    const http = createHttpServer((_req, res) => res.end('hello'));
    await listen(http, base + 5, '127.0.0.1');
    const ca = await createFleetCa('not an iLO');
    const pair = await ca.issue('web.example', ['127.0.0.1']);
    const https = createHttpsServer({ key: pair.key, cert: pair.cert }, (_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not here');
    });
    await listen(https, base + 6, '127.0.0.1');
    // base + 7 stays closed. Outside the range: a witness and another iLO.
    await silentServer(base + 9, '127.0.0.1', witness);
    outside = await Fleet.start({ servers: 1, basePort: base + 10, prefix: 'outside-' });
  });
  after(async () => {
    heldSockets.forEach((s) => s.destroy());
    await Promise.all(listening.map((s) => new Promise<void>((r) => s.close(() => r()))));
    await sim?.stop();
    await outside?.stop();
  });

  test('each iLO in the range is found with what it is; the other ports say why not; nothing outside is contacted', async () => {
    const targets = parseTargets(`127.0.0.1:${base}-${base + 8}`);
    assert.equal(targets.length, 9);
    const seen: string[] = [];
    const results = await discoverIlos(targets, { concurrency: 4, timeoutMs: 5000, onResult: (r) => seen.push(`${r.port}`) });
    assert.equal(seen.length, 9, 'one result per address');
    const at = (p: number) => results.find((r) => r.port === p)!;
    sim.ilos.forEach((ilo, i) => {
      const r = at(ilo.port);
      const model = MODELS[(['gen8', 'gen9', 'gen10', 'gen10'] as const)[i]!];
      assert.equal(r.status, 'ilo', `${ilo.name}: ${r.reason}`);
      assert.equal(r.productName, model.productName);
      assert.equal(r.generation, model.productName.replace(/^.* /, ''));
      assert.equal(r.serialNumber, ilo.server.identity.serialNumber);
      assert.equal(r.iloFirmware, model.firmwareVersion);
      assert.equal(r.managerType, model.managerType);
      assert.equal(r.protocol, model.rest === 'redfish' ? 'redfish' : 'ribcl');
      assert.equal(r.uuid, ilo.server.uuid.toLowerCase());
      assert.equal(r.certificate?.fingerprint256, ilo.fingerprint.toUpperCase());
      assert.equal(r.certificate?.trusted, false, 'the fleet CA is no system CA: trust on first use');
      assert.equal(ilo.server.requests.total, 2, 'the service root and /xmldata, nothing else');
    });
    assert.equal(suggestedName(at(sim.ilos[2]!.port)), 'server-3', 'named after the iLO host name without "-ilo"');
    assert.deepEqual({ status: at(base + 4).status, reason: at(base + 4).reason }, { status: 'unreachable', reason: 'no TLS handshake within 5000 ms' });
    assert.equal(at(base + 5).status, 'not-ilo');
    assert.match(at(base + 5).reason ?? '', /no TLS on this port/);
    assert.equal(at(base + 6).status, 'not-ilo');
    assert.match(at(base + 6).reason ?? '', /neither an iLO's Redfish service root nor its \/xmldata/);
    assert.ok(at(base + 6).certificate, 'its certificate is shown all the same');
    assert.deepEqual({ status: at(base + 7).status, reason: at(base + 7).reason }, { status: 'unreachable', reason: 'connection refused' });
    assert.equal(silent.connections, 1, 'the silent port was tried once');
    assert.equal(witness.connections, 0, 'a port outside the range was never connected to');
    assert.equal(outside.ilos[0]!.server.requests.total, 0, 'the iLO outside the range was never asked anything');
  });

  test('no more probes in flight than asked, and only the addresses asked for', async () => {
    // Eight silent addresses on one port (127.0.0.1-8) that hold every connection until the test lets it go, and a ninth outside the range.
    const port = base + 8;
    const held: Socket[] = [];
    let accepted = 0;
    for (let i = 1; i <= 8; i++) {
      const srv = createTcpServer((sock) => {
        accepted++;
        held.push(sock);
        heldSockets.add(sock);
        sock.on('error', () => undefined);
      });
      await listen(srv, port, `127.0.0.${i}`);
    }
    const ninth: Silent = { connections: 0, open: 0, mostOpen: 0 };
    await silentServer(port, '127.0.0.9', ninth);
    const until = async (what: string, cond: () => boolean): Promise<void> => {
      for (let i = 0; !cond(); i++) {
        if (i > 600) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const run = discoverIlos(parseTargets(`127.0.0.1-8:${port}`), { concurrency: 3, timeoutMs: 120_000 });
    await until('three probes', () => accepted === 3);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(accepted, 3, 'a fourth probe waits for a free place');
    // Hang up on one probe at a time: each frees a place for exactly one more.
    for (let released = 1; released <= 8; released++) {
      held.shift()!.destroy();
      const expected = Math.min(8, 3 + released);
      await until(`${expected} probes`, () => accepted === expected);
      assert.ok(accepted - released <= 3, `at most 3 in flight (${accepted - released})`);
    }
    const results = await run;
    assert.equal(results.length, 8);
    assert.ok(results.every((r) => r.status === 'not-ilo' && /no TLS on this port/.test(r.reason ?? '')), JSON.stringify(results.map((r) => r.reason)));
    assert.equal(ninth.connections, 0, 'the address after the range was never connected to');
  });

  test('address lists: ranges, blocks, ports; a bound on their size; bad items named', () => {
    assert.deepEqual(parseTargets('10.0.0.0/30').map((t) => t.host), ['10.0.0.1', '10.0.0.2'], 'network and broadcast left out');
    assert.deepEqual(parseTargets('10.0.0.254-10.0.1.1:8443').map((t) => `${t.host}:${t.port}`), ['10.0.0.254:8443', '10.0.0.255:8443', '10.0.1.0:8443', '10.0.1.1:8443']);
    assert.deepEqual(parseTargets('[fd00::5]:444, ilo-7.example.com').map((t) => `${t.host}|${t.port}`), ['fd00::5|444', 'ilo-7.example.com|443']);
    assert.equal(parseTargets('10.0.0.1, 10.0.0.1:443').length, 1, 'each address once');
    assert.throws(() => parseTargets('10.0.0.0/16'), (e: unknown) => e instanceof InventoryError && /at most 4096 addresses/.test(e.message) && e.field === 'range');
    assert.throws(() => parseTargets('10.0.0.1-250:1-100', { max: 1000 }), /at most 1000 addresses/);
    assert.throws(() => parseTargets('10.0.0.9-3'), /end is not before its start/);
    assert.throws(() => parseTargets('10.0.0.1:0'), /port or port range/);
    assert.throws(() => parseTargets('host_name!'), /expected a host, an IP address, a range/);
    assert.throws(() => parseTargets(''), /expected the addresses to probe/);
  });
});
