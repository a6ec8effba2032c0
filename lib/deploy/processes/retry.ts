/**
 * Clean-up actions (eject, power off, unpublish) are idempotent, so a
 * failure that may pass (the iLO timed out, dropped the connection, sent a
 * garbled or an error reply, the store's disk hiccuped) is tried again after
 * a pause: a flaky iLO must not leave a server running with media inserted.
 * Failures that cannot pass (credentials, licence, not supported, bad input,
 * a closed store) are not repeated.
 */
import { isLibError, type ErrorCode } from '../../errors';

export interface RetryPolicy {
  /** Attempts in all (default 4). */
  attempts?: number;
  /** Pause before the second attempt, doubled each time (default 1 s). */
  delayMs?: number;
  /** No new attempt starts this long after the first (default 60 s). */
  budgetMs?: number;
}

const PERMANENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['login', 'auth', 'permission', 'licence', 'not-supported', 'missing-tool', 'invalid-input', 'not-allowed', 'closed']);

export function isPermanentFailure(err: unknown): boolean {
  return isLibError(err) && PERMANENT.has(err.code);
}

export async function retryTransient<T>(fn: () => Promise<T>, policy: RetryPolicy = {}): Promise<T> {
  const attempts = Math.max(1, policy.attempts ?? 4);
  const delayMs = policy.delayMs ?? 1000;
  const deadline = Date.now() + (policy.budgetMs ?? 60_000);
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const pause = delayMs * 2 ** (attempt - 1);
      if (attempt >= attempts || isPermanentFailure(err) || Date.now() + pause > deadline) throw err;
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}
