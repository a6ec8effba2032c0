/**
 * A fleet of simulated ProLiants, each with its own iLO endpoint, port,
 * certificate and credentials.
 */
import { randomBytes } from 'node:crypto';
import { createFleetCa, type CertPair, type FleetCa } from './certs';
import { IloEndpoint } from './ilo-endpoint';
// Every simulated iLO also answers Redfish (iLO 5 models fully, iLO 4 the service root).
import './redfish/routes';
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
  /** TLS session resumption by every iLO (default true). */
  tlsResumption?: boolean;
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
    return ilo;
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
        await i.endpoint.close();
      }),
    );
  }
}
