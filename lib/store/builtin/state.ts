/**
 * The built-in store's state directory, which outlives the process:
 *
 *   lock            pid of the process using it (one store per directory)
 *   secret          32 random bytes, created once (mode 0600)
 *   manifest.json   the published objects, HMAC-SHA256-signed with the secret
 *   objects/<id>    one file per object; <id> is random, never from a name
 *   objects/<id>.part  an upload in progress
 *   port            the port an automatic-port store listened on last (its URLs name it)
 *
 * On open, an object is served again only if the manifest's signature holds,
 * its record has not expired, and its file is the same regular file (inode,
 * size, mtime) that was recorded. Everything else in objects/ is deleted.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, readFile, readdir, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError } from '../errors';
import { checkObjectName } from '../names';
import type { StoreLogger } from '../types';

export interface ObjectRecord {
  name: string;
  /** The URL's secret path segment (base64url of 32 random bytes). */
  token: string;
  /** File id under objects/ (32 hex digits). */
  file: string;
  size: number;
  contentType: string;
  createdAt: number;
  /** null: served until unpublished. */
  expiresAt: number | null;
  ino: number;
  mtimeMs: number;
}

interface ManifestFile {
  version: 1;
  records: ObjectRecord[];
  mac: string;
}

export const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;
const FILE_RE = /^[0-9a-f]{32}$/;
const heldInThisProcess = new Set<string>();

export class StateDir {
  private constructor(
    readonly dir: string,
    private readonly secret: Buffer,
  ) {}

  /** Locks the directory, then loads the records still worth serving and deletes the rest. */
  static async open(dir: string, now: number, logger?: StoreLogger): Promise<{ state: StateDir; records: ObjectRecord[] }> {
    await mkdir(join(dir, 'objects'), { recursive: true, mode: 0o700 });
    const real = await realpath(dir);
    await takeLock(real);
    try {
      const secret = await loadSecret(real);
      const state = new StateDir(real, secret);
      const records = await state.recover(now, logger);
      return { state, records };
    } catch (err) {
      await releaseLock(real);
      throw err;
    }
  }

  objectPath(file: string): string {
    return join(this.dir, 'objects', file);
  }

  partPath(file: string): string {
    return join(this.dir, 'objects', `${file}.part`);
  }

  newFileId(): string {
    return randomBytes(16).toString('hex');
  }

  async save(records: ObjectRecord[]): Promise<void> {
    const doc: ManifestFile = { version: 1, records, mac: this.mac(records) };
    const tmp = join(this.dir, `manifest.json.${randomBytes(4).toString('hex')}.tmp`);
    await writeFile(tmp, JSON.stringify(doc), { mode: 0o600 });
    await rename(tmp, join(this.dir, 'manifest.json'));
  }

  /** The port an automatic-port store listened on last time: the URLs it handed out (inserted in iLOs) name it. */
  async lastPort(): Promise<number | undefined> {
    const n = Number((await readFile(join(this.dir, 'port'), 'utf8').catch(() => '')).trim());
    return Number.isInteger(n) && n > 0 && n <= 65535 ? n : undefined;
  }

  async rememberPort(port: number): Promise<void> {
    await writeFile(join(this.dir, 'port'), `${port}\n`, { mode: 0o600 });
  }

  async release(): Promise<void> {
    await releaseLock(this.dir);
  }

  private mac(records: ObjectRecord[]): string {
    return createHmac('sha256', this.secret).update(JSON.stringify(records)).digest('hex');
  }

  private async recover(now: number, logger?: StoreLogger): Promise<ObjectRecord[]> {
    const kept: ObjectRecord[] = [];
    const candidates = await this.readManifest(logger);
    for (const r of candidates) {
      if (!wellFormed(r) || expired(r, now) || kept.some((k) => k.name === r.name || k.token === r.token || k.file === r.file)) continue;
      try {
        const st = await lstat(this.objectPath(r.file));
        if (st.isFile() && st.size === r.size && st.ino === r.ino && st.mtimeMs === r.mtimeMs) kept.push(r);
        else logger?.warn(`media store: not serving "${r.name}" again: its file changed while the store was stopped`);
      } catch {
        // file gone: drop the record
      }
    }
    const keep = new Set(kept.map((r) => r.file));
    for (const entry of await readdir(join(this.dir, 'objects'))) {
      if (!keep.has(entry)) await rm(join(this.dir, 'objects', entry), { recursive: true, force: true });
    }
    for (const entry of await readdir(this.dir)) {
      if (/^manifest\.json\.[0-9a-f]+\.tmp$/.test(entry)) await rm(join(this.dir, entry), { force: true }); // a save cut short
    }
    await this.save(kept);
    return kept;
  }

  private async readManifest(logger?: StoreLogger): Promise<ObjectRecord[]> {
    let text: string;
    try {
      text = await readFile(join(this.dir, 'manifest.json'), 'utf8');
    } catch {
      return [];
    }
    try {
      const doc = JSON.parse(text) as Partial<ManifestFile>;
      if (doc.version !== 1 || !Array.isArray(doc.records) || typeof doc.mac !== 'string') throw new Error('unknown format');
      const want = Buffer.from(this.mac(doc.records), 'hex');
      const got = Buffer.from(doc.mac, 'hex');
      if (got.length !== want.length || !timingSafeEqual(got, want)) throw new Error('signature does not match');
      return doc.records;
    } catch (err) {
      logger?.warn(`media store: ignoring ${join(this.dir, 'manifest.json')} (${(err as Error).message}); nothing published before is served`);
      return [];
    }
  }
}

function wellFormed(r: unknown): r is ObjectRecord {
  const o = r as Partial<ObjectRecord>;
  return (
    typeof o === 'object' &&
    o !== null &&
    validName(o.name) &&
    typeof o.token === 'string' &&
    TOKEN_RE.test(o.token) &&
    typeof o.file === 'string' &&
    FILE_RE.test(o.file) &&
    Number.isSafeInteger(o.size) &&
    typeof o.contentType === 'string' &&
    (o.expiresAt === null || Number.isFinite(o.expiresAt)) &&
    Number.isFinite(o.createdAt) &&
    Number.isFinite(o.ino) &&
    Number.isFinite(o.mtimeMs)
  );
}

/** Past its expiry (never, for an object published until unpublished). */
export function expired(r: Pick<ObjectRecord, 'expiresAt'>, now: number): boolean {
  return r.expiresAt !== null && r.expiresAt <= now;
}

function validName(name: unknown): boolean {
  try {
    checkObjectName(name);
    return true;
  } catch {
    return false;
  }
}

async function loadSecret(dir: string): Promise<Buffer> {
  const file = join(dir, 'secret');
  try {
    const s = await readFile(file);
    if (s.length === 32) return s;
  } catch {
    // first use
  }
  const s = randomBytes(32);
  await writeFile(file, s, { mode: 0o600 });
  await chmod(file, 0o600);
  return s;
}

async function takeLock(dir: string): Promise<void> {
  if (heldInThisProcess.has(dir)) {
    throw new StoreError('in-use', `stateDir ${dir} is already used by another media store in this process`, { field: 'stateDir' });
  }
  const file = join(dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      heldInThisProcess.add(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new StoreError('in-use', `stateDir ${dir} is used by another running process (pid ${pid})`, { field: 'stateDir' });
      }
      await rm(file, { force: true }); // left by a process that is gone
    }
  }
  throw new StoreError('in-use', `could not lock stateDir ${dir}`, { field: 'stateDir' });
}

async function releaseLock(dir: string): Promise<void> {
  if (!heldInThisProcess.delete(dir)) return;
  await rm(join(dir, 'lock'), { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
