/**
 * A running fleet: its checked servers, their accounts, and one shared iLO
 * client per server (taken from the process-wide pool on first use, given
 * back when the server changes or the fleet closes). An import from a
 * message replaces the whole state in one step, or not at all.
 */
import { BmcError, type Bmc, type BmcConfig, type BmcLogger } from '../../lib/bmc';
import { addressKey, checkServer, clientKey, draftFromRow, sharedBmcClients, type BmcClientPool, type BmcLease, type ImportPlan, type InventoryError, type InventoryServer } from '../../lib/inventory';
import type { ConsoleConfig } from '../../lib/console';
import { bmcConfigFromFields, consoleConfigFromFields, type IloConfigFields } from '../ilo-config/settings';

/** Fleet-wide settings every server shares. */
export type FleetSettings = Pick<IloConfigFields, 'redfishAuth' | 'legacyTls' | 'timeout'>;

export interface FleetAccounts {
  defaultUsername?: string;
  defaultPassword?: string;
  /** By server id. */
  usernames: Map<string, string>;
  passwords: Map<string, string>;
}

interface Held {
  key: string;
  lease: BmcLease;
}

export class LiveFleet {
  private list: InventoryServer[] = [];
  private byName = new Map<string, InventoryServer>();
  private byId = new Map<string, InventoryServer>();
  /** Rows of the flow that failed their check, by name (or position), with the error. */
  readonly broken = new Map<string, InventoryError>();
  private readonly held = new Map<string, Held>();
  private closed = false;

  constructor(
    readonly label: string,
    rows: readonly unknown[],
    private readonly settings: FleetSettings,
    readonly accounts: FleetAccounts,
    private readonly logger?: BmcLogger,
    private readonly pool: BmcClientPool = sharedBmcClients,
  ) {
    const addresses = new Map<string, string>();
    for (const [i, row] of rows.entries()) {
      const draft = draftFromRow(row, i);
      try {
        const { server } = checkServer(draft);
        if (this.byName.has(server.name)) throw new BmcError('invalid-input', `servers[${i}].name: "${server.name}" is already the name of another server of the fleet`, { field: `servers[${i}].name` });
        const other = addresses.get(addressKey(server));
        if (other) throw new BmcError('invalid-input', `servers[${i}].host: ${addressKey(server)} is already the iLO of "${other}"`, { field: `servers[${i}].host` });
        addresses.set(addressKey(server), server.name);
        this.list.push(server);
        this.byName.set(server.name, server);
        this.byId.set(server.id, server);
      } catch (err) {
        this.broken.set(draft.entry ?? `servers[${i}]`, err as InventoryError);
      }
    }
  }

  get servers(): readonly InventoryServer[] {
    return this.list;
  }

  lookup(name: string): InventoryServer | undefined {
    return this.byName.get(name);
  }

  /** The server with this id (the stable key: a rename keeps it). */
  lookupId(id: string): InventoryServer | undefined {
    return this.byId.get(id);
  }

  hasPassword(id: string): boolean {
    return this.accounts.passwords.has(id) || !!this.accounts.defaultPassword;
  }

  /** The iLO account of `server`: its own, else the fleet's default. */
  private accountOf(server: InventoryServer): { username: string; password: string } {
    const username = this.accounts.usernames.get(server.id) ?? this.accounts.defaultUsername;
    const password = this.accounts.passwords.get(server.id) ?? this.accounts.defaultPassword ?? '';
    if (!username) {
      throw new BmcError('invalid-input', `username: server "${server.name}" has no iLO user name (set its own account, or the fleet's default account)`, { field: 'username' });
    }
    return { username, password };
  }

  /** How the serial console of `server` is reached, with its iLO account (as an ilo-config's). */
  consoleConfigFor(server: InventoryServer): ConsoleConfig {
    if (this.closed) throw new BmcError('connection', `fleet "${this.label}" is being redeployed`);
    return consoleConfigFromFields(
      { host: server.host, consoleMethod: server.consoleMethod, ipmiPort: server.ipmiPort, sshPort: server.sshPort, sshHostKey: server.sshHostKey },
      this.accountOf(server),
    );
  }

  /** How the client for `server` is configured (its own account, else the fleet's). */
  configFor(server: InventoryServer): BmcConfig {
    const { username, password } = this.accountOf(server);
    return bmcConfigFromFields(
      {
        host: server.host,
        port: server.port,
        protocol: server.protocol,
        tlsMode: server.tlsMode,
        caFile: server.caFile,
        fingerprint: server.fingerprint,
        redfishAuth: this.settings.redfishAuth,
        legacyTls: this.settings.legacyTls,
        timeout: this.settings.timeout,
      },
      { username, password },
      this.logger ? { logger: this.logger } : {},
    );
  }

  /** The shared client of a server of this fleet. */
  bmc(server: InventoryServer): Promise<Bmc> {
    if (this.closed) return Promise.reject(new BmcError('connection', `fleet "${this.label}" is being redeployed`));
    let config: BmcConfig;
    try {
      config = this.configFor(server);
    } catch (err) {
      return Promise.reject(err);
    }
    const key = clientKey(config);
    let h = this.held.get(server.id);
    if (h && h.key !== key) {
      h.lease.release().catch(() => undefined); // giving a client back only closes it
      h = undefined;
    }
    if (!h) {
      h = { key, lease: this.pool.lease(config, `${this.label}/${server.name}`) };
      this.held.set(server.id, h);
    }
    return h.lease.bmc();
  }

  /** Makes an import plan the fleet's state (clients of changed or removed servers are given back). */
  apply(plan: ImportPlan): void {
    const ids = new Set(plan.servers.map((s) => s.id));
    for (const [id, secret] of plan.secrets) {
      if (secret.username !== undefined) this.accounts.usernames.set(id, secret.username);
      if (secret.password !== undefined) this.accounts.passwords.set(id, secret.password);
    }
    for (const m of [this.accounts.usernames, this.accounts.passwords]) for (const id of [...m.keys()]) if (!ids.has(id)) m.delete(id);
    this.list = plan.servers;
    this.byName = new Map(plan.servers.map((s) => [s.name, s]));
    this.byId = new Map(plan.servers.map((s) => [s.id, s]));
    for (const name of plan.servers.map((s) => s.name)) this.broken.delete(name);
    for (const [id, h] of [...this.held]) {
      if (!ids.has(id)) {
        this.held.delete(id);
        h.lease.release().catch(() => undefined); // giving a client back only closes it
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const leases = [...this.held.values()].map((h) => h.lease.release());
    this.held.clear();
    await Promise.all(leases);
  }
}
