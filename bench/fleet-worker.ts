/**
 * Child process of the management bench's fleet poll: one client per iLO
 * (protocol auto), a first round, then warm rounds of power state + health,
 * all iLOs at once. Runs in a process of its own, as python-hpilo's
 * baseline does, so its peak RSS is the poll's and nothing else's.
 * stdin: the fleet as `npm run sim -- --json` prints it; argv: ROUNDS.
 * Prints JSON: creation time, protocols, rounds, CPU, peak RSS.
 */
import { createBmc } from '../lib/bmc/connect';
import { percentile } from './harness';

interface Ilo {
  host: string;
  port: number;
  username: string;
  password: string;
  fingerprint: string;
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 3);
  let input = '';
  for await (const c of process.stdin) input += (c as Buffer).toString();
  const ilos = JSON.parse(input) as Ilo[];
  const c0 = process.cpuUsage();
  const tc = performance.now();
  const clients = await Promise.all(
    ilos.map((i) => createBmc({ host: i.host, port: i.port, username: i.username, password: i.password, tls: { mode: 'pinned', fingerprint: i.fingerprint }, maxConnections: 2, requestTimeoutMs: 120_000 })),
  );
  const createMs = performance.now() - tc;
  const protocols = clients.reduce<Record<string, number>>((acc, c) => ((acc[c.protocol] = (acc[c.protocol] ?? 0) + 1), acc), {});
  const round = async (): Promise<{ wallMs: number; p50: number; p99: number }> => {
    const t = performance.now();
    const lat = await Promise.all(
      clients.map(async (b) => {
        const s = performance.now();
        await b.getPowerState();
        await b.getHealth();
        return performance.now() - s;
      }),
    );
    return { wallMs: performance.now() - t, p50: percentile(lat, 50), p99: percentile(lat, 99) };
  };
  const cold = await round();
  const cw = process.cpuUsage();
  const warm = [];
  for (let r = 0; r < rounds; r++) warm.push(await round());
  const warmCpu = process.cpuUsage(cw);
  const allCpu = process.cpuUsage(c0);
  const tls = clients.reduce((a, c) => ({ connections: a.connections + (c.stats.tlsConnections ?? 0), resumed: a.resumed + (c.stats.tlsResumed ?? 0) }), { connections: 0, resumed: 0 });
  await Promise.all(clients.map((c) => c.close()));
  console.log(
    JSON.stringify({
      createMs,
      protocols,
      cold,
      warm,
      cpuPerReadMs: (warmCpu.user + warmCpu.system) / 1000 / (2 * ilos.length * rounds),
      cpuTotalMs: (allCpu.user + allCpu.system) / 1000,
      tls,
      // maxRSS is in KiB: the process's peak, as python-hpilo's ru_maxrss.
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
