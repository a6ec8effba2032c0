// Runs every compiled test under dist/test with node:test, prints the spec
// output, then a loud list of tests that did not run and one summary line:
//   tests: N passed, N failed[, N skipped]
// Usage: node scripts/run-tests.mjs [substring filters...]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const testDir = join(root, 'dist', 'test');
const resultFile = join(root, '.test-results.json');

function walk(dir) {
  const out = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (e.endsWith('.test.js')) out.push(p);
  }
  return out;
}

if (!existsSync(testDir)) {
  console.error('run-tests: dist/test is missing; run `npm run build` first');
  process.exit(2);
}
const filters = process.argv.slice(2);
const files = walk(testDir)
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`run-tests: no test files match ${filters.join(' ')}`);
  process.exit(2);
}
rmSync(resultFile, { force: true });
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const args = [
  '--enable-source-maps',
  '--test',
  `--test-concurrency=${concurrency}`,
  '--test-timeout=600000',
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  `--test-reporter=${join(root, 'scripts', 'summary-reporter.mjs')}`,
  `--test-reporter-destination=${resultFile}`,
  ...files.map((f) => relative(root, f)),
];
const run = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ILO_DEPLOY_TEST: '1' } });

let summary;
try {
  summary = JSON.parse(readFileSync(resultFile, 'utf8'));
} catch {
  console.error('run-tests: the test runner produced no results (crashed?)');
  console.log('tests: 0 passed, 1 failed');
  process.exit(1);
}
const { counts, skipped, failed } = summary;
if (skipped.length > 0) {
  const bar = '!'.repeat(78);
  console.log(`\n${bar}\n!!! ${skipped.length} TEST(S) DID NOT RUN on this machine:`);
  for (const s of skipped) console.log(`!!!   ${s.file}: ${s.name}${s.reason ? ` -- ${s.reason}` : ''}`);
  console.log(`!!! Run \`npm run provision\` as root on Debian to install what they need.\n${bar}`);
}
if (failed.length > 0) {
  console.log('\nFailed tests:');
  for (const f of failed) console.log(`  ${f.file}: ${f.name}\n      ${f.error.split('\n')[0]}`);
}
const failedCount = counts.failed + (run.status !== 0 && counts.failed === 0 ? 1 : 0);
console.log(`\ntests: ${counts.passed} passed, ${failedCount} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`);
process.exit(failedCount > 0 ? 1 : 0);
