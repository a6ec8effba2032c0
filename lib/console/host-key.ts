/**
 * The iLO's SSH host key, pinned as its TLS certificate is: by the SHA-256
 * of the key (the key blob as SSH sends it, which is what OpenSSH's
 * `SHA256:` fingerprint hashes). `fetchHostKey` reads the key without
 * logging in, for a trust-on-first-use button: the operator compares it with
 * the one the iLO shows (iLO web interface: Security > SSH Key; or
 * `ssh-keyscan <ilo> | ssh-keygen -lf -`) before pinning it.
 */
import { createHash } from 'node:crypto';
import { Client } from 'ssh2';
import { BmcError, invalidInput } from '../bmc/errors';
import { targetOf } from './config';
import { legacyAlgorithms } from './ssh-algorithms';

export interface HostKeyInfo {
  /** Key type as SSH names it, e.g. `ssh-rsa`, `ecdsa-sha2-nistp256`. */
  algorithm: string;
  /** SHA-256 as colon-separated upper-case hex (the format of the TLS pin). */
  fingerprint256: string;
  /** The same, as OpenSSH prints it: `SHA256:<base64 without padding>`. */
  openssh: string;
}

/** Reads a pin in either format; throws naming `sshHostKey` otherwise. */
export function parseHostKeyFingerprint(text: string): Buffer {
  const t = text.trim();
  const b64 = /^SHA256:([A-Za-z0-9+/]{43})=?$/.exec(t);
  if (b64) return Buffer.from(b64[1] as string, 'base64');
  const hex = t.replace(/[\s:]/g, '');
  if (/^[0-9A-Fa-f]{64}$/.test(hex)) return Buffer.from(hex, 'hex');
  throw invalidInput('sshHostKey', 'a SHA-256 fingerprint: 64 hex digits (colons allowed) or SHA256:<base64> as ssh-keygen -l prints it', text);
}

export function hostKeyInfo(keyBlob: Buffer): HostKeyInfo {
  const digest = createHash('sha256').update(keyBlob).digest();
  return {
    algorithm: keyAlgorithm(keyBlob),
    fingerprint256: formatHex(digest),
    openssh: `SHA256:${digest.toString('base64').replace(/=+$/, '')}`,
  };
}

export function formatHex(digest: Buffer): string {
  return [...digest].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

/** The key type: the first SSH string of the blob. */
function keyAlgorithm(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return len > 0 && len < 64 && blob.length >= 4 + len ? blob.subarray(4, 4 + len).toString('latin1') : 'unknown';
}

/**
 * Connect, read the host key, and hang up before authenticating (no
 * credential is sent). Fails with `connection` / `timeout` when no SSH
 * server answers.
 */
export async function fetchHostKey(o: { host: string; port?: number; timeoutMs?: number }): Promise<HostKeyInfo> {
  const port = o.port ?? 22;
  const target = targetOf(o.host, port);
  return new Promise<HostKeyInfo>((resolve, reject) => {
    const client = new Client();
    let seen: HostKeyInfo | undefined;
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      client.removeAllListeners('error');
      client.on('error', () => undefined);
      client.end();
      if (seen) resolve(seen);
      else reject(err ?? new BmcError('connection', `SSH ${target}: the connection ended before the server sent its host key`, { target }));
    };
    const timer = setTimeout(() => finish(new BmcError('timeout', `SSH ${target}: no host key within ${o.timeoutMs ?? 10_000} ms`, { target })), o.timeoutMs ?? 10_000);
    client.on('error', (err: Error) => finish(seen ? undefined : sshError(err, target)));
    client.on('close', () => finish());
    client.connect({
      host: o.host,
      port,
      username: 'host-key-probe',
      readyTimeout: o.timeoutMs ?? 10_000,
      algorithms: legacyAlgorithms(),
      hostVerifier: (key: Buffer) => {
        seen = hostKeyInfo(key);
        // Refusing the key ends the handshake here: nothing is authenticated.
        setImmediate(() => finish());
        return false;
      },
    });
  });
}

/** An ssh2 error as a typed one (never carrying a credential: ssh2's messages hold none). */
export function sshError(err: Error, target: string): BmcError {
  const level = (err as Error & { level?: string }).level;
  const m = err.message;
  if (level === 'client-authentication') return new BmcError('login', `SSH ${target}: the iLO refused the user name or password`, { target, iloMessage: m });
  if (/ECONNREFUSED/.test(m)) return new BmcError('connection', `SSH ${target}: connection refused (is "Secure Shell (SSH) Access" enabled on the iLO, and the SSH port right?)`, { target, iloMessage: m });
  if (/timed out|ETIMEDOUT/i.test(m)) return new BmcError('timeout', `SSH ${target}: ${m}`, { target, iloMessage: m });
  if (level === 'client-timeout') return new BmcError('timeout', `SSH ${target}: no answer in time`, { target, iloMessage: m });
  return new BmcError('connection', `SSH ${target}: ${m}`, { target, iloMessage: m });
}
