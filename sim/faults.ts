/**
 * Faults a simulated iLO can be told to produce, for tests and demos.
 * Every fault may name the command it applies to (a RIBCL command, or a
 * Redfish "METHOD /path/"), fire a number of `times`, and let `after`
 * matching requests through before it fires (a fault at a random point of
 * a longer exchange).
 */

interface FaultScope {
  /** Fire this many times (default: every matching request). */
  times?: number;
  /** Only for requests naming this command. */
  command?: string;
  /** Let this many matching requests through first. */
  after?: number;
}

export type SimFaultKind =
  /** Answer only after this many extra milliseconds. */
  | { kind: 'latency'; ms: number }
  /** Drop the TCP connection instead of answering. */
  | { kind: 'reset' }
  /** Accept the request and never answer. */
  | { kind: 'hang' }
  /** Answer with XML (JSON for Redfish) that does not parse. */
  | { kind: 'malformed' }
  /** Answer with this RIBCL status and message (Redfish: this HTTP status if >= 400, else 500). */
  | { kind: 'error'; status: number; message: string };

export type SimFault = FaultScope & SimFaultKind;

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

  /** The first fault that fires for a request naming these commands; counts it down. */
  take(commands: string[]): SimFault | undefined {
    let i = -1;
    for (const [at, f] of this.faults.entries()) {
      if (f.command && !commands.includes(f.command)) continue;
      if (f.after !== undefined && f.after > 0) {
        f.after -= 1; // this request goes through; the fault waits for a later one
        continue;
      }
      i = at;
      break;
    }
    if (i < 0) return undefined;
    const f = this.faults[i] as SimFault;
    if (f.times !== undefined) {
      f.times -= 1;
      if (f.times <= 0) this.faults.splice(i, 1);
    }
    return f;
  }
}
