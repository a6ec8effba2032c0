/**
 * The ilo-config dialog's buttons, as admin endpoints (registered once per
 * runtime, guarded by the `ilo-config.write` permission):
 *
 *   POST ilo-config/test         log in with the dialog's values and report
 *                                { ok, protocol, productName, generation, iloFirmware,
 *                                  powerState, licence, certificate } or { ok: false, code, error }
 *   POST ilo-config/certificate  the certificate the iLO presents, for pinning
 *   POST ilo-config/ssh-host-key the SSH host key the iLO presents (for the
 *                                console over SSH), for pinning; nothing is
 *                                sent to the iLO but the SSH handshake
 *
 * The password is the one typed in the dialog; the editor's placeholder (or
 * an empty field) means the one stored for the deployed node `id`, which is
 * then only sent to the host and port that node was deployed with.
 */
import type { NodeAPI } from 'node-red';
import { BmcError, checkConnection, invalidInput, readCertificate } from '../../lib/bmc';
import { AdminError, failure, postRoute, text, typedSecret, type AdminReply } from '../common/admin';
import { sshHostKeyReply } from '../common/ssh-host-key';
import { bmcConfigFromFields, portOf, type IloConfigCredentials, type IloConfigFields } from './settings';

export const PERMISSION = 'ilo-config.write';

/** A test gives up sooner than a flow would: the operator is waiting. */
const TEST_TIMEOUT_S = 30;

/** What a deployed ilo-config exposes for this check (see ilo-config.ts). */
interface DeployedIloConfig {
  type: string;
  credentials?: IloConfigCredentials;
  deployedTarget?: { host: string; port: number };
}

function fieldsOf(f: Record<string, unknown>): IloConfigFields {
  return {
    host: text(f.host),
    port: text(f.port),
    protocol: (text(f.protocol) || 'auto') as IloConfigFields['protocol'],
    redfishAuth: text(f.redfishAuth) === 'basic' ? 'basic' : 'session',
    tlsMode: (text(f.tlsMode) || 'verify') as IloConfigFields['tlsMode'],
    caFile: text(f.caFile),
    fingerprint: text(f.fingerprint),
    legacyTls: f.legacyTls === true || f.legacyTls === 'true',
    timeout: text(f.timeout),
  };
}

function credentialsFor(RED: NodeAPI, f: Record<string, unknown>, fields: IloConfigFields): IloConfigCredentials {
  const typed = typedSecret(f.password);
  const username = text(f.username);
  if (typed !== undefined) return { username, password: typed };
  const id = text(f.id);
  if (!id) throw invalidInput('password', 'the password (nothing is stored for a configuration that was never deployed)');
  const node = RED.nodes.getNode(id) as unknown as DeployedIloConfig | null;
  if (!node || node.type !== 'ilo-config') {
    throw new AdminError('not-found', `password: no deployed iLO configuration ${id} holds a stored password; type it, or deploy first`, 'password');
  }
  const stored = node.credentials ?? {};
  if (!stored.password) throw invalidInput('password', 'the password (none is stored for this configuration)');
  const target = node.deployedTarget;
  const host = fields.host ?? '';
  if (!target || target.host.toLowerCase() !== host.toLowerCase() || target.port !== portOf(fields.port)) {
    throw invalidInput('password', `the password typed again: the stored one is only sent to the deployed iLO${target ? ` ${target.host}:${target.port}` : ''}`);
  }
  return { username: username || stored.username, password: stored.password };
}

export function registerIloConfigAdmin(RED: NodeAPI): void {
  postRoute(RED, '/ilo-config/test', PERMISSION, ['password'], async (f, secret): Promise<AdminReply> => {
    const fields = fieldsOf(f);
    let cfg;
    try {
      const creds = credentialsFor(RED, f, fields);
      secret(creds.password);
      cfg = bmcConfigFromFields(fields, creds, { maxTimeoutS: TEST_TIMEOUT_S, retries: 0 });
    } catch (err) {
      return failure(err);
    }
    try {
      const report = await checkConnection(cfg);
      return { status: 200, body: { ok: true, ...report } };
    } catch (err) {
      // A refused certificate: show it, so the operator can decide to pin it.
      const tlsRefused = err instanceof BmcError && err.code === 'connection' && /^TLS:/.test(err.message);
      const certificate = tlsRefused ? await readCertificate(cfg).catch(() => undefined) : undefined;
      return failure(err, certificate ? { certificate } : {});
    }
  });

  postRoute(RED, '/ilo-config/certificate', PERMISSION, [], async (f): Promise<AdminReply> => {
    const fields = fieldsOf(f);
    try {
      const cfg = bmcConfigFromFields({ ...fields, tlsMode: fields.tlsMode === 'ca' ? 'ca' : 'verify' }, { username: '-', password: '' }, { maxTimeoutS: TEST_TIMEOUT_S });
      return { status: 200, body: { ok: true, certificate: await readCertificate({ ...cfg, connectTimeoutMs: Math.min(cfg.requestTimeoutMs ?? 10_000, 10_000) }) } };
    } catch (err) {
      return failure(err);
    }
  });
}

export function registerConsoleKeyAdmin(RED: NodeAPI): void {
  postRoute(RED, '/ilo-config/ssh-host-key', PERMISSION, [], sshHostKeyReply);
}
