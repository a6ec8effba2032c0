/** The file deploy store passes the deploy store behaviour (minus sharing: one instance owns its directory). */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FileDeployStore } from '../../lib/deploy/file-deploy-store';
import { deployStoreSuite, makeRecord } from '../helpers/deploy-store-suite';

deployStoreSuite('files', {
  async backend() {
    const dir = await mkdtemp(join(tmpdir(), 'deploy-store-'));
    return {
      instance: () => new FileDeployStore({ dir: join(dir, 'state') }),
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  },
});

describe('file deploy store on disk', () => {
  test('one owner-only JSON file per deploy; an unreadable file is reported and skipped, a half-written one removed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'deploy-store-'));
    try {
      const warnings: string[] = [];
      const store = new FileDeployStore({ dir, log: { warn: (m) => warnings.push(m) } });
      await store.open();
      const r = makeRecord('ilo-1:443');
      await store.create(r, undefined);
      await store.close();
      const file = join(dir, `${r.id}.json`);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.equal((await stat(dir)).mode & 0o777, 0o700);
      assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), r);
      await writeFile(join(dir, 'broken.json'), '{ not json');
      await writeFile(join(dir, `${r.id}.json.123.tmp`), 'half');
      const again = new FileDeployStore({ dir, log: { warn: (m) => warnings.push(m) } });
      await again.open();
      assert.deepEqual(await again.get(r.id), r);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /broken\.json/);
      assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), []);
      await again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('saves in quick succession: each resolves, the file ends with the last one, and a save waits for its state (or a newer one) to be on disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'deploy-store-'));
    try {
      const store = new FileDeployStore({ dir });
      await store.open();
      const r = makeRecord('ilo-1:443');
      await store.create(r, undefined);
      const file = join(dir, `${r.id}.json`);
      const saves = Array.from({ length: 50 }, (_, i) => store.save({ ...r, updatedAt: new Date(Date.UTC(2030, 0, 1, 0, 0, i)).toISOString(), state: i === 49 ? 'active' : 'deploying' }));
      await saves[0];
      const afterFirst = JSON.parse(await readFile(file, 'utf8')) as { updatedAt: string };
      assert.ok(afterFirst.updatedAt >= '2030-01-01T00:00:00.000Z', `the first save is on disk once it resolves (${afterFirst.updatedAt})`);
      await Promise.all(saves);
      const onDisk = JSON.parse(await readFile(file, 'utf8')) as { updatedAt: string; state: string };
      assert.deepEqual({ updatedAt: onDisk.updatedAt, state: onDisk.state }, { updatedAt: '2030-01-01T00:00:49.000Z', state: 'active' });
      assert.equal((await store.list({ states: ['active'] })).length, 1);
      assert.equal((await store.list({ states: ['deploying'] })).length, 0);
      await store.close();
      assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
