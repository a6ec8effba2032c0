/**
 * The last inspection of each server, as ilo-inspect leaves it for every
 * other node: in the global context, by server name; beside it, the
 * in-band inventory the deploy agent last reported (ilo-deploy-flow keeps
 * it when an agent_ilo deploy ends active).
 */
import type { Node } from 'node-red';
import type { ServerInspection } from '../../lib/bmc';

/** The global context key under which every inspection is kept, by server name. */
export const INSPECTIONS_KEY = 'iloInspections';

/** The global context key under which each server's last in-band inventory (from its agent) is kept, by server name. */
export const AGENT_INVENTORIES_KEY = 'iloAgentInventories';

/** What the agent last reported of a server's hardware, with when and in which deploy. */
export interface KeptAgentInventory {
  reportedAt: string;
  deployId: string;
  inventory: Record<string, unknown>;
}

/** One value per server name under `key` in the global context. */
function perServer<T>(key: string): { get(node: Node, server: string): T | undefined; set(node: Node, server: string, value: T): void } {
  const all = (node: Node): Record<string, T> | undefined => node.context().global.get(key) as Record<string, T> | undefined;
  return {
    get: (node, server) => all(node)?.[server],
    set: (node, server, value) => node.context().global.set(key, { ...all(node), [server]: value }),
  };
}

const inspections = perServer<ServerInspection>(INSPECTIONS_KEY);
const agentInventories = perServer<KeptAgentInventory>(AGENT_INVENTORIES_KEY);

export const lastInspection = inspections.get;
export const keepInspection = inspections.set;
export const lastAgentInventory = agentInventories.get;
export const keepAgentInventory = agentInventories.set;
