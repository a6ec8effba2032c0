/**
 * Several Node-RED instances sharing one fleet through a real PostgreSQL:
 * three deploy engines in three processes (test/helpers/engine-worker.ts)
 * against the simulated fleet, the ramdisks calling back through a load
 * balancer to any of them. Deploys spread over the three; a kill -9 of one
 * mid-deploy leaves its deploys to the others (republishing the built-in
 * store's media); the database going down pauses deploys, which resume; a
 * chaos run with a random instance killed every few seconds ends with
 * nothing stuck, nothing lost and no server driven by two instances at once.
 *
 * The chaos run here is short (SHARED_CHAOS_DEPLOYS, default 100, over
 * SHARED_CHAOS_SERVERS, default 30); `npm run bench -- shared` runs 300 over 100.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DeployRecord } from '../../lib/deploy/types';
import { TestPostgres, needPostgres } from '../helpers/postgres';
import { chaos } from '../helpers/shared-chaos';
import { SharedFleet, type Worker } from '../helpers/shared-fleet';

const skip = needPostgres();
const envInt = (name: string, dflt: number): number => (process.env[name] ? Number(process.env[name]) : dflt);

async function until(pred: () => Promise<boolean> | boolean, what: string, ms = 60_000): Promise<void> {
  for (const end = Date.now() + ms; !(await pred()); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('three instances share one fleet on PostgreSQL', { skip }, () => {
  let pg: TestPostgres;
  const fleets: SharedFleet[] = [];
  const fleet = async (servers: number, o: { allProgress?: boolean } = {}): Promise<SharedFleet> => {
    const f = await SharedFleet.start({ servers, postgres: pg, ...o });
    fleets.push(f);
    return f;
  };
  const noSecrets = (f: SharedFleet): void => {
    assert.deepEqual(f.crashes(), [], 'an instance crashed');
    const out = f.output();
    assert.ok(!out.includes(pg.connection.password), 'the database password appears in an instance log');
    for (const ilo of f.fleet.ilos) assert.ok(!out.includes(ilo.password), 'an iLO password appears in an instance log');
  };
  /** What went wrong with these deploys: each one's end, and (with allProgress) its progress on every instance that ran it. */
  const explain = (f: SharedFleet, records: DeployRecord[]): string =>
    records
      .map((r) => {
        const trail = f.workers
          .flatMap((w) => w.progress.filter((p) => p.deployId === r.id).map((p) => ({ t: p.time, line: `    ${p.time} ${w.name}: ${p.step ?? ''} ${p.message}` })))
          .sort((a, b) => a.t.localeCompare(b.t))
          .slice(-25)
          .map((x) => x.line);
        const media = (r.data as { floppyUrl?: string }).floppyUrl ?? '';
        const servedBy = f.workers.filter((w) => w.mediaUrl && media.startsWith(w.mediaUrl)).map((w) => `${w.name}${w.alive ? '' : ' (dead)'}`);
        return [`${r.serverName} ${r.state} ${r.failedStep ?? r.step?.name ?? ''}: ${r.lastError ?? ''}`, `    floppy ${media} served by ${servedBy.join(', ') || 'nobody'}`, ...trail].join('\n');
      })
      .join('\n') + `\n--- instances: ${f.workers.map((w) => `${w.name} ${w.alive ? 'alive' : 'dead'} ${w.mediaUrl}`).join('; ')}\n--- instance logs (tail) ---\n${f.output().slice(-4000)}`;

  before(async () => {
    pg = await TestPostgres.create();
  });
  after(async () => {
    await Promise.all(fleets.splice(0).map((f) => f.stop()));
    await pg?.dispose();
  });

  test('deploys asked of the three spread over the three; call-backs reach the owner through any instance; status is the same everywhere', async () => {
    const f = await fleet(6);
    const ws = [await f.spawnWorker(), await f.spawnWorker(), await f.spawnWorker()];
    // Every agent's heartbeat goes to an instance that does not run its deploy.
    f.heartbeats = 'not-owner';
    const started = await Promise.all(f.fleet.ilos.map((_, i) => f.start(ws[i % 3]!, i)));
    const { done, stuck } = await f.settle(
      started.map((s) => s.deployId),
      120_000,
    );
    assert.deepEqual(stuck, [], explain(f, stuck));
    assert.deepEqual(
      done.map((r) => r.state),
      started.map(() => 'active'),
      explain(f, done),
    );
    for (const [k, w] of ws.entries()) {
      assert.deepEqual(w.finished.map((s) => s.deployId).sort(), [started[k]!.deployId, started[k + 3]!.deployId].sort(), `${w.name} ran the deploys asked of it`);
      assert.ok(f.fleet.ilos.some((ilo) => ilo.server.clients.some((c) => c.from === w.address)), `${w.name} drove servers`);
    }
    for (const [i, rd] of f.ramdisks.entries()) assert.equal(rd.written?.sha256, f.image.sha256, `server ${i}: the image on its disk`);
    for (const s of started) {
      const hb = f.heartbeatLog.filter((h) => h.deployId === s.deployId);
      assert.ok(hb.length > 0 && hb.every((h) => h.owner && h.to !== h.owner), `heartbeats of ${s.deployId}: ${JSON.stringify(hb)}`);
    }
    const views = await Promise.all(ws.map((w) => w.call({ op: 'status', target: started[0]!.deployId })));
    assert.deepEqual(views[1], views[0]);
    assert.deepEqual(views[2], views[0]);
    assert.deepEqual(await f.driveViolations(), []);
    noSecrets(f);
  });

  test('kill -9 of an instance mid-deploy: its deploys finish on the others, the new owner publishing and inserting the built-in media again', async () => {
    const f = await fleet(6);
    const [a, b, c] = [await f.spawnWorker(), await f.spawnWorker(), await f.spawnWorker()] as [Worker, Worker, Worker];
    // Server 0's agent calls back late: its deploy (on a) waits for it, with media a's store serves.
    f.ramdisks[0]!.faults = { slowCallbackMs: 600_000 };
    const started = await Promise.all(f.fleet.ilos.map((_, i) => f.start([a, b, c][i % 3]!, i)));
    const victim = started[0]!.deployId;
    await until(async () => (await f.reader.get(victim))?.state === 'wait call-back', 'the deploy on a to wait for its call-back');
    await a.kill();
    const killedAt = Date.now();
    f.ramdisks[0]!.faults = {};
    const { done, stuck } = await f.settle(
      started.map((s) => s.deployId),
      120_000,
    );
    assert.deepEqual(stuck, [], explain(f, stuck));
    assert.deepEqual(
      done.map((r) => r.state),
      started.map(() => 'active'),
      explain(f, done),
    );
    const finishedBy = (id: string): string[] => [b, c].filter((w) => w.finished.some((s) => s.deployId === id)).map((w) => w.name);
    assert.equal(finishedBy(victim).length, 1, 'the killed instance’s deploy finished on one other instance');
    // a's other deploy: finished by a before it died (its last message may have died with it; the record says when) or by one other.
    const other = done.find((r) => r.id === started[3]!.deployId)!;
    const byA = a.finished.some((s) => s.deployId === other.id) || (other.finishedAt !== undefined && Date.parse(other.finishedAt) <= killedAt);
    assert.equal(finishedBy(other.id).length + (byA ? 1 : 0), 1, `finished by ${JSON.stringify(finishedBy(other.id))}, by a: ${byA}`);
    const republished = [b, c].flatMap((w) => w.progress.filter((p) => p.deployId === victim).map((p) => p.message));
    assert.ok(republished.some((m) => /(no longer served|not served by this instance's store).*publishing and inserting it again/.test(m)), republished.join('\n'));
    assert.deepEqual(await f.driveViolations(), []);
    noSecrets(f);
  });

  test('the database goes down mid-deploy: deploys pause, and resume when it is back; none is lost', async () => {
    const f = await fleet(6, { allProgress: true });
    const ws = [await f.spawnWorker(), await f.spawnWorker(), await f.spawnWorker()];
    const started = await Promise.all(f.fleet.ilos.map((_, i) => f.start(ws[i % 3]!, i)));
    await until(async () => (await Promise.all(started.map((s) => f.reader.get(s.deployId)))).some((r) => r?.step && r.step.index >= 2), 'the deploys to be under way');
    await pg.stop();
    // Longer than the lease: the instances stop their runs (they cannot renew), and take them up again after.
    await new Promise((r) => setTimeout(r, 5000));
    await pg.start();
    const { done, stuck } = await f.settle(
      started.map((s) => s.deployId),
      180_000,
    );
    assert.deepEqual(stuck, [], explain(f, stuck));
    assert.equal(done.length, started.length, 'every deploy has its record');
    assert.deepEqual(
      done.map((r) => r.state),
      started.map(() => 'active'),
      explain(f, done),
    );
    assert.match(f.output(), /the database is unreachable/);
    assert.deepEqual(await f.driveViolations(), []);
    noSecrets(f);
  });

  test('chaos: deploys over the fleet while a random instance is killed every few seconds: none stuck, none lost, no server driven by two instances', async () => {
    const servers = envInt('SHARED_CHAOS_SERVERS', 30);
    const deploys = envInt('SHARED_CHAOS_DEPLOYS', 100);
    const f = await fleet(servers, { allProgress: true });
    const lines: string[] = [];
    const r = await chaos(f, { deploys, killEveryMs: [1000, 3000], seed: envInt('SHARED_CHAOS_SEED', Date.now() % 100_000), log: (l) => lines.push(l) });
    process.stdout.write(
      `# chaos: ${r.asked} deploys over ${servers} servers in ${Math.round(r.wallMs / 1000)} s, ${r.kills} kills: ${r.active} active, ${r.failedCleanedUp} failed with clean-up done\n`,
    );
    assert.equal(r.asked, deploys);
    assert.ok(r.kills >= 2, `${r.kills} kills`);
    assert.deepEqual(r.stuck.map((x) => x.id), [], explain(f, r.stuck));
    assert.deepEqual(r.lost, []);
    assert.deepEqual(r.violations, []);
    assert.deepEqual(r.failedNotCleanedUp.map((x) => x.id), [], explain(f, r.failedNotCleanedUp));
    assert.deepEqual(r.leftovers, []);
    noSecrets(f);
  });
});
