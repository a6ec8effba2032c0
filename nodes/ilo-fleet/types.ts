/**
 * The ilo-fleet node's settings and what it offers other nodes and its
 * admin endpoints.
 */
import type { NodeDef } from 'node-red';
import type { ImportMode, ImportPlan, InventoryFormat } from '../../lib/inventory';
import type { ConsoleCapableFleet } from '../common/console';
import type { FleetNode } from '../common/servers';
import type { FleetSettings, LiveFleet } from './live';

export interface IloFleetDef extends NodeDef, FleetSettings {
  servers?: unknown[];
  /** Servers of one batch in flight at once. */
  maxInFlight?: string | number;
}

/** What the fleet node exposes beyond FleetNode: the runtime import, export, and what the dialog's buttons need. */
export interface IloFleetNode extends FleetNode, Pick<ConsoleCapableFleet, 'consoleTargetOf' | 'consoleEntries'> {
  live(): LiveFleet;
  /** Checks a whole file, then applies it in one step (or throws with line and field, changing nothing). */
  importInventory(text: string | Buffer, opts: { format?: InventoryFormat | 'auto'; mode?: ImportMode }): ImportPlan;
  exportInventory(format: InventoryFormat): string;
  /** Ironic properties from the server's last inspection (memory_mb, cpus, cpu_arch, local_gb), if any. */
  inspected(name: string): { properties: object; inspectedAt: string } | undefined;
}

