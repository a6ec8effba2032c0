/**
 * ilo-config: one iLO (address, credentials, TLS trust, protocol). It owns
 * the client every node using it shares, and closes it on redeploy.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { createBmc, type Bmc, type BmcConfig, type BmcProtocolChoice, type TlsMode } from '../../lib/bmc';
import type { IloConfigNode } from '../common/node-red';

interface IloConfigDef extends NodeDef {
  host: string;
  port: string | number;
  protocol: BmcProtocolChoice;
  redfishAuth: 'session' | 'basic';
  tlsMode: TlsMode;
  caFile: string;
  fingerprint: string;
  legacyTls: boolean;
  timeout: string | number;
}

interface IloConfigCredentials {
  username?: string;
  password?: string;
}

type Self = Node<IloConfigCredentials> & Pick<IloConfigNode, 'getBmc' | 'label'>;

export = function register(RED: NodeAPI): void {
  function IloConfig(this: Self, def: IloConfigDef): void {
    RED.nodes.createNode(this, def);
    const label = def.name || def.host;
    Object.defineProperty(this, 'label', { value: label });
    let client: Promise<Bmc> | undefined;
    let closed = false;

    const config = (): BmcConfig => ({
      host: def.host,
      port: def.port === '' || def.port === undefined ? 443 : Number(def.port),
      username: this.credentials?.username ?? '',
      password: this.credentials?.password ?? '',
      protocol: def.protocol || 'auto',
      redfishAuth: def.redfishAuth === 'basic' ? 'basic' : 'session',
      tls: {
        mode: def.tlsMode || 'verify',
        caFile: def.caFile || undefined,
        fingerprint: def.fingerprint || undefined,
        legacy: !!def.legacyTls,
      },
      requestTimeoutMs: def.timeout === '' || def.timeout === undefined ? 60_000 : Number(def.timeout) * 1000,
      logger: { warn: (m) => this.warn(m), debug: (m) => this.debug(m) },
    });

    this.getBmc = (): Promise<Bmc> => {
      if (closed) return Promise.reject(new Error(`iLO configuration "${label}" is being redeployed`));
      client ??= createBmc(config()).catch((err: unknown) => {
        client = undefined; // a bad config is reported on every use until fixed
        throw err;
      });
      return client;
    };

    this.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      const pending = client;
      client = undefined;
      if (!pending) return done();
      pending
        .then((bmc) => bmc.close())
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
};
