/**
 * The meeting point of a ramdisk's call-backs and the step that waits for
 * them. A call-back may reach any instance sharing the deploy store: it is
 * checked there against the record (deploy in progress, token right), posted
 * to the store, and delivered to the instance running the deploy, whose
 * waiting step takes it. One that arrives before the step waits stays
 * recorded until taken.
 */
import { heartbeatTlsRefusal, type AgentTlsPolicy } from './agent-tls';
import type { DeployStore } from './deploy-store';
import { awaitsRamdisk } from './deploy-store';
import { DeployError } from './errors';
import type { CallbackKind } from './step';
import { tokenMatches } from './tokens';
import type { DeployProgress, DeployRecord } from './types';

export interface CallbackVerdict {
  /** What the ramdisk API answers: 202 accepted, 401 bad token, 404 no such deploy in progress, 409 unexpected. */
  status: number;
  message: string;
  /** Whether to post it for the waiting step (a repeat of a call-back already taken is accepted and dropped). */
  post: boolean;
  /** Why it was refused, for the operator's log. */
  log?: string;
}

/** A call-back with a wrong token changes nothing; a heartbeat is also checked for its TLS (agent-tls.ts). */
export function checkCallback(r: DeployRecord | undefined, kind: CallbackKind, token: unknown, body: Record<string, unknown>, tls?: AgentTlsPolicy): CallbackVerdict {
  if (!r || !awaitsRamdisk(r)) return { status: 404, message: 'no deploy in progress for this node', post: false };
  if (!tokenMatches(r.token, token)) return { status: 401, message: 'missing or invalid token', post: false };
  if (kind === 'heartbeat') {
    const url = body.callback_url;
    const known = r.data.agentUrl;
    if (known && url && url !== known) return { status: 409, message: 'callback_url changed during the deploy', post: false };
    const refused = heartbeatTlsRefusal(r.data.agentVerifyCa, body, tls);
    if (refused) return { status: 400, message: refused.message, post: false, log: refused.log };
  }
  // The agent heartbeats all along; only the first one is waited for.
  return { status: 202, message: 'accepted', post: !r.completed.includes(`callback:${kind}`) };
}

type Log = { warn(m: string): void } | undefined;

/** What a ramdisk's lookup learns of its deploy. */
export interface RamdiskNode {
  id: string;
  rootDevice?: Record<string, unknown>;
}

/** A ramdisk's lookup, on any instance. MACs matching two deploys find none (and are reported). */
export async function lookupRamdisk(store: DeployStore, nodeId: string | undefined, macs: string[], log: Log): Promise<RamdiskNode | undefined> {
  const found = await store.findForRamdisk(nodeId, macs);
  if ('ambiguous' in found) {
    const servers = await Promise.all(found.ambiguous.map(async (id) => (await store.get(id))?.serverName ?? id));
    log?.warn(`ramdisk lookup: MACs ${macs.join(', ')} match deploys on ${servers.join(' and ')}; refused (two servers report the same MAC)`);
    return undefined;
  }
  if (!('deployId' in found)) return undefined;
  // The agent reads its root device hints from the lookup (Ironic: node.properties.root_device).
  const hints = (await store.get(found.deployId))?.request.rootDeviceHints;
  return { id: found.deployId, ...(hints && Object.keys(hints).length ? { rootDevice: hints } : {}) };
}

/** A ramdisk's call-back, on any instance: checked against the record, then posted for the instance running the deploy. */
export async function receiveCallback(store: DeployStore, nodeId: string, kind: CallbackKind, token: unknown, body: Record<string, unknown>, log: Log, tls?: AgentTlsPolicy): Promise<{ status: number; message: string }> {
  const r = await store.get(nodeId);
  const verdict = checkCallback(r, kind, token, body, tls);
  if (verdict.status === 401 && r) log?.warn(`deploy ${r.id} (${r.serverName}): ${kind} refused: missing or wrong token`);
  if (verdict.log && r) log?.warn(`deploy ${r.id} (${r.serverName}): ${kind} refused: ${verdict.log}`);
  if (verdict.post) await store.postCallback(nodeId, kind, body);
  return { status: verdict.status, message: verdict.message };
}

/** The waits of the steps running on this instance, woken by the store's `callback` events. */
export class CallbackRendezvous {
  private readonly waiters = new Map<string, { kind: CallbackKind; wake(): void }>();

  constructor(private readonly store: DeployStore) {}

  /** A `callback` event from the store's subscription. */
  notify(deployId: string, kind: CallbackKind): void {
    const w = this.waiters.get(deployId);
    if (w?.kind === kind) w.wake();
  }

  /** The call-back of this kind already recorded, or the next one posted, until `deadline` (ms since the epoch). */
  async take(deployId: string, kind: CallbackKind, deadline: number, signal: AbortSignal, timedOut: () => Error): Promise<Record<string, unknown>> {
    for (;;) {
      let woke = false;
      let resume: (() => void) | undefined;
      const wake = (): void => {
        woke = true;
        resume?.();
      };
      // Waiting before looking: a call-back posted in between wakes us instead of being missed.
      this.waiters.set(deployId, { kind, wake });
      try {
        const body = await this.store.takeCallback(deployId, kind);
        if (body) return body;
        if (!woke) await until((r) => (resume = r), deadline, signal, timedOut);
      } finally {
        if (this.waiters.get(deployId)?.wake === wake) this.waiters.delete(deployId);
      }
    }
  }
}

/** Resolves when woken (`onWake` is given the function that wakes it), rejects at the deadline or on abort. */
function until(onWake: (wake: () => void) => void, deadline: number, signal: AbortSignal, timedOut: () => Error): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (fn: () => void): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => done(() => reject(signal.reason));
    const timer = setTimeout(() => done(() => reject(timedOut())), Math.max(0, deadline - Date.now()));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    onWake(() => done(resolve));
  });
}

export interface CallbackWaitHost {
  persist(record: DeployRecord): Promise<void>;
  report(record: DeployRecord, message: string, transfer?: DeployProgress['transfer']): void;
}

/**
 * A step's wait for a call-back: the deploy shows `wait call-back` with a
 * deadline that survives restarts (a resumed wait only gets what is left),
 * and goes back to `deploying` once the call-back is taken.
 */
export async function awaitCallback(
  host: CallbackWaitHost,
  rendezvous: CallbackRendezvous,
  record: DeployRecord,
  kind: CallbackKind,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Record<string, unknown>> {
  const deadline = record.callbackDeadline ? Date.parse(record.callbackDeadline) : Date.now() + timeoutMs;
  record.callbackDeadline ??= new Date(deadline).toISOString();
  // A cleaning waits for its agent in `clean wait`, and goes back to `cleaning`.
  const cleaning = record.state === 'cleaning' || record.state === 'clean wait';
  const waitState = cleaning ? 'clean wait' : 'wait call-back';
  // Waiting again (the step runs again after a restart or a takeover): the ramdisk's next call-back is wanted, not dropped as a repeat.
  const again = record.completed.includes(`callback:${kind}`);
  if (again) record.completed = record.completed.filter((c) => c !== `callback:${kind}`);
  if (record.state !== waitState || again) {
    record.state = waitState;
    await host.persist(record);
    host.report(record, kind === 'heartbeat' ? 'Waiting for the agent to call back' : 'Waiting for the deploy ramdisk to call back');
  }
  // A call-back already recorded is taken even when the deadline passed while this instance was down.
  const body = await rendezvous.take(record.id, kind, deadline, signal, () => new DeployError('timeout', `no callback from the ramdisk within ${Math.round(timeoutMs / 1000)} s (Ironic's deploy_callback_timeout)`));
  record.callbackDeadline = undefined;
  record.completed.push(`callback:${kind}`);
  record.state = cleaning ? 'cleaning' : 'deploying';
  await host.persist(record);
  host.report(record, kind === 'heartbeat' ? 'The agent called back' : 'The deploy ramdisk called back');
  return body;
}
