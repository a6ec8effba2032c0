/**
 * A read scope for one step of work against a Redfish iLO: each resource
 * is fetched at most once in the scope (callers asking for the same one at
 * the same time share the request), and any write through the scope
 * forgets everything read, so nothing stale is served after a change.
 * Collections come with their members in one request where the iLO
 * supports `$expand=.` (iLO 5), member by member where it ignores it.
 *
 * A scope is meant to be short-lived (one deploy step, one inspection):
 * it never notices changes made by anyone else.
 */
import type { JsonObject, RedfishClient } from './client';

/** What a scope needs of a client (RedfishClient has it). */
export type RedfishCalls = Pick<RedfishClient, 'get' | 'post' | 'patch'>;

/** The same resource whatever the case or trailing slash (iLO 5 redirects /x to /x/). */
function keyOf(path: string): string {
  const q = path.indexOf('?');
  const base = (q < 0 ? path : path.slice(0, q)).toLowerCase();
  return `${base.endsWith('/') ? base : `${base}/`}${q < 0 ? '' : path.slice(q)}`;
}

export class RedfishReadScope {
  private readonly reads = new Map<string, Promise<JsonObject>>();
  /** GET requests this scope sent (a repeat served from the scope is not one). */
  requests = 0;

  constructor(private readonly client: RedfishCalls) {}

  get(path: string, what?: string): Promise<JsonObject> {
    const key = keyOf(path);
    let read = this.reads.get(key);
    if (!read) {
      this.requests++;
      read = this.client.get(path, what);
      this.reads.set(key, read);
      // A failed read is not remembered: the next caller asks again.
      read.catch(() => {
        if (this.reads.get(key) === read) this.reads.delete(key);
      });
    }
    return read;
  }

  /**
   * The members of a collection, each a full resource: one request with
   * `$expand=.`, then one per member the iLO did not expand (each read
   * once in the scope, all at the same time).
   */
  async members(collection: string, what?: string): Promise<JsonObject[]> {
    const sep = collection.includes('?') ? '&' : '?';
    const doc = await this.get(`${collection}${sep}$expand=.`, what);
    const list = Array.isArray(doc.Members) ? (doc.Members as unknown[]) : [];
    return Promise.all(
      list.map((m) => {
        const member = (m && typeof m === 'object' ? m : {}) as JsonObject;
        const id = member['@odata.id'];
        const expanded = Object.keys(member).some((k) => k !== '@odata.id');
        return !expanded && typeof id === 'string' ? this.get(id, what) : Promise.resolve(member);
      }),
    );
  }

  /** Forget every read (the next get asks the iLO again). */
  forget(): void {
    this.reads.clear();
  }

  async post(path: string, body: JsonObject, what: string, idempotent = false): Promise<JsonObject> {
    try {
      return await this.client.post(path, body, what, idempotent);
    } finally {
      this.forget();
    }
  }

  async patch(path: string, body: JsonObject, what: string): Promise<JsonObject> {
    try {
      return await this.client.patch(path, body, what);
    } finally {
      this.forget();
    }
  }
}
