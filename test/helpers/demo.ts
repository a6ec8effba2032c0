/**
 * Runs the demo (`npm start`: Node-RED + this package + the simulated fleet)
 * on a free port with its own user directory, for end-to-end tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './env';
import { freeFixedPort } from './node-red-process';

export interface RunningDemo {
  port: number;
  url: string;
  dir: string;
  /** The demo's own process (the fleet runs in it; Node-RED is its child). */
  pid: number;
  /** Settles when the demo's process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  stop(): Promise<void>;
}

export async function startDemo(extraEnv: Record<string, string> = {}): Promise<RunningDemo> {
  const port = await freeFixedPort();
  const dir = mkdtempSync(join(tmpdir(), 'ilo-demo-'));
  let out = '';
  const child: ChildProcess = spawn(process.execPath, [join(repoRoot, 'dist', 'scripts', 'start.js')], {
    // Several demos may start at once (test files run in parallel): the fleet takes any free ports, not 8443-8445.
    env: { ...process.env, PORT: String(port), ILO_DEMO_DIR: dir, ILO_DEMO_FLEET_PORT: '0', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      await Promise.race([once(child, 'exit'), new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 90_000;
  while (!out.includes('Stop with Ctrl-C')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the demo did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, url: `http://127.0.0.1:${port}`, dir, pid: child.pid as number, exited, output: () => out, stop };
}
