/**
 * The ilo-fleet dialog's buttons, as admin endpoints (registered once per
 * runtime; POSTs need `ilo-fleet.write`, the GET `ilo-fleet.read`):
 *
 *   POST ilo-fleet/import    check a whole file against the dialog's table and
 *                            answer the table it makes, or the first error with
 *                            its line and field (nothing is applied on error);
 *                            the file's passwords come back only to be staged
 *                            in the dialog's write-only credential
 *   POST ilo-fleet/export    the dialog's table as CSV, JSON or YAML (no credential)
 *   POST ilo-fleet/test      log in to one row's iLO, as ilo-config's test does
 *   POST ilo-fleet/discover  probe an address range for iLOs (no credential sent)
 *   POST ilo-fleet/ssh-host-key the SSH host key one row's iLO presents, for
 *                            pinning (only the SSH handshake is sent)
 *   GET  ilo-fleet/:id/state which servers of the deployed fleet have a stored
 *                            password (flags only), and its running inventory
 *
 * A stored password is only ever sent to the address its server had when
 * the fleet was deployed.
 */
import type { NodeAPI } from 'node-red';
import { BmcError, checkConnection, invalidInput, readCertificate } from '../../lib/bmc';
import { checkServer, discoverIlos, draftFromRow, exportInventory, parseFormat, parseInventory, parseTargets, planImport, suggestedName, type ImportMode, type InventoryServer } from '../../lib/inventory';
import { AdminError, failure, postRoute, text, typedSecret, type AdminReply } from '../common/admin';
import { sshHostKeyReply } from '../common/ssh-host-key';
import { bmcConfigFromFields } from '../ilo-config/settings';
import type { IloFleetNode } from './types';

export const WRITE = 'ilo-fleet.write';
export const READ = 'ilo-fleet.read';

const TEST_TIMEOUT_S = 30;
/** Addresses one discovery from the editor may probe. */
const MAX_DISCOVERY = 1024;

function rowsOf(v: unknown): InventoryServer[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalidInput('servers', 'the list of the table\'s servers');
  return v.map((row, i) => checkServer(draftFromRow(row, i)).server);
}

function deployedFleet(RED: NodeAPI, id: string): IloFleetNode | undefined {
  if (!id) return undefined;
  const n = RED.nodes.getNode(id) as (IloFleetNode & { type?: string }) | null;
  return n && n.type === 'ilo-fleet' && typeof n.live === 'function' ? n : undefined;
}

export function registerFleetAdmin(RED: NodeAPI): void {
  postRoute(RED, '/ilo-fleet/import', WRITE, [], async (f): Promise<AdminReply> => {
    try {
      const current = rowsOf(f.servers);
      const mode = (text(f.mode) || 'merge') as ImportMode;
      const content = typeof f.text === 'string' ? f.text : '';
      const parsed = parseInventory(content, { format: parseFormat(f.format) });
      const plan = planImport(current, parsed, mode);
      const secrets: Record<string, { username?: string; password?: string }> = {};
      for (const [id, s] of plan.secrets) secrets[id] = s;
      return { status: 200, body: { ok: true, format: parsed.format, servers: plan.servers, secrets, added: plan.added, updated: plan.updated, removed: plan.removed } };
    } catch (err) {
      const e = err as { line?: number };
      return failure(err, e.line !== undefined ? { line: e.line } : {});
    }
  });

  postRoute(RED, '/ilo-fleet/export', WRITE, [], async (f): Promise<AdminReply> => {
    try {
      const format = parseFormat(f.format);
      const fmt = format === 'auto' ? 'csv' : format;
      return { status: 200, body: { ok: true, format: fmt, text: exportInventory(rowsOf(f.servers), fmt) } };
    } catch (err) {
      return failure(err);
    }
  });

  postRoute(RED, '/ilo-fleet/test', WRITE, ['password', 'fleetPassword'], async (f, secret): Promise<AdminReply> => {
    let cfg;
    try {
      const [row] = rowsOf([f.server]);
      const server = row!;
      let username = text(f.username) || text(f.fleetUsername);
      let password = typedSecret(f.password) ?? typedSecret(f.fleetPassword);
      if (password === undefined) {
        const fleet = deployedFleet(RED, text(f.id));
        const live = fleet?.live();
        const deployed = live?.servers.find((s) => s.id === server.id);
        if (!live || !deployed) throw new AdminError('not-found', 'password: nothing is stored for this server yet; type it (or the fleet\'s default password), or deploy first', 'password');
        if (deployed.host.toLowerCase() !== server.host.toLowerCase() || deployed.port !== server.port) {
          throw invalidInput('password', `the password typed again: the stored one is only sent to the deployed iLO ${deployed.host}:${deployed.port}`);
        }
        const stored = live.configFor(deployed);
        password = stored.password;
        username ||= stored.username;
      }
      if (!username) throw invalidInput('username', 'the iLO user name (the server\'s own, or the fleet\'s default)');
      secret(password);
      cfg = bmcConfigFromFields(
        { host: server.host, port: server.port, protocol: server.protocol, tlsMode: server.tlsMode, caFile: server.caFile, fingerprint: server.fingerprint, redfishAuth: text(f.redfishAuth) === 'basic' ? 'basic' : 'session', legacyTls: f.legacyTls === true || f.legacyTls === 'true', timeout: text(f.timeout) },
        { username, password },
        { maxTimeoutS: TEST_TIMEOUT_S, retries: 0 },
      );
    } catch (err) {
      return failure(err);
    }
    try {
      const report = await checkConnection(cfg);
      return { status: 200, body: { ok: true, ...report } };
    } catch (err) {
      const tlsRefused = err instanceof BmcError && err.code === 'connection' && /^TLS:/.test(err.message);
      const certificate = tlsRefused ? await readCertificate(cfg).catch(() => undefined) : undefined;
      return failure(err, certificate ? { certificate } : {});
    }
  });

  postRoute(RED, '/ilo-fleet/discover', WRITE, [], async (f): Promise<AdminReply> => {
    try {
      const targets = parseTargets(text(f.range), { max: MAX_DISCOVERY, field: 'range' });
      const timeoutS = f.timeout === undefined || f.timeout === '' ? 3 : Number(f.timeout);
      if (!Number.isFinite(timeoutS) || timeoutS <= 0 || timeoutS > 60) throw invalidInput('timeout', 'a number of seconds between 0 and 60', f.timeout);
      const concurrency = f.concurrency === undefined || f.concurrency === '' ? 16 : Number(f.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw invalidInput('concurrency', 'a whole number between 1 and 64', f.concurrency);
      const results = await discoverIlos(targets, { concurrency, timeoutMs: Math.round(timeoutS * 1000), legacyTls: f.legacyTls === true });
      return { status: 200, body: { ok: true, probed: targets.length, results: results.map((r) => (r.status === 'ilo' ? { ...r, name: suggestedName(r) } : r)) } };
    } catch (err) {
      return failure(err);
    }
  });

  postRoute(RED, '/ilo-fleet/ssh-host-key', WRITE, [], sshHostKeyReply);

  RED.httpAdmin.get('/ilo-fleet/:id/state', RED.auth.needsPermission(READ), (req, res) => {
    const fleet = deployedFleet(RED, String((req.params as Record<string, string>).id ?? ''));
    if (!fleet) {
      res.status(200).json({ deployed: false, passwords: [], servers: [] });
      return;
    }
    const live = fleet.live();
    res.status(200).json({
      deployed: true,
      servers: live.servers,
      passwords: live.servers.filter((s) => live.accounts.passwords.has(s.id)).map((s) => s.id),
      defaultPassword: !!live.accounts.defaultPassword,
      broken: [...live.broken].map(([row, err]) => ({ row, error: err.message })),
    });
  });
}
