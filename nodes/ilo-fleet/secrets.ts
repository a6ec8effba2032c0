/**
 * Where a fleet keeps its servers' accounts: in the fleet node's Node-RED
 * credentials, so they are encrypted with the flows' credentials and never
 * written into the flow file.
 *
 *   username  (text)      the fleet's default iLO user
 *   password  (password)  the fleet's default iLO password
 *   usernames (text)      JSON {serverId: user} for servers with their own user
 *   secrets   (password)  JSON {serverId: password}: written by the runtime only
 *   staged    (password)  JSON {serverId: password, or "" to forget it}: written
 *                         by the editor only
 *
 * A password-type credential is never sent back to the editor (it only
 * learns that one is set), so the editor cannot send back the whole map of
 * passwords after a change. It sends what changed (`staged`); the runtime
 * folds it into `secrets` when the fleet starts, keeps only the servers the
 * fleet still has, and stores the result (Node-RED writes it to disk with
 * the next deploy; until then the stored `staged` gives the same result
 * again, as folding is idempotent).
 */

export interface FleetCredentials {
  username?: string;
  password?: string;
  usernames?: string;
  secrets?: string;
  staged?: string;
}

/** A JSON map of strings; anything else (absent, damaged) is an empty map. */
export function readMap(json: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!json) return out;
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return out;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return out;
  for (const [k, s] of Object.entries(v as Record<string, unknown>)) if (typeof s === 'string') out.set(k, s);
  return out;
}

export function writeMap(m: ReadonlyMap<string, string>): string {
  return JSON.stringify(Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

/**
 * The passwords after the editor's changes, for the servers the fleet has,
 * and whether the stored credentials must be rewritten.
 */
export function foldStaged(creds: FleetCredentials, serverIds: ReadonlySet<string>): { passwords: Map<string, string>; usernames: Map<string, string>; changed: boolean } {
  const passwords = readMap(creds.secrets);
  const staged = readMap(creds.staged);
  for (const [id, p] of staged) {
    if (p === '') passwords.delete(id);
    else passwords.set(id, p);
  }
  const usernames = readMap(creds.usernames);
  let pruned = false;
  for (const m of [passwords, usernames]) {
    for (const id of [...m.keys()]) {
      if (!serverIds.has(id) || m.get(id) === '') {
        m.delete(id);
        pruned = true;
      }
    }
  }
  return { passwords, usernames, changed: staged.size > 0 || pruned || (creds.staged !== undefined && creds.staged !== '') };
}
