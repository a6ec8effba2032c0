/**
 * Power-status operations against the simulator (in its own process, no
 * added latency, `Connection: close` as the recorded iLO): ours against
 * python-hpilo measured in the same run.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { connect as tlsConnect, createSecureContext } from 'node:tls';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { RibclBmc } from '../lib/bmc/ribcl/provider';
import { compare, cpuPerOp, fmt, heading, measure, perSecond, runWithInput, type Measurement } from './harness';
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

async function ours(ilo: SimInfo, ops: number, concurrency: number): Promise<{ m: Measurement; requestsPerOp: number }> {
  const bmc = new RibclBmc({ host: ilo.host, port: ilo.port, username: ilo.username, password: ilo.password, tls: { mode: 'pinned', fingerprint: ilo.fingerprint }, maxConnections: Math.max(4, concurrency) });
  await bmc.getPowerState(); // warm up (first TLS handshake)
  const before = await simRequests(bmc);
  let next = 0;
  const m = await measure(`ours c=${concurrency}`, ops, async () => {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < ops) await bmc.getPowerState();
      }),
    );
  });
  const after = await simRequests(bmc);
  await bmc.close();
  return { m, requestsPerOp: (after - before - 1) / ops };
}

async function baseline(ilo: SimInfo, ops: number, concurrency: number): Promise<Measurement> {
  // The password goes on stdin, never in the process arguments.
  const stdout = await runWithInput('/usr/bin/python3', [join(repoRoot, 'bench', 'hpilo-baseline.py'), ilo.host, String(ilo.port), ilo.username, '-', String(ops), String(concurrency), 'get_host_power_status'], `${ilo.password}\n`);
  const r = JSON.parse(stdout) as { ops: number; wall_ms: number; cpu_ms: number };
  return { label: `python-hpilo c=${concurrency}`, ops: r.ops, wallMs: r.wall_ms, cpuMs: r.cpu_ms };
}

/**
 * The CPU a bare TLS connection costs this Node process (connect, handshake,
 * close, nothing sent): every RIBCL call pays it, because the iLO closes the
 * connection after each reply.
 */
async function tlsFloor(ilo: SimInfo): Promise<void> {
  const ctx = createSecureContext({});
  const n = 300;
  const m = await measure('tls floor', n, async () => {
    for (let i = 0; i < n; i++) {
      await new Promise<void>((resolve, reject) => {
        const s = tlsConnect({ host: ilo.host, port: ilo.port, rejectUnauthorized: false, secureContext: ctx }, () => s.end());
        s.on('error', reject);
        s.on('close', () => resolve());
        s.resume();
      });
    }
  });
  console.log(`floor: a bare TLS connection costs this process ${fmt(cpuPerOp(m))} ms CPU (every RIBCL call opens one)`);
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

export const powerBench: BenchSuite = {
  name: 'power',
  async run() {
    heading('power status over RIBCL: ours vs python-hpilo (simulator in its own process)');
    const sim = await startSimProcess(1);
    try {
      const ilo = sim.ilos[0]!;
      const ops = Number(process.env.BENCH_POWER_OPS ?? 400);
      await cliDataPoint(ilo);
      await tlsFloor(ilo);
      for (const concurrency of [1, 16]) {
        const o = await ours(ilo, ops, concurrency);
        let b: Measurement | undefined;
        try {
          b = await baseline(ilo, ops, concurrency);
        } catch (err) {
          console.log(`python-hpilo baseline could not run (${(err as Error).message.split('\n')[0]}); install python3-hpilo`);
        }
        const mode = concurrency === 1 ? 'sequential' : `concurrent (${concurrency})`;
        console.log(`${mode}: ours ${fmt(perSecond(o.m))} ops/s, ${fmt(cpuPerOp(o.m))} ms CPU/op, ${fmt(o.requestsPerOp)} HTTPS requests/op`);
        if (b) {
          console.log(`${mode}: python-hpilo ${fmt(perSecond(b))} ops/s, ${fmt(cpuPerOp(b))} ms CPU/op`);
          compare(`${mode} rate (ops/s)`, perSecond(o.m), perSecond(b), 'ops/s', { atLeast: 3 });
          compare(`${mode} client CPU per op`, cpuPerOp(o.m), cpuPerOp(b), 'ms', { atMost: 0.2 });
        }
      }
    } finally {
      await sim.stop();
    }
  },
};
