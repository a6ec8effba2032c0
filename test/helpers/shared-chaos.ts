/**
 * The chaos run of a shared fleet (the test runs a short one, `npm run
 * bench -- shared` the full one): `deploys` agent_ilo deploys (then rebuilds)
 * over the fleet's servers, each asked of a random live instance, while a
 * random instance is killed (SIGKILL) every few seconds and replaced by a
 * new one. What a user checks afterwards: no deploy stuck in progress, none
 * lost (every deploy asked for has a record that ended), no server driven by
 * two instances at once, no claim or lease left behind.
 */
import { isInProgress } from '../../lib/deploy/deploy-store';
import type { DeployRecord, DeployStatus } from '../../lib/deploy/types';
import type { SharedFleet, Worker } from './shared-fleet';

export interface ChaosOptions {
  deploys: number;
  /** Live instances kept (default 3). */
  instances?: number;
  /** A kill every this many ms, drawn between the two (default 2-5 s). */
  killEveryMs?: [number, number];
  /** A deploy not ended this long after it was asked for is stuck (default 180 s). */
  deadlineMs?: number;
  seed?: number;
  log?(line: string): void;
}

export interface ChaosResult {
  asked: number;
  active: number;
  failedCleanedUp: number;
  failedNotCleanedUp: DeployRecord[];
  stuck: DeployRecord[];
  lost: string[];
  violations: string[];
  leftovers: string[];
  kills: number;
  /** Kill to takeover: from each kill to the first ownership of a killed instance's deploy by another (ms). */
  takeoverMs: number[];
  wallMs: number;
}

export async function chaos(f: SharedFleet, o: ChaosOptions): Promise<ChaosResult> {
  const random = rng(o.seed ?? 1);
  const instances = o.instances ?? 3;
  const [minKill, maxKill] = o.killEveryMs ?? [2000, 5000];
  const deadlineMs = o.deadlineMs ?? 180_000;
  const log = o.log ?? (() => undefined);
  while (f.live.length < instances) await f.spawnWorker();
  const t0 = Date.now();
  const asked: string[] = [];
  const stuck: DeployRecord[] = [];
  const lost: string[] = [];
  /** Each deploy as it ended (a later rebuild turns it "available"). */
  const ended: DeployRecord[] = [];
  const kills: Array<{ at: number; worker: Worker }> = [];
  let launched = 0;
  let running = true;

  const pick = (): Worker | undefined => {
    const live = f.live;
    return live[Math.floor(random() * live.length)];
  };

  /** Ask for a deploy of server i until one is recorded (the instance asked may die meanwhile): its id. */
  const ask = async (i: number, previous: string | undefined): Promise<string> => {
    for (;;) {
      const w = pick();
      if (!w) {
        await sleep(100);
        continue;
      }
      try {
        const s: DeployStatus = await f.start(w, i, previous ? 'rebuild' : 'deploy');
        return s.deployId;
      } catch (err) {
        // Died before answering: maybe it recorded the deploy (it then runs on another instance), maybe not.
        const latest = await f.reader.latestFor(f.serverKey(i));
        if (latest && latest.id !== previous) return latest.id;
        if ((err as { code?: string }).code === 'busy') log(`server ${i}: busy (${(err as Error).message}); asking again`);
        await sleep(200);
      }
    }
  };

  const chain = async (i: number): Promise<void> => {
    let previous: string | undefined;
    while (launched < o.deploys) {
      launched++;
      const id = await ask(i, previous);
      asked.push(id);
      const end = Date.now() + deadlineMs;
      for (;;) {
        const r = await f.reader.get(id);
        if (!r) {
          lost.push(id);
          return;
        }
        if (!isInProgress(r)) {
          ended.push(r);
          break;
        }
        if (Date.now() > end) {
          stuck.push(r);
          return;
        }
        await sleep(250);
      }
      previous = id;
    }
  };

  // A kill every few seconds, and at least one per tenth of the deploys asked (a fast run still sees kills).
  const killEvery = Math.max(1, Math.floor(o.deploys / 10));
  const killer = (async () => {
    let nextAt = killEvery;
    while (running) {
      const pause = Date.now() + minKill + random() * (maxKill - minKill);
      while (running && Date.now() < pause && asked.length < nextAt) await sleep(50);
      if (!running) break;
      nextAt = asked.length + killEvery;
      const victim = pick();
      if (!victim) continue;
      kills.push({ at: Date.now(), worker: victim });
      log(`kill -9 ${victim.name} (${asked.length} deploys asked so far)`);
      await victim.kill();
      await f.spawnWorker().catch((err: unknown) => log(`could not start a new instance: ${(err as Error).message}`));
    }
  })();

  await Promise.all(f.fleet.ilos.map((_, i) => chain(i)));
  running = false;
  await killer;
  const wallMs = Date.now() - t0;

  // A deploy whose end was written just before its instance was killed keeps its server until its lease expires
  // and an instance's upkeep frees it: left-overs are what is still there after that (lease 3 s + ticks).
  let leftovers: string[] = [];
  for (const until = Date.now() + 15_000; ; ) {
    leftovers = await left(f);
    if (leftovers.length === 0 || Date.now() > until) break;
    await sleep(500);
  }
  // Takeover: the first time another instance became owner of a deploy the victim owned at its death.
  const takeoverMs: number[] = [];
  for (const k of kills) {
    const owned = new Set<string>();
    for (const x of f.ownership) if (x.worker === k.worker && x.at <= k.at) owned.add(x.deployId);
    const next = f.ownership.filter((x) => x.at > k.at && x.worker !== k.worker && owned.has(x.deployId)).map((x) => x.at - k.at);
    if (next.length) takeoverMs.push(Math.min(...next));
  }
  return {
    asked: asked.length,
    active: ended.filter((r) => r.state === 'active').length,
    failedCleanedUp: ended.filter((r) => r.state === 'deploy failed' && r.cleanup?.done).length,
    failedNotCleanedUp: ended.filter((r) => r.state !== 'active' && !(r.state === 'deploy failed' && r.cleanup?.done)),
    stuck,
    lost,
    violations: await f.driveViolations(),
    leftovers,
    kills: kills.length,
    takeoverMs,
    wallMs,
  };
}

async function left(f: SharedFleet): Promise<string[]> {
  const out: string[] = [];
  const inProgress = await f.reader.list({ states: ['deploying', 'wait call-back', 'deleting'] });
  if (inProgress.length) out.push(`${inProgress.length} deploy(s) still in progress`);
  const c = await f.pg.client();
  try {
    const claims = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${f.schema}.claims`);
    const leases = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${f.schema}.deploys WHERE lease_owner IS NOT NULL`);
    if (claims.rows[0]?.n) out.push(`${claims.rows[0].n} server claim(s) left`);
    if (leases.rows[0]?.n) out.push(`${leases.rows[0].n} lease(s) left on ended deploys`);
  } finally {
    await c.end();
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Small deterministic PRNG (mulberry32): a run can be repeated with its seed. */
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
