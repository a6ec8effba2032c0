/**
 * ilo-health: a server's health summary and sensors, product, firmware,
 * NIC MAC addresses and licence, with a status dot that turns red when a
 * component is degraded or failed. One server, or a batch from a fleet.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow, NodeStatus } from 'node-red';
import { readHealth, type HealthOutcome } from '../../lib/bmc';
import { STATUS } from '../common/node-red';
import { handleServerInput, selectionOf, type ServerSelection } from '../common/servers';

type IloHealthDef = NodeDef & ServerSelection;

function statusOf(o: HealthOutcome): NodeStatus {
  const overall = o.health.overall;
  if (overall === 'ok') return STATUS.ok('ok');
  if (overall === 'degraded' || overall === 'critical') {
    const first = o.unhealthy[0];
    const more = o.unhealthy.length > 1 ? ` +${o.unhealthy.length - 1}` : '';
    const text = `${overall}${first ? `: ${first}${more}` : ''}`;
    return { fill: 'red', shape: 'dot', text: text.length > 32 ? `${text.slice(0, 31)}…` : text };
  }
  return { fill: 'yellow', shape: 'ring', text: overall };
}

export = function register(RED: NodeAPI): void {
  function IloHealth(this: Node, def: IloHealthDef): void {
    RED.nodes.createNode(this, def);
    handleServerInput<NodeMessageInFlow & { server?: unknown }>(RED, this, selectionOf(def), () => undefined, async ({ target, msg, status }) => {
      const bmc = await target.getBmc();
      status(STATUS.busy('reading…'));
      const outcome = await readHealth(bmc);
      status(statusOf(outcome));
      msg.payload = { server: target.name, protocol: bmc.protocol, overall: outcome.health.overall, ...outcome };
      if (msg.topic === undefined || msg.topic === '') msg.topic = target.name;
    });
  }

  RED.nodes.registerType('ilo-health', IloHealth);
};
