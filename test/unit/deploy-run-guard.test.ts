/**
 * A run that was stopped (its lease lost to another instance, or the engine
 * stopping) must not send one more command to its server, even from a step
 * that does not watch its abort signal: another instance may be driving the
 * server by then. The processes' dependencies are guarded for that.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { Bmc } from '../../lib/bmc';
import { DeployEngine } from '../../lib/deploy/engine';
import { deployProcesses, guardDeployDeps, type DeployDeps } from '../../lib/deploy/processes';
import type { DeployProcess } from '../../lib/deploy/step';
import { MemoryDeployBackend } from '../helpers/memory-deploy-store';

/** An iLO client that records the commands it was sent. */
function recordingBmc(calls: string[]): Bmc {
  const target = { target: 'ilo-1:443', close: async (): Promise<void> => undefined };
  return new Proxy(target, {
    get(t, prop) {
      if (prop in t) return t[prop as keyof typeof t];
      if (prop === 'then') return undefined;
      return async (): Promise<void> => {
        calls.push(String(prop));
      };
    },
  }) as unknown as Bmc;
}

/** The dependencies a step sees; only `bmc` is used by the steps of these tests. */
function depsWith(bmc: Bmc): DeployDeps {
  return { bmc: async () => bmc } as unknown as DeployDeps;
}

describe('a stopped run sends nothing more to its server', () => {
  const engines: Array<DeployEngine<DeployDeps>> = [];
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.stop()));
  });

  test('guarded dependencies pass commands through until the run stops, then refuse them with the reason', async () => {
    const calls: string[] = [];
    const abort = new AbortController();
    const bmc = await guardDeployDeps(depsWith(recordingBmc(calls)), abort.signal).bmc();
    await bmc.powerOff();
    assert.deepEqual(calls, ['powerOff']);
    abort.abort(new Error('the lease of deploy d1 was lost'));
    await assert.rejects(bmc.powerOn(), /the lease of deploy d1 was lost/);
    await assert.rejects(bmc.insertVirtualMedia('cdrom', 'http://x/y.iso'), /the lease of deploy d1 was lost/);
    assert.deepEqual(calls, ['powerOff'], 'nothing sent after the stop');
    assert.equal(bmc.target, 'ilo-1:443', 'what is not a command still reads');
    await bmc.close();
  });

  test('every deploy process guards its dependencies', () => {
    for (const [method, proc] of Object.entries(deployProcesses())) assert.equal(proc.guardDeps, guardDeployDeps, method);
  });

  test('a step that ignores the stop and goes on is refused by the iLO side, and the engine stops without waiting for it', async () => {
    const calls: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let late: Promise<unknown> | undefined;
    const proc: DeployProcess<DeployDeps> = {
      method: 'agent_ilo',
      validate() {},
      guardDeps: guardDeployDeps,
      deploySteps: [
        {
          name: 'power-off',
          title: 'Power off',
          resumable: true,
          async run(ctx) {
            await (await ctx.deps.bmc()).powerOff();
            // A step that does not watch ctx.signal: it goes on after the run was stopped.
            await gate;
            late = (await ctx.deps.bmc()).powerOn();
            await late;
          },
        },
      ],
      teardownSteps: [],
      cleanup: async () => [],
    };
    const backend = new MemoryDeployBackend();
    const engine = new DeployEngine<DeployDeps>({ store: backend.instance({ leaseMs: 600 }), processes: { agent_ilo: proc }, resolveDeps: async () => depsWith(recordingBmc(calls)), maintenanceMs: 50 });
    await engine.start();
    await engine.deploy({ serverKey: 'ilo-1:443', serverName: 'server-1', refs: { node: 'd1' }, request: { method: 'agent_ilo', image: 'http://images/disk.raw' } });
    for (const end = Date.now() + 10_000; !calls.includes('powerOff'); ) {
      if (Date.now() > end) throw new Error('the step did not start');
      await new Promise((r) => setTimeout(r, 10));
    }
    await engine.stop();
    release();
    for (const end = Date.now() + 10_000; late === undefined; ) {
      if (Date.now() > end) throw new Error('the step did not go on');
      await new Promise((r) => setTimeout(r, 10));
    }
    await assert.rejects(late, /engine is stopping/);
    assert.deepEqual(calls, ['powerOff'], 'the power-on after the stop never reached the iLO');
  });
});
