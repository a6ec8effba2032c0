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
// The editor's console terminal (xterm.js), served by Node-RED from the
// package's resources/ folder; generated here from the installed packages.
const xtermOut = join(root, 'resources', 'xterm');
const vendored = [
  ['@xterm/xterm/lib/xterm.mjs', 'xterm.mjs'],
  ['@xterm/xterm/css/xterm.css', 'xterm.css'],
  ['@xterm/xterm/LICENSE', 'LICENSE-xterm'],
  ['@xterm/addon-fit/lib/addon-fit.mjs', 'addon-fit.mjs'],
  ['@xterm/addon-fit/LICENSE', 'LICENSE-addon-fit'],
];
if (existsSync(join(root, 'node_modules', '@xterm', 'xterm'))) {
  for (const [from, to] of vendored) cpSync(join(root, 'node_modules', from), join(xtermOut, to));
} else if (!existsSync(join(xtermOut, 'xterm.mjs'))) {
  console.warn('copy-assets: @xterm/xterm is not installed: the console sidebar will have no terminal');
}
const resources = join(root, 'resources');
if (existsSync(resources)) cpSync(resources, join(root, 'dist', 'resources'), { recursive: true });
console.log(`copy-assets: ${copied} editor asset(s) copied to dist/nodes`);
