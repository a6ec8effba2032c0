/**
 * A process-wide bound on HTTPS requests in flight to iLOs. Hundreds of
 * deploys starting at once would otherwise open hundreds of TLS
 * connections in the same tick, and the event loop (Node-RED's editor,
 * the ramdisk API, every other flow) would stall for the length of the
 * burst. A request waits for a slot before its timeout starts.
 */
let limit = 64;
let inFlight = 0;
const waiting: Array<() => void> = [];

/** Set the bound (default 64); at least 1. Returns the previous value. */
export function setMaxIloRequestsInFlight(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`maxIloRequestsInFlight: expected a whole number >= 1, got ${n}`);
  const previous = limit;
  limit = n;
  while (inFlight < limit && waiting.length) {
    inFlight++;
    waiting.shift()!();
  }
  return previous;
}

export async function withRequestSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (inFlight < limit) inFlight++;
  else await new Promise<void>((resolve) => waiting.push(resolve));
  try {
    return await fn();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else inFlight--;
  }
}

/** Requests in flight and waiting (for tests and diagnostics). */
export function requestSlotUsage(): { inFlight: number; waiting: number; limit: number } {
  return { inFlight, waiting: waiting.length, limit };
}
