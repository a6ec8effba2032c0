/**
 * The console through the iLO's virtual serial port over SSH: log in to the
 * iLO CLI (prompt `</>hpiLO->`), run `vsp`, and the session is the serial
 * port until `ESC (` hands it back to the CLI. The host key must match the
 * pinned SHA-256; nothing is sent before it does. ssh2 is pure JavaScript
 * (its optional native crypto binding only speeds up some ciphers).
 */
import { timingSafeEqual } from 'node:crypto';
import { Duplex } from 'node:stream';
import { Client, type ClientChannel } from 'ssh2';
import { BmcError, invalidInput } from '../bmc/errors';
import type { ConsoleChannel, ConsoleEnd } from './channel';
import { targetOf, type ResolvedConsoleConfig } from './config';
import { hostKeyInfo, sshError, type HostKeyInfo } from './host-key';
import { legacyAlgorithms } from './ssh-algorithms';

const PROMPT = /hpiLO->\s*$/;
const VSP_STARTED = /Press 'ESC \(' to return to the CLI Session\.?[^\S\r\n]*\r?\n(?:[^\S\r\n]*\r?\n)?/;
const VSP_BUSY = /Virtual Serial Port is currently in use by another session/i;
/** The key sequence that detaches the iLO's virtual serial port. */
export const VSP_DETACH = Buffer.from([0x1b, 0x28]);

/**
 * Keystrokes as the serial port should get them: `ESC (` would end the
 * virtual serial port session, so the `(` after an ESC is dropped (a
 * terminal only sends that pair for Alt+"(").
 */
export function filterVspInput(chunk: Buffer, state: { lastWasEsc: boolean }): Buffer {
  const out: number[] = [];
  for (const b of chunk) {
    if (b === 0x28 && state.lastWasEsc) {
      state.lastWasEsc = false;
      continue;
    }
    state.lastWasEsc = b === 0x1b;
    out.push(b);
  }
  return Buffer.from(out);
}

export async function openSshConsole(c: ResolvedConsoleConfig, opts: { cols?: number; rows?: number } = {}): Promise<ConsoleChannel> {
  const pinned = c.sshHostKey;
  if (!pinned) throw invalidInput('sshHostKey', "the SHA-256 fingerprint of the iLO's SSH host key (none is pinned, so SSH is not used)");
  const target = targetOf(c.host, c.sshPort);
  const client = new Client();
  let offered: HostKeyInfo | undefined;
  let keyRefused = false;
  let triedAuth = false;

  return new Promise<ConsoleChannel>((resolve, reject) => {
    let settled = false;
    let before = '';
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end();
      reject(err);
    };
    const timer = setTimeout(() => fail(new BmcError('timeout', `SSH ${target}: the virtual serial port did not open in ${c.openTimeoutMs} ms`, { target })), c.openTimeoutMs);

    client.on('error', (err: Error) => {
      if (keyRefused && offered) {
        fail(
          new BmcError('connection', `SSH ${target}: the host key is ${offered.algorithm} ${offered.openssh} (${offered.fingerprint256}), not the pinned one`, {
            target,
            iloMessage: err.message,
          }),
        );
      } else fail(sshError(err, target));
    });
    client.on('close', () => fail(new BmcError('connection', `SSH ${target}: the connection closed before the virtual serial port opened${before ? `: ${lastLines(before)}` : ''}`, { target })));
    client.on('ready', () => {
      client.shell({ term: 'vt100', cols: opts.cols ?? 80, rows: opts.rows ?? 24 }, (err, channel) => {
        if (err) return fail(sshError(err, target));
        let sentVsp = false;
        const onData = (d: Buffer): void => {
          before += d.toString('latin1');
          if (before.length > 64 * 1024) before = before.slice(-16 * 1024);
          if (!sentVsp) {
            if (PROMPT.test(before)) {
              sentVsp = true;
              before = '';
              channel.write('vsp\r');
            }
            return;
          }
          if (VSP_BUSY.test(before)) {
            return fail(new BmcError('busy', `SSH ${target}: the virtual serial port is in use by another session (iLO: "Virtual Serial Port is currently in use by another session.")`, { target, iloMessage: lastLines(before) }));
          }
          const m = VSP_STARTED.exec(before);
          if (m) {
            channel.off('data', onData);
            const rest = Buffer.from(before.slice(m.index + m[0].length), 'latin1');
            before = '';
            settled = true;
            clearTimeout(timer);
            client.removeAllListeners('close');
            resolve(attach(channel, rest));
            return;
          }
          // The CLI answered and prompted again: vsp was refused.
          if (PROMPT.test(before)) {
            fail(new BmcError('not-supported', `SSH ${target}: the iLO CLI refused "vsp": ${lastLines(before.replace(PROMPT, '')) || 'no reason given'}`, { target, iloMessage: lastLines(before) }));
          }
        };
        channel.on('data', onData);
        channel.stderr.on('data', (d: Buffer) => (before += d.toString('latin1')));
      });
    });

    client.connect({
      host: c.host,
      port: c.sshPort,
      username: c.username,
      password: c.password,
      // One password attempt per connection (iLOs lock accounts after repeated failures): ask which
      // methods the iLO takes, then use password, or keyboard-interactive where only that is offered.
      authHandler: (methodsLeft, _partial, next) => {
        if (methodsLeft === null) return next({ type: 'none', username: c.username });
        if (triedAuth) return next(false as never);
        triedAuth = true;
        if (methodsLeft.includes('password')) return next({ type: 'password', username: c.username, password: c.password });
        if (methodsLeft.includes('keyboard-interactive')) {
          return next({ type: 'keyboard-interactive', username: c.username, prompt: (_n, _i, _l, prompts, finish) => finish(prompts.map(() => c.password)) });
        }
        return next(false as never);
      },
      readyTimeout: c.openTimeoutMs,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 3,
      algorithms: legacyAlgorithms(),
      hostVerifier: (key: Buffer) => {
        offered = hostKeyInfo(key);
        const ok = timingSafeEqual(Buffer.from(offered.fingerprint256.replace(/:/g, ''), 'hex'), pinned);
        keyRefused = !ok;
        return ok;
      },
    });

    function attach(channel: ClientChannel, first: Buffer): ConsoleChannel {
      let closing = false;
      const input = { lastWasEsc: false };
      const stream = new Duplex({
        allowHalfOpen: false,
        read() {
          channel.resume();
        },
        write(chunk: Buffer, _enc, cb) {
          if (closing || channel.destroyed) return cb(new Error('the virtual serial port session has ended'));
          channel.write(filterVspInput(chunk, input), cb);
        },
        destroy(err, cb) {
          close()
            .catch(() => undefined) // closing reports nothing more than the stream's own error
            .finally(() => cb(err));
        },
      });
      let endReason: string | undefined;
      client.on('error', (err: Error) => (endReason = err.message));
      const ended = new Promise<ConsoleEnd>((res) => {
        client.once('close', () => {
          stream.push(null);
          res({ by: closing ? 'closed' : 'remote', ...(closing ? {} : { reason: endReason ?? 'the iLO closed the SSH session' }) });
        });
      });
      channel.on('data', (d: Buffer) => {
        if (!stream.push(d)) channel.pause();
      });
      // The CLI session is over (exit, or the iLO ended it): so is the connection.
      channel.once('close', () => client.end());
      if (first.length > 0) stream.push(first);
      let closePromise: Promise<ConsoleEnd> | undefined;
      const close = (): Promise<ConsoleEnd> => {
        closePromise ??= (async () => {
          closing = true;
          if (!channel.destroyed) {
            // Hand the port back to the CLI and leave, as a person would.
            channel.write(VSP_DETACH);
            channel.write('exit\r');
          }
          const done = await Promise.race([ended, delay(2000).then(() => undefined)]);
          if (done === undefined) client.end();
          return ended;
        })();
        return closePromise;
      };
      return {
        via: 'ssh',
        target,
        stream,
        ended,
        sendBreak: () =>
          Promise.reject(
            new BmcError('not-supported', `the iLO's virtual serial port over SSH (${target}) has no serial break; IPMI serial-over-LAN sends one`, { target }),
          ),
        resize: (cols, rows) => {
          if (!channel.destroyed) channel.setWindow(rows, cols, 0, 0);
        },
        close,
      };
    }
  });
}

function lastLines(text: string): string {
  return text
    .split(/\r?\n|\r/)
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-3)
    .join(' / ')
    .slice(0, 300);
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
