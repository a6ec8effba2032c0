/**
 * ilo-inspect: a server's hardware read out of band through its iLO (model,
 * serial, CPUs, memory, disks and logical drives, NIC MACs, boot modes,
 * secure boot, licence, firmware), with Ironic's properties and
 * capabilities. The result goes out on msg.payload, into the fleet's
 * inventory entry (capabilities) for a fleet server, and into the global
 * context (`iloInspections[server name]`) for every server. The in-band
 * inventory of the last agent_ilo deploy on the server, when there was one,
 * comes with it as `agentInventory`.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { inspectServer, type ServerInspection } from '../../lib/bmc';
import { keepInspection, lastAgentInventory } from '../common/inspections';
import { STATUS } from '../common/node-red';
import { handleServerInput, selectionOf, type FleetNode, type ServerSelection } from '../common/servers';

type IloInspectDef = NodeDef & ServerSelection;

function summary(r: ServerInspection): string {
  const gib = Math.round(r.memoryMb / 1024);
  const text = `${r.cpu.threads} CPUs, ${gib} GiB, ${r.volumes.length || r.disks.length} disk(s)`;
  return r.warnings.length ? `${text} (${r.warnings.length} warning(s))` : text;
}

export = function register(RED: NodeAPI): void {
  function IloInspect(this: Node, def: IloInspectDef): void {
    RED.nodes.createNode(this, def);
    const sel = selectionOf(def);
    handleServerInput<NodeMessageInFlow & { server?: unknown }>(RED, this, sel, () => undefined, async ({ target, msg, status }) => {
      const bmc = await target.getBmc();
      status(STATUS.busy('inspecting…'));
      const result = await inspectServer(bmc);
      if (target.inventory && sel.target === 'fleet') {
        const fleet = RED.nodes.getNode(sel.fleet ?? '') as FleetNode | null;
        fleet?.recordInspection?.(target.inventory.name, result);
      }
      keepInspection(this, target.name, result);
      status(result.warnings.length ? { fill: 'yellow', shape: 'dot', text: summary(result) } : STATUS.ok(summary(result)));
      // What the deploy agent reported in band, when one ran on this server (kept by ilo-deploy-flow).
      const agent = lastAgentInventory(this, target.name);
      msg.payload = { server: target.name, ...result, ...(agent ? { agentInventory: agent } : {}) };
      if (msg.topic === undefined || msg.topic === '') msg.topic = target.name;
    });
  }

  RED.nodes.registerType('ilo-inspect', IloInspect);
};
