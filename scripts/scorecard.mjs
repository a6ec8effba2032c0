// The Flow Library scorecard (`node-red-dev validate`) for this package, run
// the way flows.nodered.org runs it: on the package as npm would publish it
// (`npm pack`, unpacked without node_modules), with the catalogue answered
// locally (scripts/scorecard-catalogue-standin.cjs). node-red-dev exits 0
// even when checks fail, so its JSON is read instead.
//
// Usage: node scripts/scorecard.mjs [--json]   (run `npm run build` first)
// Exit: 0 all checks pass (or fail only as listed in ACCEPTED), 1 otherwise,
//       3 the npm registry cannot be reached (the checks need it).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);

/**
 * Checks that fail on purpose, with why (README "Scorecard"). A listed
 * failure is accepted only for exactly these names; anything else fails.
 */
export const ACCEPTED = {};

/** What each id checks, for the report. */
const TITLES = {
  P01: 'licence',
  P03: 'repository or bugs URL',
  P04: 'package name',
  P05: '"node-red" keyword',
  P06: 'node-red.version admits the latest Node-RED',
  P07: 'engines.node admits the latest Node-RED\'s minimum Node',
  P08: 'no similar package name in the catalogue',
  N01: 'node type names unique in the catalogue',
  N02: 'an example flow for every node',
  D01: 'at most 6 dependencies',
  D02: 'no known-bad package in the dependency tree',
  D03: 'dependency ranges admit the latest versions',
};

export async function registryReachable() {
  try {
    const res = await fetch('https://registry.npmjs.org/node-red-dev', { method: 'HEAD', signal: AbortSignal.timeout(15_000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** Runs node-red-dev on a packed copy; returns { scorecard, log, packed: [file names] }. */
export function runScorecard() {
  const work = mkdtempSync(join(tmpdir(), 'ilo-scorecard-'));
  try {
    const packJson = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const [packed] = JSON.parse(packJson);
    execFileSync('tar', ['-xzf', join(work, packed.filename), '-C', work]);
    const pkgDir = join(work, 'package');
    const out = join(work, 'scorecard.json');
    const bin = join(require.resolve('node-red-dev/package.json'), '..', 'bin', 'run');
    const standin = join(root, 'scripts', 'scorecard-catalogue-standin.cjs');
    const run = spawnSync(process.execPath, [bin, 'validate', '-p', pkgDir, '-o', out], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${standin}`.trim() },
      timeout: 300_000,
    });
    const log = `${run.stdout ?? ''}${run.stderr ?? ''}`;
    let scorecard;
    try {
      scorecard = JSON.parse(readFileSync(out, 'utf8'));
    } catch {
      throw new Error(`node-red-dev wrote no scorecard (exit ${run.status}):\n${log}`);
    }
    return { scorecard, log, packed: packed.files.map((f) => f.path) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The names a failed check is about (packages for D0x, node types for N02). */
function namesOf(id, check, pkg) {
  if (id === 'D03') return check.packages ?? [];
  if (id === 'D02') return check.packages ?? [];
  if (id === 'N02') return nodeTypesWithoutExample(check, pkg);
  return [];
}

/** N02 lists the node types that HAVE an example; the others are the ones missing. */
function nodeTypesWithoutExample(check, pkg) {
  const declared = new Set();
  for (const js of Object.values(pkg['node-red']?.nodes ?? {})) {
    const html = readFileSync(join(root, js.replace(/\.js$/, '.html')), 'utf8');
    for (const m of html.matchAll(/registerType\(\s*['"]([^'"]+)['"]\s*,\s*\{\s*category:\s*['"]([^'"]+)['"]/g)) if (m[2] !== 'config') declared.add(m[1]);
  }
  return [...declared].filter((t) => !(check.nodes ?? []).includes(t));
}

/**
 * Judges a scorecard: every check must pass, except failures listed in
 * ACCEPTED for exactly the listed names. Also checks P05 itself (node-red-dev
 * marks it passed even when the keyword is missing).
 */
export function judge(scorecard, pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')), acceptedFailures = ACCEPTED) {
  const problems = [];
  const accepted = [];
  const stale = [];
  for (const id of Object.keys(TITLES)) {
    const check = scorecard[id];
    if (!check) {
      if (id !== 'P02') problems.push(`${id} (${TITLES[id]}): not in the scorecard (node-red-dev stopped early?)`);
      continue;
    }
    if (check.test === true) {
      if (acceptedFailures[id]) stale.push(`${id} passes now: remove it from ACCEPTED in scripts/scorecard.mjs and from the README`);
      continue;
    }
    const names = namesOf(id, check, pkg);
    const allowed = acceptedFailures[id]?.names ?? [];
    const unexpected = names.filter((n) => !allowed.includes(n));
    if (acceptedFailures[id] && names.length > 0 && unexpected.length === 0) accepted.push(`${id} (${TITLES[id]}) fails for ${names.join(', ')}: accepted, ${acceptedFailures[id].why}`);
    else problems.push(`${id} (${TITLES[id]}) FAILS${names.length ? ` for ${(unexpected.length ? unexpected : names).join(', ')}` : ''}: ${JSON.stringify(check)}`);
  }
  if (!Array.isArray(pkg.keywords) || !pkg.keywords.includes('node-red')) problems.push('P05: package.json keywords lack "node-red" (node-red-dev passes it anyway)');
  return { problems, accepted, stale };
}

async function main() {
  if (!(await registryReachable())) {
    console.error('scorecard: NOT RUN: the npm registry cannot be reached (P06, P07, D02, D03 need it)');
    process.exit(3);
  }
  const { scorecard, log } = runScorecard();
  if (process.argv.includes('--json')) console.log(JSON.stringify(scorecard, null, 2));
  else console.log(log.trim());
  const { problems, accepted, stale } = judge(scorecard);
  for (const a of accepted) console.log(`scorecard: ${a}`);
  for (const s of stale) console.log(`scorecard: NOTE ${s}`);
  for (const p of problems) console.log(`scorecard: ${p}`);
  console.log(problems.length ? `scorecard: ${problems.length} check(s) FAIL` : 'scorecard: every check passes (or fails only as accepted above)');
  process.exit(problems.length ? 1 : 0);
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) await main();
