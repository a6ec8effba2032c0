/**
 * OpenIPMI's `ipmi_sim` as a simulated iLO's IPMI-over-LAN face, for
 * serial-over-LAN: its `sol` bridges to the simulated server's serial port
 * (a TCP endpoint ipmi_sim connects to), with the iLO account as its
 * administrator. Power and sensors stay with RIBCL/Redfish: no chassis
 * hook is configured. Needs the Debian package `openipmi`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diesWithParent } from '../dies-with-parent';

export interface SimIpmiOptions {
  name: string;
  username: string;
  password: string;
  /** TCP port of the server's serial port on 127.0.0.1 (SimSerialPort.listenTcp). */
  serialPort: number;
  host?: string;
}

export class SimIpmiBmc {
  private stopping = false;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(o: SimIpmiOptions): Promise<SimIpmiBmc> {
    const dir = mkdtempSync(join(tmpdir(), `sim-ipmi-${o.name}-`));
    const state = join(dir, 'state');
    mkdirSync(join(state, 'ipmi_sim', 'bmc'), { recursive: true });
    writeFileSync(join(dir, 'bmc.emu'), 'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n');
    let lastOutput = '';
    for (let attempt = 0; attempt < 4; attempt++) {
      const port = await freeUdpPort(o.host ?? '127.0.0.1');
      const consolePort = await freeTcpPort();
      writeFileSync(join(dir, 'lan.conf'), lanConf({ ...o, port, consolePort }));
      // ipmi_sim dies of SIGPIPE when a console client leaves while it writes; an ignored signal stays ignored across exec.
      // The shell execs the program: it is then the direct child that setpriv ties to this process's life.
      const [program, args] = diesWithParent('ipmi_sim', ['-n', '-c', join(dir, 'lan.conf'), '-f', join(dir, 'bmc.emu'), '-s', state]);
      const child = spawn('/bin/sh', ['-c', 'trap "" PIPE; exec "$@"', 'sh', program, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      child.on('error', (err) => (output += String(err)));
      if (await consoleAnswers(consolePort, child)) return new SimIpmiBmc(port, dir, child);
      lastOutput = output;
      child.kill('SIGKILL');
      if (/not found/.test(output)) break;
    }
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`ipmi_sim did not start (install the Debian package "openipmi"): ${lastOutput.trim()}`);
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const c = this.child;
    if (c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function lanConf(o: SimIpmiOptions & { port: number; consolePort: number }): string {
  const auths = 'none md2 md5 straight';
  const q = (s: string): string => `"${s.replace(/["\\]/g, '')}"`;
  return `name "bmc"
set_working_mc 0x20
  startlan 1
    addr ${o.host ?? '127.0.0.1'} ${o.port}
    priv_limit admin
    allowed_auths_callback ${auths}
    allowed_auths_user ${auths}
    allowed_auths_operator ${auths}
    allowed_auths_admin ${auths}
    guid a123456789abcdefa123456789abcdef
  endlan
  sol "tcp:127.0.0.1:${o.serialPort}" 115200
  console 127.0.0.1 ${o.consolePort}
  user 2 true ${q(o.username)} ${q(o.password)} admin 10 ${auths}
`;
}

/** ipmi_sim is up once its command console prints its prompt. */
async function consoleAnswers(port: number, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      let text = '';
      const done = (v: boolean): void => {
        clearTimeout(t);
        s.destroy();
        resolve(v);
      };
      const t = setTimeout(() => done(false), 1000);
      s.on('data', (d: Buffer) => {
        text += d.toString('latin1');
        if (text.includes('> ')) {
          s.end();
          setTimeout(() => done(true), 20);
        }
      });
      s.on('error', () => done(false));
    });
    if (ok) return child.exitCode === null;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function freeUdpPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, host, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
