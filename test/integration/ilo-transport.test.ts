/**
 * The HTTPS transport against simulated iLOs: RIBCL's connection per call,
 * TLS session resumption (offered, used when the iLO resumes, given up
 * when it does not, never handed to a peer that failed the trust check),
 * and the per-iLO bound on connections.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as netConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { requestSlotUsage, setMaxIloRequestsInFlight } from '../../lib/bmc';
import type { IloEndpoint } from '../../lib/bmc/endpoint';
import { RibclBmc } from '../../lib/bmc/ribcl/provider';
import { Fleet, type SimIlo } from '../../sim/fleet';

function client(ilo: SimIlo, extra: Partial<IloEndpoint> = {}): RibclBmc {
  return new RibclBmc({ host: ilo.host, port: ilo.port, username: ilo.username, password: ilo.password, tls: { mode: 'pinned', fingerprint: ilo.fingerprint }, ...extra });
}

async function negotiated(ilo: SimIlo): Promise<string | null> {
  const s = tlsConnect({ host: ilo.host, port: ilo.port, rejectUnauthorized: false });
  await once(s, 'secureConnect');
  const v = s.getProtocol();
  s.destroy();
  return v;
}

/** A TCP relay whose destination can be changed: the same address, another server behind it. */
async function relay(to: () => number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = netConnect(to(), '127.0.0.1');
    sockets.add(inbound).add(outbound);
    inbound.pipe(outbound).pipe(inbound);
    const drop = (): void => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('iLO transport', () => {
  let resuming: Fleet;
  let notResuming: Fleet;
  before(async () => {
    resuming = await Fleet.start({ servers: 2, models: ['gen9', 'gen10'] });
    notResuming = await Fleet.start({ servers: 1, models: ['gen9'], tlsResumption: false });
  });
  after(async () => {
    await resuming.stop();
    await notResuming.stop();
  });

  test('a simulated iLO 4 speaks TLS 1.2 at most, like the real one; the iLO 5 may use TLS 1.3', async () => {
    assert.equal(await negotiated(resuming.ilos[0]!), 'TLSv1.2');
    assert.equal(await negotiated(resuming.ilos[1]!), 'TLSv1.3');
  });

  test('RIBCL: one TLS connection per call; an iLO that resumes is offered the last session and resumes it', async () => {
    const ilo = resuming.ilos[0]!;
    const bmc = client(ilo);
    const before = ilo.server.requests.ribcl;
    for (let i = 0; i < 5; i++) assert.equal(await bmc.getPowerState(), 'off');
    assert.equal(ilo.server.requests.ribcl - before, 5);
    assert.equal(bmc.stats.requests, 5);
    assert.equal(bmc.stats.tlsConnections, 5);
    assert.equal(bmc.stats.tlsResumed, 4, 'every connection after the first resumed');
    await bmc.close();
  });

  test('an iLO that resumes nothing gets full handshakes, and every call still works', async () => {
    const ilo = notResuming.ilos[0]!;
    const bmc = client(ilo);
    for (let i = 0; i < 4; i++) assert.equal(await bmc.getPowerState(), 'off');
    assert.equal(bmc.stats.tlsConnections, 4);
    assert.equal(bmc.stats.tlsResumed, 0);
    await bmc.close();
  });

  test('resumption can be turned off in the client (tls.resume false)', async () => {
    const ilo = resuming.ilos[0]!;
    const bmc = client(ilo, { tls: { mode: 'pinned', fingerprint: ilo.fingerprint, resume: false } });
    for (let i = 0; i < 3; i++) await bmc.getPowerState();
    assert.equal(bmc.stats.tlsResumed, 0);
    await bmc.close();
    assert.throws(() => client(ilo, { tls: { mode: 'pinned', fingerprint: ilo.fingerprint, resume: 'yes' as unknown as boolean } }), { code: 'invalid-input', message: /tls\.resume/ });
  });

  test('pinned: a session from the right iLO does not let another server through (it cannot resume it; the pin check refuses it)', async () => {
    const [good, other] = [resuming.ilos[0]!, notResuming.ilos[0]!];
    let target = good.port;
    const r = await relay(() => target);
    try {
      const bmc = new RibclBmc({ host: '127.0.0.1', port: r.port, username: good.username, password: good.password, tls: { mode: 'pinned', fingerprint: good.fingerprint }, retries: 0 });
      await bmc.getPowerState();
      await bmc.getPowerState();
      assert.equal(bmc.stats.tlsResumed, 1);
      const sentToOther = other.server.requests.total;
      target = other.port; // same address, another server and certificate
      await assert.rejects(bmc.getPowerState(), { code: 'connection', message: /does not match the pinned fingerprint/ });
      await assert.rejects(bmc.getPowerState(), { code: 'connection', message: /does not match the pinned fingerprint/ });
      assert.equal(other.server.requests.total, sentToOther, 'no request (no credentials) reached the other server');
      target = good.port;
      assert.equal(await bmc.getPowerState(), 'off');
      await bmc.close();
    } finally {
      await r.close();
    }
  });

  test('ca mode resumes too, and a closed client refuses new calls', async () => {
    const ilo = resuming.ilos[0]!;
    const bmc = client(ilo, { tls: { mode: 'ca', ca: resuming.ca.cert } });
    await bmc.getPowerState();
    await bmc.getPowerState();
    assert.equal(bmc.stats.tlsResumed, 1);
    await bmc.close();
    await assert.rejects(bmc.getPowerState(), { code: 'connection', message: /was closed/ });
  });

  test('at most maxConnections calls in flight to one iLO; calls queued behind it hold no process-wide slot', async () => {
    const ilo = resuming.ilos[0]!;
    const original = setMaxIloRequestsInFlight(64);
    try {
      const bmc = client(ilo, { maxConnections: 2 });
      ilo.server.faults.add({ kind: 'latency', ms: 300, times: 6 });
      // Six different reads (identical ones waiting would share a request).
      const calls = [bmc.getPowerState(), bmc.getLicence(), bmc.getBootMode(), bmc.getOneTimeBoot(), bmc.getPersistentBootOrder(), bmc.getVirtualMediaStatus('cdrom')];
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(requestSlotUsage().inFlight, 2, 'two calls hold process-wide slots, four wait for the iLO');
      await Promise.all(calls);
      assert.equal(bmc.stats.requests, 6);
      await bmc.close();
    } finally {
      setMaxIloRequestsInFlight(original);
    }
  });
});

describe('RIBCL reads waiting for a connection', () => {
  let fleet: Fleet;
  before(async () => {
    fleet = await Fleet.start({ servers: 1, models: ['gen9'] });
  });
  after(async () => {
    await fleet.stop();
  });

  const sentTo = (ilo: SimIlo): number => ilo.server.requests.ribcl;
  const until = async (cond: () => boolean): Promise<void> => {
    while (!cond()) await new Promise((r) => setTimeout(r, 5));
  };

  test('identical reads queued behind a busy iLO share one request, sent after they all asked', async () => {
    const ilo = fleet.ilos[0]!;
    const bmc = client(ilo, { maxConnections: 1 });
    const before = sentTo(ilo);
    ilo.server.faults.add({ kind: 'latency', ms: 200, times: 1 });
    const first = bmc.getPowerState();
    await until(() => sentTo(ilo) === before + 1); // the first is at the iLO
    const queued = Array.from({ length: 8 }, () => bmc.getPowerState());
    const other = bmc.getLicence(); // a different read queues on its own
    assert.deepEqual(await Promise.all([first, ...queued]), Array(9).fill('off'));
    await other;
    assert.equal(sentTo(ilo) - before, 3, 'the first, one for the eight power reads, one for the licence');
    assert.equal(bmc.stats.requests, 3);
    await bmc.close();
  });

  test('a read never shares a request already sent, and writes are never shared', async () => {
    const ilo = fleet.ilos[0]!;
    const bmc = client(ilo, { maxConnections: 4 });
    const before = sentTo(ilo);
    ilo.server.faults.add({ kind: 'latency', ms: 200, times: 1 });
    const first = bmc.getPowerState();
    await until(() => sentTo(ilo) === before + 1);
    const second = bmc.getPowerState(); // a free connection: its own request, not the one in flight
    await Promise.all([first, second]);
    assert.equal(sentTo(ilo) - before, 2);

    const writes = await Promise.all([bmc.setOneTimeBoot('cdrom'), bmc.setOneTimeBoot('cdrom'), bmc.setOneTimeBoot('cdrom')]);
    assert.equal(writes.length, 3);
    assert.equal(sentTo(ilo) - before, 5, 'each write is its own request');
    await bmc.close();
  });
});
