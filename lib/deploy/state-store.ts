/**
 * Deploy records on disk, one JSON file per deploy, written atomically
 * (temp file + rename) with owner-only permissions: they hold the ramdisk
 * tokens of deploys in flight.
 */
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeployRecord } from './types';

const SAFE_ID = /^[A-Za-z0-9-]{1,64}$/;

export class DeployStateStore {
  private writes = new Map<string, Promise<void>>();

  constructor(readonly dir: string) {}

  private file(id: string): string {
    if (!SAFE_ID.test(id)) throw new Error(`invalid deploy id ${JSON.stringify(id)}`);
    return join(this.dir, `${id}.json`);
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  /** Saves are serialised per record, so a slow write never lands after a newer one. */
  save(record: DeployRecord): Promise<void> {
    const id = record.id;
    const body = JSON.stringify(record, null, 1);
    const prev = this.writes.get(id) ?? Promise.resolve();
    const next = prev.then(async () => {
      const target = this.file(id);
      const tmp = `${target}.${process.pid}.tmp`;
      await writeFile(tmp, body, { mode: 0o600 });
      await rename(tmp, target);
    });
    const tracked = next.finally(() => {
      if (this.writes.get(id) === tracked) this.writes.delete(id);
    });
    this.writes.set(id, tracked);
    return next;
  }

  async remove(id: string): Promise<void> {
    await (this.writes.get(id) ?? Promise.resolve()).catch(() => undefined);
    await rm(this.file(id), { force: true });
  }

  /** Every readable record; unreadable files are reported, not fatal. */
  async loadAll(): Promise<{ records: DeployRecord[]; errors: string[] }> {
    const records: DeployRecord[] = [];
    const errors: string[] = [];
    let names: string[] = [];
    try {
      names = await readdir(this.dir);
    } catch {
      return { records, errors };
    }
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      try {
        const r = JSON.parse(await readFile(join(this.dir, name), 'utf8')) as DeployRecord;
        if (r && typeof r.id === 'string' && SAFE_ID.test(r.id)) records.push(r);
        else errors.push(`${name}: not a deploy record`);
      } catch (err) {
        errors.push(`${name}: ${(err as Error).message}`);
      }
    }
    return { records, errors };
  }

  /** Wait for pending writes (for shutdown and tests). */
  async flush(): Promise<void> {
    await Promise.all([...this.writes.values()].map((p) => p.catch(() => undefined)));
  }
}
