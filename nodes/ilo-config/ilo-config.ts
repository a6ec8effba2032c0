/**
 * ilo-config: one iLO (address, credentials, TLS trust, protocol). It owns
 * the client every node using it shares, and closes it on redeploy. The
 * module also serves the dialog's "test connection" and "fetch certificate"
 * buttons (admin.ts).
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { setMaxIloRequestsInFlight, type Bmc } from '../../lib/bmc';
import { openConsole } from '../../lib/console';
import { sharedBmcClients, type BmcLease } from '../../lib/inventory';
import { consoleHub, type ConsoleCapableNode } from '../common/console';
import type { ScheduledConfig } from '../common/servers';
import type { IloConfigNode } from '../common/node-red';
import { registerConsoleKeyAdmin, registerIloConfigAdmin } from './admin';
import { installJsonErrors } from './http-errors';
import { bmcConfigFromFields, consoleConfigFromFields, portOf, schedulingOf, type IloConfigCredentials, type IloConfigFields } from './settings';

type IloConfigDef = NodeDef & IloConfigFields;

type Self = Node<IloConfigCredentials> &
  Pick<IloConfigNode, 'getBmc' | 'label'> &
  Pick<ConsoleCapableNode, 'consoleTarget'> &
  Pick<ScheduledConfig, 'scheduling'> & {
    /** Where the stored password may be sent by the dialog's test button (see admin.ts). */
    deployedTarget: { host: string; port: number };
  };

export = function register(RED: NodeAPI): void {
  installJsonErrors(RED);
  const bound = (RED.settings as unknown as { iloMaxRequestsInFlight?: unknown }).iloMaxRequestsInFlight;
  if (bound !== undefined) {
    try {
      setMaxIloRequestsInFlight(Number(bound));
    } catch (err) {
      RED.log.warn(`node-red-contrib-ilo-deploy: settings.iloMaxRequestsInFlight ignored: ${(err as Error).message}`);
    }
  }
  function IloConfig(this: Self, def: IloConfigDef): void {
    RED.nodes.createNode(this, def);
    const label = def.name || def.host || 'iLO';
    Object.defineProperty(this, 'label', { value: label });
    this.deployedTarget = { host: String(def.host ?? '').trim(), port: portOf(def.port) };
    // What a pool deploy chooses this server by (see nodes/common/servers.ts configPoolCandidates).
    Object.defineProperty(this, 'scheduling', { value: schedulingOf(def, (m) => this.warn(m)) });
    const logger = { warn: (m: string) => this.warn(m), debug: (m: string) => this.debug(m) };
    let closed = false;
    // One client per iLO, shared with every other node (and fleet) that reaches it the same way.
    let lease: BmcLease | undefined;
    let configError: unknown;
    try {
      lease = sharedBmcClients.lease(bmcConfigFromFields(def, this.credentials ?? {}, { logger }), label);
    } catch (err) {
      configError = err; // a bad config is reported on every use until fixed
    }
    this.getBmc = (): Promise<Bmc> => (lease ? lease.bmc() : Promise.reject(configError));

    // The serial console of this server (shared through the runtime's console hub).
    const revision = {}; // this deployment of the configuration
    this.consoleTarget = () =>
      closed ? undefined : { key: this.id, label, revision, open: (o) => openConsole(consoleConfigFromFields(def, this.credentials ?? {}), o) };
    // A redeployed configuration: a console session still open with the old one reopens with this one.
    setImmediate(() => {
      if (!closed) consoleHub(RED).reset(this.id, revision);
    });

    this.on('close', (removed: boolean, done: () => void) => {
      closed = true;
      if (removed) consoleHub(RED).reset(this.id);
      const held = lease;
      lease = undefined;
      configError = new Error(`iLO configuration "${label}" is being redeployed`);
      if (!held) return done();
      held
        .release()
        .catch(() => undefined)
        .finally(() => done());
    });
  }

  RED.nodes.registerType<Self, IloConfigDef, object, IloConfigCredentials>('ilo-config', IloConfig, {
    credentials: {
      username: { type: 'text' },
      password: { type: 'password' },
    },
  });
  registerIloConfigAdmin(RED);
  registerConsoleKeyAdmin(RED);
};
