/**
 * One deploy engine in a process of its own, as one Node-RED instance of a
 * shared fleet would run it: the PostgreSQL deploy store (chosen through
 * the same settings parser as settings.js `iloDeployStore`, the password
 * from the environment), the three processes, its own built-in media store,
 * its ramdisk API, and iLO connections made from its own loopback address
 * (so the simulated iLOs can tell the instances apart). Started by
 * shared-fleet.ts with `fork`; driven over the IPC channel.
 *
 * Messages in:  { config: WorkerConfig } once, then WorkerRequest.
 * Messages out: { ready, apiUrl, mediaUrl, instanceId }, WorkerReply,
 *               { event: 'finished' | 'progress', ... }.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setMaxIloRequestsInFlight } from '../../lib/bmc';
import { createBmc } from '../../lib/bmc/connect';
import type { Bmc } from '../../lib/bmc/types';
import { DeployEngine } from '../../lib/deploy/engine';
import type { DeployStore } from '../../lib/deploy/deploy-store';
import { deployProcesses, type DeployDeps, type DeploySettings } from '../../lib/deploy/processes';
import { createRamdiskApi } from '../../lib/deploy/ramdisk-api';
import { createDeployStore, parseDeployStoreSettings } from '../../lib/deploy/store-settings';
import type { DeployProgress, DeployRequest, DeployStatus } from '../../lib/deploy/types';
import { MediaService } from '../../lib/images/service';

export interface WorkerServer {
  name: string;
  host: string;
  port: number;
  username: string;
  password: string;
}

export interface WorkerConfig {
  name: string;
  /** The address this instance's iLO connections come from. */
  localAddress: string;
  /** settings.js `iloDeployStore` as an operator writes it (the password comes from the environment); `{ type: 'files' }` for the embedded store. */
  storeSettings: Record<string, unknown>;
  /** The file store's directory. */
  stateDir: string;
  servers: WorkerServer[];
  ca: string;
  settings: DeploySettings;
  mediaStateDir: string;
  fileRoots: string[];
  /** Forward every progress message (small runs), or only the ones that say media was published again. */
  allProgress?: boolean;
  /** Our iLO clients' request timeout (default 10 s). */
  requestTimeoutMs?: number;
  /** The process-wide bound on iLO requests in flight (default: the library's). */
  maxIloRequestsInFlight?: number;
}

/** What `measure` `stop` answers: this process's figures between start and stop. */
export interface WorkerMeasurement {
  /** VmHWM: the process's peak resident set since it started, MB. */
  peakRssMb: number;
  /** process.memoryUsage() at the highest RSS sampled (every 250 ms). */
  atPeak: NodeJS.MemoryUsage;
  lagMs: { p50: number; p99: number; max: number };
  cpu: NodeJS.CpuUsage;
  /** Seconds each deploy spent in each step. */
  steps: Record<string, number[]>;
}

export type WorkerRequest =
  | { id: number; op: 'deploy' | 'rebuild'; server: string; request: DeployRequest }
  | { id: number; op: 'undeploy' | 'status'; target: string }
  | { id: number; op: 'roundTrips' }
  | { id: number; op: 'measure'; action: 'start' | 'stop' }
  | { id: number; op: 'stop' };

export type WorkerReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: { code?: string; message: string } };

function send(m: unknown): void {
  process.send?.(m);
}

async function main(cfg: WorkerConfig): Promise<void> {
  const log = {
    info: (m: string) => process.stdout.write(`[${cfg.name}] ${m}\n`),
    warn: (m: string) => process.stdout.write(`[${cfg.name}] WARN ${m}\n`),
  };
  const media = await MediaService.open({ store: 'builtin', builtin: { stateDir: cfg.mediaStateDir, host: '127.0.0.1', port: 0 }, images: { fileRoots: cfg.fileRoots } });
  const store: DeployStore = ownershipReported(createDeployStore(parseDeployStoreSettings(cfg.storeSettings.type === 'postgres' ? { ...cfg.storeSettings, instanceName: cfg.name } : cfg.storeSettings), { dir: cfg.stateDir, log }));
  const bmcs = new Map<string, Promise<Bmc>>();
  const bmcFor = (name: string): Promise<Bmc> => {
    let b = bmcs.get(name);
    if (!b) {
      const s = cfg.servers.find((x) => x.name === name);
      if (!s) return Promise.reject(new Error(`no server ${name}`));
      b = createBmc({
        host: s.host,
        port: s.port,
        username: s.username,
        password: s.password,
        protocol: 'auto',
        tls: { mode: 'ca', ca: cfg.ca },
        localAddress: cfg.localAddress,
        requestTimeoutMs: cfg.requestTimeoutMs ?? 10_000,
      });
      const probe = b;
      bmcs.set(name, probe);
      probe.catch(() => bmcs.get(name) === probe && bmcs.delete(name));
    }
    return b;
  };
  if (cfg.maxIloRequestsInFlight !== undefined) setMaxIloRequestsInFlight(cfg.maxIloRequestsInFlight);
  // No ramdisk API URL given: this instance's own (set once it listens, before any deploy).
  const settings = { ...cfg.settings };
  const engine = new DeployEngine<DeployDeps>({
    store,
    processes: deployProcesses(),
    callbackTimeoutMs: cfg.settings.callbackTimeoutMs,
    log,
    resolveDeps: async (record) => ({ settings, media: async () => media, bmc: () => bmcFor(record.refs.server as string) }),
  });
  engine.setMaxListeners(0);
  engine.on('finished', (s: DeployStatus) => send({ event: 'finished', status: s }));
  engine.on('progress', (p: DeployProgress) => {
    if (cfg.allProgress || /publishing and inserting it again/.test(p.message)) send({ event: 'progress', progress: p });
  });
  let callbacks = 0;
  const handler = createRamdiskApi({
    findForRamdisk: (id, macs) => engine.findForRamdisk(id, macs),
    callback: (id, kind, token, body) => {
      callbacks++;
      return engine.callback(id, kind, token, body);
    },
  });
  const api = createServer((req, res) => void handler(req, res));
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', () => r()));
  const ownApiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  if (!settings.apiUrl) settings.apiUrl = ownApiUrl;
  await engine.start();
  const mediaUrl = media.localBaseUrl ?? '';
  log.info(`media store at ${mediaUrl}`);
  let measuring: { stop(): WorkerMeasurement } | undefined;
  send({ ready: true, apiUrl: ownApiUrl, instanceId: store.instanceId, mediaUrl });

  const keyOf = (name: string): string => {
    const s = cfg.servers.find((x) => x.name === name);
    if (!s) throw new Error(`no server ${name}`);
    return `${s.host}:${s.port}`;
  };
  process.on('message', (m: WorkerRequest) => {
    void (async (): Promise<unknown> => {
      switch (m.op) {
        case 'deploy':
        case 'rebuild': {
          const start = { serverKey: keyOf(m.server), serverName: m.server, refs: { server: m.server }, request: m.request };
          return m.op === 'deploy' ? engine.deploy(start) : engine.rebuild(start);
        }
        case 'undeploy':
          return engine.undeploy(m.target.includes(':') ? m.target : { deployId: m.target });
        case 'status':
          return engine.status(m.target);
        case 'measure':
          if (m.action === 'start') {
            measuring = measure(engine);
            return 'measuring';
          }
          if (!measuring) throw new Error('measure stop without a start');
          return measuring.stop();
        case 'roundTrips':
          return { roundTrips: (store as unknown as { roundTrips?: number }).roundTrips ?? 0, callbacks };
        case 'stop':
          await engine.stop();
          await new Promise<void>((r) => api.close(() => r()));
          await media.close();
          for (const b of bmcs.values()) await (await b.catch(() => undefined))?.close();
          setImmediate(() => process.exit(0));
          return 'stopped';
      }
    })().then(
      (result) => send({ id: m.id, ok: true, result } satisfies WorkerReply),
      (err: Error & { code?: string }) => send({ id: m.id, ok: false, error: { code: err.code, message: err.message } } satisfies WorkerReply),
    );
  });
}

/** Event-loop delay sampling resolution; the histogram includes it, so it is subtracted. */
const LAG_RESOLUTION_MS = 10;

/** Memory, event-loop lag, CPU and step times of this process from now until stop. */
function measure(engine: DeployEngine<DeployDeps>): { stop(): WorkerMeasurement } {
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  lag.enable();
  const cpu0 = process.cpuUsage();
  let atPeak = process.memoryUsage();
  // rss() is cheap; the full breakdown (a walk of the heap's spaces) only at a new peak.
  const sampler = setInterval(() => {
    if (process.memoryUsage.rss() > atPeak.rss + 1024 * 1024) atPeak = process.memoryUsage();
  }, 250);
  const entered = new Map<string, { step: string; at: number }>();
  const steps: Record<string, number[]> = {};
  const onProgress = (p: DeployProgress): void => {
    const step = p.step ?? (p.state === 'active' ? 'end' : undefined);
    const was = entered.get(p.deployId);
    if (!step || was?.step === step) return;
    if (was) (steps[was.step] ??= []).push((performance.now() - was.at) / 1000);
    entered.set(p.deployId, { step, at: performance.now() });
  };
  engine.on('progress', onProgress);
  const ms = (ns: number): number => Math.max(0, ns / 1e6 - LAG_RESOLUTION_MS);
  return {
    stop() {
      clearInterval(sampler);
      lag.disable();
      engine.off('progress', onProgress);
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
      return {
        peakRssMb: hwm ? Number(hwm[1]) / 1024 : atPeak.rss / 1024 / 1024,
        atPeak,
        lagMs: { p50: ms(lag.percentile(50)), p99: ms(lag.percentile(99)), max: ms(lag.max) },
        cpu: process.cpuUsage(cpu0),
        steps,
      };
    },
  };
}

/**
 * The store, telling the test each time this instance becomes the owner of
 * a deploy (created, claimed or adopted here), at the moment the database
 * said so: from then on only this instance may drive that deploy's server.
 */
function ownershipReported(store: DeployStore): DeployStore {
  const owns = (deployId: string): void => send({ event: 'owns', deployId, at: Date.now() });
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const fn = value as (...a: unknown[]) => unknown;
      if (prop === 'create' || prop === 'claim') {
        return async (...args: unknown[]) => {
          const r = (await fn.apply(target, args)) as { ok: boolean };
          if (r.ok) owns(prop === 'create' ? (args[0] as { id: string }).id : (args[0] as string));
          return r;
        };
      }
      if (prop === 'adoptOrphans') {
        return async () => {
          const adopted = (await fn.apply(target, [])) as Array<{ id: string }>;
          for (const r of adopted) owns(r.id);
          return adopted;
        };
      }
      return fn.bind(target);
    },
  });
}

process.once('message', (m: { config?: WorkerConfig }) => {
  if (!m.config) return;
  main(m.config).catch((err: unknown) => {
    process.stdout.write(`[${m.config?.name}] FATAL ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
});
