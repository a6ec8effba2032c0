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
});
