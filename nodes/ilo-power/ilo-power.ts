/**
 * ilo-power: read or change a server's power state through its iLO, and
 * optionally wait until the server gets there.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { BmcError, parsePowerRequest, runPowerAction, type PowerRequest } from '../../lib/bmc';
import { STATUS, getIloConfig } from '../common/node-red';
import { beforePowerOn } from '../ilo-deploy-flow/engine-host';

interface IloPowerDef extends NodeDef {
  server: string;
  /** An action, or "msg" to take it from msg.action. */
  action: PowerRequest | 'msg';
  wait: boolean;
  /** Seconds. */
  waitTimeout: string | number;
  pollInterval: string | number;
}

interface PowerMessage extends NodeMessageInFlow {
  action?: unknown;
  wait?: unknown;
}

export = function register(RED: NodeAPI): void {
  function IloPower(this: Node, def: IloPowerDef): void {
    RED.nodes.createNode(this, def);
    const inflight = new Set<AbortController>();

    this.on('input', (msg: PowerMessage, send, done) => {
      const abort = new AbortController();
      inflight.add(abort);
      handle(this, def, msg, abort.signal)
        .then(() => {
          send(msg);
          done();
        })
        .catch((err: unknown) => {
          this.status(STATUS.error(err instanceof BmcError ? err.code : 'error'));
          done(err instanceof Error ? err : new Error(String(err)));
        })
        .finally(() => inflight.delete(abort));
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      for (const a of inflight) a.abort();
      inflight.clear();
      this.status(STATUS.clear);
      done();
    });
  }

  async function handle(node: Node, def: IloPowerDef, msg: PowerMessage, signal: AbortSignal): Promise<void> {
    const config = getIloConfig(RED, def.server);
    if (!config) throw new BmcError('invalid-input', 'server: no iLO configuration (ilo-config) is selected', { field: 'server' });
    const action = def.action && def.action !== 'msg' ? parsePowerRequest(def.action, 'action') : parsePowerRequest(msg.action, 'msg.action');
    const wait = typeof msg.wait === 'boolean' ? msg.wait : !!def.wait;
    const bmc = await config.getBmc();
    node.status(STATUS.busy(action === 'status' ? 'reading…' : `${action}…`));
    // A netboot instance deployed on this server gets its boot ISO renewed and inserted before it boots; a failure is said, the power action still runs.
    if (action === 'on' || action === 'reset' || action === 'cold-boot') await beforePowerOn(RED, config).catch((err: unknown) => node.warn(`before ${action}: the deployed instance's boot ISO could not be renewed: ${(err as Error).message}`));
    const outcome = await runPowerAction(bmc, action, {
      wait,
      timeoutMs: seconds(def.waitTimeout, 300) * 1000,
      intervalMs: seconds(def.pollInterval, 2) * 1000,
      signal,
      onWaiting: (target) => node.status(STATUS.busy(target === 'on' ? 'powering on…' : 'powering off…')),
    });
    node.status(outcome.powerState === 'on' ? STATUS.ok('on') : STATUS.idle('off'));
    msg.payload = { server: config.label, ...outcome };
    if (msg.topic === undefined || msg.topic === '') msg.topic = config.label;
  }

  RED.nodes.registerType('ilo-power', IloPower);
};

function seconds(v: string | number | undefined, dflt: number): number {
  const n = v === '' || v === undefined ? dflt : Number(v);
  return Number.isFinite(n) && n > 0 ? n : dflt;
}
