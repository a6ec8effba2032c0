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

/**
 * iLO requests start in one event-loop turn only while the starts of that
 * turn have taken less than this many milliseconds; the rest start on the
 * turns after, in order. A start is mostly a TLS connect (socket set-up,
 * session, ClientHello), about a millisecond of the loop: when a burst of
 * replies frees many slots at once, their successors would otherwise all
 * start in that same turn, and timers and I/O (the editor, the ramdisk API)
 * would wait for all of them. A loop that is not busy never defers.
 */
export const TURN_BUDGET_MS = 4;

/** The per-turn time budget of request starts, process-wide. */
class TurnBudget {
  /** When the first start of this turn began (undefined: none yet). */
  private firstAt?: number;
  private resetQueued = false;
  private readonly deferred: Array<() => void> = [];

  /** A start now, when this turn's budget allows and nothing waits before it. */
  take(): boolean {
    if (this.deferred.length) return false;
    const now = performance.now();
    if (this.firstAt === undefined) {
      this.firstAt = now;
      this.queueReset();
      return true;
    }
    return now - this.firstAt < TURN_BUDGET_MS;
  }

  /** Resolves in a later turn, in order, within that turn's budget. */
  next(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.deferred.push(resolve);
      this.queueReset();
    });
  }

  private queueReset(): void {
    if (this.resetQueued) return;
    this.resetQueued = true;
    // setImmediate: after this turn's I/O callbacks (one queued from the check phase runs a turn later).
    setImmediate(() => {
      this.resetQueued = false;
      this.firstAt = undefined;
      if (!this.deferred.length) return;
      // The deferred start in turn, each resolved one after the other's synchronous part has run.
      const start = performance.now();
      this.firstAt = start;
      const go = (): void => {
        const resolve = this.deferred.shift();
        if (!resolve) return;
        resolve();
        // Resolution runs the start in a microtask: check the budget after it.
        queueMicrotask(() => queueMicrotask(() => (performance.now() - start < TURN_BUDGET_MS ? go() : this.queueReset())));
      };
      go();
      this.queueReset();
    });
  }
}

const turnBudget = new TurnBudget();

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
  return processWide.run(async () => {
    if (!turnBudget.take()) await turnBudget.next();
    return fn();
  });
}

/** Requests in flight and waiting (for tests and diagnostics). */
export function requestSlotUsage(): { inFlight: number; waiting: number; limit: number } {
  return processWide.usage();
}
