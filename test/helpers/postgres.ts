/**
 * A real PostgreSQL for tests and benchmarks (Debian `postgresql`): a new
 * cluster in a temporary directory, on a free loopback port, with one
 * password-protected user (scram-sha-256), started and stopped by the test.
 * `stop()` and `start()` again keep the data: the database going down and
 * coming back. As root, the server runs as the `postgres` user (initdb
 * refuses root).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { closedPort } from './ports';

/** The newest installed server's bin directory (initdb, postgres), if any. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

/** `false` when a PostgreSQL server can be started here, else the loud NOT RUN reason for `{ skip }`. */
export function needPostgres(): string | false {
  if (postgresBinDir() && (userInfo().uid !== 0 || hasPostgresUser())) return false;
  const reason = 'NOT RUN: missing PostgreSQL server binaries under /usr/lib/postgresql/*/bin (Debian: postgresql)';
  process.stderr.write(`\n!!! ${reason}\n`);
  return reason;
}

function hasPostgresUser(): boolean {
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface PostgresConnection {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
}

export class TestPostgres {
  private child?: ChildProcess;
  private log = '';

  private constructor(
    readonly dir: string,
    readonly connection: PostgresConnection,
    private readonly bin: string,
    private readonly asPostgres: boolean,
  ) {}

  /** initdb a new cluster and start it. */
  static async create(): Promise<TestPostgres> {
    const bin = postgresBinDir();
    if (!bin) throw new Error('PostgreSQL server binaries not found (Debian: postgresql)');
    const asPostgres = userInfo().uid === 0;
    const dir = mkdtempSync(join(tmpdir(), 'ilo-pg-'));
    const password = randomBytes(12).toString('base64url');
    const pg = new TestPostgres(dir, { host: '127.0.0.1', port: await closedPort(), database: 'postgres', user: 'ilo', password }, bin, asPostgres);
    const pwfile = join(dir, 'pw');
    writeFileSync(pwfile, password, { mode: 0o600 });
    if (asPostgres) {
      const { uid, gid } = idsOf('postgres');
      chownSync(dir, uid, gid);
      chownSync(pwfile, uid, gid);
    }
    chmodSync(dir, 0o700);
    try {
      pg.run('initdb', ['-D', join(dir, 'data'), '-U', 'ilo', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C', '--no-sync']);
    } finally {
      rmSync(pwfile, { force: true });
    }
    await pg.start();
    return pg;
  }

  /** Start (again, on the same port and data). */
  async start(): Promise<void> {
    if (this.child) return;
    const args = [
      '-D',
      join(this.dir, 'data'),
      '-p',
      String(this.connection.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${this.dir}`,
      // A throw-away cluster: durability is not what is tested.
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ];
    const child = this.spawn('postgres', args);
    this.child = child;
    child.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    child.on('error', (err) => (this.log += `spawn error: ${err.message}\n`));
    child.on('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    const end = Date.now() + 30_000;
    for (;;) {
      if (!this.child) throw new Error(`postgres exited:\n${this.log.slice(-2000)}`);
      if (await this.ready()) return;
      if (Date.now() > end) throw new Error(`postgres did not accept connections within 30 s:\n${this.log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stop the server (fast shutdown: connections are cut), keeping the data. */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** What the server logged (to check nothing leaked into it, or to explain a failure). */
  output(): string {
    return this.log;
  }

  /** A connected client as the test user (to look at what the store wrote). */
  async client(): Promise<Client> {
    const c = new Client({ ...this.connection });
    await c.connect();
    return c;
  }

  private async ready(): Promise<boolean> {
    const c = new Client({ ...this.connection, connectionTimeoutMillis: 2000 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  private run(tool: string, args: string[]): void {
    const [cmd, argv] = this.command(tool, args);
    execFileSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: this.dir });
  }

  private spawn(tool: string, args: string[]): ChildProcess {
    const [cmd, argv] = this.command(tool, args);
    return spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: this.dir });
  }

  private command(tool: string, args: string[]): [string, string[]] {
    const path = join(this.bin, tool);
    return this.asPostgres ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', path, ...args]] : [path, args];
  }
}

function idsOf(user: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', user]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', user]).toString().trim());
  return { uid, gid };
}
