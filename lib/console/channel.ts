/**
 * One open serial console, whichever way it was reached: a byte stream
 * both ways (what the server writes to its serial port; keystrokes for it),
 * a break, and an end.
 */
import type { Duplex } from 'node:stream';

export type ConsoleVia = 'ipmi' | 'ssh';

export interface ConsoleEnd {
  /** `closed`: by close(); `remote`: the iLO, the network or the tool ended it. */
  by: 'closed' | 'remote';
  /** Why, when the remote side ended it and said so. */
  reason?: string;
}

export interface ConsoleChannel {
  readonly via: ConsoleVia;
  /** `host:port` of what was reached. */
  readonly target: string;
  /** Read: serial output, bytes. Write: keystrokes, bytes. */
  readonly stream: Duplex;
  /** Settles once the session is over, however it ended. */
  readonly ended: Promise<ConsoleEnd>;
  /** Send a serial break (a Linux magic SysRq starts with one). Rejects with `not-supported` where the way in has none. */
  sendBreak(): Promise<void>;
  /** The terminal's size, where the way in carries it (SSH); a serial port itself has none. */
  resize(cols: number, rows: number): void;
  /** End the session. Safe to call twice. */
  close(): Promise<ConsoleEnd>;
}
