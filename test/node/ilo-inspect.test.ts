/**
 * ilo-inspect in a Node-RED runtime against the simulated fleet: a fleet
 * server by msg.server (its inventory entry gets the capabilities, operator
 * keys kept), and the global context holds every result.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Node } from 'node-red';
import { Fleet } from '../../sim/fleet';
import { helper, nextMessage } from '../helpers/node-red';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled node modules are CommonJS `export =` functions
const iloConfig = require('../../nodes/ilo-config/ilo-config');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
const iloFleet = require('../../nodes/ilo-fleet/ilo-fleet');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
const iloInspect = require('../../nodes/ilo-inspect/ilo-inspect');

type Msg = { payload: Record<string, unknown> & { properties: Record<string, unknown>; capabilities: Record<string, string> }; topic?: string };
type FleetRuntime = { servers(): Array<{ name: string; capabilities?: string }>; inspected(name: string): { properties: Record<string, unknown> } | undefined };

describe('ilo-inspect node', () => {
  let sim: Fleet;
  before(async () => {
    sim = await Fleet.start({ servers: 2, models: ['gen9', 'gen11'], shareCertificate: true });
    await helper.startServer();
  });
  after(async () => {
    await helper.unload();
    await helper.stopServer();
    await sim.stop();
  });

  test('fleet server by msg.server: payload, inventory capabilities merged (operator keys kept), properties kept, global context', async () => {
    const rows = sim.ilos.map((ilo, i) => ({ id: `row${i}`, name: ilo.name, host: ilo.host, port: ilo.port, protocol: 'auto', tlsMode: 'pinned', fingerprint: ilo.fingerprint, macs: [], capabilities: 'rack:a1,boot_mode:bios' }));
    const staged = Object.fromEntries(sim.ilos.map((ilo, i) => [`row${i}`, ilo.password]));
    await helper.load(
      [iloConfig, iloFleet, iloInspect],
      [
        { id: 'tab', type: 'tab', label: 't' },
        { id: 'fleet', type: 'ilo-fleet', name: 'lab', servers: rows, timeout: 10 },
        { id: 'n', type: 'ilo-inspect', z: 'tab', target: 'fleet', fleet: 'fleet', serverName: '', wires: [['out']] },
        { id: 'out', type: 'helper', z: 'tab' },
      ] as never,
      { fleet: { username: 'admin', password: 'x', staged: JSON.stringify(staged) } } as never,
    );
    for (const [i, ilo] of sim.ilos.entries()) {
      const received = nextMessage<Msg>(helper.getNode('out') as Node);
      helper.getNode('n').receive({ server: ilo.name } as never);
      const msg = await received;
      const m = ilo.server.model;
      assert.equal(msg.topic, ilo.name);
      assert.equal(msg.payload.server, ilo.name);
      assert.equal(msg.payload.protocol, i === 0 ? 'ribcl' : 'redfish');
      assert.deepEqual(msg.payload.properties, { memory_mb: m.dimm.count * m.dimm.mib, cpus: m.cpu.count * m.cpu.threads, cpu_arch: 'x86_64', local_gb: msg.payload.properties.local_gb });
      assert.ok(Number(msg.payload.properties.local_gb) > 200);
      const fleet = helper.getNode('fleet') as unknown as FleetRuntime;
      const entry = fleet.servers().find((s) => s.name === ilo.name)!;
      assert.match(String(entry.capabilities), /^rack:a1,/, 'the operator key stays first');
      assert.match(String(entry.capabilities), new RegExp(`boot_mode:${ilo.server.bootMode.current}`), 'the inspected boot mode replaces the operator one');
      assert.match(String(entry.capabilities), new RegExp(`server_model:${ilo.server.identity.productName}`));
      assert.deepEqual(fleet.inspected(ilo.name)?.properties, msg.payload.properties);
      const kept = (helper.getNode('n') as unknown as { context(): { global: { get(k: string): Record<string, { model: string }> } } }).context().global.get('iloInspections');
      assert.equal(kept[ilo.name]?.model, ilo.server.identity.productName);
    }
  });
});
