/**
 * ilo-fleet: an inventory of servers (name, iLO address and port, protocol,
 * TLS trust, MACs, pool, capabilities, notes) with their iLO accounts in
 * Node-RED's credential store. Nodes set to "fleet" take the server from
 * the message by name; each server has one iLO client, shared. The module
 * also serves the dialog's table: import, export, discovery and test
 * connection per row (admin.ts).
 */
import { createHash } from 'node:crypto';
import type { Node, NodeAPI } from 'node-red';
import { mergeCapabilities, type Bmc } from '../../lib/bmc';
import { openConsole } from '../../lib/console';
import { exportInventory, parseInventory, planImport, type InventoryFormat, type InventoryServer } from '../../lib/inventory';
import { consoleKeyOf, resetFleetConsoles } from '../common/console';
import { DEFAULT_MAX_IN_FLIGHT } from '../common/servers';
import { registerFleetAdmin } from './admin';
import { LiveFleet } from './live';
import { foldStaged, writeMap, type FleetCredentials } from './secrets';
import type { IloFleetDef, IloFleetNode } from './types';

type Self = Node<FleetCredentials> & IloFleetNode;

export = function register(RED: NodeAPI): void {
  function IloFleet(this: Self, def: IloFleetDef): void {
    RED.nodes.createNode(this, def);
    const label = def.name || 'fleet';
    Object.defineProperty(this, 'label', { value: label });
    const n = Number(def.maxInFlight);
    Object.defineProperty(this, 'maxInFlight', { value: Number.isInteger(n) && n >= 1 && n <= 256 ? n : DEFAULT_MAX_IN_FLIGHT });
    const rows = Array.isArray(def.servers) ? def.servers : [];
    const creds = this.credentials ?? {};
    const ids = new Set(rows.map((r) => (r as { id?: unknown })?.id).filter((id): id is string => typeof id === 'string'));
    const folded = foldStaged(creds, ids);
    if (folded.changed) {
      // The editor's changes become the stored map (see secrets.ts).
      const next: FleetCredentials = { ...creds, secrets: writeMap(folded.passwords), usernames: writeMap(folded.usernames) };
      delete next.staged;
      RED.nodes.addCredentials(this.id, next).catch((err: unknown) => this.error(`fleet "${label}": storing its credentials failed: ${(err as Error)?.message ?? String(err)}`));
      this.credentials = next;
    }
    const logger = { warn: (m: string) => this.warn(m), debug: (m: string) => this.debug(m) };
    let fleet = new LiveFleet(
      label,
      rows,
      { redfishAuth: def.redfishAuth, legacyTls: def.legacyTls, timeout: def.timeout },
      { defaultUsername: creds.username || undefined, defaultPassword: creds.password || undefined, usernames: folded.usernames, passwords: folded.passwords },
      logger,
    );
    for (const [row, err] of fleet.broken) this.error(`fleet "${label}": server ${row} is left out: ${err.message}`);

    const inspected = new Map<string, { properties: object; inspectedAt: string }>();
    this.live = () => fleet;
    this.servers = () => fleet.servers;
    this.lookup = (name: string) => fleet.lookup(name);
    this.bmcFor = (server: InventoryServer): Promise<Bmc> => fleet.bmc(server);
    this.exportInventory = (format: InventoryFormat) => exportInventory(fleet.servers, format);
    // An inspection's capabilities go into the server's running entry (the editor shows them); its properties are kept beside it.
    this.recordInspection = (name, result) => {
      const server = fleet.lookup(name);
      if (!server) return;
      server.capabilities = mergeCapabilities(server.capabilities, result.capabilities);
      inspected.set(server.id, { properties: result.properties, inspectedAt: result.inspectedAt });
    };
    this.inspected = (name: string) => {
      const server = fleet.lookup(name);
      return server ? inspected.get(server.id) : undefined;
    };

    // The serial consoles of its servers (shared through the runtime's console hub, keyed in nodes/common/console.ts).
    // A session's revision is a digest of what it was opened with (address, console settings, account), so a
    // redeploy or an import reopens only the sessions whose server changed.
    const consoleRevision = (serverId: string): string | undefined => {
      const s = fleet.lookupId(serverId);
      if (!s) return undefined;
      let what: unknown;
      try {
        what = { name: s.name, config: fleet.consoleConfigFor(s) };
      } catch (err) {
        what = { name: s.name, error: (err as Error).message };
      }
      return createHash('sha256').update(JSON.stringify(what)).digest('hex');
    };
    this.consoleTargetOf = (serverId) => {
      const s = fleet.lookupId(serverId);
      if (!s) return undefined;
      const running = fleet;
      return {
        key: consoleKeyOf({ fleet: this.id, fleetServer: s.id })!,
        label: `${s.name} (${label})`,
        revision: consoleRevision(serverId),
        open: async (o) => openConsole(running.consoleConfigFor(s), o),
      };
    };
    this.consoleEntries = () => fleet.servers.map((s) => ({ serverId: s.id, name: s.name, method: s.consoleMethod ?? 'auto' }));
    let closed = false;
    setImmediate(() => {
      if (!closed) resetFleetConsoles(RED, this.id, consoleRevision);
    });

    this.importInventory = (text, opts) => {
      const parsed = parseInventory(text, { format: opts.format ?? 'auto', quoteValues: false });
      const plan = planImport(fleet.servers, parsed, opts.mode ?? 'merge');
      fleet.apply(plan);
      resetFleetConsoles(RED, this.id, consoleRevision);
      // Kept in the credential store too, so that loading the running inventory into the editor and deploying keeps them.
      const stored: FleetCredentials = { ...(this.credentials ?? {}), secrets: writeMap(fleet.accounts.passwords), usernames: writeMap(fleet.accounts.usernames) };
      RED.nodes.addCredentials(this.id, stored).catch((err: unknown) => this.error(`fleet "${label}": storing its credentials failed: ${(err as Error)?.message ?? String(err)}`));
      this.credentials = stored;
      return plan;
    };

    this.on('close', (removed: boolean, done: () => void) => {
      closed = true;
      const closing = fleet;
      fleet = new LiveFleet(label, [], {}, { usernames: new Map(), passwords: new Map() });
      fleet.close().catch(() => undefined); // an empty fleet holds no client
      closing
        .close()
        .catch(() => undefined)
        .finally(() => done());
      // A removed fleet's sessions end; a redeployed one's are checked when it starts again.
      if (removed) resetFleetConsoles(RED, this.id, () => undefined);
    });
  }

  RED.nodes.registerType<Self, IloFleetDef, object, FleetCredentials>('ilo-fleet', IloFleet, {
    credentials: {
      username: { type: 'text' },
      password: { type: 'password' },
      usernames: { type: 'text' },
      secrets: { type: 'password' },
      staged: { type: 'password' },
    },
  });
  registerFleetAdmin(RED);
};
