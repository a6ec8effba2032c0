/**
 * Several deploy engines in several processes sharing one simulated fleet
 * through a real PostgreSQL, as several Node-RED instances would:
 *
 * - a PostgreSQL started for the run (postgres.ts), one schema;
 * - the simulated fleet and its ramdisks, in this process;
 * - engine workers (engine-worker.ts), each a process with its own media
 *   store, ramdisk API and iLO source address (127.0.9.x), killable with
 *   SIGKILL and replaced by new ones;
 * - a round-robin load balancer in front of the workers' ramdisk APIs: the
 *   ramdisks call back to it, so a call-back reaches any live instance;
 * - an HTTP server for the instance image (the agent fetches it itself).
 *
 * `driveViolations()` checks what the simulated iLOs recorded: every
 * command reached a server from the instance that owned its deploy at that
 * moment (owner = the last instance the database made owner of a deploy of
 * that server, as the workers report it).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isInProgress } from '../../lib/deploy/deploy-store';
import { PgDeployStore } from '../../lib/deploy/pg-deploy-store';
import type { DeploySettings } from '../../lib/deploy/processes';
import type { DeployProgress, DeployRecord, DeployRequest, DeployStatus } from '../../lib/deploy/types';
import { buildIso } from '../../lib/media/iso/writer';
import { Fleet } from '../../sim/fleet';
import { SimRamdisk } from '../../sim/ramdisk/boot';
import { ramdiskAddresses } from './deploy-lab';
import type { WorkerConfig, WorkerReply, WorkerRequest } from './engine-worker';
import { TestPostgres } from './postgres';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export const PASSWORD_ENV = 'ILO_TEST_DEPLOY_DB_PASSWORD';

export interface SharedFleetOptions {
  servers: number;
  /** Lease of the instances (default 3 s). */
  leaseMs?: number;
  settings?: Partial<DeploySettings>;
  heartbeatIntervalMs?: number;
  /** Forward every progress message of the workers (small runs). */
  allProgress?: boolean;
  /** An existing database (the benchmark runs several fleets on one). */
  postgres?: TestPostgres;
}

export class Worker {
  apiUrl = '';
  mediaUrl = '';
  instanceId = '';
  alive = true;
  /** Exited without being killed or stopped (a crash: the test fails on it). */
  crashed = false;
  private deliberate = false;
  output = '';
  readonly finished: DeployStatus[] = [];
  readonly progress: DeployProgress[] = [];
  private seq = 0;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly address: string,
    readonly child: ChildProcess,
    onOwns: (deployId: string, at: number, w: Worker) => void,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.on('message', (m: WorkerReply | { event: string; [k: string]: unknown }) => {
      if ('event' in m) {
        if (m.event === 'finished') this.finished.push(m.status as DeployStatus);
        else if (m.event === 'progress') this.progress.push(m.progress as DeployProgress);
        else if (m.event === 'owns') onOwns(m.deployId as string, m.at as number, this);
        return;
      }
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (!p) return;
      if (m.ok) p.resolve(m.result);
      else p.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', () => {
        this.alive = false;
        this.crashed = !this.deliberate;
        for (const p of this.pending.values()) p.reject(new Error(`${name} exited`));
        this.pending.clear();
        resolve();
      });
    });
    child.on('error', (err) => (this.output += `process error: ${err.message}\n`));
  }

  call<T>(req: WithoutId<WorkerRequest>): Promise<T> {
    if (!this.alive) return Promise.reject(new Error(`${this.name} is dead`));
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ ...req, id }, (err) => {
        if (err) {
          this.pending.delete(id);
          reject(err);
        }
      });
    });
  }

  /** kill -9. */
  async kill(): Promise<void> {
    if (!this.alive) return;
    this.deliberate = true;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    this.deliberate = true;
    await Promise.race([this.call({ op: 'stop' }).catch(() => undefined), this.exited]);
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (this.alive) await this.kill();
  }
}

export class SharedFleet {
  readonly workers: Worker[] = [];
  /** Every time the database made an instance owner of a deploy: [deployId, time, worker]. */
  readonly ownership: Array<{ deployId: string; at: number; worker: Worker }> = [];
  readonly image: { url: string; sha256: string; size: number };
  /** Where the balancer sends ramdisk heartbeats: to the next instance, or always to one that does not own the deploy. */
  heartbeats: 'round-robin' | 'not-owner' = 'round-robin';
  /** The heartbeats the balancer passed on: to which instance, and who owned the deploy then. */
  readonly heartbeatLog: Array<{ deployId: string; to: string; owner?: string }> = [];
  private launched = 0;
  private rr = 0;

  private constructor(
    readonly dir: string,
    readonly pg: TestPostgres,
    private readonly ownPg: boolean,
    readonly schema: string,
    readonly fleet: Fleet,
    readonly ramdisks: SimRamdisk[],
    readonly reader: PgDeployStore,
    private readonly lb: Server,
    private readonly images: Server,
    readonly deployIso: string,
    imageBytes: Buffer,
    private readonly opts: SharedFleetOptions,
    readonly lbUrl: string,
  ) {
    this.image = { url: `http://127.0.0.1:${(images.address() as AddressInfo).port}/image.raw`, sha256: createHash('sha256').update(imageBytes).digest('hex'), size: imageBytes.length };
  }

  static async start(o: SharedFleetOptions): Promise<SharedFleet> {
    const dir = mkdtempSync(join(tmpdir(), 'shared-fleet-'));
    const pg = o.postgres ?? (await TestPostgres.create());
    const schema = `fleet_${randomBytes(4).toString('hex')}`;
    const fleet = await Fleet.start({ servers: o.servers, shareCertificate: true, models: ['gen9', 'gen10'], timings: { powerOnMs: 30, postMs: 30, softOffMs: 30, hardOffMs: 0 } });
    const addresses = ramdiskAddresses(o.servers);
    const ramdisks = fleet.ilos.map((ilo, i) => new SimRamdisk(ilo.server, { address: addresses[i], heartbeatIntervalMs: o.heartbeatIntervalMs ?? 1000, diskSizeBytes: 1024 * 1024 }));
    for (const rd of ramdisks) rd.on('error', () => undefined); // a boot from media an instance took down with it: the deploy boots again
    const imageBytes = randomBytes(64 * 1024);
    const images = createServer((req, res) => {
      if (req.url !== '/image.raw') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': imageBytes.length });
      res.end(imageBytes);
    });
    await new Promise<void>((r) => images.listen(0, '127.0.0.1', () => r()));
    const iso = buildIso({ volumeId: 'DEPLOY', files: [{ path: 'isolinux/isolinux.cfg', data: Buffer.from('append boot_method=vmedia') }] });
    const deployIso = join(dir, 'deploy.iso');
    await iso.writeToFile(deployIso);
    const reader = new PgDeployStore({ connection: { ...pg.connection }, schema, instanceName: 'test-reader' });
    await reader.open();
    const holder: { fleet?: SharedFleet } = {};
    const lb = createServer((req, res) => void (holder.fleet as SharedFleet).balance(req, res));
    await new Promise<void>((r) => lb.listen(0, '127.0.0.1', () => r()));
    const lbUrl = `http://127.0.0.1:${(lb.address() as AddressInfo).port}`;
    holder.fleet = new SharedFleet(dir, pg, !o.postgres, schema, fleet, ramdisks, reader, lb, images, deployIso, imageBytes, o, lbUrl);
    return holder.fleet;
  }

  /** A new instance (a new process, a new iLO source address). */
  async spawnWorker(o: { store?: 'postgres' | 'files' } = {}): Promise<Worker> {
    const n = ++this.launched;
    const name = `engine-${n}`;
    const address = `127.0.9.${10 + n}`;
    const child = fork(join(__dirname, 'engine-worker.js'), [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: ['--enable-source-maps'],
      env: { ...process.env, [PASSWORD_ENV]: this.pg.connection.password },
    });
    const w = new Worker(name, address, child, (deployId, at, worker) => this.ownership.push({ deployId, at, worker }));
    const ready = new Promise<void>((resolve, reject) => {
      child.on('message', (m: { ready?: boolean; apiUrl?: string; instanceId?: string; mediaUrl?: string }) => {
        if (!m.ready) return;
        w.apiUrl = m.apiUrl as string;
        w.mediaUrl = m.mediaUrl ?? '';
        w.instanceId = m.instanceId as string;
        resolve();
      });
      void w.exited.then(() => reject(new Error(`${name} exited before it was ready:\n${w.output}`)));
    });
    const { host, port, database, user } = this.pg.connection;
    const config: WorkerConfig = {
      name,
      localAddress: address,
      storeSettings: o.store === 'files' ? { type: 'files' } : { type: 'postgres', host, port, database, user, passwordEnv: PASSWORD_ENV, schema: this.schema, leaseSeconds: 3 },
      stateDir: join(this.dir, name, 'state'),
      servers: this.fleet.ilos.map((i) => ({ name: i.name, host: i.host, port: i.port, username: i.username, password: i.password })),
      ca: this.fleet.ca.cert,
      settings: {
        apiUrl: this.lbUrl,
        callbackTimeoutMs: 60_000,
        powerTimeoutMs: 30_000,
        writeTimeoutMs: 60_000,
        bootIsoTtlSeconds: 3600,
        workDir: join(this.dir, name, 'work'),
        pollIntervalMs: 100,
        lateCommandSettleMs: 0,
        ...this.opts.settings,
      },
      mediaStateDir: join(this.dir, name, 'media'),
      fileRoots: [this.dir],
      allProgress: this.opts.allProgress,
    };
    if (this.opts.leaseMs !== undefined) config.storeSettings.leaseSeconds = Math.max(3, Math.round(this.opts.leaseMs / 1000));
    child.send({ config });
    await ready;
    this.workers.push(w);
    return w;
  }

  get live(): Worker[] {
    return this.workers.filter((w) => w.alive);
  }

  serverKey(i: number): string {
    const ilo = this.fleet.ilos[i]!;
    return `${ilo.host}:${ilo.port}`;
  }

  request(): DeployRequest {
    return { method: 'agent_ilo', image: this.image.url, imageChecksum: { algorithm: 'sha256', value: this.image.sha256 }, deployIso: this.deployIso };
  }

  /** A deploy (or rebuild) of server i asked of instance w. */
  start(w: Worker, i: number, op: 'deploy' | 'rebuild' = 'deploy'): Promise<DeployStatus> {
    return w.call<DeployStatus>({ op, server: this.fleet.ilos[i]!.name, request: this.request() });
  }

  /** Until every deploy is out of progress (or the deadline): the records as the database has them. */
  async settle(ids: string[], deadlineMs: number): Promise<{ done: DeployRecord[]; stuck: DeployRecord[]; missing: string[] }> {
    const end = Date.now() + deadlineMs;
    for (;;) {
      const records = await Promise.all(ids.map((id) => this.reader.get(id)));
      const missing = ids.filter((_, k) => !records[k]);
      const present = records.filter((r): r is DeployRecord => Boolean(r));
      const stuck = present.filter((r) => isInProgress(r));
      if (stuck.length === 0 || Date.now() > end) return { done: present.filter((r) => !isInProgress(r)), stuck, missing };
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /**
   * Commands that reached a server from an instance that was not the owner
   * of its deploy at that moment (none may). Commands from addresses that
   * are not instances (this test's own checks) are left out.
   */
  async driveViolations(): Promise<string[]> {
    const byAddress = new Map(this.workers.map((w) => [w.address, w]));
    const serverOf = new Map<string, string>();
    for (const r of await this.reader.list()) serverOf.set(r.id, r.serverKey);
    const out: string[] = [];
    for (const [i, ilo] of this.fleet.ilos.entries()) {
      const key = this.serverKey(i);
      const owners = this.ownership.filter((o) => serverOf.get(o.deployId) === key).sort((a, b) => a.at - b.at);
      for (const c of ilo.server.clients) {
        const from = byAddress.get(c.from);
        if (!from) continue;
        const owner = owners.filter((o) => o.at <= c.at).at(-1);
        if (owner?.worker !== from) {
          out.push(`${ilo.name}: ${c.what} at ${new Date(c.at).toISOString()} from ${from.name}, while ${owner ? `${owner.worker.name} owned deploy ${owner.deployId} (since ${new Date(owner.at).toISOString()})` : 'no instance owned a deploy of it'}`);
        }
      }
    }
    return out;
  }

  /** Instances that died on their own, with the end of what they logged. */
  crashes(): string[] {
    return this.workers.filter((w) => w.crashed).map((w) => `${w.name} crashed:\n${w.output.slice(-3000)}`);
  }

  /** What the instances logged (to check no password leaked, or to explain a failure). */
  output(): string {
    return this.workers.map((w) => w.output).join('');
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
    await this.reader.close();
    await Promise.all(this.ramdisks.map((r) => r.dispose()));
    await this.fleet.stop();
    await new Promise<void>((r) => this.lb.close(() => r()));
    this.lb.closeAllConnections();
    await new Promise<void>((r) => this.images.close(() => r()));
    if (this.ownPg) await this.pg.dispose();
    else {
      const c = await this.pg.client();
      await c.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`).catch(() => undefined);
      await c.end();
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The load balancer: each request to the next live instance; one that does not answer is skipped. */
  private async balance(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const tried = new Set<Worker>();
    const heartbeatOf = /^\/v1\/heartbeat\/([A-Za-z0-9-]+)/.exec(req.url ?? '')?.[1];
    const owner = heartbeatOf ? this.ownership.filter((o) => o.deployId === heartbeatOf).at(-1)?.worker : undefined;
    for (;;) {
      let live = this.live.filter((w) => !tried.has(w) && w.apiUrl);
      if (heartbeatOf && this.heartbeats === 'not-owner' && live.some((w) => w !== owner)) live = live.filter((w) => w !== owner);
      if (live.length === 0) return void res.writeHead(502).end('no instance answered');
      const w = live[this.rr++ % live.length]!;
      tried.add(w);
      if (heartbeatOf) this.heartbeatLog.push({ deployId: heartbeatOf, to: w.name, owner: owner?.name });
      const answered = await new Promise<boolean>((resolve) => {
        const target = new URL(req.url ?? '/', w.apiUrl);
        const up = httpRequest(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
          r.on('end', () => resolve(true));
          r.on('error', () => resolve(true));
        });
        up.on('error', () => resolve(res.headersSent));
        up.end(body);
      });
      if (answered) return;
    }
  }
}

/** A small tool for the tests: a file in the fleet's directory. */
export function writeFleetFile(fleet: SharedFleet, name: string, data: Buffer | string): string {
  const p = join(fleet.dir, name);
  writeFileSync(p, data);
  return p;
}
