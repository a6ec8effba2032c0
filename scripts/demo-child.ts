/**
 * A child process that is part of the demo. Its failure to start (a missing
 * binary, no memory) is heard and reported as an end like any other, never
 * thrown; it gets an IPC channel and `exit-with-parent` preloaded (Node.js
 * children), so it ends when the demo's own process ends, however that ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface ChildEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why it could not be started, when it could not. */
  error?: Error;
}

export interface DemoChild {
  name: string;
  process: ChildProcess;
  /** Settles once, when the child has ended or could not start. */
  ended: Promise<ChildEnd>;
  readonly running: boolean;
  /** Asks it to stop (SIGINT), then SIGKILL after `graceMs`; resolves when it has ended. */
  stop(graceMs?: number): Promise<ChildEnd>;
}

/** The preload that makes a Node.js child end with its parent. */
export const EXIT_WITH_PARENT = join(__dirname, 'exit-with-parent.js');

type Stdio = 'ignore' | 'pipe' | 'inherit';

export function startChild(name: string, file: string, args: string[], options: { env?: NodeJS.ProcessEnv; stdio?: [Stdio, Stdio, Stdio]; node?: boolean } = {}): DemoChild {
  const stdio = options.stdio ?? ['ignore', 'inherit', 'inherit'];
  const node = options.node ?? file === process.execPath;
  const child = spawn(file, node ? ['--require', EXIT_WITH_PARENT, ...args] : args, {
    env: options.env,
    stdio: node ? [...stdio, 'ipc'] : stdio,
  });
  let running = child.pid !== undefined;
  const ended = new Promise<ChildEnd>((resolve) => {
    child.once('error', (error) => {
      // `error` without `exit`: it never started (or could not be signalled; then `exit` still follows).
      if (child.pid === undefined) {
        running = false;
        resolve({ code: null, signal: null, error });
      }
    });
    child.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
  });
  return {
    name,
    process: child,
    ended,
    get running() {
      return running;
    },
    async stop(graceMs = 15_000) {
      if (running) {
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        timer.unref();
        await ended;
        clearTimeout(timer);
      }
      return ended;
    },
  };
}
