/**
 * The last inspection of each server, as ilo-inspect leaves it for every
 * other node: in the global context, by server name.
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
