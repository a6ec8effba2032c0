/**
 * Management reads against the simulator (in its own process): a mixed
 * workload (virtual media status, boot mode, embedded health) ours against
 * python-hpilo measured in the same run, over RIBCL (Gen9) and Redfish
 * (Gen10); then a fleet poll of 1,000 simulated iLOs read concurrently
 * (p50/p99 latency, client CPU, peak RSS), ours against python-hpilo
 * polling the same fleet from a thread pool.
 */
import { join } from 'node:path';
import { RedfishBmc } from '../lib/bmc/redfish/provider';
import { ribclManagement } from '../lib/bmc/ribcl/management';
import { analyzeRibclReply, buildRibclRequest } from '../lib/bmc/ribcl/protocol';
import { RibclBmc } from '../lib/bmc/ribcl/provider';
import type { IloHttpClient } from '../lib/bmc/transport';
import type { Bmc } from '../lib/bmc/types';
import { compare, cpuPerOp, fmt, heading, measure, perSecond, runWithInput, type Measurement } from './harness';
import { startSimProcess } from './power';
import type { BenchSuite } from './suite';

const repoRoot = join(__dirname, '..', '..');
const PYTHON = '/usr/bin/python3';

interface SimInfo {
  name: string;
  host: string;
  port: number;
  username: string;
  password: string;
  fingerprint: string;
  model?: string;
}

type Op = 'vm_status' | 'boot_mode' | 'health' | 'mixed';
const OPS: Op[] = ['vm_status', 'boot_mode', 'health', 'mixed'];

const OURS: Record<Op, (b: Bmc) => Promise<unknown>> = {
  vm_status: (b) => b.getVirtualMediaStatus('cdrom'),
  boot_mode: (b) => b.getBootMode(),
  health: (b) => b.getHealth(),
  mixed: async (b) => {
    await b.getVirtualMediaStatus('cdrom');
    await b.getBootMode();
    await b.getHealth();
  },
};

function client(ilo: SimInfo, protocol: 'ribcl' | 'redfish', connections = 4): Bmc {
  const ep = { host: ilo.host, port: ilo.port, username: ilo.username, password: ilo.password, tls: { mode: 'pinned' as const, fingerprint: ilo.fingerprint }, maxConnections: connections };
  return protocol === 'ribcl' ? new RibclBmc(ep) : new RedfishBmc(ep);
}

async function ours(ilo: SimInfo, protocol: 'ribcl' | 'redfish', op: Op, ops: number, concurrency: number): Promise<{ m: Measurement; requestsPerOp: number }> {
  const bmc = client(ilo, protocol, Math.max(4, concurrency));
  await OURS[op](bmc); // warm up: TLS, Redfish session and discovery
  const before = bmc.stats.requests;
  let next = 0;
  const m = await measure(`ours ${protocol} ${op} c=${concurrency}`, ops, async () => {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < ops) await OURS[op](bmc);
      }),
    );
  });
  const requestsPerOp = (bmc.stats.requests - before) / ops;
  await bmc.close();
  return { m, requestsPerOp };
}

async function python(ilo: SimInfo, op: Op, ops: number, concurrency: number): Promise<Measurement> {
  const out = await runWithInput(PYTHON, [join(repoRoot, 'bench', 'hpilo-baseline.py'), ilo.host, String(ilo.port), ilo.username, '-', String(ops), String(concurrency), op], `${ilo.password}\n`);
  const r = JSON.parse(out) as { ops: number; wall_ms: number; cpu_ms: number };
  return { label: `python-hpilo ${op} c=${concurrency}`, ops: r.ops, wallMs: r.wall_ms, cpuMs: r.cpu_ms };
}

async function mixedWorkload(): Promise<void> {
  heading('management reads: ours vs python-hpilo (simulator in its own process)');
  const ops = Number(process.env.BENCH_MGMT_OPS ?? 150);
  const sim = await startSimProcess(2, ['--models', 'gen9,gen10']);
  try {
    const [gen9, gen10] = sim.ilos as [SimInfo, SimInfo];
    console.log(`${ops} operations each; python-hpilo speaks RIBCL to both (its boot_mode is its delayed mode: 3 commands, 1 request)`);
    for (const [ilo, protocol] of [
      [gen9, 'ribcl'],
      [gen10, 'redfish'],
    ] as const) {
      for (const concurrency of [1, 16]) {
        for (const op of OPS) {
          const o = await ours(ilo, protocol, op, ops, concurrency);
          let b: Measurement | undefined;
          try {
            b = await python(ilo, op, ops, concurrency);
          } catch (err) {
            console.log(`python-hpilo baseline could not run (${(err as Error).message.split('\n')[0]}); install python3-hpilo`);
          }
          const what = `${ilo.model ?? ''} ${protocol} ${op} c=${concurrency}`;
          console.log(
            `${what.padEnd(30)} ours ${fmt(perSecond(o.m))} ops/s, ${fmt(cpuPerOp(o.m))} ms CPU/op, ${fmt(o.requestsPerOp)} requests/op` +
              (b ? ` | python-hpilo ${fmt(perSecond(b))} ops/s, ${fmt(cpuPerOp(b))} ms CPU/op` : ''),
          );
          if (b && op === 'mixed') {
            compare(`${what} rate`, perSecond(o.m), perSecond(b), 'ops/s', { atLeast: 3 });
            compare(`${what} client CPU per op`, cpuPerOp(o.m), cpuPerOp(b), 'ms', { atMost: 0.2 });
          }
        }
      }
    }
  } finally {
    await sim.stop();
  }
}

interface FleetRound {
  wallMs: number;
  p50: number;
  p99: number;
}

async function fleetPoll(): Promise<void> {
  const size = Number(process.env.BENCH_FLEET_SIZE ?? 1000);
  const rounds = Number(process.env.BENCH_FLEET_ROUNDS ?? 3);
  heading(`fleet poll: ${size} simulated iLOs read concurrently (power state + health)`);
  const t0 = performance.now();
  const sim = await startSimProcess(size, ['--models', 'gen9,gen10,gen8', '--share-cert']);
  console.log(`simulator: ${size} iLOs (Gen9/Gen10/Gen8 in turn) listening after ${fmt((performance.now() - t0) / 1000)} s, in their own process`);
  const ilos = sim.ilos as SimInfo[];
  try {
    // Ours in a process of its own (as python-hpilo is): one client per iLO, protocol "auto" (one probe each), then rounds.
    const o = JSON.parse(await runWithInput(process.execPath, [join(__dirname, 'fleet-worker.js'), String(rounds)], JSON.stringify(ilos), 1_800_000)) as {
      createMs: number;
      protocols: Record<string, number>;
      cold: FleetRound;
      warm: FleetRound[];
      cpuPerReadMs: number;
      cpuTotalMs: number;
      tls: { connections: number; resumed: number };
      peakRssMb: number;
    };
    const peak = o.peakRssMb;
    const oursCpuPerRead = o.cpuPerReadMs;
    const oursWall = o.warm.reduce((a, r) => a + r.wallMs, 0) / o.warm.length;
    console.log(`ours (a process of its own): ${size} clients created with protocol auto in ${fmt(o.createMs)} ms (${Object.entries(o.protocols).map(([p, n]) => `${n} ${p}`).join(', ')})`);
    console.log(`ours first round (sessions, discovery): ${fmt(o.cold.wallMs)} ms, p50 ${fmt(o.cold.p50)} ms, p99 ${fmt(o.cold.p99)} ms`);
    for (const [i, r] of o.warm.entries()) console.log(`ours round ${i + 2}: ${fmt(r.wallMs)} ms for ${size} iLOs, p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms`);
    console.log(
      `ours: client CPU ${fmt(oursCpuPerRead)} ms per read (warm rounds), ${fmt(o.cpuTotalMs)} ms in total; TLS ${o.tls.resumed} of ${o.tls.connections} connections resumed; peak RSS ${fmt(peak)} MB`,
    );

    // python-hpilo polling the same fleet (RIBCL for every model) from a thread pool.
    let py: { rounds: Array<{ wall_ms: number; p50_ms: number; p99_ms: number }>; cpu_ms: number; reads: number; peak_rss_mb: number } | undefined;
    try {
      const threads = Number(process.env.BENCH_FLEET_THREADS ?? 64);
      const out = await runWithInput(PYTHON, [join(repoRoot, 'bench', 'hpilo-fleet.py'), String(threads), String(rounds + 1)], JSON.stringify(ilos), 1_800_000);
      py = JSON.parse(out) as typeof py;
      const pr = py!.rounds;
      console.log(`python-hpilo (${threads} threads, TCP_NODELAY): first round ${fmt(pr[0]!.wall_ms)} ms; then ${pr.slice(1).map((r) => `${fmt(r.wall_ms)} ms (p50 ${fmt(r.p50_ms)}, p99 ${fmt(r.p99_ms)})`).join(', ')}`);
    } catch (err) {
      console.log(`python-hpilo fleet baseline could not run (${(err as Error).message.split('\n')[0]})`);
    }
    if (py) {
      const pyWarm = py.rounds.slice(1);
      const pyWall = pyWarm.reduce((a, r) => a + r.wall_ms, 0) / pyWarm.length;
      const pyCpuPerRead = py.cpu_ms / py.reads;
      // Latency per iLO is not compared: ours has all iLOs in flight at once (queueing included),
      // the thread pool only 64 (time waiting for a thread not counted). A round's wall time is.
      compare('fleet round wall time (warm)', oursWall, pyWall, 'ms', { atMost: 0.33 });
      compare('fleet client CPU per read', oursCpuPerRead, pyCpuPerRead, 'ms', { atMost: 0.3 });
      compare('fleet client peak RSS', peak, py.peak_rss_mb, 'MB', { atMost: 1 });
    }
  } finally {
    await sim.stop();
  }
}

/**
 * What the RIBCL reply parser does with hostile replies up to the 32 MiB
 * cap (closing tags that match nothing, deep nesting, many attributes, one
 * huge text node), next to a normal reply: MB/s, in this process.
 */
async function parserThroughput(): Promise<void> {
  heading('RIBCL reply parser: hostile shapes next to a normal reply');
  const sim = await startSimProcess(1);
  let normal: string;
  try {
    const ilo = sim.ilos[0] as SimInfo;
    const bmc = client(ilo, 'ribcl') as RibclBmc;
    normal = await rawHealthReply(bmc);
    await bmc.close();
  } finally {
    await sim.stop();
  }
  const decl = '<?xml version="1.0"?>';
  const shapes: Array<[string, (bytes: number) => string]> = [
    [`normal reply (GET_EMBEDDED_HEALTH, ${fmt(normal.length / 1024)} KiB, repeated)`, (bytes) => normal.repeat(Math.max(1, Math.round(bytes / normal.length)))],
    ['closing tags matching no open element', (bytes) => `${decl}<RIBCL>${'<A>'.repeat(60)}${'</B>'.repeat(bytes / 4)}</RIBCL>`],
    ['deep nesting (refused past 64 levels)', (bytes) => `${decl}<RIBCL>${'<A>'.repeat(bytes / 3)}`],
    ['many attributes on one element', (bytes) => `${decl}<RIBCL><X${' a="1"'.repeat(bytes / 6)}/></RIBCL>`],
    ['one huge text node', (bytes) => `${decl}<RIBCL><INFORM>${'x'.repeat(bytes)}</INFORM></RIBCL>`],
  ];
  for (const [name, make] of shapes) {
    const line: string[] = [];
    for (const mb of [1, 32]) {
      const input = make(mb * 1024 * 1024);
      const t0 = performance.now();
      let outcome = 'parsed';
      try {
        analyzeRibclReply(input);
      } catch (err) {
        outcome = (err as Error).message.includes('deeper') ? 'refused (depth)' : 'refused';
      }
      const ms = performance.now() - t0;
      line.push(`${mb} MiB: ${fmt(input.length / 1048576 / (ms / 1000))} MB/s (${fmt(ms)} ms, ${outcome})`);
    }
    console.log(`${name.padEnd(58)} ${line.join('; ')}`);
  }
}

/** The body of a GET_EMBEDDED_HEALTH reply as the iLO sent it. */
async function rawHealthReply(bmc: RibclBmc): Promise<string> {
  const http = (bmc as unknown as { http: IloHttpClient }).http;
  const ep = http.endpoint;
  const res = await http.exchange({ method: 'POST', path: '/ribcl', body: buildRibclRequest({ username: ep.username, password: ep.password }, [ribclManagement.getEmbeddedHealth()]), idempotent: true });
  return res.body.toString('latin1');
}

export const managementBench: BenchSuite = {
  name: 'management',
  async run() {
    // BENCH_MGMT_PARTS picks parts, e.g. "parser,fleet".
    const parts = (process.env.BENCH_MGMT_PARTS ?? 'parser,mixed,fleet').split(',');
    if (parts.includes('parser')) await parserThroughput();
    if (parts.includes('mixed')) await mixedWorkload();
    if (parts.includes('fleet')) await fleetPoll();
  },
};
