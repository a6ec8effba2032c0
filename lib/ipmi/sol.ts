/**
 * Serial-over-LAN through `ipmitool sol activate`. ipmitool insists on a
 * terminal for SOL, so it runs under util-linux `script`, which gives it a
 * pseudo-terminal with no native addon on our side. The password still goes
 * through the environment only.
 *
 * ipmitool treats `~` typed at the start of a line as its escape character
 * (`~.` ends the session). Written data is escaped (`~` -> `~~` at a line
 * start) so any bytes reach the serial port unchanged; `close()` sends `~.`.
 */
import { Duplex } from 'node:stream';
import { BmcError } from '../bmc/errors';
import { loadExeca } from '../exec/execa';
import { diagnose, redact } from './diagnose';

export interface SolSession {
  /** Read: what the server writes to its serial port. Write: keystrokes for it. Bytes. */
  readonly stream: Duplex;
  /** Process id of the `script` wrapper (its child is ipmitool). */
  readonly pid: number | undefined;
  /** Settles once the session is over, however it ended. */
  readonly ended: Promise<SolEnd>;
  /** End the session (`~.`), waiting for ipmitool to leave. Safe to call twice. */
  close(): Promise<SolEnd>;
  /**
   * Send a serial break (ipmitool's `~B`). ipmitool only sees its escape at
   * the start of a line, so a CR goes first when the last byte typed was not one.
   */
  sendBreak(): Promise<void>;
}

export interface SolEnd {
  /** `closed`: by close(); `remote`: the BMC or ipmitool ended it. */
  by: 'closed' | 'remote';
  exitCode: number | undefined;
}

export interface SolSpawnOptions {
  scriptPath: string;
  /** ipmitool and its arguments (no secret among them). */
  command: readonly string[];
  env: Record<string, string>;
  target: string;
  password: string;
  /** How long to wait for ipmitool's "SOL Session operational" (ms). */
  readyTimeoutMs: number;
}

const BANNER = /\[SOL Session operational\.[^\]]*\]\r?\n/;
/** What ipmitool prints itself when it sends a break: not console output. */
const BREAK_ECHO = /~B \[send break\]\r?\n?/;
const ESCAPE = 0x7e; // '~'

/** Quote one word for /bin/sh. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The argv of the `script` process: it runs ipmitool on a fresh pty. */
export function scriptArgs(command: readonly string[]): string[] {
  return ['-q', '-f', '-e', '--echo', 'never', '-c', `exec ${command.map(shellQuote).join(' ')}`, '/dev/null'];
}

/**
 * Double every escape character that would start a line, so ipmitool passes
 * it on as data. `atLineStart` carries the state across writes.
 */
export function escapeSolInput(chunk: Buffer, state: { atLineStart: boolean }): Buffer {
  const out: number[] = [];
  for (const b of chunk) {
    if (b === ESCAPE && state.atLineStart) out.push(ESCAPE);
    out.push(b);
    state.atLineStart = b === 0x0d || b === 0x0a;
  }
  return Buffer.from(out);
}

export async function spawnSol(o: SolSpawnOptions): Promise<SolSession> {
  const { execa } = await loadExeca();
  const child = execa(o.scriptPath, scriptArgs(o.command), {
    reject: false,
    buffer: false,
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    env: { LC_ALL: 'C', SHELL: '/bin/sh', TERM: 'dumb', ...o.env },
    extendEnv: true,
    forceKillAfterDelay: 2000,
  });
  return new Promise<SolSession>((resolve, reject) => {
    let ready = false;
    let closing = false;
    let breakEchoes = 0;
    let before = '';
    const input = { atLineStart: true };
    const stream = new Duplex({
      allowHalfOpen: false,
      read() {
        child.stdout?.resume();
      },
      write(chunk: Buffer, _enc, cb) {
        if (closing || !child.stdin || child.stdin.destroyed) return cb(new Error('the SOL session has ended'));
        child.stdin.write(escapeSolInput(chunk, input), cb);
      },
      destroy(err, cb) {
        session.close().then(() => cb(err), (closeErr: unknown) => cb(err ?? (closeErr as Error)));
      },
    });

    // Whether the process is gone, from execa's own promise (the subprocess
    // is a ChildProcess in execa 9 but not in execa 10).
    let exited = false;
    const ended = new Promise<SolEnd>((res) => {
      // execa was told not to reject (reject: false): only the callback could throw.
      child.then((r) => {
        exited = true;
        const end: SolEnd = { by: closing ? 'closed' : 'remote', exitCode: r.exitCode };
        if (!ready) {
          clearTimeout(timer);
          const notFound = r.code === 'ENOENT' || (r.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
          reject(notFound ? solUnavailable(o) : solFailed(before, o));
        }
        stream.push(null);
        res(end);
      }, reject);
    });

    const timer = setTimeout(() => {
      if (ready) return;
      child.kill('SIGTERM');
      reject(new BmcError('timeout', `ipmitool sol activate on ${o.target}: the session did not open in ${o.readyTimeoutMs} ms`, { target: o.target }));
    }, o.readyTimeoutMs);

    child.stdout?.on('data', (data: Buffer) => {
      if (closing) return;
      if (!ready) {
        before += data.toString('latin1');
        const m = BANNER.exec(before);
        if (!m) return;
        ready = true;
        clearTimeout(timer);
        const rest = Buffer.from(before.slice((m.index ?? 0) + m[0].length), 'latin1');
        before = '';
        resolve(session);
        if (rest.length > 0 && !stream.push(rest)) child.stdout?.pause();
        return;
      }
      if (breakEchoes > 0) {
        const text = data.toString('latin1');
        const m = BREAK_ECHO.exec(text);
        if (m) {
          breakEchoes--;
          data = Buffer.from(text.slice(0, m.index) + text.slice(m.index + m[0].length), 'latin1');
          if (data.length === 0) return;
        }
      }
      if (!stream.push(data)) child.stdout?.pause();
    });
    child.stderr?.on('data', (data: Buffer) => {
      if (!ready) before += data.toString('latin1');
    });

    let closePromise: Promise<SolEnd> | undefined;
    const session: SolSession = {
      stream,
      pid: child.pid,
      ended,
      close(): Promise<SolEnd> {
        closePromise ??= (async () => {
          if (!exited && child.stdin && !child.stdin.destroyed) {
            closing = true;
            // The escape is only seen at a line start: a CR goes first when needed.
            child.stdin.write(input.atLineStart ? '~.' : '\r~.');
            const done = await Promise.race([ended, delay(3000).then(() => undefined)]);
            if (done === undefined) terminate(child);
          }
          closing = true;
          return ended;
        })();
        return closePromise;
      },
      sendBreak(): Promise<void> {
        if (closing || exited || !child.stdin || child.stdin.destroyed) return Promise.reject(new Error('the SOL session has ended'));
        const stdin = child.stdin;
        breakEchoes++;
        // ipmitool keeps its "line start" state after an escape, so the next `~` is still an escape.
        const seq = input.atLineStart ? '~B' : '\r~B';
        input.atLineStart = true;
        return new Promise<void>((res, rej) => stdin.write(seq, (err) => (err ? rej(err) : res())));
      },
    };
  });
}

function terminate(child: { kill(signal?: NodeJS.Signals): unknown }): void {
  child.kill('SIGTERM');
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

function solUnavailable(o: SolSpawnOptions): BmcError {
  return new BmcError('not-supported', `serial-over-LAN on ${o.target} needs util-linux "script" (${o.scriptPath} was not found) to give ipmitool a terminal`, {
    target: o.target,
  });
}

function solFailed(output: string, o: SolSpawnOptions): BmcError {
  const d = diagnose(output);
  const said = redact(d.text, o.password) || 'ipmitool ended before the session opened';
  return new BmcError(d.code, `ipmitool sol activate on ${o.target} failed: ${said}`, { target: o.target, iloMessage: said, reason: d.reason });
}
