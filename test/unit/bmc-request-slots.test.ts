/** The process-wide bound on iLO requests in flight. */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { requestSlotUsage, setMaxIloRequestsInFlight } from '../../lib/bmc';
import { TURN_BUDGET_MS, withRequestSlot } from '../../lib/bmc/request-slots';

function deferred(): { promise: Promise<void>; resolve(): void; reject(e: Error): void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('iLO requests in flight', () => {
  const original = requestSlotUsage().limit;
  afterEach(() => setMaxIloRequestsInFlight(original));

  test('at most the bound run at once; the others start in order as slots free, also after a failure', async () => {
    setMaxIloRequestsInFlight(2);
    const gates = Array.from({ length: 5 }, deferred);
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      withRequestSlot(async () => {
        started.push(i);
        await g.promise;
        return i;
      }),
    );
    await tick();
    assert.deepEqual(started, [0, 1]);
    assert.deepEqual(requestSlotUsage(), { inFlight: 2, waiting: 3, limit: 2 });
    gates[1]!.reject(new Error('iLO reset the connection'));
    await assert.rejects(runs[1]!, /reset/);
    await tick();
    assert.deepEqual(started, [0, 1, 2], 'a failed request frees its slot');
    gates[0]!.resolve();
    gates[2]!.resolve();
    await tick();
    assert.deepEqual(started, [0, 1, 2, 3, 4]);
    gates[3]!.resolve();
    gates[4]!.resolve();
    assert.deepEqual(await Promise.all([runs[0], runs[2], runs[3], runs[4]]), [0, 2, 3, 4]);
    assert.deepEqual(requestSlotUsage(), { inFlight: 0, waiting: 0, limit: 2 });
  });

  test('raising the bound starts waiting requests at once', async () => {
    setMaxIloRequestsInFlight(1);
    const gate = deferred();
    const started: number[] = [];
    const runs = [0, 1, 2].map((i) => withRequestSlot(async () => (started.push(i), gate.promise)));
    await tick();
    assert.deepEqual(started, [0]);
    setMaxIloRequestsInFlight(3);
    await tick();
    assert.deepEqual(started, [0, 1, 2]);
    gate.resolve();
    await Promise.all(runs);
    assert.equal(requestSlotUsage().inFlight, 0);
  });

  test('the bound must be a whole number of at least 1, and the error names the setting', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => setMaxIloRequestsInFlight(bad), /maxIloRequestsInFlight: expected a whole number >= 1/);
  });

  test('requests start in one event-loop turn only while that turn has time left (a burst of TLS connects stalls the loop); the rest start in order on the next turns', async () => {
    setMaxIloRequestsInFlight(64);
    await tick(); // the turn budget of the tests before is spent by now
    await tick();
    const gate = deferred();
    const started: number[] = [];
    // Each start takes 1 ms of the loop (as a TLS connect does), so 20 of them do not fit in one turn.
    const busy = (ms: number): void => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    const runs = Array.from({ length: 20 }, (_, i) =>
      withRequestSlot(async () => {
        started.push(i);
        busy(1);
        await gate.promise;
      }),
    );
    const perTurn = [started.length];
    while (started.length < 20 && perTurn.length < 100) {
      await tick();
      perTurn.push(started.length);
    }
    assert.ok(perTurn[0]! < 20 && perTurn[0]! >= 1, `started in the first turn: ${perTurn[0]}`);
    assert.ok(perTurn[0]! <= Math.ceil(TURN_BUDGET_MS) + 1, `started in the first turn: ${perTurn[0]} (${TURN_BUDGET_MS} ms of 1 ms starts)`);
    assert.equal(started.length, 20, 'all started within a few turns');
    assert.deepEqual(started, Array.from({ length: 20 }, (_, i) => i), 'in the order asked');
    gate.resolve();
    await Promise.all(runs);
    assert.deepEqual(requestSlotUsage(), { inFlight: 0, waiting: 0, limit: 64 });
  });
});
