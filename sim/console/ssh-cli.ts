/**
 * The simulated iLO's SSH face: the iLO CLI (SM-CLP) as far as a console
 * needs it. Login with the iLO account, a banner, the `</>hpiLO->` prompt,
 * `vsp` attaching to the server's serial port until `ESC (` (as the real iLO
 * prints it: "Virtual Serial Port Active: COM2 ... Press 'ESC (' to return
 * to the CLI Session."), one virtual serial port session at a time,
 * `power`, and `exit`. Each iLO has its own ECDSA host key.
 */
import { createHash, generateKeyPairSync, timingSafeEqual } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { Server as SshServer, utils } from 'ssh2';
import type { Connection, Server, ServerChannel } from 'ssh2';
import type { SimServer } from '../server';

const NL = '\r\n';
const PROMPT = '</>hpiLO-> ';

export interface SimHostKey {
  pem: string;
  /** SHA-256 of the public key blob, colon-separated upper-case hex (what the console config pins). */
  fingerprint256: string;
  /** The same as OpenSSH prints it. */
  openssh: string;
}

export async function createHostKey(): Promise<SimHostKey> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1', privateKeyEncoding: { type: 'sec1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error) throw parsed;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  const digest = createHash('sha256').update(key.getPublicSSH()).digest();
  return {
    pem: privateKey,
    fingerprint256: [...digest].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':'),
    openssh: `SHA256:${digest.toString('base64').replace(/=+$/, '')}`,
  };
}

export class SimSshCli {
  private on = true;
  /** Failed and successful logins, for tests. */
  readonly logins = { ok: 0, refused: 0 };
  port = 0;
  private ssh?: Server;
  private readonly conns = new Set<Connection>();
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly server: SimServer,
    readonly hostKey: SimHostKey,
    private readonly iloName = `ILO${server.identity.serialNumber}`,
  ) {}

  /** Switched off: connections are dropped, as when "Secure Shell (SSH)" is disabled on the iLO. */
  get enabled(): boolean {
    return this.on;
  }

  set enabled(v: boolean) {
    this.on = v;
    if (this.ssh) this.ssh.maxConnections = v ? Infinity : 0;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<void> {
    this.ssh = new SshServer({ hostKeys: [this.hostKey.pem], ident: 'mpSSH_0.2.1' }, (client) => this.client(client));
    this.ssh.maxConnections = this.on ? Infinity : 0;
    this.ssh.on('error', () => undefined);
    // ssh2 keeps its TCP server private; its sockets are what "drop every session" closes.
    const net = (this.ssh as unknown as { _srv: import('node:net').Server })._srv;
    net.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      this.ssh?.once('error', reject);
      this.ssh?.listen(port, host, () => resolve());
    });
    this.port = (this.ssh.address() as AddressInfo).port;
  }

  private client(client: Connection): void {
    this.conns.add(client);
    client.on('close', () => this.conns.delete(client));
    client.on('error', () => undefined);
    let user = '';
    client.on('authentication', (ctx) => {
      const check = (password: string): boolean => ctx.username === this.server.username && same(password, this.server.password);
      if (ctx.method === 'password') {
        if (check(ctx.password)) {
          user = ctx.username;
          this.logins.ok++;
          return ctx.accept();
        }
        this.logins.refused++;
        return ctx.reject(['password', 'keyboard-interactive']);
      }
      if (ctx.method === 'keyboard-interactive') {
        return ctx.prompt([{ prompt: 'password: ', echo: false }], (answers) => {
          if (check(answers[0] ?? '')) {
            user = ctx.username;
            this.logins.ok++;
            ctx.accept();
          } else {
            this.logins.refused++;
            ctx.reject(['password', 'keyboard-interactive']);
          }
        });
      }
      ctx.reject(['password', 'keyboard-interactive']);
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('pty', (ok) => ok?.());
        session.on('window-change', (ok) => ok?.());
        session.on('shell', (ok) => {
          const ch = ok();
          if (ch) this.cli(ch, user);
        });
        session.on('exec', (ok, _reject, info) => {
          const ch = ok();
          if (!ch) return;
          ch.write(`${this.command(info.command.trim())}${NL}`);
          ch.exit(0);
          ch.end();
        });
      });
    });
  }

  private banner(user: string): string {
    const s = this.server;
    return [
      `User:${user} logged-in to ${this.iloName}.sim(127.0.0.1 / FE80::9618:82FF:FE00:7)`,
      `${s.model.managerType} ${s.licensed ? 'Advanced' : 'Standard'} ${s.model.firmwareVersion} at  ${s.model.firmwareDate}`,
      `Server Name: ${s.name}`,
      `Server Power: ${s.powerState === 'on' ? 'On' : 'Off'}`,
      '',
      PROMPT,
    ].join(NL);
  }

  /** One CLI command's answer (without the prompt). */
  private command(line: string): string {
    const [cmd] = line.split(/\s+/);
    const now = new Date().toUTCString();
    if (cmd === 'power') {
      return ['', 'status=0', 'status_tag=COMMAND COMPLETED', now, '', '', `power: server power is currently: ${this.server.powerState === 'on' ? 'On' : 'Off'}`, ''].join(NL);
    }
    return ['', 'status=2', 'status_tag=COMMAND PROCESSING FAILED', 'error_tag=COMMAND NOT RECOGNIZED', now, ''].join(NL);
  }

  private cli(ch: ServerChannel, user: string): void {
    const serial = this.server.serial;
    const holder = `${user}@ssh-${Math.random().toString(36).slice(2, 8)}`;
    let line = '';
    let attached = false;
    let lastWasEsc = false;
    const onOutput = (b: Buffer): void => {
      if (!ch.destroyed) ch.write(b);
    };
    const detach = (): void => {
      if (!attached) return;
      attached = false;
      serial.off('output', onOutput);
      if (serial.vspHolder === holder) serial.vspHolder = undefined;
    };
    ch.on('close', detach);
    ch.on('error', () => undefined);
    ch.write(this.banner(user));
    ch.on('data', (d: Buffer) => {
      if (attached) {
        // ESC ( hands the port back to the CLI; everything else goes to the serial port.
        const out: number[] = [];
        for (let i = 0; i < d.length; i++) {
          const b = d[i] as number;
          if (lastWasEsc && b === 0x28) {
            out.pop();
            lastWasEsc = false;
            if (out.length) serial.input(Buffer.from(out));
            detach();
            ch.write(`${NL}${NL}${PROMPT}`);
            const rest = d.subarray(i + 1);
            if (rest.length) ch.emit('data', rest);
            return;
          }
          lastWasEsc = b === 0x1b;
          out.push(b);
        }
        if (out.length) serial.input(Buffer.from(out));
        return;
      }
      for (const c of d.toString('latin1')) {
        if (c === '\r' || c === '\n') {
          if (c === '\n' && line === '' ) continue;
          const cmd = line.trim();
          line = '';
          ch.write(NL);
          if (cmd === 'exit') {
            ch.write(`${NL}CLI session stopped${NL}`);
            ch.exit(0);
            ch.end();
            return;
          }
          if (cmd === 'vsp') {
            if (serial.vspHolder) {
              ch.write(`${NL}Virtual Serial Port is currently in use by another session.${NL}${NL}${PROMPT}`);
              continue;
            }
            serial.vspHolder = holder;
            attached = true;
            lastWasEsc = false;
            ch.write(`${NL}Virtual Serial Port Active: COM2${NL}${NL}Starting virtual serial port.${NL}Press 'ESC (' to return to the CLI Session.${NL}${NL}`);
            serial.on('output', onOutput);
            return; // the rest of this chunk, if any, is the user's next keystrokes: dropped as a real terminal would race
          }
          if (cmd) ch.write(this.command(cmd));
          ch.write(`${NL}${PROMPT}`);
          continue;
        }
        if (c === '\x7f' || c === '\b') {
          if (line) {
            line = line.slice(0, -1);
            ch.write('\b \b');
          }
          continue;
        }
        if (c >= ' ') {
          line += c;
          ch.write(c);
        }
      }
    });
  }

  /** Drop every SSH session (the iLO reset, or the network dropped). */
  dropSessions(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.dropSessions();
    for (const c of this.conns) c.end();
    const ssh = this.ssh;
    this.ssh = undefined;
    if (ssh) await new Promise((r) => ssh.close(r));
  }
}

function same(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}
