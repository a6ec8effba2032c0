/**
 * The Flow Library scorecard (`node-red-dev validate`) on the package as npm
 * would publish it, with the catalogue answered locally
 * (scripts/scorecard.mjs). node-red-dev exits 0 even on failures, so its
 * JSON is judged: every check passes, or fails only as the script's
 * ACCEPTED list says (and the README explains).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { before, describe, test } from 'node:test';
import { repoRoot } from '../helpers/env';

type Scorecard = Record<string, { test: boolean; [k: string]: unknown }>;
interface ScorecardScript {
  ACCEPTED: Record<string, { names: string[]; why: string }>;
  registryReachable(): Promise<boolean>;
  runScorecard(): { scorecard: Scorecard; log: string; packed: string[] };
  judge(scorecard: Scorecard, pkg?: unknown, accepted?: Record<string, { names: string[]; why: string }>): { problems: string[]; accepted: string[]; stale: string[] };
}

let script: ScorecardScript;
let reachable = false;

before(async () => {
  script = (await import(pathToFileURL(join(repoRoot, 'scripts', 'scorecard.mjs')).href)) as ScorecardScript;
  reachable = await script.registryReachable();
  if (!reachable) process.stderr.write('\n!!! NOT RUN: the npm registry cannot be reached; the scorecard needs it (P06, P07, D02, D03)\n');
});

describe('Flow Library scorecard', () => {
  test('node-red-dev validate on the packed package: every check passes, or fails only as accepted', async (t) => {
    if (!reachable) return t.skip('NOT RUN: the npm registry cannot be reached (P06, P07, D02, D03 need it)');
    const { scorecard, log, packed } = script.runScorecard();
    const verdict = script.judge(scorecard);
    for (const line of [...verdict.accepted, ...verdict.stale]) t.diagnostic(line);
    assert.deepEqual(verdict.problems, [], `${verdict.problems.join('\n')}\n--- node-red-dev said:\n${log}`);
    // The checks that must pass outright, whatever is accepted elsewhere.
    for (const id of ['P01', 'P03', 'P04', 'P05', 'P06', 'P07', 'P08', 'N01', 'D01', 'D02']) assert.equal(scorecard[id]?.test, true, `${id}: ${JSON.stringify(scorecard[id])}`);
    assert.ok(Number(scorecard.D01?.total) <= 6, 'at most 6 runtime dependencies');
    // What it judged is what npm would publish: every node's runtime, editor template and catalog.
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
    for (const js of Object.values(pkg['node-red'].nodes)) {
      const base = js.replace(/\.js$/, '');
      const name = base.split('/').pop() as string;
      for (const f of [js, `${base}.html`, base.replace(/[^/]+$/, `locales/en-US/${name}.json`)]) assert.ok(packed.includes(f), `${f} is in the package`);
    }
    assert.ok(packed.some((f) => f.startsWith('examples/') && f.endsWith('.json')), 'the examples are in the package');
    assert.ok(!packed.some((f) => f.startsWith('dist/test/') || f.startsWith('test/')), 'no tests in the package');
  });

  test('the judge fails on any check that is not accepted, for names that are not accepted, and on a missing node-red keyword', () => {
    const pass = { test: true };
    const all: Scorecard = { P01: pass, P03: pass, P04: pass, P05: pass, P06: pass, P07: pass, P08: pass, N01: pass, N02: { test: true, nodes: [] }, D01: { test: true, total: 2 }, D02: pass, D03: pass };
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(script.judge(all, pkg).problems, []);
    assert.match(script.judge({ ...all, P07: { test: false, version: '>=20 <22' } }, pkg).problems.join('\n'), /^P07 .* FAILS/m);
    assert.match(script.judge({ ...all, D03: { test: false, packages: ['undici'] } }, pkg).problems.join('\n'), /D03 .* FAILS for undici/);
    const acceptExeca = { D03: { names: ['execa'], why: 'a test' } };
    assert.deepEqual(script.judge({ ...all, D03: { test: false, packages: ['execa'] } }, pkg, acceptExeca).problems, []);
    assert.match(script.judge({ ...all, D03: { test: false, packages: ['execa', 'undici'] } }, pkg, acceptExeca).problems.join('\n'), /D03 .* FAILS for undici/);
    assert.match(script.judge(all, pkg, acceptExeca).stale.join('\n'), /D03 passes now/);
    assert.match(script.judge({ ...all, N02: { test: false, nodes: ['ilo-deploy-flow'] } }, pkg).problems.join('\n'), /N02 .* FAILS for ilo-power/);
    assert.match(script.judge({ ...all, D01: { test: false, total: 7 } }, pkg).problems.join('\n'), /D01/);
    const noKeyword = { ...pkg, keywords: ['hpe'] };
    assert.match(script.judge(all, noKeyword).problems.join('\n'), /P05: package\.json keywords lack "node-red"/);
    const { P08: _dropped, ...missing } = all;
    assert.match(script.judge(missing, pkg).problems.join('\n'), /P08 .*not in the scorecard/);
  });
});
