/**
 * A real Python iLO client (python-hpilo, proliantutils, sushy), driven
 * from a test: one Python process (Debian's /usr/bin/python3, which sees
 * the python3-* packages) runs a driver from test/helpers/real-clients/ and
 * answers one JSON request per line, for any simulated iLO.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { SimIlo } from '../../sim/fleet';
import { repoRoot } from './env';

const PYTHON = '/usr/bin/python3';

/** Where a driver reaches one simulated iLO (the CA file verifies its certificate). */
export interface ClientTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  ca: string;
  /** proliantutils: use_redfish_only (the only way it treats a Gen11 as Redfish). */
  redfishOnly?: boolean;
  /** Tells two clients of the same iLO apart (a driver keeps one client per distinct target). */
  label?: string;
}

export function targetOf(ilo: SimIlo, caFile: string, extra: Partial<ClientTarget> = {}): ClientTarget {
  return { host: ilo.host, port: ilo.port, user: ilo.username, password: ilo.password, ca: caFile, ...extra };
}

export function writeCa(dir: string, pem: string): string {
  const file = join(dir, 'fleet-ca.pem');
  writeFileSync(file, pem);
  return file;
}

/** What the client raised: its exception class and message. */
export interface ClientError {
  type: string;
  message: string;
}

interface Answer {
  id: number;
  result?: unknown;
  error?: ClientError;
}

/** `false` when /usr/bin/python3 can import every module, else the reason to give `test(..., { skip })` (printed loudly). */
export function needPythonModules(...modules: Array<[module: string, debianPackage: string]>): string | false {
  const missing = modules.filter(([m]) => {
    try {
      execFileSync(PYTHON, ['-c', `import ${m}`], { stdio: 'ignore', timeout: 60_000 });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return false;
  const reason = `NOT RUN: ${PYTHON} cannot import ${missing.map(([m]) => m).join(', ')} (Debian: ${missing.map(([, p]) => p).join(' ')})`;
  process.stderr.write(`\n!!! ${reason}\n`);
  return reason;
}

export class RealClient {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, (a: Answer) => void>();
  private next = 1;
  private stderr = '';
  private failure?: Error;

  /** Start test/helpers/real-clients/<driver>; `env` is added to (and overrides) this process's environment. */
  constructor(driver: string, extraEnv: NodeJS.ProcessEnv = {}) {
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1', ...extraEnv };
    // requests ignores verify= when these are set (they would replace the fleet CA).
    delete env.REQUESTS_CA_BUNDLE;
    delete env.CURL_CA_BUNDLE;
    this.child = spawn(PYTHON, [join(repoRoot, 'test', 'helpers', 'real-clients', driver)], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.on('error', (err) => this.fail(err));
    this.child.on('exit', (code, signal) => this.fail(new Error(`${driver} exited (${code ?? signal})${this.stderr ? `: ${this.stderr.slice(-2000)}` : ''}`)));
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString('utf8')).slice(-20_000);
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const a = JSON.parse(line) as Answer;
      this.pending.get(a.id)?.(a);
      this.pending.delete(a.id);
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const [, resolve] of this.pending) resolve({ id: 0, error: { type: 'DriverDied', message: err.message } });
    this.pending.clear();
  }

  /** Run `op` with these arguments against the target: the client's result, or what it raised. */
  call(target: ClientTarget, op: string, ...args: unknown[]): Promise<Answer> {
    if (this.failure) return Promise.resolve({ id: 0, error: { type: 'DriverDied', message: this.failure.message } });
    const id = this.next++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.stdin.write(`${JSON.stringify({ id, target, op, args })}\n`);
    });
  }

  /** The result; a raised exception fails the test with the client's own words. */
  async ok(target: ClientTarget, op: string, ...args: unknown[]): Promise<unknown> {
    const a = await this.call(target, op, ...args);
    if (a.error) throw new Error(`${op} raised ${a.error.type}: ${a.error.message}`);
    return a.result;
  }

  /** What the client raised; a success fails the test. */
  async refused(target: ClientTarget, op: string, ...args: unknown[]): Promise<ClientError> {
    const a = await this.call(target, op, ...args);
    if (!a.error) throw new Error(`${op} was expected to be refused, and returned ${JSON.stringify(a.result)}`);
    return a.error;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin.end();
    const timer = setTimeout(() => {
      if (this.child.pid !== undefined && this.child.exitCode === null) process.kill(this.child.pid, 'SIGKILL');
    }, 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Wait (polling the simulator, not timing anything) until `cond` holds. */
export async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
