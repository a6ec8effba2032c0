/**
 * Bounds on HTTPS requests in flight to iLOs.
 *
 * A process-wide bound: hundreds of deploys starting at once would
 * otherwise open hundreds of TLS connections in the same tick, and the
 * event loop (Node-RED's editor, the ramdisk API, every other flow) would
 * stall for the length of the burst. Each client also bounds its own iLO
 * (`maxConnections`), and takes its own slot first, so that requests
 * queued behind one busy iLO never hold process-wide slots other iLOs could
 * use. A request waits for its slots before its timeout starts.
 */

/** A counting semaphore: at most `limit` holders, the others wait in order. */
export class Slots {
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private max: number) {}

  get limit(): number {
    return this.max;
  }

  set limit(n: number) {
    this.max = n;
    while (this.inFlight < this.max && this.waiting.length) {
      this.inFlight++;
      this.waiting.shift()!();
    }
  }

  usage(): { inFlight: number; waiting: number; limit: number } {
    return { inFlight: this.inFlight, waiting: this.waiting.length, limit: this.max };
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inFlight < this.max) this.inFlight++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      // Hand the slot over, unless the bound was lowered below what runs.
      if (this.inFlight <= this.max && this.waiting.length) this.waiting.shift()!();
      else this.inFlight--;
    }
  }
}

const processWide = new Slots(64);

/** Set the bound (default 64); at least 1. Returns the previous value. */
export function setMaxIloRequestsInFlight(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`maxIloRequestsInFlight: expected a whole number >= 1, got ${n}`);
  const previous = processWide.limit;
  processWide.limit = n;
  return previous;
}

export function withRequestSlot<T>(fn: () => Promise<T>): Promise<T> {
  return processWide.run(fn);
}

/** Requests in flight and waiting (for tests and diagnostics). */
export function requestSlotUsage(): { inFlight: number; waiting: number; limit: number } {
  return processWide.usage();
}
