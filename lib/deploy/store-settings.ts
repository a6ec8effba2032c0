/**
 * Which DeployStore an instance uses, from Node-RED's settings.js
 * (`iloDeployStore`): the files of the embedded default, or PostgreSQL shared
 * by several instances. The database password never comes from settings.js
 * or a flow: from the environment variable named by `passwordEnv`, else
 * node-postgres's own PGPASSWORD or ~/.pgpass.
 *
 *   iloDeployStore: {
 *     type: 'postgres',
 *     host: 'db.example.net', port: 5432, database: 'ilo', user: 'nodered',
 *     // or: connectionString: 'postgres://nodered@db.example.net:5432/ilo' (no password in it)
 *     passwordEnv: 'ILO_DEPLOY_DB_PASSWORD',
 *     tls: true,                 // or { caFile: '/etc/ssl/db-ca.pem', servername: 'db.example.net' }; always verified
 *     schema: 'ilo_deploy',      // instances sharing a fleet use the same one
 *     leaseSeconds: 30,          // takeover after a dead instance's last renewal
 *     instanceName: 'nr-east-1', // how leases and logs name this instance
 *   }
 */
import { readFileSync } from 'node:fs';
import type { ClientConfig } from 'pg';
import type { DeployStore } from './deploy-store';
import { badInput } from './errors';
import { FileDeployStore } from './file-deploy-store';
import { PgDeployStore } from './pg-deploy-store';
import { SCHEMA_NAME } from './pg/migrations';

export type DeployStoreSettings =
  | { type: 'files' }
  | {
      type: 'postgres';
      connection: ClientConfig;
      schema: string;
      leaseMs: number;
      instanceName?: string;
      maxConnections?: number;
    };

const FIELD = 'iloDeployStore';
const KNOWN = new Set(['type', 'connectionString', 'host', 'port', 'database', 'user', 'passwordEnv', 'password', 'tls', 'schema', 'leaseSeconds', 'instanceName', 'maxConnections']);

/** settings.js `iloDeployStore` checked; every problem names the field and what was expected. */
export function parseDeployStoreSettings(raw: unknown, env: NodeJS.ProcessEnv = process.env): DeployStoreSettings {
  if (raw === undefined || raw === null) return { type: 'files' };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw badInput(FIELD, "an object such as { type: 'postgres', host, database, user, passwordEnv }", raw);
  const o = raw as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !KNOWN.has(k));
  if (unknown.length) throw badInput(`${FIELD}.${unknown[0]}`, `one of the known settings (${[...KNOWN].filter((k) => k !== 'password').join(', ')})`, '(unknown setting)');
  const type = o.type ?? 'files';
  if (type === 'files') return { type: 'files' };
  if (type !== 'postgres') throw badInput(`${FIELD}.type`, '"files" (the default) or "postgres"', type);
  if (o.password !== undefined) {
    throw badInput(`${FIELD}.password`, 'no password in settings.js: set passwordEnv to the name of an environment variable holding it (or use PGPASSWORD / ~/.pgpass)', '(a password)');
  }
  const connection: ClientConfig = {};
  if (o.connectionString !== undefined) {
    const cs = text(o.connectionString, 'connectionString', 'a postgres:// URL');
    let url: URL;
    try {
      url = new URL(cs);
    } catch {
      throw badInput(`${FIELD}.connectionString`, 'a postgres:// URL', '(not a URL)');
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw badInput(`${FIELD}.connectionString`, 'a postgres:// URL', url.protocol);
    if (url.password) throw badInput(`${FIELD}.connectionString`, 'a URL without a password (set passwordEnv instead)', '(a URL with a password)');
    if (url.search) throw badInput(`${FIELD}.connectionString`, 'a URL without query parameters (TLS is set by `tls`)', url.search);
    connection.connectionString = cs;
  }
  if (o.host !== undefined) connection.host = text(o.host, 'host', 'the database host name or address');
  if (o.port !== undefined) connection.port = whole(o.port, 'port', 1, 65535);
  if (o.database !== undefined) connection.database = text(o.database, 'database', 'the database name');
  if (o.user !== undefined) connection.user = text(o.user, 'user', 'the database user name');
  if (!connection.connectionString && !connection.host) throw badInput(`${FIELD}.host`, 'the database host (or a connectionString)');
  if (o.passwordEnv !== undefined) {
    const name = text(o.passwordEnv, 'passwordEnv', 'the name of an environment variable');
    const value = env[name];
    if (value === undefined || value === '') throw badInput(`${FIELD}.passwordEnv`, `the name of a set environment variable (${name} is not set in Node-RED's environment)`, name);
    connection.password = value;
  }
  connection.ssl = tlsOf(o.tls);
  const schema = o.schema === undefined ? 'ilo_deploy' : text(o.schema, 'schema', 'a schema name');
  if (!SCHEMA_NAME.test(schema)) throw badInput(`${FIELD}.schema`, 'lower-case letters, digits and underscores (at most 48, not starting with a digit)', schema);
  return {
    type: 'postgres',
    connection,
    schema,
    leaseMs: (o.leaseSeconds === undefined ? 30 : whole(o.leaseSeconds, 'leaseSeconds', 3, 3600)) * 1000,
    instanceName: o.instanceName === undefined ? undefined : text(o.instanceName, 'instanceName', 'a name for this instance'),
    maxConnections: o.maxConnections === undefined ? undefined : whole(o.maxConnections, 'maxConnections', 2, 100),
  };
}

/** The store the settings choose; files live in `dir`. */
export function createDeployStore(settings: DeployStoreSettings, o: { dir: string; log?: { info?(m: string): void; warn(m: string): void } }): DeployStore {
  if (settings.type === 'files') return new FileDeployStore({ dir: o.dir, log: o.log });
  return new PgDeployStore({ ...settings, log: o.log });
}

/** A one-line description for the start-up log (no password). */
export function describeDeployStore(settings: DeployStoreSettings, dir: string): string {
  if (settings.type === 'files') return `files in ${dir} (this instance only)`;
  const c = settings.connection;
  const where = c.connectionString ? redactUrl(c.connectionString) : `${c.user ?? '(default user)'}@${c.host}:${c.port ?? 5432}/${c.database ?? '(default database)'}`;
  return `PostgreSQL ${where}, schema ${settings.schema}, lease ${settings.leaseMs / 1000} s${c.ssl ? ', TLS verified' : ''}`;
}

function tlsOf(v: unknown): ClientConfig['ssl'] {
  if (v === undefined || v === false) return undefined;
  if (v === true) return { rejectUnauthorized: true };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badInput(`${FIELD}.tls`, 'true, false, or { caFile, servername }', v);
  const t = v as Record<string, unknown>;
  const out: { rejectUnauthorized: true; ca?: string; servername?: string } = { rejectUnauthorized: true };
  if (t.caFile !== undefined) {
    const file = text(t.caFile, 'tls.caFile', 'the path of a PEM CA certificate');
    try {
      out.ca = readFileSync(file, 'utf8');
    } catch (err) {
      throw badInput(`${FIELD}.tls.caFile`, `a readable PEM file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`, file);
    }
    if (!out.ca.includes('-----BEGIN CERTIFICATE-----')) throw badInput(`${FIELD}.tls.caFile`, 'PEM text with a BEGIN CERTIFICATE block', file);
  }
  if (t.servername !== undefined) out.servername = text(t.servername, 'tls.servername', 'the name in the database certificate');
  return out;
}

function text(v: unknown, field: string, what: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw badInput(`${FIELD}.${field}`, what, v);
  return v.trim();
}

function whole(v: unknown, field: string, min: number, max: number): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw badInput(`${FIELD}.${field}`, `a whole number from ${min} to ${max}`, v);
  return n;
}

function redactUrl(u: string): string {
  try {
    const url = new URL(u);
    url.password = '';
    return url.toString();
  } catch {
    return '(connection string)';
  }
}
