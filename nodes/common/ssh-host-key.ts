/**
 * The SSH host key an iLO presents, for an editor dialog to pin (the
 * console over SSH refuses any other): only the SSH handshake is sent to
 * the host and port asked for, no credential. Used by the ilo-config and
 * ilo-fleet dialogs' "Fetch SSH host key" buttons.
 */
import { invalidInput } from '../../lib/bmc';
import { fetchHostKey } from '../../lib/console';
import { failure, text, type AdminReply } from './admin';

export async function sshHostKeyReply(f: Record<string, unknown>): Promise<AdminReply> {
  try {
    const host = text(f.host);
    if (!/^\[?[A-Za-z0-9.:%_-]+\]?$/.test(host)) throw invalidInput('host', 'a host name, IPv4 or IPv6 address of the iLO', host);
    const raw = text(f.sshPort);
    const port = raw === '' ? 22 : Number(raw);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalidInput('sshPort', 'a TCP port from 1 to 65535', raw);
    return { status: 200, body: { ok: true, hostKey: await fetchHostKey({ host: host.replace(/^\[|\]$/g, ''), port, timeoutMs: 10_000 }) } };
  } catch (err) {
    return failure(err);
  }
}
