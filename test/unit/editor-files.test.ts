/**
 * The editor side of every node, as Node-RED and the Flow Library read it:
 * an inline `registerType` object literal (node-red-dev parses it with
 * acorn), labels through the en-US catalog (every key used exists), help
 * from the locale folder with the usual sections, and one palette look.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'acorn';
import { repoRoot } from '../helpers/env';

type Literal = { type: 'Literal'; value: unknown };
type Prop = { key: { name?: string; value?: string }; value: { type: string; value?: unknown; properties?: Prop[] } };
type ObjectExpr = { type: 'ObjectExpression'; properties: Prop[] };

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
const NODES = Object.keys(pkg['node-red'].nodes);

function source(name: string): { html: string; catalog: Record<string, unknown>; help: string } {
  const dir = join(repoRoot, 'nodes', name);
  const catalog = JSON.parse(readFileSync(join(dir, 'locales', 'en-US', `${name}.json`), 'utf8')) as Record<string, unknown>;
  const helpFile = join(dir, 'locales', 'en-US', `${name}.html`);
  return { html: readFileSync(join(dir, `${name}.html`), 'utf8'), catalog, help: existsSync(helpFile) ? readFileSync(helpFile, 'utf8') : '' };
}

/** The object literal given to RED.nodes.registerType(name, {...}), found the way node-red-dev finds it. */
function definition(html: string, name: string): Map<string, Prop['value']> {
  const scripts = [...html.matchAll(/<script[^>]+type=['"]text\/javascript['"][^>]*>([\s\S]*?)<\/script>/gi)].map((m) => m[1] ?? '');
  assert.equal(scripts.length, 1, 'one inline editor script');
  const ast = parse(scripts[0] as string, { ecmaVersion: 'latest' }) as unknown as { body: Array<{ expression?: { callee?: { property?: { name: string } }; arguments?: Array<Literal | ObjectExpr> } }> };
  const call = ast.body.map((s) => s.expression).find((e) => e?.callee?.property?.name === 'registerType');
  assert.ok(call?.arguments, 'RED.nodes.registerType(...) at the top level');
  const [type, def] = call.arguments;
  assert.equal(type?.type, 'Literal', 'the type is a literal');
  assert.equal((type as Literal).value, name);
  assert.equal(def?.type, 'ObjectExpression', 'the definition is an inline object literal');
  return new Map((def as ObjectExpr).properties.map((p) => [p.key.name ?? String(p.key.value), p.value]));
}

function lookup(catalog: Record<string, unknown>, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), catalog);
}

describe('editor files', () => {
  for (const name of NODES) {
    test(`${name}: inline definition, palette look, every label key in the en-US catalog, help with its sections`, () => {
      const { html, catalog, help } = source(name);
      const def = definition(html, name);
      const literal = (k: string): unknown => {
        const v = def.get(k);
        assert.equal(v?.type, 'Literal', `${k} is a literal (node-red-dev reads it)`);
        return v?.value;
      };
      const category = literal('category');
      assert.ok(def.get('defaults')?.properties, 'defaults is an inline object');
      if (category === 'config') {
        assert.equal(def.has('inputs'), false);
      } else {
        assert.equal(category, 'iLO');
        assert.equal(literal('color'), '#8fd1b0');
        assert.equal(literal('inputs'), 1);
        assert.ok([1, 2].includes(literal('outputs') as number));
        assert.match(String(literal('icon')), /^(font-awesome\/fa-[a-z-]+|ilo-[a-z-]+\.svg)$/);
        assert.equal(def.get('paletteLabel')?.type, 'FunctionExpression', 'the palette label comes from the catalog');
        const defaults = (def.get('defaults')?.properties ?? []).map((p) => p.key.name);
        // Every node is bound to a server (or, for ilo-inventory, to a fleet).
        assert.ok((defaults.includes('server') || defaults.includes('fleet')) && defaults.includes('name'));
      }
      // Every key the template or the script uses exists in the catalog.
      const keys = new Set<string>();
      for (const m of html.matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)) keys.add(m[1] as string);
      for (const m of html.matchAll(/\b_\('([^'"]+)'/g)) keys.add(m[1] as string);
      for (const key of keys) {
        if (key.endsWith('.')) continue; // built from a prefix and a value, checked below
        assert.equal(typeof lookup(catalog, key), 'string', `${key} is in locales/en-US/${name}.json`);
      }
      // No English text between tags of the template (only data-i18n spans, icons, and options that show their own value: sha256, agent_ilo).
      const template = /<script type="text\/html" data-template-name="[^"]+">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
      const bare = template
        .replace(/<style>[\s\S]*?<\/style>/g, '')
        .replace(/<option value="([^"]+)">\1<\/option>/g, '').replace(/<[^>]+>/g, ' ').replace(/&nbsp;/g, ' ').trim();
      assert.equal(bare.replace(/\s+/g, ''), '', `text outside the catalog in the template: ${bare.slice(0, 80)}`);
      // Help: in the locale folder, first paragraph (the palette tooltip), then the sections.
      assert.equal(/data-help-name=/.test(html), false, 'help lives in locales/en-US/, not in the node file');
      assert.match(help, new RegExp(`data-help-name="${name}"`));
      const body = help.replace(/^[\s\S]*?data-help-name="[^"]+">\s*/, '');
      assert.ok(/^<p>\S/.test(body) || /^[A-Z]/.test(body), 'starts with a one-paragraph summary');
      for (const section of ['Inputs', 'Outputs', 'Details', 'Errors', 'Example']) {
        assert.match(help, new RegExp(`(<h3>${section}</h3>|### ${section}\\n)`), `help has "${section}"`);
      }
    });
  }

  test('label keys built from a value exist for every value the dialog offers', () => {
    const vm = source('ilo-virtual-media').catalog as { 'ilo-virtual-media': { short: Record<string, string> } };
    for (const k of ['status', 'insert', 'eject', 'cdrom', 'floppy']) assert.equal(typeof vm['ilo-virtual-media'].short[k], 'string', k);
    const bm = source('ilo-boot-mode').catalog as { 'ilo-boot-mode': { nodeLabel: Record<string, string> } };
    for (const k of ['status', 'set-pending-mode', 'one-time-boot', 'persistent-order', 'msg']) assert.equal(typeof bm['ilo-boot-mode'].nodeLabel[k], 'string', k);
  });
});
