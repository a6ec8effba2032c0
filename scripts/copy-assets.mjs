// Copy each node's editor files (.html, locales/, icons/) beside its compiled
// .js under dist/, where Node-RED looks for them.
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const src = join(root, 'nodes');
if (!existsSync(src)) process.exit(0);
let copied = 0;
for (const node of readdirSync(src)) {
  const dir = join(src, node);
  if (!statSync(dir).isDirectory()) continue;
  for (const entry of readdirSync(dir)) {
    if (entry.endsWith('.html') || entry === 'locales' || entry === 'icons') {
      cpSync(join(dir, entry), join(root, 'dist', 'nodes', node, entry), { recursive: true });
      copied++;
    }
  }
}
const resources = join(root, 'resources');
if (existsSync(resources)) cpSync(resources, join(root, 'dist', 'resources'), { recursive: true });
console.log(`copy-assets: ${copied} editor asset(s) copied to dist/nodes`);
