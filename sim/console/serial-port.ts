/**
 * A simulated server's serial port (the one the iLO's virtual serial port
 * replaces). The host writes output; clients (the iLO's SSH `vsp`, ipmi_sim's
 * serial-over-LAN bridge) see it and send keystrokes, which the host reads.
 *
 * Events: 'output' (Buffer, from the host), 'input' (Buffer, for the host),
 * 'break' (a serial break reached the host).
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';

export class SimSerialPort extends EventEmitter {
  private recent: Buffer[] = [];
  private recentSize = 0;
  private received: Buffer[] = [];
  private receivedSize = 0;
  /** Who holds the virtual serial port from the iLO CLI (one at a time, as on an iLO). */
  vspHolder: string | undefined;
  private tcp?: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly keepBytes = 64 * 1024) {
    super();
    this.setMaxListeners(0);
  }

  /** The host writes to its serial port. */
  write(data: string | Buffer): void {
    const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (b.length === 0) return;
    this.recent.push(b);
    this.recentSize += b.length;
    while (this.recentSize > this.keepBytes && this.recent.length > 1) this.recentSize -= (this.recent.shift() as Buffer).length;
    this.emit('output', b);
  }

  /** A client types: the bytes reach the host. */
  input(data: Buffer): void {
    this.received.push(data);
    this.receivedSize += data.length;
    while (this.receivedSize > this.keepBytes && this.received.length > 1) this.receivedSize -= (this.received.shift() as Buffer).length;
    this.emit('input', data);
  }

  sendBreak(): void {
    this.emit('break');
  }

  /** What the host wrote lately (the last 64 KiB), for tests. */
  output(): string {
    return Buffer.concat(this.recent).toString('utf8');
  }

  /** What reached the host from clients lately, for tests. */
  inputReceived(): string {
    return Buffer.concat(this.received).toString('utf8');
  }

  /**
   * The port as a TCP endpoint on the loopback: ipmi_sim connects to it
   * (`sol "tcp:127.0.0.1:PORT"`) and bridges serial-over-LAN sessions to it.
   */
  async listenTcp(host = '127.0.0.1'): Promise<number> {
    if (this.tcp) return (this.tcp.address() as { port: number }).port;
    const onOutput = (b: Buffer): void => {
      for (const s of this.sockets) s.write(b);
    };
    this.on('output', onOutput);
    this.tcp = createServer((s) => {
      this.sockets.add(s);
      s.on('data', (d: Buffer) => this.input(d));
      s.on('error', () => undefined);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      this.tcp?.once('error', reject);
      this.tcp?.listen(0, host, () => resolve());
    });
    return (this.tcp.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const tcp = this.tcp;
    this.tcp = undefined;
    if (tcp) await new Promise((r) => tcp.close(r));
    this.removeAllListeners();
  }
}
