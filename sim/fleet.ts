/**
 * A fleet of simulated ProLiants, each with its own iLO endpoint, port,
 * certificate and credentials.
 */
import { randomBytes } from 'node:crypto';
import { createFleetCa, type CertPair, type FleetCa } from './certs';
import { SimHostConsole } from './console/host-console';
import { SimIpmiBmc } from './console/ipmi-bmc';
import { createHostKey, SimSshCli } from './console/ssh-cli';
import { IloEndpoint } from './ilo-endpoint';
// Every simulated iLO also answers Redfish (iLO 5 models fully, iLO 4 the service root).
import './redfish/routes';
// and the unauthenticated /xmldata identity document discovery tools read.
import './ribcl/xmldata';
import type { SimModelName } from './models';
import { SimServer, type SimIdentity, type SimTimings } from './server';
import type { MediaTrust } from './vmedia';

export interface FleetOptions {
  /** How many servers (default 3). */
  servers?: number;
  /** First port; server i listens on basePort + i. 0 (default) picks free ports. */
  basePort?: number;
  host?: string;
  /** Name prefix: server names are `${prefix}${i + 1}` (default "server-"). */
  prefix?: string;
  timings?: Partial<SimTimings>;
  identity?: Partial<SimIdentity>;
  /** Fixed credentials for every server (default: user "admin", a random password each). */
  username?: string;
  password?: string;
  /**
   * ProLiant model of each server: one for all, or a list assigned in order
   * (cycling). Default gen9 (iLO 4, RIBCL, UEFI capable).
   */
  models?: SimModelName | SimModelName[];
  /** iLO Advanced licence (scripted virtual media): one value for all, or per server. Default true. */
  licensed?: boolean | boolean[];
  /** Extra CAs the simulated iLOs trust when fetching https images (the fleet CA is always trusted). */
  mediaCa?: string[];
  /**
   * One leaf certificate for every iLO instead of one each (saves key
   * generation for very large fleets; each iLO then has the same fingerprint).
   */
  shareCertificate?: boolean;
  /**
   * Serial consoles: each host writes its life to its serial port; `ssh`
   * adds the iLO CLI over SSH (`vsp`), `ipmi` an OpenIPMI ipmi_sim for
   * serial-over-LAN (needs the Debian package openipmi). Default: none.
   */
  console?: { ssh?: boolean; ipmi?: boolean };
  /** TLS session resumption by every iLO (default true). */
  tlsResumption?: boolean;
}

/** How to reach a simulated iLO's console, when the fleet runs consoles. */
export interface SimConsoleFaces {
  host: SimHostConsole;
  ssh?: { port: number; cli: SimSshCli; fingerprint256: string; openssh: string };
  ipmi?: { port: number; bmc: SimIpmiBmc };
}

export interface SimIlo {
  name: string;
  server: SimServer;
  endpoint: IloEndpoint;
  host: string;
  port: number;
  username: string;
  password: string;
  /** SHA-256 fingerprint of this iLO's certificate (colon-separated hex). */
  fingerprint: string;
  console?: SimConsoleFaces;
}

export class Fleet {
  readonly ilos: SimIlo[] = [];

  private shared?: CertPair;
  private mediaTrust: MediaTrust;

  private constructor(
    readonly ca: FleetCa,
    mediaCa: string[] = [],
  ) {
    this.mediaTrust = { ca: [ca.cert, ...mediaCa] };
  }

  static async start(opts: FleetOptions = {}): Promise<Fleet> {
    const count = opts.servers ?? 3;
    const host = opts.host ?? '127.0.0.1';
    const ca = await createFleetCa();
    const fleet = new Fleet(ca, opts.mediaCa);
    try {
      for (let i = 0; i < count; i++) {
        await fleet.add({ ...opts, host, port: opts.basePort ? opts.basePort + i : 0, index: i });
      }
    } catch (err) {
      await fleet.stop();
      throw err;
    }
    return fleet;
  }

  private async add(o: FleetOptions & { host: string; port: number; index: number }): Promise<SimIlo> {
    const name = `${o.prefix ?? 'server-'}${o.index + 1}`;
    const username = o.username ?? 'admin';
    const password = o.password ?? randomBytes(9).toString('base64url');
    const pick = <T>(v: T | T[] | undefined): T | undefined => (Array.isArray(v) ? v[o.index % v.length] : v);
    const server = new SimServer({
      name,
      username,
      password,
      timings: o.timings,
      identity: o.identity,
      model: pick(o.models),
      licensed: pick(o.licensed),
      mediaTrust: this.mediaTrust,
      index: o.index,
    });
    const cert = o.shareCertificate
      ? (this.shared ??= await this.ca.issue('ILO-SIM-FLEET.sim', [o.host, 'localhost']))
      : await this.ca.issue(`ILO${name.toUpperCase().replace(/[^A-Z0-9]/g, '')}.sim`, [o.host, 'localhost']);
    const endpoint = new IloEndpoint(server, cert, { tlsResumption: o.tlsResumption });
    await endpoint.listen(o.port, o.host);
    const ilo: SimIlo = { name, server, endpoint, host: o.host, port: endpoint.port, username, password, fingerprint: cert.fingerprint256 };
    this.ilos.push(ilo);
    if (o.console) ilo.console = await this.addConsole(ilo, o.console);
    return ilo;
  }

  private async addConsole(ilo: SimIlo, o: NonNullable<FleetOptions['console']>): Promise<SimConsoleFaces> {
    const host = new SimHostConsole(ilo.server, ilo.server.serial);
    ilo.server.hostConsole = host;
    const faces: SimConsoleFaces = { host };
    if (o.ssh) {
      const key = await createHostKey();
      const cli = new SimSshCli(ilo.server, key);
      await cli.listen(0, ilo.host);
      faces.ssh = { port: cli.port, cli, fingerprint256: key.fingerprint256, openssh: key.openssh };
    }
    if (o.ipmi) {
      const serialPort = await ilo.server.serial.listenTcp();
      const bmc = await SimIpmiBmc.start({ name: ilo.name, username: ilo.username, password: ilo.password, serialPort, host: ilo.host });
      faces.ipmi = { port: bmc.port, bmc };
    }
    return faces;
  }

  get(name: string): SimIlo {
    const ilo = this.ilos.find((i) => i.name === name);
    if (!ilo) throw new Error(`no simulated server named ${name}`);
    return ilo;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.ilos.map(async (i) => {
        i.server.dispose();
        await Promise.all([i.endpoint.close(), i.console?.ssh?.cli.close(), i.console?.ipmi?.bmc.stop()]);
      }),
    );
  }
}
