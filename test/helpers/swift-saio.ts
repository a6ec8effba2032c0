/**
 * A throwaway Swift all-in-one on 127.0.0.1:
 * memcached, object, container and account servers and a proxy with
 * tempauth, tempurl (sha1, sha256, sha512), slo and dlo, all in a mkdtemp
 * directory on free ports. Optionally a second proxy that authenticates
 * with a real Keystone (authtoken + keystoneauth). Start it once per test
 * file; `stop()` kills every process and removes the directory.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './env';
import { answers200, reservePort, startDaemon, stopDaemon, waitUntil, type Daemon } from './daemons';

const PY = '/usr/bin/python3';

/** Tools the SAIO needs, for `needTools(...SAIO_TOOLS)`. */
export const SAIO_TOOLS = ['swift-proxy-server', 'swift-object-server', 'swift-container-server', 'swift-account-server', 'memcached'];

export interface SaioOptions {
  /** Largest object one PUT may create (Swift's max_file_size). Default: Swift's own (5 GiB + 2). */
  maxFileSize?: number;
  /** tempauth token lifetime in seconds (default 86400). */
  tokenLifeSeconds?: number;
  /** Also start a proxy that authenticates against this Keystone. */
  keystone?: { url: string; swiftUser: string; swiftPassword: string; serviceProject: string };
  /**
   * Run the Swift servers on a clock moved by the offset written in this
   * file (libfaketime's FAKETIME_TIMESTAMP_FILE, read at every call: "+0",
   * then e.g. "+31d"), so a test can move their time on while they run.
   * Needs Debian's libfaketime (see LIBFAKETIME).
   */
  clockFile?: string;
}

/** libfaketime, which SaioOptions.clockFile needs (Debian package libfaketime). */
export const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

export interface Saio {
  /** tempauth v1 endpoint, e.g. http://127.0.0.1:P/auth/v1.0 */
  authUrl: string;
  /** Storage URL of the test account (AUTH_test). */
  storageUrl: string;
  proxyUrl: string;
  /** The Keystone-authenticating proxy, when asked for. */
  keystoneProxyUrl?: string;
  /** tempauth users: test:tester/testing (.admin of AUTH_test), test:reader/readonly. */
  user: string;
  key: string;
  maxFileSize: number | undefined;
  dir: string;
  /** Forget every token tempauth issued (memcached flush_all), as a restart would. */
  flushTokens(): Promise<void>;
  /** Stops every process and removes the directory. */
  stop(): Promise<void>;
}

const SERVER_CONF = (port: number, dir: string, kind: string): string => `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
workers = 0
user = root
swift_dir = ${dir}/etc
devices = ${dir}/srv
mount_check = false
recon_cache_path = ${dir}/cache
log_name = ${kind}

[pipeline:main]
pipeline = healthcheck ${kind}-server

[filter:healthcheck]
use = egg:swift#healthcheck

[app:${kind}-server]
use = egg:swift#${kind}

[${kind}-replicator]
[${kind}-updater]
[${kind}-auditor]
`;

const COMMON_FILTERS = ['catch_errors', 'gatekeeper', 'healthcheck', 'proxy_logging', 'listing_formats', 'copy', 'slo', 'dlo']
  .map((f) => `[filter:${f.replace('_', '-')}]\nuse = egg:swift#${f}\n`)
  .join('\n');

function proxyConf(port: number, dir: string, memcachedPort: number, auth: string, authFilters: string): string {
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
workers = 0
user = root
swift_dir = ${dir}/etc
log_name = proxy-${port}

[pipeline:main]
pipeline = catch-errors gatekeeper healthcheck proxy-logging cache listing-formats tempurl ${auth} copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:tempurl]
use = egg:swift#tempurl
allowed_digests = sha1 sha256 sha512

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:${memcachedPort}

${COMMON_FILTERS}
${authFilters}
`;
}

export async function startSaio(opts: SaioOptions = {}): Promise<Saio> {
  const dir = await mkdtemp(join(tmpdir(), 'ilo-saio-'));
  const daemons: Daemon[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(daemons.map((d) => stopDaemon(d)));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const d of ['etc', 'srv/d1', 'cache', 'log']) await mkdir(join(dir, d), { recursive: true });
    // Held until the daemons start: the configurations and rings name them, and building the rings takes seconds.
    const reserved = await Promise.all(Array.from({ length: opts.keystone ? 6 : 5 }, () => reservePort()));
    const [objectPort, containerPort, accountPort, proxyPort, memcachedPort, ksProxyPort] = reserved.map((r) => r.port) as [number, number, number, number, number, number | undefined];
    const port = { object: objectPort, container: containerPort, account: accountPort } as const;
    for (const kind of ['object', 'container', 'account'] as const) {
      await writeFile(join(dir, 'etc', `${kind}-server.conf`), SERVER_CONF(port[kind], dir, kind));
    }
    const tempauth = `[filter:tempauth]
use = egg:swift#tempauth
user_admin_admin = admin .admin .reseller_admin
user_test_tester = testing .admin
user_test_reader = readonly
token_life = ${opts.tokenLifeSeconds ?? 86400}
`;
    await writeFile(join(dir, 'etc', 'proxy-server.conf'), proxyConf(proxyPort, dir, memcachedPort, 'tempauth', tempauth));
    if (opts.keystone && ksProxyPort) {
      const ks = opts.keystone;
      const filters = `[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
www_authenticate_uri = ${ks.url}
auth_url = ${ks.url}
auth_type = password
username = ${ks.swiftUser}
password = ${ks.swiftPassword}
project_name = ${ks.serviceProject}
user_domain_id = default
project_domain_id = default
delay_auth_decision = True
memcached_servers = 127.0.0.1:${memcachedPort}

[filter:keystoneauth]
use = egg:swift#keystoneauth
operator_roles = admin, member
`;
      await writeFile(join(dir, 'etc', 'proxy-keystone.conf'), proxyConf(ksProxyPort, dir, memcachedPort, 'authtoken keystoneauth', filters));
    }

    const rings = startDaemon('ring builder', PY, [join(repoRoot, 'test', 'helpers', 'swift_saio.py'), 'rings', join(dir, 'etc'), String(objectPort), String(containerPort), String(accountPort)], join(dir, 'log', 'rings.log'));
    const code = await new Promise<number | null>((r) => rings.child.once('exit', (c) => r(c)));
    if (code !== 0) throw new Error(`building the Swift rings failed:\n${rings.tail()}`);

    await Promise.all(reserved.map((r) => r.release()));
    const log = (n: string): string => join(dir, 'log', `${n}.log`);
    // Monotonic time stays real: eventlet's timers run on it.
    const clock = opts.clockFile ? { LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: opts.clockFile, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' } : undefined;
    daemons.push(startDaemon('memcached', 'memcached', ['-l', '127.0.0.1', '-p', String(memcachedPort), '-U', '0', '-m', '64', '-u', 'root'], log('memcached')));
    for (const kind of ['object', 'container', 'account'] as const) {
      daemons.push(startDaemon(`swift-${kind}-server`, `swift-${kind}-server`, [join(dir, 'etc', `${kind}-server.conf`), '-v'], log(kind), clock));
    }
    const proxyArgs = (conf: string): [string, string[]] =>
      opts.maxFileSize === undefined
        ? ['swift-proxy-server', [conf, '-v']]
        : [PY, [join(repoRoot, 'test', 'helpers', 'swift_saio.py'), 'proxy', conf, String(opts.maxFileSize)]];
    daemons.push(startDaemon('swift-proxy-server', ...proxyArgs(join(dir, 'etc', 'proxy-server.conf')), log('proxy'), clock));
    if (ksProxyPort) daemons.push(startDaemon('swift-proxy-server (keystone)', ...proxyArgs(join(dir, 'etc', 'proxy-keystone.conf')), log('proxy-keystone')));

    const health = [objectPort, containerPort, accountPort, proxyPort, ...(ksProxyPort ? [ksProxyPort] : [])];
    await waitUntil('the Swift healthchecks', async () => (await Promise.all(health.map((p) => answers200(`http://127.0.0.1:${p}/healthcheck`)))).every(Boolean), 60_000, daemons);

    const proxyUrl = `http://127.0.0.1:${proxyPort}`;
    return {
      authUrl: `${proxyUrl}/auth/v1.0`,
      storageUrl: `${proxyUrl}/v1/AUTH_test`,
      proxyUrl,
      keystoneProxyUrl: ksProxyPort ? `http://127.0.0.1:${ksProxyPort}` : undefined,
      user: 'test:tester',
      key: 'testing',
      maxFileSize: opts.maxFileSize,
      dir,
      flushTokens: () => memcachedCommand(memcachedPort, 'flush_all'),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function memcachedCommand(port: number, command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(`${command}\r\n`));
    s.on('data', (d) => {
      if (String(d).startsWith('OK')) {
        s.end();
        resolve();
      } else reject(new Error(`memcached answered ${String(d).trim()}`));
    });
    s.on('error', reject);
  });
}
