/**
 * ilo-power: read or change a server's power state through its iLO, and
 * optionally wait until the server gets there. The server is fixed (an
 * ilo-config) or taken from msg.server in a fleet, one or a batch.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { parseBoolean, parsePowerRequest, runPowerAction, type PowerRequest } from '../../lib/bmc';
import { STATUS } from '../common/node-red';
import { handleServerInput, selectionOf, type ServerSelection } from '../common/servers';

interface IloPowerDef extends NodeDef, ServerSelection {
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
  server?: unknown;
}

export = function register(RED: NodeAPI): void {
  function IloPower(this: Node, def: IloPowerDef): void {
    RED.nodes.createNode(this, def);
    handleServerInput<PowerMessage, { action: PowerRequest; wait: boolean }>(
      RED,
      this,
      selectionOf(def),
      (msg) => ({
        action: def.action && def.action !== 'msg' ? parsePowerRequest(def.action, 'action') : parsePowerRequest(msg.action, 'msg.action'),
        wait: parseBoolean(msg.wait, 'msg.wait') ?? !!def.wait,
      }),
      async ({ target, input, msg, signal, status }) => {
        const { action, wait } = input;
        const bmc = await target.getBmc();
        status(STATUS.busy(action === 'status' ? 'reading…' : `${action}…`));
        const outcome = await runPowerAction(bmc, action, {
          wait,
          timeoutMs: seconds(def.waitTimeout, 300) * 1000,
          intervalMs: seconds(def.pollInterval, 2) * 1000,
          signal,
          onWaiting: (t) => status(STATUS.busy(t === 'on' ? 'powering on…' : 'powering off…')),
        });
        status(outcome.powerState === 'on' ? STATUS.ok('on') : STATUS.idle('off'));
        msg.payload = { server: target.name, ...outcome };
        if (msg.topic === undefined || msg.topic === '') msg.topic = target.name;
      },
    );
  }

  RED.nodes.registerType('ilo-power', IloPower);
};

function seconds(v: string | number | undefined, dflt: number): number {
  const n = v === '' || v === undefined ? dflt : Number(v);
  return Number.isFinite(n) && n > 0 ? n : dflt;
}
