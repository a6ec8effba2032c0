/**
 * Run an external tool to completion and report what happened, without
 * throwing: each caller turns the outcome into its own typed error. Secrets
 * go through `env`, never `args`; nothing here logs or echoes either.
 */
import { loadExeca } from './execa';

export interface RunOptions {
  /** Extra environment variables, added to this process's environment. */
  env?: Record<string, string>;
  /** Kill the tool (SIGTERM, then SIGKILL 2 s later) after this long. */
  timeoutMs?: number;
  signal?: AbortSignal;
  cwd?: string;
  /** Largest stdout/stderr kept, in bytes (default 16 MiB). */
  maxBuffer?: number;
  /** Sees stdout as it arrives (e.g. progress), in addition to the buffered result. */
  onStdout?: (chunk: string) => void;
}

export interface RunResult {
  /** The program as given (for messages; carries no secret by construction). */
  file: string;
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  canceled: boolean;
  /** The program could not be started because it does not exist. */
  notFound: boolean;
  /** Why the program could not be started or was killed, when it was. */
  failure?: string;
  durationMs: number;
}

/** runTool's shape, so callers can be given a recording stand-in in unit tests. */
export type ToolRunner = (file: string, args: readonly string[], options?: RunOptions) => Promise<RunResult>;

export async function runTool(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { execa } = await loadExeca();
  const subprocess = execa(file, args, {
    reject: false,
    stdin: 'ignore',
    env: { LC_ALL: 'C', ...options.env },
    extendEnv: true,
    timeout: options.timeoutMs,
    cancelSignal: options.signal,
    forceKillAfterDelay: 2000,
    cwd: options.cwd,
    maxBuffer: options.maxBuffer ?? 16 * 1024 * 1024,
    stripFinalNewline: false,
    encoding: 'utf8',
  });
  const onStdout = options.onStdout;
  if (onStdout) subprocess.stdout?.on('data', (d: Buffer) => onStdout(d.toString('utf8')));
  const result = await subprocess;
  const spawnCode = result.code ?? (result.cause as NodeJS.ErrnoException | undefined)?.code;
  const notFound = spawnCode === 'ENOENT' || spawnCode === 'EACCES';
  let failure: string | undefined;
  if (notFound) failure = `${file} could not be started (${spawnCode})`;
  else if (result.timedOut) failure = `${file} did not finish within ${options.timeoutMs} ms`;
  else if (result.isCanceled) failure = `${file} was cancelled`;
  else if (result.signal) failure = `${file} was killed by ${result.signal}`;
  return {
    file,
    exitCode: result.exitCode,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    timedOut: result.timedOut,
    canceled: result.isCanceled,
    notFound,
    failure,
    durationMs: result.durationMs,
  };
}
