/**
 * Three real Node-RED processes, each with this package and the example flows
 * wired as `npm start` wires them (scripts/demo-files.ts), all keeping their
 * deploys in one real PostgreSQL (settings.js `iloDeployStore`), against one
 * simulated fleet whose ramdisks call back through a round-robin balancer in
 * front of the three. Deploys asked of different instances over their HTTP
 * API; the database refuses a second deploy of a busy server asked of another
 * instance; every instance answers the same status; a kill -9 of one while its
 * deploy waits for the agent, and that deploy finishes on another.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { attachRamdisks, prepareArtefacts, type DemoArtefacts } from '../../scripts/demo-deploy';
import { loadExampleFlows, wireDeploys, wireToFleet, writeUserDir } from '../../scripts/demo-files';
import { Fleet } from '../../sim/fleet';
import type { SimRamdisk } from '../../sim/ramdisk/boot';
import { repoRoot } from '../helpers/env';
import { NodeRedProcess, freeFixedPort } from '../helpers/node-red-process';
import { TestPostgres, needPostgres } from '../helpers/postgres';

const PASSWORD_ENV = 'ILO_TEST_DEPLOY_DB_PASSWORD';
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string };

interface Status {
  deployId: string;
  server: string;
  state: string;
  stepIndex?: number;
  lastError?: string;
}

async function until<T>(get: () => Promise<T | undefined>, what: string, ms = 120_000): Promise<T> {
  for (const end = Date.now() + ms; ; ) {
    const v = await get().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Round-robin over the live instances; a refused connection tries the next (a load balancer's health check). */
function balancer(targets: () => NodeRedProcess[]): Server {
  let next = 0;
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const tryOne = (left: number): void => {
        const live = targets().filter((r) => r.alive);
        if (left === 0 || live.length === 0) return void res.writeHead(502).end();
        const to = new URL(live[next++ % live.length]!.url);
        const out = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        out.on('error', () => tryOne(left - 1));
        out.end(body);
      };
      tryOne(3);
    });
  });
}

describe('three Node-RED processes with the example flows share one fleet on PostgreSQL', { skip: needPostgres() }, () => {
  let pg: TestPostgres;
  let fleet: Fleet;
  let dir: string;
  let files: DemoArtefacts;
  let ramdisks: SimRamdisk[];
  let lb: Server;
  const reds: NodeRedProcess[] = [];
  const ramdiskLog: string[] = [];

  before(async () => {
    pg = await TestPostgres.create();
    dir = mkdtempSync(join(tmpdir(), 'shared-node-red-'));
    fleet = await Fleet.start({ servers: 3, shareCertificate: true, models: ['gen9', 'gen10', 'gen9'], timings: { powerOnMs: 50, postMs: 50, softOffMs: 50, hardOffMs: 0 } });
    files = await prepareArtefacts(dir);
    ramdisks = await attachRamdisks(fleet, files.tftpRoot, (l) => ramdiskLog.push(l));
    const caFile = join(dir, 'fleet-ca.pem');
    writeFileSync(caFile, fleet.ca.cert);
    lb = balancer(() => reds);
    await new Promise<void>((r) => lb.listen(0, '127.0.0.1', () => r()));
    const { host, port, database, user } = pg.connection;
    const examples = loadExampleFlows(join(repoRoot, 'examples'), (d) => d === 'dashboard');
    for (let i = 0; i < 3; i++) {
      const userDir = join(dir, `node-red-${i + 1}`);
      const uiPort = await freeFixedPort();
      const flows = structuredClone(examples);
      const credentials = wireToFleet(flows, fleet.ilos, caFile);
      wireDeploys(flows, {
        apiUrl: `http://127.0.0.1:${(lb.address() as AddressInfo).port}/ilo-deploy`,
        tftpRoot: files.tftpRoot,
        store: { host: '127.0.0.1', port: 0, stateDir: join(userDir, 'ilo-media-store'), fileRoots: [files.imagesDir] },
        env: { IMAGE: files.image, DEPLOY_ISO: files.deployIso, DEPLOY_KERNEL: files.deployKernel, DEPLOY_RAMDISK: files.deployRamdisk },
      });
      const iloDeployStore = { type: 'postgres', host, port, database, user, passwordEnv: PASSWORD_ENV, schema: 'ilo_shared_e2e', leaseSeconds: 3, instanceName: `node-red-${i + 1}` };
      writeUserDir({ userDir, repoRoot, packageName: pkg.name, flows, credentials, port: uiPort, keepFlows: false, iloDeployStore });
      reds.push(await NodeRedProcess.launch(userDir, uiPort, { [PASSWORD_ENV]: pg.connection.password }));
    }
  });

  after(async () => {
    await Promise.allSettled(reds.map((r) => r.stop()));
    lb?.close();
    await Promise.allSettled([...(ramdisks ?? []).map((r) => r.dispose()), fleet?.stop()]);
    await pg?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const post = async (red: NodeRedProcess, server: string): Promise<{ status: number; body: Record<string, string> }> => {
    const res = await fetch(`${red.url}/agent_ilo/deploy`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ server }) });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };
  const status = async (red: NodeRedProcess, id: string): Promise<Status> => {
    const res = await fetch(`${red.url}/agent_ilo/deploy/${id}`);
    if (res.status !== 200) throw new Error(`GET ${id}: ${res.status}`);
    return (await res.json()) as Status;
  };

  test('deploys asked of different instances; one per server across them; the same status everywhere; kill -9 of one mid-deploy and its deploy finishes on another', async () => {
    const [a, b, c] = reds as [NodeRedProcess, NodeRedProcess, NodeRedProcess];
    assert.match(a.output(), /deploy store: PostgreSQL/i);
    // server-1's agent calls back late: its deploy, asked of a, is waiting for it when a is killed.
    ramdisks[0]!.faults = { slowCallbackMs: 600_000 };
    const asked = [await post(a, 'server-1'), await post(b, 'server-2'), await post(c, 'server-3')];
    assert.deepEqual(
      asked.map((x) => x.status),
      [202, 202, 202],
      JSON.stringify(asked),
    );
    const ids = asked.map((x) => x.body.deployId!);
    const busy = await post(c, 'server-1');
    assert.equal(busy.status, 409, 'server-1 deployed again through another instance');
    assert.match(busy.body.error!, new RegExp(`server-1 is busy: deploy ${ids[0]}`));

    await until(async () => ((await status(b, ids[0]!)).state === 'wait call-back' ? true : undefined), 'the deploy asked of a to wait for its agent');
    await a.kill();
    ramdisks[0]!.faults = {};

    const ends = await until(async () => {
      const s = await Promise.all(ids.map((id) => status(b, id)));
      return s.every((x) => !['deploying', 'wait call-back', 'deleting'].includes(x.state)) ? s : undefined;
    }, 'the three deploys to end');
    assert.deepEqual(
      ends.map((s) => [s.server, s.state]),
      [
        ['server-1', 'active'],
        ['server-2', 'active'],
        ['server-3', 'active'],
      ],
      JSON.stringify(ends),
    );
    for (const id of ids) assert.deepEqual(await status(c, id), await status(b, id), `deploy ${id} seen from two instances`);
    assert.match(b.output() + c.output(), /took over 1 deploy\(s\) left by another instance/);
    const image = createHash('sha256').update(readFileSync(files.image)).digest('hex');
    for (const [i, rd] of ramdisks.entries()) assert.equal(rd.written?.sha256, image, `server-${i + 1}: the image on its disk`);
    for (const red of reds) {
      assert.ok(!red.output().includes(pg.connection.password), 'the database password in a Node-RED log');
      assert.doesNotMatch(red.output(), /\[error\]/);
    }
  });
});
