/**
 * Deploys at scale against a simulated fleet (HTTPS RIBCL on Gen9, Redfish
 * on Gen10) and its simulated ramdisks, with the simulator's power and POST
 * timings near zero.
 *
 * (1) BENCH_DEPLOYS (500) agent_ilo deploys at once, the engine side (deploy
 *     engine, file store, built-in media store, ramdisk API, iLO clients) in
 *     a process of its own as a Node-RED instance runs it, the fleet and
 *     ramdisks in this one: wall time, CPU, peak RSS and event-loop lag p99
 *     of the engine process, against absolute targets (there is no external
 *     baseline that deploys through iLOs this way); once per bound on iLO
 *     requests in flight in BENCH_DEPLOY_BOUNDS (the default, 64, and 16).
 * (2) (the soak runs everything in this process, as the deploy lab does)
 *     A fault soak: BENCH_SOAK (1,000) agent_ilo deploys in rounds over
 *     BENCH_SOAK_SERVERS (100) servers, each with one fault drawn at random
 *     (iLO: reset, hang, malformed reply, error status, latency, at a random
 *     request; ramdisk: lost or slow callback, wrong token, corrupt image,
 *     failing command). Each deploy ends active, failed with its clean-up
 *     done, or stuck (not terminal by the deadline, or leftovers).
 *
 * `BENCH_DEPLOYS=0` or `BENCH_SOAK=0` skips a part; BENCH_SEED repeats a soak;
 * BENCH_ENGINE_NODE_ARGS passes node options to the engine process (e.g.
 * `--cpu-prof --heapsnapshot-near-heap-limit=1`).
 */
import { fork, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { DeployProgress, DeployRequest, DeployStatus } from '../lib/deploy/types';
import { requestSlotUsage } from '../lib/bmc';
import { buildIso } from '../lib/media/iso/writer';
import type { SimFault } from '../sim/faults';
import type { SimBootEvent, SimVmediaEvent } from '../sim/server';
import { Fleet } from '../sim/fleet';
import { SimRamdisk, type SimRamdiskFaults } from '../sim/ramdisk/boot';
import { makeImage, ramdiskAddresses, startLab, type Lab, type LabOptions } from '../test/helpers/deploy-lab';
import type { WorkerConfig, WorkerMeasurement } from '../test/helpers/engine-worker';
import { Worker } from '../test/helpers/shared-fleet';
import { absolute, fmt, heading, peakRss, percentile, rssMb } from './harness';
import type { BenchSuite } from './suite';

/** Event-loop delay sampling resolution; the histogram includes it, so it is subtracted. */
const LAG_RESOLUTION_MS = 10;

function envCount(name: string, dflt: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  return envCountValue(name, raw);
}

function envCountValue(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: expected a whole number >= 0, got ${JSON.stringify(raw)}`);
  return n;
}

/** A lab for many servers: one shared certificate, near-zero timings, small disks. */
function labOptions(servers: number, extra: Partial<LabOptions>): LabOptions {
  return {
    servers,
    fleet: { shareCertificate: true, models: ['gen9', 'gen10'], timings: { powerOnMs: 2, postMs: 5, softOffMs: 2, hardOffMs: 0 } },
    ramdisk: { diskSizeBytes: 1024 * 1024, ...extra.ramdisk },
    ...extra,
  };
}

interface Workload {
  deployIso: string;
  image: { path: string; sha256: string; size: number };
}

async function workload(dir: string, imageBytes: number): Promise<Workload> {
  const iso = buildIso({ volumeId: 'DEPLOY', files: [{ path: 'isolinux/isolinux.cfg', data: Buffer.from('append boot_method=vmedia') }] });
  const deployIso = join(dir, 'deploy.iso');
  await iso.writeToFile(deployIso);
  return { deployIso, image: makeImage(dir, 'instance.img', imageBytes) };
}

function request(w: Workload): DeployRequest {
  return { method: 'agent_ilo', image: w.image.path, deployIso: w.deployIso };
}

/** Event-loop lag (delay beyond the sampling interval), in ms. */
function lagMonitor(): { stop(): { p50: number; p99: number; max: number } } {
  const h = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  h.enable();
  const lag = (ns: number): number => Math.max(0, ns / 1e6 - LAG_RESOLUTION_MS);
  return {
    stop() {
      h.disable();
      return { p50: lag(h.percentile(50)), p99: lag(h.percentile(99)), max: lag(h.max) };
    },
  };
}

function until<T>(p: Promise<T>, ms: number): Promise<T | 'deadline'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<'deadline'>((r) => (timer = setTimeout(() => r('deadline'), ms)))]).finally(() => clearTimeout(timer));
}

function iloRequests(fleet: Fleet): number {
  return fleet.ilos.reduce((n, i) => n + i.server.requests.total, 0);
}

/** Requests per server, by model (Gen9 speaks RIBCL, Gen10 Redfish). */
function requestsByModel(fleet: Fleet): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const i of fleet.ilos) out.set(i.server.model.name, [...(out.get(i.server.model.name) ?? []), i.server.requests.total]);
  return out;
}

/** "gen9 (RIBCL) 10, gen10 (Redfish) 24": iLO requests per deploy by model, since `before`. */
function perModelReport(fleet: Fleet, before: Map<string, number[]>): string {
  const protocol: Record<string, string> = { gen9: 'RIBCL', gen10: 'Redfish' };
  return [...requestsByModel(fleet)]
    .map(([model, now]) => {
      const was = before.get(model) ?? [];
      const sent = now.reduce((n, x, k) => n + x - (was[k] ?? 0), 0);
      return `${model}${protocol[model] ? ` (${protocol[model]})` : ''} ${fmt(sent / now.length)}`;
    })
    .join(', ');
}

/**
 * What each simulated server and its ramdisk did (the last lines per
 * server), to explain a deploy that did not end as expected.
 */
class Stories {
  private readonly lines = new Map<string, string[]>();
  private readonly t0 = performance.now();
  readonly errors: string[] = [];

  log = (message: string): void => {
    const name = /^(\S+): /.exec(message)?.[1] ?? '?';
    this.add(name, message.slice(name.length + 2));
  };

  add(server: string, line: string): void {
    const l = this.lines.get(server) ?? [];
    l.push(`+${fmt((performance.now() - this.t0) / 1000)} s ${line}`);
    if (l.length > 30) l.shift();
    this.lines.set(server, l);
  }

  watch(lab: Lab): void {
    this.watchFleet(lab.ramdisks);
    lab.engine.on('progress', (p: DeployProgress) => this.add(p.server, `engine: ${p.step ?? ''} ${p.message}`));
  }

  /** What the simulated servers and ramdisks do (the engine's own progress is in another process, or added by watch). */
  watchFleet(ramdisks: SimRamdisk[]): void {
    for (const rd of ramdisks) {
      const name = rd.server.name;
      rd.on('error', (err: Error) => {
        this.errors.push(`${name}: ${err.message}`);
        this.add(name, `ramdisk error: ${err.message}`);
      });
      rd.on('no-boot', (why: string) => this.add(name, `no boot: ${why}`));
      rd.server.on('boot', (e: SimBootEvent) => this.add(name, `boot from ${e.device} (${e.source})`));
      rd.server.on('vmedia', (e: SimVmediaEvent) => {
        if (e.action === 'connect-failed') this.add(name, `${e.device} connect failed: ${e.outcome && !e.outcome.ok ? e.outcome.detail : ''}`);
      });
    }
  }

  of(server: string): string[] {
    return this.lines.get(server) ?? [];
  }
}

/** Temp files of the lab (its directory, the simulated disks) are gone after stop. */
function leftoverTempFiles(lab: Lab): string[] {
  return [lab.dir, ...lab.ramdisks.map((r) => dirname(r.diskFile))].filter((d) => existsSync(d));
}

async function stopLab(lab: Lab): Promise<void> {
  await lab.stop();
  const left = leftoverTempFiles(lab);
  console.log(left.length ? `temp files LEFT BEHIND: ${left.slice(0, 5).join(', ')}${left.length > 5 ? ' …' : ''}` : 'temp files: all removed');
}

// ------------------------------------------------------------------ part 1

/**
 * The engine side in a process of its own (test/helpers/engine-worker.ts:
 * deploy engine, file deploy store, built-in media store, ramdisk API, our
 * iLO clients), what a Node-RED instance carries; the simulated fleet and
 * its ramdisks in this process. RSS, event-loop lag and CPU are the engine
 * process's; this process's (the simulated fleet's) are printed apart.
 */
async function startEngineProcess(cfg: WorkerConfig): Promise<Worker & { done(deployId: string): Promise<DeployStatus> }> {
  // BENCH_ENGINE_NODE_ARGS: node options for the engine process (e.g. --cpu-prof to profile it).
  const execArgv = (process.env.BENCH_ENGINE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = fork(join(__dirname, '..', 'test', 'helpers', 'engine-worker.js'), [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv });
  const w = new Worker(cfg.name, cfg.localAddress, child, () => undefined);
  const waiting = new Map<string, (s: DeployStatus) => void>();
  const ended = new Map<string, DeployStatus>();
  child.on('message', (m: { event?: string; status?: DeployStatus }) => {
    if (m.event !== 'finished' || !m.status) return;
    const resolve = waiting.get(m.status.deployId);
    if (resolve) resolve(m.status);
    else ended.set(m.status.deployId, m.status);
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (m: { ready?: boolean; apiUrl?: string }) => {
      if (!m.ready) return;
      w.apiUrl = m.apiUrl ?? '';
      resolve();
    });
    void w.exited.then(() => reject(new Error(`the engine process exited before it was ready:\n${w.output}`)));
  });
  child.send({ config: cfg });
  await ready;
  return Object.assign(w, {
    done(deployId: string): Promise<DeployStatus> {
      const s = ended.get(deployId);
      if (s) return Promise.resolve(s);
      return new Promise<DeployStatus>((resolve) => waiting.set(deployId, resolve));
    },
  });
}

async function concurrentDeploys(count: number, bound: number): Promise<void> {
  heading(`${count} concurrent agent_ilo deploys (zero-latency simulated fleet), at most ${bound} iLO requests in flight`);
  console.log('baseline: none: nothing else deploys through iLOs like this to compare with; the targets are absolute');
  console.log('measured: the engine process (engine, deploy store, media store, ramdisk API, iLO clients), as a Node-RED instance runs them; the simulated fleet and ramdisks run in the bench process, printed apart');
  const startMs = performance.now();
  const stories = new Stories();
  const dir = mkdtempSync(join(tmpdir(), 'deploy-bench-'));
  const fleet = await Fleet.start({ servers: count, shareCertificate: true, models: ['gen9', 'gen10'], timings: { powerOnMs: 2, postMs: 5, softOffMs: 2, hardOffMs: 0 } });
  const addresses = ramdiskAddresses(count);
  const ramdisks = fleet.ilos.map((ilo, i) => new SimRamdisk(ilo.server, { address: addresses[i], heartbeatIntervalMs: 30_000, diskSizeBytes: 1024 * 1024, log: stories.log }));
  let engine: Awaited<ReturnType<typeof startEngineProcess>> | undefined;
  try {
    const w = await workload(dir, 256 * 1024);
    stories.watchFleet(ramdisks);
    engine = await startEngineProcess({
      name: 'engine',
      localAddress: '127.0.0.1',
      storeSettings: { type: 'files' },
      stateDir: join(dir, 'state'),
      servers: fleet.ilos.map((i) => ({ name: i.name, host: i.host, port: i.port, username: i.username, password: i.password })),
      ca: fleet.ca.cert,
      // Generous bounds: the figure is how long it takes, not whether it beats a timeout.
      settings: { apiUrl: '', callbackTimeoutMs: 120_000, powerTimeoutMs: 600_000, writeTimeoutMs: 600_000, bootIsoTtlSeconds: 3600, workDir: join(dir, 'work'), pollIntervalMs: 25 },
      mediaStateDir: join(dir, 'media'),
      fileRoots: [dir],
      requestTimeoutMs: 120_000,
      maxIloRequestsInFlight: bound,
    });
    const e = engine;
    console.log(
      `lab: ${count} simulated iLOs (Gen9 RIBCL / Gen10 Redfish in turn) with ramdisks ready in ${fmt((performance.now() - startMs) / 1000)} s; RSS ${fmt(rssMb())} MB (fleet process) and ${fmt(processRssMb(e.child.pid))} MB (engine process) before the deploys`,
    );
    console.log(`each deploy: a floppy built, it and the deploy ISO published and read by the iLO, a ${w.image.size / 1024} KiB image published, fetched and checksummed by the agent`);

    const requests0 = iloRequests(fleet);
    const byModel0 = requestsByModel(fleet);
    const fleetRss = peakRss(50);
    const fleetCpu0 = process.cpuUsage();
    await e.call({ op: 'measure', action: 'start' });
    const t0 = performance.now();
    const started = await Promise.all(fleet.ilos.map((ilo) => e.call<DeployStatus>({ op: 'deploy', server: ilo.name, request: request(w) })));
    const done = await Promise.all(started.map((s) => e.done(s.deployId)));
    const wallMs = performance.now() - t0;
    const m = await e.call<WorkerMeasurement>({ op: 'measure', action: 'stop' });
    const fleetCpu = process.cpuUsage(fleetCpu0);
    const fleetPeak = fleetRss.stop();

    const states = countStates(done);
    const wrongImage = done.filter((d, i) => d.state === 'active' && ramdisks[i]!.written?.sha256 !== w.image.sha256).length;
    const durations = done.filter((d) => d.finishedAt).map((d) => Date.parse(d.finishedAt!) - Date.parse(d.createdAt));
    const cpuMs = (m.cpu.user + m.cpu.system) / 1000;
    console.log(`states: ${formatCounts(states)}${wrongImage ? `; ${wrongImage} active with the WRONG image on disk` : ''}`);
    for (const d of done.filter((x) => x.state !== 'active').slice(0, 5)) {
      console.log(`  ${d.server}: ${d.state} at ${d.failedStep ?? '?'}: ${d.lastError ?? ''}`);
      for (const line of stories.of(d.server)) console.log(`    ${line}`);
    }
    if (stories.errors.length) console.log(`simulated ramdisk errors: ${stories.errors.length}, e.g. ${stories.errors[0]}`);
    console.log(`wall time: ${fmt(wallMs / 1000)} s for ${count} deploys (${fmt((count / wallMs) * 1000)} deploys/s); per deploy p50 ${fmt(percentile(durations, 50) / 1000)} s, p99 ${fmt(percentile(durations, 99) / 1000)} s`);
    console.log(
      `CPU of the engine process: ${fmt(cpuMs / 1000)} s (${fmt(m.cpu.user / 1e6)} user, ${fmt(m.cpu.system / 1e6)} system), ${fmt(cpuMs / count)} ms per deploy, ${fmt((cpuMs / wallMs) * 100)}% of one core; the simulated fleet and ramdisks: ${fmt((fleetCpu.user + fleetCpu.system) / 1e6)} s`,
    );
    console.log(`time per step, p50 / p99 (s): ${Object.entries(m.steps).map(([n, d]) => `${n} ${fmt(percentile(d, 50))}/${fmt(percentile(d, 99))}`).join(', ')}`);
    console.log(`iLO requests (HTTPS): ${iloRequests(fleet) - requests0} (${fmt((iloRequests(fleet) - requests0) / count)} per deploy; by model: ${perModelReport(fleet, byModel0)})`);
    const mb = (n: number): string => fmt(n / 1024 / 1024);
    const a = m.atPeak;
    console.log(
      `engine process memory at its peak: RSS ${mb(a.rss)} MB = JS heap ${mb(a.heapTotal)} MB (${mb(a.heapUsed)} used) + external ${mb(a.external)} MB (array buffers ${mb(a.arrayBuffers)}) + the rest (code, TLS and native); simulated fleet process: peak RSS ${fmt(fleetPeak)} MB`,
    );
    console.log(`engine process event-loop lag: p50 ${fmt(m.lagMs.p50)} ms, p99 ${fmt(m.lagMs.p99)} ms, max ${fmt(m.lagMs.max)} ms`);
    // Lag is the engine's own work and the CPU it gets: on a shared machine, say how shared.
    console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((l) => fmt(l)).join(' / ')} (1 / 5 / 15 min) at the end`);
    absolute('peak RSS (engine process, VmHWM)', m.peakRssMb, 'MB', { below: 400 });
    absolute('event-loop lag p99 (engine process)', m.lagMs.p99, 'ms', { below: 35 });
    absolute(`deploys that did not end active (of ${count})`, count - (states.active ?? 0) + wrongImage, 'deploys', { atMost: 0 });
  } finally {
    await engine?.call({ op: 'stop' }).catch(() => undefined);
    await engine?.exited;
    await Promise.all(ramdisks.map((r) => r.dispose()));
    await fleet.stop();
    rmSync(dir, { recursive: true, force: true });
    const left = [dir, ...ramdisks.map((r) => dirname(r.diskFile))].filter((d) => existsSync(d));
    console.log(left.length ? `temp files LEFT BEHIND: ${left.slice(0, 5).join(', ')}${left.length > 5 ? ' …' : ''}` : 'temp files: all removed');
  }
}

/** Resident set of another process now, MB. */
function processRssMb(pid: number | undefined): number {
  const m = pid ? /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8')) : null;
  return m ? Number(m[1]) / 1024 : NaN;
}

function countStates(list: DeployStatus[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of list) out[d.state] = (out[d.state] ?? 0) + 1;
  return out;
}

function formatCounts(c: Record<string, number>): string {
  return Object.entries(c)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
}

// ------------------------------------------------------------------ part 2

/** Small deterministic PRNG (mulberry32), so a soak can be repeated with its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** RIBCL commands an agent_ilo deploy sends (a fault can name one). */
const RIBCL_COMMANDS = [
  'GET_PRODUCT_NAME',
  'GET_ALL_LICENSES',
  'GET_PENDING_BOOT_MODE',
  'HOLD_PWR_BTN',
  'GET_HOST_POWER_STATUS',
  'INSERT_VIRTUAL_MEDIA',
  'SET_ONE_TIME_BOOT',
  'SET_HOST_POWER',
  'EJECT_VIRTUAL_MEDIA',
  'GET_PERSISTENT_BOOT',
  'SET_PERSISTENT_BOOT',
];

interface Drawn {
  label: string;
  ilo?: SimFault;
  ramdisk?: SimRamdiskFaults;
}

function drawFault(random: () => number, ribcl: boolean, callbackTimeoutMs: number): Drawn {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const kind = pick(['none', 'ilo-reset', 'ilo-hang', 'ilo-malformed', 'ilo-error', 'ilo-latency', 'lost-callback', 'slow-callback', 'wrong-token', 'corrupt-image', 'fail-command'] as const);
  // Where the iLO fault lands: after 0-29 requests of this deploy, or (RIBCL) at a named command.
  const scope = (): Pick<SimFault, 'after' | 'command' | 'times'> => {
    const times = random() < 0.7 ? 1 : 3; // 3 outlasts the client's two retries
    return ribcl && random() < 0.5 ? { command: pick(RIBCL_COMMANDS), after: Math.floor(random() * 3), times } : { after: Math.floor(random() * 30), times };
  };
  switch (kind) {
    case 'none':
      return { label: kind };
    case 'ilo-reset':
      return { label: kind, ilo: { kind: 'reset', ...scope() } };
    case 'ilo-hang':
      return { label: kind, ilo: { kind: 'hang', ...scope() } };
    case 'ilo-malformed':
      return { label: kind, ilo: { kind: 'malformed', ...scope() } };
    case 'ilo-error':
      return { label: kind, ilo: { kind: 'error', status: ribcl ? 0x0004 : 500, message: 'Internal error (simulated fault)', ...scope() } };
    case 'ilo-latency':
      return { label: kind, ilo: { kind: 'latency', ms: 200 + Math.floor(random() * 2500), ...scope() } };
    case 'lost-callback':
      return { label: kind, ramdisk: { lostCallback: true } };
    case 'slow-callback':
      // Sometimes within the callback timeout, sometimes past it.
      return { label: kind, ramdisk: { slowCallbackMs: Math.floor(callbackTimeoutMs * (0.2 + random() * 1.2)) } };
    case 'wrong-token':
      return { label: kind, ramdisk: { wrongToken: 'not-the-token-0123456789abcdefghijklmnopqrs' } };
    case 'corrupt-image':
      return { label: kind, ramdisk: { corruptImage: true } };
    case 'fail-command':
      return { label: kind, ramdisk: { failCommand: pick(['standby.prepare_image', 'standby.power_off']) } };
  }
}

type Verdict = { kind: 'active' } | { kind: 'failed-clean' } | { kind: 'stuck'; why: string };

/** What a user checks (as the integration test's assertCleanedUp), read from the simulated machine itself. */
async function leftovers(lab: Lab, i: number, deployId: string, published: Map<string, string[]>): Promise<string[]> {
  const s = lab.fleet.ilos[i]!.server;
  const out: string[] = [];
  if (s.drives.cdrom.inserted) out.push(`CD inserted (${s.drives.cdrom.url.slice(-40)})`);
  if (s.drives.floppy.inserted) out.push('floppy inserted');
  for (const name of published.get(deployId) ?? []) if (await lab.media.store.stat(name)) out.push(`${name} still published`);
  if (existsSync(join(lab.settings.workDir, deployId))) out.push('staged files left');
  return out;
}

async function classify(lab: Lab, i: number, d: DeployStatus | 'deadline', deployId: string, w: Workload, published: Map<string, string[]>): Promise<Verdict> {
  if (d === 'deadline') {
    const now = await lab.engine.status(deployId);
    return { kind: 'stuck', why: `not terminal by the deadline: ${now?.state} in ${now?.step ?? '?'}` };
  }
  const left = await leftovers(lab, i, deployId, published);
  const s = lab.fleet.ilos[i]!.server;
  if (d.state === 'active') {
    if (lab.ramdisks[i]!.written?.sha256 !== w.image.sha256) left.push('the image on disk is not the one deployed');
    return left.length ? { kind: 'stuck', why: `active with leftovers: ${left.join('; ')}` } : { kind: 'active' };
  }
  if (d.state === 'deploy failed') {
    if (!d.cleanup?.done) left.push(`clean-up not done: ${d.cleanup?.errors.join('; ') ?? 'no clean-up recorded'}`);
    if (s.powerState !== 'off') left.push('server left powered on');
    if ((await lab.engine.status(`${lab.fleet.ilos[i]!.host}:${lab.fleet.ilos[i]!.port}`))?.deployId !== deployId) left.push('a later record holds the server');
    return left.length ? { kind: 'stuck', why: `failed with leftovers (${d.failedStep}: ${d.lastError}): ${left.join('; ')}` } : { kind: 'failed-clean' };
  }
  return { kind: 'stuck', why: `ended ${d.state}: ${d.lastError ?? ''}` };
}

async function faultSoak(total: number, servers: number): Promise<void> {
  const seed = envCount('BENCH_SEED', Math.floor(Math.random() * 2 ** 31));
  const callbackTimeoutMs = 4000;
  const deadlineMs = envCount('BENCH_SOAK_DEADLINE_S', 180) * 1000;
  heading(`fault soak: ${total} agent_ilo deploys with random faults, ${servers} servers reused (seed ${seed})`);
  console.log('baseline: none; the target is absolute: 0 stuck');
  const stories = new Stories();
  const lab = await startLab(
    labOptions(servers, {
      // Clean-up retries keep their shape (4 attempts, doubling pauses) on a zero-latency fleet's time scale.
      // Late commands land within the longest injected latency (2.7 s): clean-up waits 5 s after an unanswered request.
      settings: { pollIntervalMs: 25, callbackTimeoutMs, powerTimeoutMs: 20_000, writeTimeoutMs: 30_000, cleanupRetry: { delayMs: 250 }, lateCommandSettleMs: 5000 },
      ramdisk: { heartbeatIntervalMs: 2000, log: stories.log },
      // Short, so a hung iLO request ends in a timeout the deploy must survive or fail cleanly from.
      bmc: { requestTimeoutMs: 1500, retries: 2 },
    }),
  );
  const random = rng(seed);
  const counts = { active: 0, 'failed-clean': 0, stuck: 0 };
  const byFault = new Map<string, { active: number; 'failed-clean': number; stuck: number }>();
  const stuck: string[] = [];
  const undeploys: Record<string, number> = {};
  try {
    const w = await workload(lab.dir, 64 * 1024);
    stories.watch(lab);
    // Names published for each deploy (the object names carry the deploy id).
    const published = new Map<string, string[]>();
    const rss = peakRss(50);
    const lag = lagMonitor();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let launched = 0;
    for (let round = 0; launched < total; round++) {
      const batch = Math.min(servers, total - launched);
      const entries = await Promise.all(Array.from({ length: batch }, async (_, i) => {
        const ilo = lab.fleet.ilos[i]!;
        const rd = lab.ramdisks[i]!;
        const fault = drawFault(random, i % 2 === 0, callbackTimeoutMs);
        ilo.server.faults.clear();
        if (fault.ilo) ilo.server.faults.add(fault.ilo);
        rd.faults = fault.ramdisk ?? {};
        rd.written = undefined;
        const status = await lab.deploy(ilo, request(w));
        return { i, fault, id: status.deployId };
      }));
      launched += batch;
      const results = await Promise.all(entries.map((e) => until(lab.engine.wait(e.id), deadlineMs)));
      for (const name of lab.publishedNames) {
        const id = /^agent_ilo-([0-9a-f-]{36})-/.exec(name)?.[1];
        if (id) published.set(id, [...new Set([...(published.get(id) ?? []), name])]);
      }
      for (const [k, e] of entries.entries()) {
        const v = await classify(lab, e.i, results[k]!, e.id, w, published);
        counts[v.kind]++;
        const f = byFault.get(e.fault.label) ?? { active: 0, 'failed-clean': 0, stuck: 0 };
        f[v.kind]++;
        byFault.set(e.fault.label, f);
        if (v.kind === 'stuck') {
          const name = lab.fleet.ilos[e.i]!.name;
          stuck.push(`${name} (${lab.fleet.ilos[e.i]!.server.model.name}) ${e.fault.label} ${JSON.stringify(e.fault.ilo ?? e.fault.ramdisk ?? {})}: ${v.why}`);
          for (const line of stories.of(name).slice(-8)) stuck.push(`    ${line}`);
        }
      }
      // Back to a clean fleet for the next round: faults off, active deploys torn down, stuck ones undeployed.
      await Promise.all(
        entries.map(async (e) => {
          const ilo = lab.fleet.ilos[e.i]!;
          ilo.server.faults.clear();
          lab.ramdisks[e.i]!.faults = {};
          const last = await lab.engine.status(`${ilo.host}:${ilo.port}`);
          if (!last || last.state === 'deploy failed' || last.state === 'available') return;
          const td = await lab.engine.undeploy(`${ilo.host}:${ilo.port}`);
          const end = await until(lab.engine.wait(td.deployId), deadlineMs);
          const state = end === 'deadline' ? 'not terminal' : end.state;
          undeploys[state] = (undeploys[state] ?? 0) + 1;
        }),
      );
      process.stdout.write(`  round ${round + 1}: ${launched}/${total} deploys, ${counts.active} active, ${counts['failed-clean']} failed (cleaned up), ${counts.stuck} stuck\n`);
    }
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const lagMs = lag.stop();
    const peak = rss.stop();
    console.log(`by fault (active / failed, cleaned up / stuck):`);
    for (const [label, f] of [...byFault.entries()].sort()) console.log(`  ${label.padEnd(14)} ${String(f.active).padStart(4)} / ${String(f['failed-clean']).padStart(4)} / ${String(f.stuck).padStart(3)}`);
    for (const s of stuck.slice(0, 90)) console.log(s.startsWith(' ') ? s : `  STUCK ${s}`);
    if (stuck.length > 90) console.log(`  … (${stuck.length - 90} more lines)`);
    if (stories.errors.length) console.log(`simulated ramdisk errors: ${stories.errors.length}, e.g. ${stories.errors[0]}`);
    console.log(`undeploys of active servers between rounds: ${formatCounts(undeploys) || 'none'}`);
    console.log(
      `soak: ${fmt(wallMs / 1000)} s wall, ${fmt((cpu.user + cpu.system) / 1e6)} s CPU, peak RSS ${fmt(peak)} MB, event-loop lag p99 ${fmt(lagMs.p99)} ms (max ${fmt(lagMs.max)} ms)`,
    );
    console.log(`deploys: ${counts.active} active, ${counts['failed-clean']} failed with clean-up done, ${counts.stuck} stuck (of ${total})`);
    absolute('stuck deploys', counts.stuck, 'deploys', { atMost: 0 });
    const badUndeploys = Object.entries(undeploys).filter(([s]) => s !== 'available').reduce((n, [, c]) => n + c, 0);
    absolute('tear-downs that did not end available', badUndeploys, 'tear-downs', { atMost: 0 });
  } finally {
    await stopLab(lab);
  }
}

/**
 * Each part runs in a process of its own: peak RSS is a high-water mark, and
 * a second part in the same process would start from the first one's.
 */
function runPart(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, ...args], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`deploy bench part ${args.join(' ')} ended with ${signal ?? `exit code ${code}`}`))));
  });
}

export const deployBench: BenchSuite = {
  name: 'deploy',
  async run() {
    const deploys = envCount('BENCH_DEPLOYS', 500);
    const soak = envCount('BENCH_SOAK', 1000);
    const soakServers = Math.max(1, envCount('BENCH_SOAK_SERVERS', 100));
    // The default bound (64) and a tighter one, to show what the bound trades: throughput for event-loop lag.
    const bounds = (process.env.BENCH_DEPLOY_BOUNDS ?? `${requestSlotUsage().limit},16`).split(',').map((b) => envCountValue('BENCH_DEPLOY_BOUNDS', b.trim()));
    if (deploys > 0) for (const bound of bounds) await runPart(['concurrent', String(deploys), String(bound)]);
    if (soak > 0) await runPart(['soak', String(soak), String(soakServers)]);
  },
};

if (require.main === module) {
  const [part, a, b] = process.argv.slice(2);
  const run = part === 'concurrent' ? concurrentDeploys(Number(a), Number(b)) : part === 'soak' ? faultSoak(Number(a), Number(b)) : Promise.reject(new Error(`unknown part ${part}`));
  run.then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`deploy bench ${part}: FAILED: ${(err as Error).stack ?? String(err)}`);
      process.exit(1);
    },
  );
}
