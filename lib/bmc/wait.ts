/**
 * Polling until the server reaches a power state, shared by every provider.
 */
import { BmcError, isBmcError } from './errors';
import type { PowerState, WaitOptions } from './types';

export async function pollPowerState(
  read: () => Promise<PowerState>,
  target: PowerState,
  options: WaitOptions,
  where?: string,
): Promise<PowerState> {
  const interval = Math.max(10, options.intervalMs ?? 2000);
  const deadline = Date.now() + options.timeoutMs;
  let last: PowerState | undefined;
  let lastError: unknown;
  if (options.delayFirstRead) await sleep(Math.min(interval, options.timeoutMs), options.signal);
  for (;;) {
    if (options.signal?.aborted) throw new BmcError('timeout', `waiting for power ${target} was cancelled`, { target: where });
    try {
      last = await read();
      if (last === target) return last;
    } catch (err) {
      // A flaky read does not end the wait; a refusal does.
      if (!isBmcError(err) || !err.retryable) throw err;
      lastError = err;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const now = last ? `it is still ${last}` : `no power state could be read (${(lastError as Error)?.message ?? 'no answer'})`;
      throw new BmcError('timeout', `server did not reach power ${target} within ${Math.round(options.timeoutMs / 1000)} s: ${now}`, {
        target: where,
      });
    }
    await sleep(Math.min(interval, left), options.signal);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
