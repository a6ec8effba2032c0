/**
 * Power-status operations against the simulator (in its own process, no
 * added latency, `Connection: close` as the recorded iLO): ours against
 * python-hpilo measured in the same run, interleaved, against an iLO that
 * resumes TLS sessions and one that does not.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { connect as tlsConnect, createSecureContext } from 'node:tls';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { RedfishBmc } from '../lib/bmc/redfish/provider';
import { RibclBmc } from '../lib/bmc/ribcl/provider';
import { cpuPerOp, fmt, heading, measure, percentile, perSecond, runWithInput, type Measurement } from './harness';
import type { BenchSuite } from './suite';

const run = promisify(execFile);
const repoRoot = join(__dirname, '..', '..');

interface SimInfo {
  host: string;
  port: number;
  username: string;
  password: string;
  fingerprint: string;
}

export async function startSimProcess(servers = 1, extra: string[] = []): Promise<{ proc: ChildProcess; ilos: SimInfo[]; stop(): Promise<void> }> {
  const proc = spawn(process.execPath, [join(repoRoot, 'dist', 'sim', 'cli.js'), '--servers', String(servers), '--port', '0', '--json', ...extra], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: proc.stdout! });
  const [first] = (await once(lines, 'line')) as [string];
  const ilos = JSON.parse(first) as SimInfo[];
  return {
    proc,
    ilos,
    async stop() {
      proc.kill('SIGTERM');
      await once(proc, 'exit');
    },
  };
}

async function simRequests(bmc: RibclBmc): Promise<number> {
  // The simulator's own count, read over the same TLS trust.
  const http = (bmc as unknown as { http: { request(r: object): Promise<{ body: Buffer }> } }).http;
  const r = await http.request({ method: 'GET', path: '/sim/stats', idempotent: true });
  return (JSON.parse(r.body.toString()) as { requests: { ribcl: number } }).requests.ribcl;
}

interface OursRun {
  m: Measurement;
  requestsPerOp: number;
  connections: number;
  resumed: number;
}

async function ours(ilo: SimInfo, ops: number, concurrency: number, maxConnections = Math.max(4, concurrency)): Promise<OursRun> {
  const bmc = new RibclBmc({ host: ilo.host, port: ilo.port, username: ilo.username, password: ilo.password, tls: { mode: 'pinned', fingerprint: ilo.fingerprint }, maxConnections });
  // Warm up: the first handshake, and enough calls for the JIT (a Node-RED process is long-lived).
  for (let i = 0; i < 50; i++) await bmc.getPowerState();
  const before = await simRequests(bmc);
  const tls0 = { c: bmc.stats.tlsConnections ?? 0, r: bmc.stats.tlsResumed ?? 0 };
  let next = 0;
  const m = await measure(`ours c=${concurrency}`, ops, async () => {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < ops) await bmc.getPowerState();
      }),
    );
  });
  const tls = { c: (bmc.stats.tlsConnections ?? 0) - tls0.c, r: (bmc.stats.tlsResumed ?? 0) - tls0.r };
  const after = await simRequests(bmc);
  await bmc.close();
  return { m, requestsPerOp: (after - before - 1) / ops, connections: tls.c, resumed: tls.r };
}

/** python-hpilo, the library in one process; `nodelay` is the judged, stable mode (see hpilo-baseline.py). */
async function baseline(ilo: SimInfo, ops: number, concurrency: number, mode: 'nodelay' | 'shipped' = 'nodelay'): Promise<Measurement> {
  // The password goes on stdin, never in the process arguments.
  const stdout = await runWithInput(
    '/usr/bin/python3',
    [join(repoRoot, 'bench', 'hpilo-baseline.py'), ilo.host, String(ilo.port), ilo.username, '-', String(ops), String(concurrency), 'get_host_power_status', mode],
    `${ilo.password}\n`,
  );
  const r = JSON.parse(stdout) as { ops: number; wall_ms: number; cpu_ms: number };
  return { label: `python-hpilo ${mode} c=${concurrency}`, ops: r.ops, wallMs: r.wall_ms, cpuMs: r.cpu_ms };
}

/**
 * The CPU a bare TLS connection costs this Node process (connect, handshake,
 * close, nothing sent), with and without resuming a session: every RIBCL
 * call opens one, because the iLO closes the connection after each reply.
 */
async function tlsFloor(ilo: SimInfo): Promise<void> {
  const ctx = createSecureContext({});
  const n = 300;
  for (const resume of [false, true]) {
    let session: Buffer | undefined;
    let protocol: string | null = null;
    const m = await measure('tls floor', n, async () => {
      for (let i = 0; i < n; i++) {
        await new Promise<void>((resolve, reject) => {
          const s = tlsConnect({ host: ilo.host, port: ilo.port, rejectUnauthorized: false, secureContext: ctx, session: resume ? session : undefined }, () => {
            protocol = s.getProtocol();
            s.end();
          });
          s.on('session', (x: Buffer) => (session = x));
          s.on('error', reject);
          s.on('close', () => resolve());
          s.resume();
        });
      }
    });
    console.log(`floor: a bare ${protocol} connection ${resume ? 'resuming a session' : 'with a full handshake'} costs this process ${fmt(cpuPerOp(m))} ms CPU`);
  }
}

/** How an operator's shell script sees python-hpilo: one hpilo_cli process per call (not the judged baseline). */
async function cliDataPoint(ilo: SimInfo): Promise<void> {
  const n = 10;
  const t0 = performance.now();
  let cpuMs = 0;
  try {
    for (let i = 0; i < n; i++) {
      const r = await run('/usr/bin/python3', ['-c', `import resource,subprocess,sys
subprocess.run(sys.argv[1:], check=True, capture_output=True)
u=resource.getrusage(resource.RUSAGE_CHILDREN); print((u.ru_utime+u.ru_stime)*1000)`, 'hpilo_cli', '-l', ilo.username, '-p', ilo.password, '-o', String(ilo.port), '-P', 'http', ilo.host, 'get_host_power_status']);
      cpuMs += Number(r.stdout.trim());
    }
  } catch (err) {
    console.log(`hpilo_cli data point skipped: ${(err as Error).message.split('\n')[0]}`);
    return;
  }
  const wall = (performance.now() - t0) / n;
  console.log(`for reference: hpilo_cli, one process per call: ${fmt(1000 / wall)} ops/s, ${fmt(cpuMs / n)} ms CPU/op (the judged baseline below is the python-hpilo library in one process)`);
}

const median = (xs: number[]): number => percentile(xs, 50);

/**
 * One configuration: ours and python-hpilo interleaved, `rounds` times
 * each, medians compared (the machine is shared: noise comes in bursts).
 */
async function compareAt(label: string, ilo: SimInfo, ops: number, concurrency: number, rounds: number): Promise<void> {
  // 16 at a time, ours twice: one connection per caller (every call its own
  // request, like python-hpilo's 16 threads), and the default bound of 4
  // connections, where identical reads waiting for one share a request.
  const variants: Array<{ name: string; maxConnections: number }> =
    concurrency === 1 ? [{ name: 'ours', maxConnections: 4 }] : [{ name: `ours, ${concurrency} connections`, maxConnections: concurrency }, { name: 'ours, default 4 connections', maxConnections: 4 }];
  const o: OursRun[][] = variants.map(() => []);
  const b: Measurement[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const [i, v] of variants.entries()) o[i]!.push(await ours(ilo, ops, concurrency, v.maxConnections));
    try {
      b.push(await baseline(ilo, ops, concurrency));
    } catch (err) {
      console.log(`python-hpilo baseline could not run (${(err as Error).message.split('\n')[0]}); install python3-hpilo`);
      break;
    }
  }
  const mode = concurrency === 1 ? 'sequential' : `${concurrency} at a time`;
  let shipped = '';
  if (b.length) {
    try {
      const s = await baseline(ilo, Math.min(ops, concurrency === 1 ? 60 : ops), concurrency, 'shipped');
      shipped = `; as shipped (Nagle on, for reference): ${fmt(perSecond(s))} ops/s, ${fmt(cpuPerOp(s))} ms CPU/op`;
    } catch {
      // reported above
    }
    console.log(`${label}, ${mode}: python-hpilo (TCP_NODELAY) ${fmt(median(b.map(perSecond)))} ops/s, ${fmt(median(b.map(cpuPerOp)))} ms CPU/op${shipped}`);
  }
  for (const [i, v] of variants.entries()) {
    const runs = o[i]!;
    const rate = median(runs.map((x) => perSecond(x.m)));
    const cpu = median(runs.map((x) => cpuPerOp(x.m)));
    const conns = runs.reduce((a, x) => a + x.connections, 0);
    const resumed = runs.reduce((a, x) => a + x.resumed, 0);
    console.log(
      `${label}, ${mode}: ${v.name} ${fmt(rate)} ops/s, ${fmt(cpu)} ms CPU/op, ${fmt(median(runs.map((x) => x.requestsPerOp)))} HTTPS requests/op; ` +
        `TLS: ${resumed} of ${conns} connections resumed${resumed === 0 ? ' (the client fell back to full handshakes)' : ''}`,
    );
    if (b.length === 0) continue;
    // Each run is compared with the python-hpilo run next to it (same noise), then the median ratio is taken.
    const pairs = Math.min(runs.length, b.length);
    const rateRatio = median(Array.from({ length: pairs }, (_, k) => perSecond(runs[k]!.m) / perSecond(b[k]!)));
    const cpuRatio = median(Array.from({ length: pairs }, (_, k) => cpuPerOp(runs[k]!.m) / cpuPerOp(b[k]!)));
    const what = `${label}, ${mode}, ${v.name}`;
    if (concurrency === 1) ratioLine(`${what}: rate`, rateRatio, undefined);
    else ratioLine(`${what}: rate`, rateRatio, { atLeast: 2 });
    ratioLine(`${what}: client CPU per op`, cpuRatio, { atMost: 1 });
  }
}

/** A paired ratio against python-hpilo and whether it meets the target. */
function ratioLine(what: string, ratio: number, target: { atLeast?: number; atMost?: number } | undefined): void {
  if (!target) return console.log(`${what.padEnd(60)} ratio ${fmt(ratio)}x (no target)`);
  const ok = (target.atLeast === undefined || ratio >= target.atLeast) && (target.atMost === undefined || ratio <= target.atMost);
  const goal = target.atLeast !== undefined ? `target >= ${target.atLeast}x` : `target <= ${target.atMost}x`;
  console.log(`${what.padEnd(60)} ratio ${fmt(ratio)}x  (${goal}: ${ok ? 'MET' : 'NOT MET'})`);
}

/** Sequential Redfish power reads, ours against sushy (what Ironic's redfish driver uses), interleaved, medians. */
async function redfishVsSushy(rounds: number): Promise<void> {
  heading('power status over Redfish (Gen10): ours vs sushy (simulator in its own process)');
  const sim = await startSimProcess(1, ['--models', 'gen10']);
  try {
    const ilo = sim.ilos[0]!;
    const ops = Number(process.env.BENCH_REDFISH_OPS ?? 1000);
    const sushyOps = Number(process.env.BENCH_SUSHY_OPS ?? 150);
    const o: Measurement[] = [];
    const b: Measurement[] = [];
    let perRead = 0;
    for (let r = 0; r < rounds; r++) {
      const bmc = new RedfishBmc({ host: ilo.host, port: ilo.port, username: ilo.username, password: ilo.password, tls: { mode: 'pinned', fingerprint: ilo.fingerprint } });
      for (let i = 0; i < 200; i++) await bmc.getPowerState(); // session, discovery, JIT
      const before = bmc.stats.requests;
      o.push(
        await measure('ours redfish', ops, async () => {
          for (let i = 0; i < ops; i++) await bmc.getPowerState();
        }),
      );
      perRead = (bmc.stats.requests - before) / ops;
      await bmc.close();
      try {
        const out = await runWithInput('/usr/bin/python3', [join(repoRoot, 'bench', 'sushy-baseline.py'), `https://${ilo.host}:${ilo.port}`, ilo.username, '-', String(sushyOps)], `${ilo.password}\n`);
        const j = JSON.parse(out) as { ops: number; wall_ms: number; cpu_ms: number };
        b.push({ label: 'sushy', ops: j.ops, wallMs: j.wall_ms, cpuMs: j.cpu_ms });
      } catch (err) {
        console.log(`sushy baseline could not run (${(err as Error).message.split('\n')[0]}); install python3-sushy`);
        break;
      }
    }
    const cpu = median(o.map(cpuPerOp));
    console.log(`ours: ${fmt(median(o.map(perSecond)))} reads/s, ${fmt(cpu)} ms CPU/read, ${fmt(perRead)} HTTPS requests/read (keep-alive, one session)`);
    if (b.length === 0) return;
    console.log(`sushy: ${fmt(median(b.map(perSecond)))} reads/s, ${fmt(median(b.map(cpuPerOp)))} ms CPU/read (Connection: close on every request, as sushy sends it)`);
    const pairs = Math.min(o.length, b.length);
    ratioLine('Redfish client CPU per sequential power read vs sushy', median(Array.from({ length: pairs }, (_, k) => cpuPerOp(o[k]!) / cpuPerOp(b[k]!))), { atMost: 0.1 });
  } finally {
    await sim.stop();
  }
}

export const powerBench: BenchSuite = {
  name: 'power',
  async run() {
    heading('power status over RIBCL: ours vs python-hpilo (simulator in its own process)');
    const ops = Number(process.env.BENCH_POWER_OPS ?? 400);
    const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
    console.log(`${ops} calls per run; ours and python-hpilo interleaved, ${rounds} runs each, medians; a simulated Gen9 (iLO 4: TLS 1.2)`);
    for (const resumption of [true, false]) {
      const sim = await startSimProcess(1, resumption ? [] : ['--no-tls-resumption']);
      const label = resumption ? 'iLO resumes TLS' : 'iLO does not resume';
      try {
        const ilo = sim.ilos[0]!;
        if (resumption) {
          await cliDataPoint(ilo);
          await tlsFloor(ilo);
        }
        for (const concurrency of [1, 16]) await compareAt(label, ilo, ops, concurrency, rounds);
      } finally {
        await sim.stop();
      }
    }
    await redfishVsSushy(rounds);
  },
};
