/**
 * Which node types a Node-RED module registers, read the way the editor and
 * the Flow Library scorecard read them: from the `RED.nodes.registerType`
 * calls in each node set's .html file (type name, whether it is a config
 * node, and which of its properties point at a config node).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface NodeTypeInfo {
  type: string;
  module: string;
  config: boolean;
  /** Property name -> the config node type it references (e.g. server -> ilo-config). */
  refs: Record<string, string>;
}

/** The `{ ... }` block that starts at `open` (a "{"), braces balanced. */
function block(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(open, i + 1);
  }
  return text.slice(open);
}

/** The text of a `{ … }` block outside its nested blocks. */
function topLevel(body: string): string {
  let out = '';
  let depth = 0;
  for (const ch of body) {
    if (ch === '{') depth++;
    else if (ch === '}') depth--;
    else if (depth === 1) out += ch;
  }
  return out;
}

export function typesFromHtml(html: string, module: string): NodeTypeInfo[] {
  const out: NodeTypeInfo[] = [];
  const re = /RED\.nodes\.registerType\(\s*['"]([^'"]+)['"]\s*,\s*\{/g;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    const def = block(html, re.lastIndex - 1);
    const refs: Record<string, string> = {};
    const d = /\bdefaults\s*:\s*\{/.exec(def);
    if (d) {
      const defaults = block(def, d.index + d[0].length - 1);
      // Each property's own { … } block, nested braces (a validate function) included.
      const prop = /([A-Za-z_$][\w$]*)\s*:\s*\{/g;
      prop.lastIndex = 1;
      for (let e = prop.exec(defaults); e; e = prop.exec(defaults)) {
        const body = block(defaults, prop.lastIndex - 1);
        const t = /\btype\s*:\s*['"]([\w-]+)['"]/.exec(topLevel(body));
        if (t) refs[e[1] as string] = t[1] as string;
        prop.lastIndex += body.length - 1;
      }
    }
    out.push({ type: m[1] as string, module, config: /\bcategory\s*:\s*['"]config['"]/.test(def), refs });
  }
  return out;
}

/** The types of a module with a `node-red.nodes` section in its package.json (the .html beside each listed .js). */
export function moduleNodeTypes(packageDir: string): NodeTypeInfo[] {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { name: string; 'node-red'?: { nodes?: Record<string, string> } };
  return Object.values(pkg['node-red']?.nodes ?? {}).flatMap((js) => {
    const html = join(packageDir, js.replace(/\.c?js$/, '.html'));
    return existsSync(html) ? typesFromHtml(readFileSync(html, 'utf8'), pkg.name) : [];
  });
}

/** Node-RED's core nodes (from the installed @node-red/nodes). */
export function coreNodeTypes(): NodeTypeInfo[] {
  const coreDir = join(dirname(require.resolve('@node-red/nodes/package.json')), 'core');
  const out: NodeTypeInfo[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith('.html')) out.push(...typesFromHtml(readFileSync(p, 'utf8'), 'node-red'));
    }
  };
  walk(coreDir);
  return out;
}

/** Where an installed module lives, or undefined. */
export function installedModuleDir(name: string, from: string): string | undefined {
  try {
    return dirname(require.resolve(`${name}/package.json`, { paths: [from] }));
  } catch {
    return undefined;
  }
}

/** Types every flow export may hold whatever is installed. */
export const STRUCTURAL_TYPES = new Set(['tab', 'subflow', 'group', 'junction', 'global-config']);
