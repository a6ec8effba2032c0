/**
 * Per-name ordering: operations on one object name run one after another
 * (publish, replace, unpublish, expiry), different names run in parallel.
 */
export class NameQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(name) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(fn);
    const tail = run.catch(() => undefined);
    this.tails.set(name, tail);
    // `tail` never rejects (see above), so the bookkeeping below cannot either.
    tail.then(
      () => {
        if (this.tails.get(name) === tail) this.tails.delete(name);
      },
      () => undefined,
    );
    return run;
  }

  /** Resolves when everything queued so far has finished. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.tails.values()]);
  }
}

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
