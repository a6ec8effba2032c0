/**
 * `npm run bench [-- suite ...]`: every benchmark suite, or the named ones.
 * Each prints its figures and the ratio against its baseline, measured in
 * the same run. Benchmarks are not part of `npm test`.
 */
import { managementBench } from './management';
import { powerBench } from './power';
import { storeBench } from './store';
import type { BenchSuite } from './suite';
import { mediaBench } from './media';
import { ipmiBench } from './ipmi';
import { iscsiBench } from './iscsi';
import { deployBench } from './deploy';
import { sharedBench } from './shared';

const suites: BenchSuite[] = [
  // Suites register here, one line each.
  powerBench,
  mediaBench,
  storeBench,
  ipmiBench,
  iscsiBench,
  managementBench,
  deployBench,
  sharedBench,
];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const chosen = wanted.length ? suites.filter((s) => wanted.includes(s.name)) : suites;
  if (chosen.length === 0) {
    console.error(`bench: no suite named ${wanted.join(', ')}; have ${suites.map((s) => s.name).join(', ')}`);
    process.exit(2);
  }
  for (const s of chosen) {
    try {
      await s.run();
    } catch (err) {
      console.error(`bench ${s.name}: FAILED: ${(err as Error).stack ?? String(err)}`);
      process.exitCode = 1;
    }
  }
}

void main();
