/**
 * Several instances sharing one fleet on PostgreSQL (test/helpers/shared-fleet.ts:
 * engine processes, a real PostgreSQL started here, the simulated fleet in
 * this process).
 *
 * (1) Throughput: BENCH_SHARED_SERVERS (60) agent_ilo deploys at once, asked
 *     round-robin of 1, 2 and 3 instances on PostgreSQL, against one
 *     instance on the embedded file store (the baseline, same harness);
 *     PostgreSQL round trips per deploy (every statement the instances sent,
 *     lease upkeep included).
 * (2) The full chaos run: BENCH_SHARED_CHAOS_DEPLOYS (300) deploys over
 *     BENCH_SHARED_CHAOS_SERVERS (100) servers with a random instance killed
 *     every 2-5 s (and at least every tenth of the deploys): stuck, lost,
 *     foreign commands (a server driven by two instances), and the takeover
 *     time after a kill (kill to the first adoption of one of its deploys
 *     by another instance), p50 and p99. Lease 3 s, upkeep every 1 s.
 *
 * `BENCH_SHARED_SERVERS=0` or `BENCH_SHARED_CHAOS_DEPLOYS=0` skips a part.
 */
import { TestPostgres, needPostgres } from '../test/helpers/postgres';
import { chaos } from '../test/helpers/shared-chaos';
import { SharedFleet, type Worker } from '../test/helpers/shared-fleet';
import { absolute, compare, fmt, heading, percentile } from './harness';
import type { BenchSuite } from './suite';

function envCount(name: string, dflt: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: expected a whole number >= 0, got ${JSON.stringify(raw)}`);
  return n;
}

async function roundTrips(ws: Worker[]): Promise<number> {
  const r = await Promise.all(ws.map((w) => w.call<{ roundTrips: number }>({ op: 'roundTrips' })));
  return r.reduce((n, x) => n + x.roundTrips, 0);
}

interface Run {
  perSecond: number;
  wallMs: number;
  active: number;
  roundTripsPerDeploy: number;
}

async function throughput(pg: TestPostgres, servers: number, instances: number, store: 'postgres' | 'files'): Promise<Run> {
  const f = await SharedFleet.start({ servers, postgres: pg });
  try {
    const ws: Worker[] = [];
    for (let i = 0; i < instances; i++) ws.push(await f.spawnWorker({ store }));
    const rt0 = await roundTrips(ws);
    const t0 = performance.now();
    const started = await Promise.all(f.fleet.ilos.map((_, i) => f.start(ws[i % ws.length]!, i)));
    const ids = started.map((s) => s.deployId);
    // Files: each instance knows only its own; ask each for its deploys' end.
    const ends = await Promise.all(
      ids.map(async (id, k) => {
        const w = ws[k % ws.length]!;
        for (;;) {
          const s = await w.call<{ state: string } | undefined>({ op: 'status', target: id });
          if (s && !['deploying', 'wait call-back', 'deleting'].includes(s.state)) return s.state;
          await new Promise((r) => setTimeout(r, 100));
        }
      }),
    );
    const wallMs = performance.now() - t0;
    const rt = (await roundTrips(ws)) - rt0;
    return { perSecond: (servers / wallMs) * 1000, wallMs, active: ends.filter((s) => s === 'active').length, roundTripsPerDeploy: rt / servers };
  } finally {
    await f.stop();
  }
}

export const sharedBench: BenchSuite = {
  name: 'shared',
  async run() {
    const skip = needPostgres();
    if (skip) {
      console.log(`\n!!! bench shared: ${skip}`);
      process.exitCode = 1;
      return;
    }
    const servers = envCount('BENCH_SHARED_SERVERS', 60);
    const chaosDeploys = envCount('BENCH_SHARED_CHAOS_DEPLOYS', 300);
    const chaosServers = Math.max(1, envCount('BENCH_SHARED_CHAOS_SERVERS', 100));
    const pg = await TestPostgres.create();
    try {
      if (servers > 0) {
        heading(`shared fleet: ${servers} agent_ilo deploys at once, 1-3 instances (processes) on PostgreSQL vs 1 on files`);
        console.log('baseline: one instance on the embedded file store, same fleet, same harness, measured in this run');
        const files = await throughput(pg, servers, 1, 'files');
        console.log(`files, 1 instance: ${fmt(files.perSecond)} deploys/s (${fmt(files.wallMs / 1000)} s, ${files.active}/${servers} active)`);
        for (const n of [1, 2, 3]) {
          const r = await throughput(pg, servers, n, 'postgres');
          console.log(`PostgreSQL, ${n} instance(s): ${fmt(r.perSecond)} deploys/s (${fmt(r.wallMs / 1000)} s, ${r.active}/${servers} active), ${fmt(r.roundTripsPerDeploy)} PostgreSQL round trips per deploy`);
          compare(`deploys/s, ${n} instance(s) on PostgreSQL vs files`, r.perSecond, files.perSecond, 'deploys/s', { atLeast: 0.5 });
          absolute(`deploys not active (PostgreSQL, ${n} instance(s))`, servers - r.active, 'deploys', { atMost: 0 });
        }
        absolute('deploys not active (files)', servers - files.active, 'deploys', { atMost: 0 });
      }
      if (chaosDeploys > 0) {
        heading(`chaos: ${chaosDeploys} deploys over ${chaosServers} servers, 3 instances, a random one killed every 2-5 s`);
        console.log('baseline: none; the targets are absolute (0 stuck, 0 lost, 0 servers driven by two instances)');
        const f = await SharedFleet.start({ servers: chaosServers, postgres: pg });
        try {
          const r = await chaos(f, { deploys: chaosDeploys, killEveryMs: [2000, 5000], seed: envCount('BENCH_SEED', Date.now() % 100_000), log: (l) => console.log(`  ${l}`) });
          console.log(`${r.asked} deploys in ${fmt(r.wallMs / 1000)} s with ${r.kills} kills: ${r.active} active, ${r.failedCleanedUp} failed with clean-up done`);
          for (const x of r.failedNotCleanedUp.slice(0, 5)) console.log(`  not clean: ${x.serverName} ${x.state}: ${x.lastError ?? ''}`);
          for (const x of r.stuck.slice(0, 5)) console.log(`  stuck: ${x.serverName} ${x.state} at ${x.step?.name ?? '?'}`);
          for (const v of r.violations.slice(0, 5)) console.log(`  foreign command: ${v}`);
          for (const l of r.leftovers) console.log(`  left: ${l}`);
          for (const c of f.crashes()) console.log(`  CRASH ${c}`);
          console.log(`takeover after a kill (kill to adoption by another instance, lease 3 s): p50 ${fmt(percentile(r.takeoverMs, 50) / 1000)} s, p99 ${fmt(percentile(r.takeoverMs, 99) / 1000)} s over ${r.takeoverMs.length} kills that left deploys`);
          absolute('stuck deploys', r.stuck.length, 'deploys', { atMost: 0 });
          absolute('lost deploys', r.lost.length, 'deploys', { atMost: 0 });
          absolute('commands from an instance not owning the deploy', r.violations.length, 'commands', { atMost: 0 });
          absolute('instances that crashed (not killed)', f.crashes().length, 'instances', { atMost: 0 });
          absolute('failed deploys not cleaned up', r.failedNotCleanedUp.length, 'deploys', { atMost: 0 });
          absolute('takeover p99 (lease 3 s + one 1 s tick = 4 s)', percentile(r.takeoverMs, 99) / 1000, 's', { atMost: 5 });
        } finally {
          await f.stop();
        }
      }
    } finally {
      await pg.dispose();
    }
  },
};
