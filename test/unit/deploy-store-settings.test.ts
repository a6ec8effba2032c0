/** settings.js `iloDeployStore`: files by default, PostgreSQL when asked, the password only from the environment. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileDeployStore } from '../../lib/deploy/file-deploy-store';
import { PgDeployStore } from '../../lib/deploy/pg-deploy-store';
import { createDeployStore, describeDeployStore, parseDeployStoreSettings } from '../../lib/deploy/store-settings';

test('no setting, or type files: the file store, nothing to install', () => {
  assert.deepEqual(parseDeployStoreSettings(undefined), { type: 'files' });
  assert.deepEqual(parseDeployStoreSettings({ type: 'files' }), { type: 'files' });
  const dir = mkdtempSync(join(tmpdir(), 'store-settings-'));
  try {
    assert.ok(createDeployStore({ type: 'files' }, { dir }) instanceof FileDeployStore);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('postgres: host, port, database, user; the password from the variable passwordEnv names; defaults for schema and lease', async () => {
  const s = parseDeployStoreSettings({ type: 'postgres', host: 'db.example.net', port: '5433', database: 'ilo', user: 'nodered', passwordEnv: 'ILO_DB_PW' }, { ILO_DB_PW: 's3cret-pw' });
  assert.deepEqual(s, {
    type: 'postgres',
    connection: { host: 'db.example.net', port: 5433, database: 'ilo', user: 'nodered', password: 's3cret-pw', ssl: undefined },
    schema: 'ilo_deploy',
    leaseMs: 30_000,
    instanceName: undefined,
    maxConnections: undefined,
  });
  const line = describeDeployStore(s, '/x');
  assert.equal(line, 'PostgreSQL nodered@db.example.net:5433/ilo, schema ilo_deploy, lease 30 s');
  const store = createDeployStore(s, { dir: '/x' });
  assert.ok(store instanceof PgDeployStore);
  assert.equal(store.leaseMs, 30_000);
  await store.close();
});

test('a connection string without a password, TLS always verified, lease and schema chosen', () => {
  const s = parseDeployStoreSettings({ type: 'postgres', connectionString: 'postgres://nodered@db:5432/ilo', tls: true, leaseSeconds: 10, schema: 'fleet_a', instanceName: 'nr-1' }, {});
  assert.equal(s.type, 'postgres');
  if (s.type !== 'postgres') return;
  assert.deepEqual(s.connection, { connectionString: 'postgres://nodered@db:5432/ilo', ssl: { rejectUnauthorized: true } });
  assert.equal(s.leaseMs, 10_000);
  assert.equal(s.schema, 'fleet_a');
  assert.equal(s.instanceName, 'nr-1');
  assert.match(describeDeployStore(s, '/x'), /TLS verified/);
});

test('bad settings are refused naming the field and what was expected, never echoing a password', () => {
  const cases: Array<[unknown, NodeJS.ProcessEnv, RegExp]> = [
    ['postgres', {}, /^iloDeployStore: expected an object/],
    [{ type: 'mysql' }, {}, /^iloDeployStore\.type: expected "files" \(the default\) or "postgres"/],
    [{ type: 'postgres' }, {}, /^iloDeployStore\.host: expected the database host/],
    [{ type: 'postgres', host: 'db', password: 'hunter2-pw' }, {}, /^iloDeployStore\.password: expected no password in settings\.js/],
    [{ type: 'postgres', connectionString: 'postgres://u:hunter2-pw@db/ilo' }, {}, /^iloDeployStore\.connectionString: expected a URL without a password/],
    [{ type: 'postgres', host: 'db', passwordEnv: 'NOPE' }, {}, /^iloDeployStore\.passwordEnv: expected the name of a set environment variable \(NOPE is not set/],
    [{ type: 'postgres', host: 'db', port: 70000 }, {}, /^iloDeployStore\.port: expected a whole number from 1 to 65535/],
    [{ type: 'postgres', host: 'db', leaseSeconds: 1 }, {}, /^iloDeployStore\.leaseSeconds: expected a whole number from 3 to 3600/],
    [{ type: 'postgres', host: 'db', schema: 'Robert"; DROP' }, {}, /^iloDeployStore\.schema: expected lower-case letters/],
    [{ type: 'postgres', host: 'db', tls: { caFile: '/nonexistent/ca.pem' } }, {}, /^iloDeployStore\.tls\.caFile: expected a readable PEM file \(ENOENT\)/],
    [{ type: 'postgres', host: 'db', pasword: 'x' }, {}, /^iloDeployStore\.pasword: expected one of the known settings/],
  ];
  for (const [raw, env, re] of cases) {
    assert.throws(
      () => parseDeployStoreSettings(raw, env),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'invalid-input');
        assert.match(err.message, re);
        assert.ok(!err.message.includes('hunter2-pw'), err.message);
        return true;
      },
      JSON.stringify(raw),
    );
  }
});
