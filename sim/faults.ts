/**
 * Faults a simulated iLO can be told to produce, for tests and demos.
 */

export type SimFault =
  /** Answer only after this many extra milliseconds. */
  | { kind: 'latency'; ms: number; times?: number; command?: string }
  /** Drop the TCP connection instead of answering. */
  | { kind: 'reset'; times?: number; command?: string }
  /** Accept the request and never answer. */
  | { kind: 'hang'; times?: number; command?: string }
  /** Answer with XML that does not parse. */
  | { kind: 'malformed'; times?: number; command?: string }
  /** Answer with this RIBCL status and message. */
  | { kind: 'error'; status: number; message: string; times?: number; command?: string };

export class FaultQueue {
  private faults: SimFault[] = [];

  add(fault: SimFault): void {
    this.faults.push({ ...fault });
  }

  clear(): void {
    this.faults = [];
  }

  list(): SimFault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  /** The first fault that applies to a request naming these commands; counts it down. */
  take(commands: string[]): SimFault | undefined {
    const i = this.faults.findIndex((f) => !f.command || commands.includes(f.command));
    if (i < 0) return undefined;
    const f = this.faults[i] as SimFault;
    if (f.times !== undefined) {
      f.times -= 1;
      if (f.times <= 0) this.faults.splice(i, 1);
    }
    return f;
  }
}
