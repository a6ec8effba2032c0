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

export function lastInspection(node: Node, server: string): ServerInspection | undefined {
  return (node.context().global.get(INSPECTIONS_KEY) as Record<string, ServerInspection> | undefined)?.[server];
}

export function keepInspection(node: Node, server: string, result: ServerInspection): void {
  const global = node.context().global;
  const kept = (global.get(INSPECTIONS_KEY) as Record<string, ServerInspection> | undefined) ?? {};
  global.set(INSPECTIONS_KEY, { ...kept, [server]: result });
}

/** The global context key under which each server's last in-band inventory (from its agent) is kept, by server name. */
export const AGENT_INVENTORIES_KEY = 'iloAgentInventories';

/** What the agent last reported of a server's hardware, with when and in which deploy. */
export interface KeptAgentInventory {
  reportedAt: string;
  deployId: string;
  inventory: Record<string, unknown>;
}

export function lastAgentInventory(node: Node, server: string): KeptAgentInventory | undefined {
  return (node.context().global.get(AGENT_INVENTORIES_KEY) as Record<string, KeptAgentInventory> | undefined)?.[server];
}

export function keepAgentInventory(node: Node, server: string, kept: KeptAgentInventory): void {
  const global = node.context().global;
  const all = (global.get(AGENT_INVENTORIES_KEY) as Record<string, KeptAgentInventory> | undefined) ?? {};
  global.set(AGENT_INVENTORIES_KEY, { ...all, [server]: kept });
}
