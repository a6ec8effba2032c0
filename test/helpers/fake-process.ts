/**
 * A fake deploy process for engine tests: six steps that log what they did,
 * a "floppy" that hands the token over as the real one does, a wait for the
 * agent's heartbeat, a step that cannot be resumed; failures and hangs on demand.
 */
import { DeployError } from '../../lib/deploy/errors';
import type { DeployProcess, Step } from '../../lib/deploy/step';

/** A fake server: records what the steps did, and hands the token over as a floppy would. */
export interface FakeDeps {
  log: string[];
  floppy: Map<string, string>;
  failAt?: string;
  hangAt?: string;
  /** The agent wait, as a step would read a configured timeout. */
  callbackTimeoutMs?: number;
  /** The tear-down's power-off fails this many more times (an iLO that does not answer). */
  teardownFailures?: number;
}

export const deps: FakeDeps = { log: [], floppy: new Map() };

function step(name: string, extra: Partial<Step<FakeDeps>> = {}): Step<FakeDeps> {
  return {
    name,
    title: `Step ${name}`,
    resumable: true,
    async run(ctx) {
      ctx.deps.log.push(`run ${name}`);
      if (ctx.deps.hangAt === name) await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
      if (ctx.deps.failAt === name) throw new Error(`${name} broke`);
    },
    async undo(ctx) {
      ctx.deps.log.push(`undo ${name}`);
    },
    ...extra,
  };
}

export const fakeProcess: DeployProcess<FakeDeps> = {
  method: 'agent_ilo',
  validate(req) {
    if (!req.image) throw new DeployError('invalid-input', 'image: expected an image reference', { field: 'image' });
  },
  deploySteps: [
    step('power-off'),
    step('floppy', {
      async run(ctx) {
        ctx.deps.log.push('run floppy');
        ctx.deps.floppy.set(ctx.record.id, ctx.record.token);
        await ctx.published({ name: `floppy-${ctx.record.id}`, url: 'https://store/x' });
        ctx.data.macs = ['AA:BB:CC:00:11:22'];
        if (ctx.deps.failAt === 'floppy') throw new Error('floppy broke');
      },
      async undo(ctx) {
        ctx.deps.log.push('undo floppy');
        await ctx.forgetPublished(`floppy-${ctx.record.id}`);
      },
    }),
    step('power-on'),
    step('wait-agent', {
      undo: undefined,
      async run(ctx) {
        ctx.deps.log.push('run wait-agent');
        const body = await ctx.waitForCallback('heartbeat', ctx.deps.callbackTimeoutMs ?? 5000);
        ctx.data.agentUrl = String(body.callback_url);
        if (ctx.deps.failAt === 'wait-agent') throw new Error('wait-agent broke');
      },
    }),
    step('write-image', { resumable: false }),
    step('boot-device'),
  ],
  teardownSteps: [
    step('td-power-off', {
      undo: undefined,
      async run(ctx) {
        ctx.deps.log.push('run td-power-off');
        if ((ctx.deps.teardownFailures ?? 0) > 0) {
          ctx.deps.teardownFailures = (ctx.deps.teardownFailures ?? 0) - 1;
          throw new Error('the iLO did not answer');
        }
      },
    }),
    step('td-eject', { undo: undefined }),
  ],
  async cleanup(ctx) {
    ctx.deps.log.push('cleanup');
    return [];
  },
};


export function resetFakeDeps(): FakeDeps {
  deps.log = [];
  deps.floppy.clear();
  deps.failAt = undefined;
  deps.hangAt = undefined;
  deps.callbackTimeoutMs = undefined;
  deps.teardownFailures = undefined;
  return deps;
}
