// Remove compiled files under dist/ whose TypeScript source is gone (a
// renamed or deleted module): tsc never deletes its old output, and a stale
// file would still load, be packed, or run as a test.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const compiled = /\.(js|js\.map|d\.ts|d\.ts\.map)$/;
let removed = 0;

function walk(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      walk(path);
      continue;
    }
    if (!compiled.test(entry)) continue;
    const source = join(root, relative(dist, path)).replace(compiled, '');
    if (!existsSync(`${source}.ts`) && !existsSync(`${source}.mts`) && !existsSync(`${source}.js`)) {
      rmSync(path);
      removed++;
    }
  }
}

if (existsSync(dist)) walk(dist);
if (removed) console.log(`prune-dist: ${removed} stale compiled file(s) removed`);
