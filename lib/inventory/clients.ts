/**
 * One iLO client per server, shared by everything that uses that server:
 * every node bound to the same ilo-config, and every node reaching the same
 * fleet row, and an ilo-config and a fleet row that describe the same iLO
 * the same way (address, account, protocol, TLS trust, timeouts). iLOs
 * allow few sessions; sharing keeps one per server.
 *
 * A holder takes a lease, asks it for the client when it needs one (made on
 * first use; a failed creation is retried on the next use), and releases it
 * when it goes away. The client is closed (a Redfish session logged out)
 * when its last lease is released.
 */
import { createHash } from 'node:crypto';
import { createBmc, type BmcConfig } from '../bmc/connect';
import { normaliseFingerprint } from '../bmc/endpoint';
import { BmcError } from '../bmc/errors';
import type { Bmc } from '../bmc/types';

export interface BmcLease {
  /** The shared client (created on first call). Rejects after release. */
  bmc(): Promise<Bmc>;
  /** Gives the lease back; resolves when a client no longer used by anyone is closed. */
  release(): Promise<void>;
}

interface Entry {
  refs: number;
  client?: Promise<Bmc>;
}

/** What makes two configurations the same client (the logger does not). */
export function clientKey(c: BmcConfig): string {
  const tls = c.tls ?? { mode: 'verify' as const };
  let fingerprint = tls.fingerprint ?? '';
  try {
    if (fingerprint) fingerprint = normaliseFingerprint(fingerprint);
  } catch {
    // Left as written: createBmc reports it.
  }
  const material = JSON.stringify([
    String(c.host).trim().toLowerCase().replace(/^\[|\]$/g, ''),
    c.port ?? 443,
    c.username,
    c.password,
    c.protocol ?? 'auto',
    c.redfishAuth ?? 'session',
    tls.mode,
    tls.ca ?? '',
    tls.caFile ?? '',
    fingerprint,
    tls.servername ?? '',
    !!tls.legacy,
    c.connectTimeoutMs ?? null,
    c.requestTimeoutMs ?? null,
    c.retries ?? null,
    c.maxConnections ?? null,
  ]);
  // Hashed so the map's keys hold no password.
  return createHash('sha256').update(material).digest('hex');
}

export class BmcClientPool {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly create: (c: BmcConfig) => Promise<Bmc> = createBmc) {}

  /** A lease on the client for `config`; `label` names the holder in the error after release. */
  lease(config: BmcConfig, label: string): BmcLease {
    const key = clientKey(config);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { refs: 0 };
      this.entries.set(key, entry);
    }
    entry.refs++;
    const held = entry;
    let released = false;
    return {
      bmc: (): Promise<Bmc> => {
        if (released) return Promise.reject(new BmcError('connection', `iLO configuration "${label}" is being redeployed`));
        held.client ??= Promise.resolve()
          .then(() => this.create(config))
          .catch((err: unknown) => {
            held.client = undefined; // a bad config is reported on every use until fixed
            throw err;
          });
        return held.client;
      },
      release: async (): Promise<void> => {
        if (released) return;
        released = true;
        held.refs--;
        if (held.refs > 0) return;
        if (this.entries.get(key) === held) this.entries.delete(key);
        const pending = held.client;
        held.client = undefined;
        if (pending) await pending.then((b) => b.close()).catch(() => undefined);
      },
    };
  }

  /** How many distinct clients are leased (for tests and status). */
  get size(): number {
    return this.entries.size;
  }
}

/** The process-wide pool every node uses. */
export const sharedBmcClients = new BmcClientPool();
