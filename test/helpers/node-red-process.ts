/**
 * A real Node-RED (the `node-red` this repository installs) in its own
 * process, on a free loopback port, with a throw-away user directory that
 * has this package linked into it, as a user who installed it would have.
 * Flows are deployed through the Admin API, as the editor does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeUserDir } from '../../scripts/demo-files';
import { repoRoot } from './env';

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * A free port for a server that binds it later (a Node-RED config node on
 * Deploy): taken outside Linux's ephemeral range (32768-60999), where the
 * client connections of tests running alongside would otherwise claim it
 * in between.
 */
export async function freeFixedPort(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (await portFree(port)) return port;
  }
  throw new Error('no free port found in 20000-31999');
}

export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export class NodeRedProcess {
  private log = '';

  private constructor(
    readonly url: string,
    /** Where the editor and its Admin API live (`url` unless httpAdminRoot is not `/`). */
    readonly adminUrl: string,
    readonly userDir: string,
    private readonly child: ChildProcess,
  ) {
    const add = (d: Buffer): void => {
      this.log += d.toString();
    };
    child.stdout!.on('data', add);
    child.stderr!.on('data', add);
  }

  /**
   * Start Node-RED with no flows; `denyModules` are installed modules it must
   * not load; `port` the editor port (default: a free one).
   */
  static async start(opts: { denyModules?: string[]; port?: number; roots?: { admin: string; node: string } } = {}): Promise<NodeRedProcess> {
    const userDir = mkdtempSync(join(tmpdir(), 'ilo-nodered-'));
    const port = opts.port ?? (await freeFixedPort());
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string };
    writeUserDir({ userDir, repoRoot, packageName: pkg.name, flows: [], credentials: {}, port, keepFlows: false, denyModules: opts.denyModules, roots: opts.roots });
    return NodeRedProcess.launch(userDir, port, {}, opts.roots?.admin);
  }

  /** Start Node-RED in a user directory already written (writeUserDir) for `port`; `env` is added to this process's environment. */
  static async launch(userDir: string, port: number, env: Record<string, string> = {}, adminRoot = '/'): Promise<NodeRedProcess> {
    const child = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--settings', join(userDir, 'settings.js')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    const base = `http://127.0.0.1:${port}`;
    const red = new NodeRedProcess(base, `${base}${adminRoot.replace(/\/+$/, '')}`, userDir, child);
    try {
      await red.waitForLog(/Started flows/, 0, 60_000);
    } catch (err) {
      await red.stop();
      throw err;
    }
    return red;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** kill -9: no clean-up, its user directory stays (stop() removes it). */
  async kill(): Promise<void> {
    if (!this.alive) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await exited;
  }

  /** Everything Node-RED logged, from `from` (a length of `output` taken earlier). */
  output(from = 0): string {
    return this.log.slice(from);
  }

  async waitForLog(re: RegExp, from: number, ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (!re.test(this.log.slice(from))) {
      if (this.child.exitCode !== null) throw new Error(`Node-RED exited (${this.child.exitCode}):\n${this.log}`);
      if (Date.now() > end) throw new Error(`no ${re} in Node-RED's log within ${ms} ms:\n${this.log.slice(from)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Deploy `flows` (a full deploy, as the editor's Deploy button) and wait
   * until they are started; throws when Node-RED waits for missing node types.
   * Returns the log position before the deploy.
   */
  async deploy(flows: unknown[]): Promise<number> {
    const from = this.log.length;
    const res = await fetch(`${this.adminUrl}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'node-red-deployment-type': 'full' },
      body: JSON.stringify(flows),
    });
    if (res.status !== 200 && res.status !== 204) throw new Error(`POST /flows: ${res.status} ${await res.text()}`);
    await this.waitForLog(/Started flows|Waiting for missing types/, from, 30_000);
    const missing = /Waiting for missing types[^\n]*\n(?:[^\n]*- [^\n]*\n)*/.exec(this.output(from));
    if (missing) throw new Error(`Node-RED does not start the flows: ${missing[0]}`);
    return from;
  }

  /** The modules whose node types Node-RED loaded. */
  async modules(): Promise<string[]> {
    const res = await fetch(`${this.adminUrl}/nodes`, { headers: { accept: 'application/json' } });
    const sets = (await res.json()) as Array<{ module: string }>;
    return [...new Set(sets.map((s) => s.module))].sort();
  }

  async stop(): Promise<void> {
    if (this.alive) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGINT');
      await exited;
    }
    rmSync(this.userDir, { recursive: true, force: true });
  }
}
