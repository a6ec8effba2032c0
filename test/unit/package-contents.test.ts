/**
 * What `npm pack` would publish: every source map it ships points at
 * sources it also ships (the TypeScript of lib/, nodes/, sim/), and none of
 * the tests, their fixtures or the demo's scripts go out.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/env';

test('the packed package: each source map resolves to shipped sources; no tests or fixtures', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [pack] = JSON.parse(out) as Array<{ files: Array<{ path: string }> }>;
  const files = new Set(pack!.files.map((f) => f.path));
  const maps = [...files].filter((f) => f.endsWith('.js.map'));
  assert.ok(maps.length > 50, `source maps shipped (${maps.length})`);
  const unresolved: string[] = [];
  for (const map of maps) {
    const m = JSON.parse(readFileSync(join(repoRoot, map), 'utf8')) as { sources: string[]; sourceRoot?: string };
    for (const s of m.sources) {
      const target = normalize(join(dirname(map), m.sourceRoot ?? '', s));
      if (!files.has(target)) unresolved.push(`${map} -> ${target}`);
    }
  }
  assert.deepEqual(unresolved, [], 'every source a map names is in the package');
  for (const js of [...files].filter((f) => f.endsWith('.js') && f.startsWith('dist/'))) {
    const ref = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(repoRoot, js), 'utf8'))?.[1];
    if (ref) assert.ok(files.has(normalize(join(dirname(js), ref))), `${js}: its map ${ref} is shipped`);
  }
  const unwanted = [...files].filter((f) => /^(test|dist\/test|bench|dist\/bench|scripts|dist\/scripts)\//.test(f) || f.includes('fixtures'));
  assert.deepEqual(unwanted, [], 'no tests, fixtures, benches or demo scripts');
});
