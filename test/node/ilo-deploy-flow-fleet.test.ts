/**
 * ilo-deploy-flow with a fleet: the server by name from msg.server, a
 * batch with one result per server, and the three-node HTTP API
 * (`http in -> ilo-deploy-flow -> http response`) served by a real
 * Node-RED http in node, against the simulated fleet and its ramdisks.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Node, NodeAPI } from 'node-red';
import type { Fleet } from '../../sim/fleet';
import { makeImage, until } from '../helpers/deploy-lab';
import { startDeployNodeLab, type DeployNodeLab } from '../helpers/deploy-node-lab';
import { helper, nextMessage } from '../helpers/node-red';

const nodes = [
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled node modules are CommonJS `export =` functions
  ...['ilo-fleet', 'ilo-media-store', 'ilo-deploy-flow'].map((n) => require(`../../nodes/${n}/${n}`) as unknown),
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- Node-RED's own http in / http response nodes
  require('@node-red/nodes/core/network/21-httpin.js') as unknown,
];

let RED: NodeAPI | undefined;
const captureRed = (r: NodeAPI): void => {
  RED = r;
};

interface Status {
  deployId: string;
  server: string;
  method: string;
  action: string;
  state: string;
  lastError?: string;
}

describe('ilo-deploy-flow with a fleet, and as a three-node HTTP API', () => {
  let dir: string;
  let fleet: Fleet;
  let lab: DeployNodeLab | undefined;
  let base: string;
  let deployIso: string;
  let image: string;

  function flow(): { flow: unknown[]; credentials: Record<string, unknown> } {
    const servers = fleet.ilos.map((ilo, i) => ({ id: `s${i + 1}`, name: ilo.name, host: ilo.host, port: ilo.port, protocol: 'auto', tlsMode: 'pinned', fingerprint: ilo.fingerprint, macs: [] }));
    const http = (id: string, method: string, url: string): Record<string, unknown> => ({ id, type: 'http in', z: 'tab', url, method, upload: false, wires: [['d']] });
    return {
      flow: [
        { id: 'tab', type: 'tab', label: 'test' },
        { id: 'fleet', type: 'ilo-fleet', name: 'lab', servers, timeout: '10', maxInFlight: '2' },
        { id: 'store', type: 'ilo-media-store', name: 'media', storeType: 'builtin', host: '127.0.0.1', port: 0, stateDir: join(dir, 'store'), fileRoots: dir },
        http('in-post', 'post', '/:method/deploy'),
        http('in-get', 'get', '/:method/deploy/:id'),
        http('in-delete', 'delete', '/:method/deploy/:id'),
        http('in-batch', 'get', '/deploys'),
        {
          id: 'd',
          type: 'ilo-deploy-flow',
          z: 'tab',
          target: 'fleet',
          fleet: 'fleet',
          serverName: '',
          store: 'store',
          method: 'msg',
          action: 'msg',
          image,
          imageType: 'str',
          deployIso,
          deployIsoType: 'str',
          respond: 'started',
          apiUrl: `${base}/ilo-deploy`,
          callbackTimeout: 20,
          powerTimeout: 15,
          wires: [['out', 'result'], []],
        },
        { id: 'out', type: 'http response', z: 'tab', statusCode: '', headers: {} },
        { id: 'result', type: 'helper', z: 'tab' },
      ],
      credentials: { fleet: { username: fleet.ilos[0]!.username, password: fleet.ilos[0]!.password } },
    };
  }

  const call = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; location: string | null; body: T }> => {
    const res = await fetch(`${base}${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
    const text = await res.text();
    try {
      return { status: res.status, location: res.headers.get('location'), body: JSON.parse(text) as T };
    } catch {
      throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    }
  };

  before(async () => {
    lab = await startDeployNodeLab({
      prefix: 'deploy-fleet-',
      fleet: { servers: 3, models: ['gen9', 'gen10', 'gen9'], username: 'admin', password: 'fleet-pass-1', timings: { powerOnMs: 60, postMs: 60, softOffMs: 60 } },
      ramdiskSubnet: 98,
      captureRed,
      red: () => RED,
    });
    ({ dir, fleet, deployIso, base } = lab);
    image = makeImage(dir, 'fleet.img').path;
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await lab?.stop();
  });

  test('POST by server name: 202 + Location, 409 with the deploy in the way, GET until active, 404 on another method, DELETE 202, then 409 already undeployed', async () => {
    const { flow: f, credentials } = flow();
    await helper.load([...nodes, captureRed] as never, f as never, credentials);
    const accepted = await call<Status>('POST', '/agent_ilo/deploy', { server: 'server-2' });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    assert.deepEqual([accepted.body.server, accepted.body.method, accepted.body.state], ['server-2', 'agent_ilo', 'deploying']);
    const location = `/agent_ilo/deploy/${accepted.body.deployId}`;
    assert.equal(accepted.location, location);

    const busy = await call<{ error: string; code: string; deploy: Status }>('POST', '/agent_ilo/deploy', { server: 'server-2' });
    assert.equal(busy.status, 409);
    assert.equal(busy.body.code, 'busy');
    assert.match(busy.body.error, new RegExp(`server-2 is busy: deploy ${accepted.body.deployId}`));
    assert.equal(busy.body.deploy.deployId, accepted.body.deployId, 'the 409 carries the blocking deploy');

    // The record finds its server again after a restart: the fleet and the server's id, keyed by the iLO's endpoint.
    const stateDir = join(dir, 'userdir', 'ilo-deploy', 'state');
    const file = readdirSync(stateDir, { recursive: true }).map(String).find((n) => n.includes(accepted.body.deployId));
    assert.ok(file, `a state file for ${accepted.body.deployId} in ${readdirSync(stateDir).join(', ')}`);
    const record = JSON.parse(readFileSync(join(stateDir, file), 'utf8')) as { serverKey: string; refs: Record<string, string> };
    const ilo = fleet.ilos[1]!;
    assert.equal(record.serverKey, `${ilo.host}:${ilo.port}`);
    assert.deepEqual([record.refs.fleet, record.refs.fleetServer, record.refs.serverName], ['fleet', 's2', 'server-2']);

    let last: Status | undefined;
    await until(async () => {
      const s = await call<Status>('GET', location);
      assert.equal(s.status, 200);
      last = s.body;
      return s.body.state === 'active' || s.body.state === 'deploy failed';
    }, 60_000, 'the deploy to end');
    assert.equal(last?.state, 'active', last?.lastError);
    assert.equal(ilo.server.powerState, 'on');
    assert.equal((await call('GET', `/iscsi_ilo/deploy/${accepted.body.deployId}`)).status, 404, 'not an iscsi_ilo deploy');

    const del = await call<Status>('DELETE', location);
    assert.equal(del.status, 202, JSON.stringify(del.body));
    assert.equal(del.body.action, 'undeploy');
    await until(async () => (await call<Status>('GET', location)).body.state === 'available', 30_000, 'the server to be available');
    assert.equal(ilo.server.powerState, 'off');
    const again = await call<{ error: string; deploy: Status }>('DELETE', location);
    assert.equal(again.status, 409);
    assert.match(again.body.error, /already undeployed/);
    assert.equal(again.body.deploy.state, 'available');
  });

  test('bad requests: 404 naming an unknown server, 400 naming the field, nothing started', async () => {
    const { flow: f, credentials } = flow();
    await helper.load([...nodes, captureRed] as never, f as never, credentials);
    const cases: Array<[string, unknown, number, RegExp]> = [
      ['/agent_ilo/deploy', { server: 'server-9' }, 404, /^server: no server named "server-9"/],
      ['/agent_ilo/deploy', { server: ['server-1', 'nope'] }, 404, /"nope"/],
      ['/agent_ilo/deploy', {}, 400, /^server: expected the name of a server/],
      ['/agent_ilo/deploy', { server: 'server-1', colour: 'red' }, 400, /^colour: unknown field/],
      ['/agent_ilo/deploy', { server: 'server-1', bootMode: 'efi' }, 400, /^bootMode: expected "bios" or "uefi"/],
      ['/agent_ilo/deploy', { server: 'server-1', image: 42 }, 400, /^image: expected/],
      ['/agent_ilo/deploy', { server: 'server-1', method: 'pxe_ilo' }, 400, /^method: expected agent_ilo/],
      ['/agent_ilo/deploy', ['server-1'], 400, /^body: expected a JSON object/],
      ['/bogus_ilo/deploy', { server: 'server-1' }, 404, /no deploy API for method "bogus_ilo"/],
    ];
    for (const [path, body, status, error] of cases) {
      const res = await call<{ error: string; field?: string }>('POST', path, body);
      assert.equal(res.status, status, `${path} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.error, error);
    }
    assert.equal((await call('GET', '/agent_ilo/deploy/no-such-deploy')).status, 404);
    assert.equal((await call('DELETE', '/agent_ilo/deploy/no-such-deploy')).status, 404);
    for (const ilo of fleet.ilos) assert.equal(ilo.server.powerState, 'off', `${ilo.name} was not touched`);
  });

  test('a batch: POST two servers deploys both (one result each), GET ?server=a,b reports each, a message with a list undeploys them (one message per server)', async () => {
    const { flow: f, credentials } = flow();
    await helper.load([...nodes, captureRed] as never, f as never, credentials);
    const started = await call<{ servers: Array<Status & { statusCode: number; location: string }> }>('POST', '/agent_ilo/deploy', { server: ['server-1', 'server-3'] });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    assert.deepEqual(
      started.body.servers.map((s) => [s.server, s.statusCode, s.state]),
      [
        ['server-1', 202, 'deploying'],
        ['server-3', 202, 'deploying'],
      ],
    );
    for (const s of started.body.servers) assert.equal(s.location, `/agent_ilo/deploy/${s.deployId}`);

    type Batch = { servers: Array<Status & { statusCode: number }> };
    let states: string[] = [];
    await until(async () => {
      const r = await call<Batch>('GET', '/deploys?server=server-1,server-2,server-3');
      assert.equal(r.status, 200);
      states = r.body.servers.map((s) => `${s.server}:${s.state}`);
      return r.body.servers.every((s) => s.server === 'server-2' || s.state === 'active' || s.state === 'deploy failed');
    }, 90_000, 'both deploys to end');
    assert.deepEqual(states, ['server-1:active', 'server-2:available', 'server-3:active']);

    const out = helper.getNode('result') as unknown as NodeJS.EventEmitter;
    const got: Array<{ topic: string; payload: Status }> = [];
    const two = new Promise<void>((resolve) => {
      out.on('input', (m: (typeof got)[number]) => {
        got.push(m);
        if (got.length === 2) resolve();
      });
    });
    helper.getNode('d').receive({ action: 'undeploy', server: ['server-1', 'server-3'] } as never);
    await two;
    assert.deepEqual(got.map((m) => [m.topic, m.payload.action]).sort(), [
      ['server-1', 'undeploy'],
      ['server-3', 'undeploy'],
    ]);
    await until(async () => {
      const r = await call<Batch>('GET', '/deploys?server=server-1,server-3');
      return r.body.servers.every((s) => s.state === 'available');
    }, 30_000, 'both servers to be available');
    const status = nextMessage<{ topic: string; payload: Status }>(out as unknown as Node);
    helper.getNode('d').receive({ action: 'status', server: 'server-3' } as never);
    assert.deepEqual([(await status).topic, (await status).payload.state], ['server-3', 'available']);
  });
});
