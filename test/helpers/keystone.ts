/**
 * A throwaway Keystone v3 (Debian `keystone`, sqlite in WAL mode, fernet
 * tokens, served by uwsgi --http) on a free 127.0.0.1 port, with its
 * registration done through the REST API (faster than the openstack CLI). `stop()` kills it and removes its directory.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { answers200, reservePort, startDaemon, stopDaemon, waitUntil, type Daemon } from './daemons';

const run = promisify(execFile);

export const KEYSTONE_TOOLS = ['keystone-manage', 'uwsgi'];

export interface Keystone {
  /** http://127.0.0.1:P/v3 */
  url: string;
  adminPassword: string;
  /** A project-scoped admin token, for registration calls. */
  adminToken(): Promise<string>;
  /** POST/PUT/GET on the v3 API with the admin token; returns the JSON answer. */
  api<T = Record<string, unknown>>(method: string, path: string, body?: unknown, token?: string): Promise<T>;
  createProject(name: string): Promise<string>;
  /** Creates a user with `role` on `projectId`; returns the user id. */
  createUser(name: string, password: string, projectId: string, role: string): Promise<string>;
  /** Registers a service and its public and internal endpoints. */
  registerService(type: string, name: string, url: string): Promise<void>;
  /** A password-scoped token of any user. */
  tokenFor(username: string, password: string, projectName: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startKeystone(): Promise<Keystone> {
  const dir = await mkdtemp(join(tmpdir(), 'ilo-keystone-'));
  const daemons: Daemon[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(daemons.map((d) => stopDaemon(d)));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const d of ['log', 'fernet', 'cred']) await mkdir(join(dir, d), { recursive: true });
    // Held until uwsgi starts: the catalog written by bootstrap names it, and setting up takes seconds.
    const reserved = await reservePort();
    const port = reserved.port;
    const url = `http://127.0.0.1:${port}/v3`;
    const conf = join(dir, 'keystone.conf');
    await writeFile(
      conf,
      `[DEFAULT]
log_dir = ${dir}/log
log_file = keystone.log
[database]
connection = sqlite:///${dir}/keystone.db
[token]
provider = fernet
[fernet_tokens]
key_repository = ${dir}/fernet
[fernet_receipts]
key_repository = ${dir}/fernet
[credential]
key_repository = ${dir}/cred
`,
    );
    const manage = (...args: string[]): Promise<unknown> => run('keystone-manage', ['--config-file', conf, ...args], { timeout: 120_000 });
    await manage('db_sync');
    await manage('fernet_setup', '--keystone-user', 'root', '--keystone-group', 'root');
    await manage('credential_setup', '--keystone-user', 'root', '--keystone-group', 'root');
    const adminPassword = `admin-${Math.random().toString(36).slice(2)}`;
    await manage(
      'bootstrap',
      '--bootstrap-password',
      adminPassword,
      '--bootstrap-admin-url',
      `${url}/`,
      '--bootstrap-public-url',
      `${url}/`,
      '--bootstrap-internal-url',
      `${url}/`,
      '--bootstrap-region-id',
      'RegionOne',
    );
    // Without WAL, concurrent requests fail with "database is locked".
    await run('/usr/bin/python3', ['-c', `import sqlite3; sqlite3.connect(${JSON.stringify(join(dir, 'keystone.db'))}).execute('PRAGMA journal_mode=WAL')`]);
    await reserved.release();
    daemons.push(
      startDaemon(
        'keystone (uwsgi)',
        'uwsgi',
        ['--plugins', 'http,python3', '--http', `127.0.0.1:${port}`, '--http-keepalive', '--wsgi-file', '/usr/bin/keystone-wsgi-public', '--master', '--processes', '1', '--threads', '1', '--die-on-term', '--env', `OS_KEYSTONE_CONFIG_FILES=${conf}`],
        join(dir, 'log', 'uwsgi.log'),
      ),
    );
    await waitUntil('Keystone', () => answers200(url), 60_000, daemons);

    const tokenFor = async (username: string, password: string, projectName: string): Promise<string> => {
      const res = await fetch(`${url}/auth/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          auth: {
            identity: { methods: ['password'], password: { user: { name: username, domain: { id: 'default' }, password } } },
            scope: { project: { name: projectName, domain: { id: 'default' } } },
          },
        }),
      });
      await res.arrayBuffer();
      const token = res.headers.get('x-subject-token');
      if (res.status !== 201 || !token) throw new Error(`keystone login as ${username} answered ${res.status}`);
      return token;
    };
    let admin: string | undefined;
    const adminToken = async (): Promise<string> => (admin ??= await tokenFor('admin', adminPassword, 'admin'));
    const api = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown, token?: string): Promise<T> => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { 'x-auth-token': token ?? (await adminToken()), ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`keystone ${method} ${path} answered ${res.status}: ${text.slice(0, 200)}`);
      return (text ? JSON.parse(text) : {}) as T;
    };
    const roleId = async (name: string): Promise<string> => {
      const { roles } = await api<{ roles: Array<{ id: string }> }>('GET', `/roles?name=${encodeURIComponent(name)}`);
      const id = roles[0]?.id;
      if (!id) throw new Error(`keystone has no role ${name}`);
      return id;
    };
    return {
      url,
      adminPassword,
      adminToken,
      api,
      tokenFor,
      async createProject(name) {
        const { project } = await api<{ project: { id: string } }>('POST', '/projects', { project: { name, domain_id: 'default' } });
        return project.id;
      },
      async createUser(name, password, projectId, role) {
        const { user } = await api<{ user: { id: string } }>('POST', '/users', { user: { name, password, domain_id: 'default', default_project_id: projectId } });
        await api('PUT', `/projects/${projectId}/users/${user.id}/roles/${await roleId(role)}`);
        return user.id;
      },
      async registerService(type, name, serviceUrl) {
        const { service } = await api<{ service: { id: string } }>('POST', '/services', { service: { type, name } });
        for (const iface of ['public', 'internal']) {
          await api('POST', '/endpoints', { endpoint: { service_id: service.id, interface: iface, url: serviceUrl, region_id: 'RegionOne' } });
        }
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
