/**
 * A large simulated fleet is a fleet of distinct machines: no two servers
 * report the same NIC MAC (a ramdisk looks its deploy up by MAC).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createBmc } from '../../lib/bmc/connect';
import { Fleet } from '../../sim/fleet';
import { SimServer } from '../../sim/server';

describe('simulated fleet identity', () => {
  let fleet: Fleet;
  before(async () => {
    fleet = await Fleet.start({ servers: 300, shareCertificate: true, models: ['gen9', 'gen10'] });
  });
  after(async () => fleet?.stop());

  test('300 servers: every host NIC and iLO MAC is different, and the iLOs report them', async () => {
    const all = fleet.ilos.flatMap((i) => [...i.server.macs.host, i.server.macs.ilo]);
    assert.equal(all.length, 300 * 5);
    assert.equal(new Set(all).size, all.length, 'no MAC appears twice');
    for (const m of all) assert.match(m, /^94:18:82(:[0-9a-f]{2}){3}$/);
    for (const ilo of fleet.ilos.slice(0, 2)) {
      const bmc = await createBmc({ host: ilo.host, port: ilo.port, username: ilo.username, password: ilo.password, tls: { mode: 'ca', ca: fleet.ca.cert } });
      try {
        assert.deepEqual((await bmc.getHostInfo()).nics.map((n) => n.mac.toLowerCase()), ilo.server.macs.host, `${bmc.protocol} reports the server's MACs`);
      } finally {
        await bmc.close();
      }
    }
  });

  test('servers numbered up to 2^21 have their own MACs; a number beyond is refused', () => {
    const seen = new Set<string>();
    for (const index of [...Array.from({ length: 4096 }, (_, i) => i), 2 ** 21 - 1]) {
      const s = new SimServer({ name: 'same-name', username: 'u', password: 'p', index });
      for (const m of [...s.macs.host, s.macs.ilo]) {
        assert.ok(!seen.has(m), `${m} (server ${index}) is new`);
        seen.add(m);
      }
      s.dispose();
    }
    assert.throws(() => new SimServer({ name: 'x', username: 'u', password: 'p', index: 2 ** 21 }), /index: expected a whole number below 2\^21/);
  });
});
