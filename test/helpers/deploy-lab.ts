/**
 * A deploy laboratory for tests and benchmarks: a simulated fleet whose
 * servers run simulated ramdisks, the built-in media store, the deploy
 * engine with the three processes, and the ramdisk API on loopback.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBmc } from '../../lib/bmc/connect';
import type { Bmc } from '../../lib/bmc/types';
import { DeployEngine } from '../../lib/deploy/engine';
import type { DeployStore } from '../../lib/deploy/deploy-store';
import { FileDeployStore } from '../../lib/deploy/file-deploy-store';
import type { DeployProcess } from '../../lib/deploy/step';
import { deployProcesses, type DeployDeps, type DeploySettings } from '../../lib/deploy/processes';
import { createRamdiskApi } from '../../lib/deploy/ramdisk-api';
import type { DeployMethod, DeployRequest, DeployStatus } from '../../lib/deploy/types';
import { MediaService, type MediaServiceConfig } from '../../lib/images/service';
import { Fleet, type FleetOptions, type SimIlo } from '../../sim/fleet';
import { SimRamdisk, type SimRamdiskOptions } from '../../sim/ramdisk/boot';

export interface LabOptions {
  servers?: number;
  fleet?: Partial<FleetOptions>;
  settings?: Partial<DeploySettings>;
  /** Wrap the processes (to inject failures). */
  processes?: (p: Record<DeployMethod, DeployProcess<DeployDeps>>) => Record<DeployMethod, DeployProcess<DeployDeps>>;
  /** Keep this state directory (to start a second engine on it: a restart). */
  stateDir?: string;
  /** Simulated ramdisks: disk size (sparse file per server, default 64 MiB) and heartbeat interval (default 500 ms). */
  ramdisk?: Pick<SimRamdiskOptions, 'diskSizeBytes' | 'heartbeatIntervalMs' | 'log' | 'agentTls'>;
  /** The engine refuses heartbeats whose callback_url is not https:// (settings.js iloDeployAgentRequireTls). */
  requireAgentTls?: boolean;
  /** The engine's log (warnings: refused call-backs…). */
  log?: { info(m: string): void; warn(m: string): void };
  /** Our iLO clients: per-request timeout (default 10 s) and retries (default 2). */
  bmc?: { requestTimeoutMs?: number; retries?: number };
  /** The media store (default: the built-in one in the lab directory, reading images from it). */
  media?: (dir: string) => MediaServiceConfig;
  /** The engine's clock and maintenance period (to move time on in tests). */
  engine?: { now?: () => number; maintenanceMs?: number };
  /** The deploy store (default: a FileDeployStore in the state directory), made anew for each engine. */
  store?: (stateDir: string) => DeployStore;
}

export interface Lab {
  dir: string;
  fleet: Fleet;
  ramdisks: SimRamdisk[];
  media: MediaService;
  engine: DeployEngine<DeployDeps>;
  apiUrl: string;
  stateDir: string;
  settings: DeploySettings;
  /** Everything ever published through the store (to check clean-up). */
  publishedNames: Set<string>;
  deploy(ilo: SimIlo, request: DeployRequest): Promise<DeployStatus>;
  rebuild(ilo: SimIlo, request: DeployRequest): Promise<DeployStatus>;
  /** Our own client for server i (to check what the iLO says). */
  bmc(i: number): Promise<Bmc>;
  /** A new engine on the same state directory, as after a Node-RED restart. */
  restartEngine(): Promise<{ resumed: string[]; failed: string[] }>;
  /** The media store closed and opened again on its state directory (its automatic port kept if free), as after a restart. */
  restartMedia(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A lab-wide unique loopback block, so parallel test files do not share the
 * DIB port 10000. Server i gets the i-th address of the block (253 per /24,
 * so a large fleet spans consecutive /24s).
 */
export function ramdiskAddresses(count: number): string[] {
  const a = 40 + (process.pid % 200);
  const b = Math.floor(Math.random() * 200) + 1;
  return Array.from({ length: count }, (_, i) => `127.${a}.${b + Math.floor(i / 253)}.${(i % 253) + 2}`);
}

export async function startLab(o: LabOptions = {}): Promise<Lab> {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-lab-'));
  const fleet = await Fleet.start({ servers: o.servers ?? 3, timings: { powerOnMs: 60, postMs: 60, softOffMs: 60 }, ...o.fleet });
  const openMedia = (): Promise<MediaService> => MediaService.open(o.media?.(dir) ?? { store: 'builtin', builtin: { stateDir: join(dir, 'store'), host: '127.0.0.1', port: 0 }, images: { fileRoots: [dir] } });
  const media = await openMedia();
  const publishedNames = new Set<string>();
  const tftpRoot = join(dir, 'tftp');
  const addresses = ramdiskAddresses(fleet.ilos.length);
  const ramdisks = fleet.ilos.map(
    (ilo, i) => new SimRamdisk(ilo.server, { address: addresses[i], heartbeatIntervalMs: o.ramdisk?.heartbeatIntervalMs ?? 500, tftpRoot, diskSizeBytes: o.ramdisk?.diskSizeBytes ?? 64 * 1024 * 1024, log: o.ramdisk?.log, agentTls: o.ramdisk?.agentTls }),
  );
  // A boot the server cannot finish (clean-up ejected the CD while it booted from it) is a failed boot, as on real hardware.
  for (const rd of ramdisks) rd.on('error', (err: Error) => o.ramdisk?.log?.(`${rd.server.name}: boot failed: ${err.message}`));
  const bmcs = new Map<string, Promise<Bmc>>();
  // One API server for the lab's lifetime: it always talks to the current engine.
  const api: Server = createServer((req, res) => void createRamdiskApi(lab.engine)(req, res));
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', () => r()));
  const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  const stateDir = o.stateDir ?? join(dir, 'state');
  const settings: DeploySettings = {
    apiUrl,
    callbackTimeoutMs: 20_000,
    powerTimeoutMs: 15_000,
    writeTimeoutMs: 120_000,
    bootIsoTtlSeconds: 3600,
    workDir: join(dir, 'work'),
    tftpRoot,
    pollIntervalMs: 50,
    ...o.settings,
  };
  const trackingMedia = {
    publish: (...a: Parameters<MediaService['publish']>) => (publishedNames.add(a[0]), lab.media.publish(...a)),
    publishImage: (...a: Parameters<MediaService['publishImage']>) => {
      if (a[1]?.name) publishedNames.add(a[1].name);
      return lab.media.publishImage(...a);
    },
    unpublish: (n: string) => lab.media.unpublish(n),
    renew: (...a: Parameters<MediaService['renew']>) => lab.media.renew(...a),
    download: (...a: Parameters<MediaService['download']>) => lab.media.download(...a),
    checkImage: (...a: Parameters<MediaService['checkImage']>) => lab.media.checkImage(...a),
  };
  const bmcFor = (ilo: SimIlo): Promise<Bmc> => {
    let b = bmcs.get(ilo.name);
    if (!b) {
      b = createBmc({
        host: ilo.host,
        port: ilo.port,
        username: ilo.username,
        password: ilo.password,
        protocol: 'auto',
        tls: { mode: 'ca', ca: fleet.ca.cert },
        requestTimeoutMs: o.bmc?.requestTimeoutMs ?? 10_000,
        retries: o.bmc?.retries,
      });
      // A failed probe (the iLO did not answer) is not remembered: the next deploy probes again.
      const probe = b;
      bmcs.set(ilo.name, probe);
      probe.catch(() => {
        if (bmcs.get(ilo.name) === probe) bmcs.delete(ilo.name);
      });
    }
    return b;
  };
  const makeEngine = (): DeployEngine<DeployDeps> => {
    const processes = deployProcesses();
    return new DeployEngine<DeployDeps>({
      store: o.store ? o.store(stateDir) : new FileDeployStore({ dir: stateDir }),
      processes: o.processes ? o.processes(processes) : processes,
      callbackTimeoutMs: settings.callbackTimeoutMs,
      requireAgentTls: o.requireAgentTls,
      log: o.log,
      ...o.engine,
      resolveDeps: async (record) => {
        const ilo = fleet.get(record.refs.server as string);
        return {
          settings,
          media: async () => trackingMedia,
          bmc: () => bmcFor(ilo),
        };
      },
    });
  };
  const lab: Lab = {
    dir,
    fleet,
    ramdisks,
    media,
    engine: makeEngine(),
    apiUrl,
    stateDir,
    settings,
    publishedNames,
    deploy(ilo, request) {
      return lab.engine.deploy({ serverKey: `${ilo.host}:${ilo.port}`, serverName: ilo.name, refs: { server: ilo.name }, request });
    },
    rebuild(ilo, request) {
      return lab.engine.rebuild({ serverKey: `${ilo.host}:${ilo.port}`, serverName: ilo.name, refs: { server: ilo.name }, request });
    },
    bmc: (i) => bmcFor(fleet.ilos[i]!),
    async restartEngine() {
      await lab.engine.stop();
      lab.engine = makeEngine();
      return lab.engine.start();
    },
    async restartMedia() {
      await lab.media.close();
      lab.media = await openMedia();
    },
    async stop() {
      await lab.engine.stop();
      await new Promise<void>((r) => api.close(() => r()));
      await Promise.all(ramdisks.map((r) => r.dispose()));
      for (const b of bmcs.values()) await (await b.catch(() => undefined))?.close();
      await lab.media.close();
      await fleet.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await lab.engine.start();
  return lab;
}

/** A whole-disk "image": random bytes, with its sha256. */
export function makeImage(dir: string, name: string, size = 1024 * 1024): { path: string; sha256: string; size: number } {
  const data = randomBytes(size);
  const path = join(dir, name);
  writeFileSync(path, data);
  return { path, sha256: createHash('sha256').update(data).digest('hex'), size };
}

/** Boot loader files the ISO builders read from the host (Debian: isolinux, syslinux-common, grub-efi-amd64-bin). */
export function missingBootLoaders(): string | false {
  const files = ['/usr/lib/ISOLINUX/isolinux.bin', '/usr/lib/syslinux/modules/bios/ldlinux.c32', '/usr/lib/grub/x86_64-efi/monolithic/gcdx64.efi'];
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length === 0) return false;
  const reason = `NOT RUN: boot loader files missing: ${missing.join(', ')} (Debian: isolinux syslinux-common grub-efi-amd64-bin)`;
  process.stderr.write(`\n!!! ${reason}\n`);
  return reason;
}

export async function until(pred: () => boolean | Promise<boolean>, ms = 20_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
