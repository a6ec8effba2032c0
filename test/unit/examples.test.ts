/**
 * The example flows as Node-RED's Import > Examples menu and the Flow
 * Library scorecard see them: each file a flow export (a JSON array), made
 * of node types that Node-RED core, this package or (dashboard examples
 * only) Dashboard 2.0 provide, every node type of this package shown at
 * least once (scorecard N02), configuration nodes referenced consistently,
 * and files that can be imported together without clashing.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot } from '../helpers/env';
import { STRUCTURAL_TYPES, coreNodeTypes, installedModuleDir, moduleNodeTypes, type NodeTypeInfo } from '../helpers/node-types';

type FlowNode = Record<string, unknown> & { id: string; type: string; z?: string; wires?: string[][] };

const DASHBOARD = '@flowfuse/node-red-dashboard';
const examplesDir = join(repoRoot, 'examples');
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string };

function exampleFiles(dir = examplesDir): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((e) => {
      const p = join(dir, e);
      return statSync(p).isDirectory() ? exampleFiles(p) : e.endsWith('.json') ? [p] : [];
    });
}

const files = exampleFiles().map((path) => ({ path, name: relative(examplesDir, path), text: readFileSync(path, 'utf8') }));
const isDashboardFile = (name: string): boolean => name.startsWith('dashboard/');
const parsed = (text: string): FlowNode[] => JSON.parse(text) as FlowNode[];

const core = coreNodeTypes();
const ours = moduleNodeTypes(repoRoot);
const dashboardDir = installedModuleDir(DASHBOARD, repoRoot);
const dashboard = dashboardDir ? moduleNodeTypes(dashboardDir) : [];
const dashboardSkip = dashboardDir ? false : `NOT RUN: ${DASHBOARD} is not installed (it is a dev dependency: npm install)`;
if (dashboardSkip) process.stderr.write(`\n!!! ${dashboardSkip}\n`);

function typeTable(withDashboard: boolean): Map<string, NodeTypeInfo> {
  return new Map([...core, ...ours, ...(withDashboard ? dashboard : [])].map((t) => [t.type, t]));
}

describe('example flows', () => {
  test('there are examples for the core-only flows and for the dashboard, named "NN - Description.json"', () => {
    const names = files.map((f) => f.name);
    assert.ok(names.filter((n) => n.startsWith('flows/')).length >= 5, names.join(', '));
    assert.ok(names.some(isDashboardFile), names.join(', '));
    for (const n of names) assert.match(n.split('/').pop() as string, /^\d\d - [^/]+\.json$/, n);
  });

  test('every file is a flow export: a JSON array of nodes with unique ids, each tab with a comment node explaining it', () => {
    for (const f of files) {
      const nodes = JSON.parse(f.text) as unknown;
      assert.ok(Array.isArray(nodes), `${f.name} must be a JSON array (an object wrapper is skipped by Import and the scorecard)`);
      const ids = (nodes as FlowNode[]).map((n) => n.id);
      assert.equal(new Set(ids).size, ids.length, `${f.name}: duplicate ids`);
      for (const tab of (nodes as FlowNode[]).filter((n) => n.type === 'tab')) {
        assert.ok(
          (nodes as FlowNode[]).some((n) => n.type === 'comment' && n.z === tab.id && typeof n.info === 'string' && (n.info as string).length > 80),
          `${f.name}: tab ${tab.id} has no comment node explaining it`,
        );
      }
    }
  });

  test('the core-only examples use only node types of Node-RED core and this package', () => {
    const known = typeTable(false);
    for (const f of files.filter((x) => !isDashboardFile(x.name))) {
      for (const n of parsed(f.text)) {
        if (STRUCTURAL_TYPES.has(n.type)) continue;
        const t = known.get(n.type);
        assert.ok(t, `${f.name}: node ${n.id} has type ${n.type}, which neither Node-RED core nor ${pkg.name} provides (one missing type stops every flow)`);
      }
    }
  });

  test('the dashboard examples use only Node-RED core, this package and Dashboard 2.0, and declare both modules', { skip: dashboardSkip }, () => {
    const known = typeTable(true);
    for (const f of files.filter((x) => isDashboardFile(x.name))) {
      const nodes = parsed(f.text);
      for (const n of nodes) {
        if (STRUCTURAL_TYPES.has(n.type)) continue;
        assert.ok(known.get(n.type), `${f.name}: node ${n.id} has an unknown type ${n.type}`);
      }
      assert.ok(nodes.some((n) => known.get(n.type)?.module === DASHBOARD), `${f.name} uses no dashboard node`);
      const global = nodes.find((n) => n.type === 'global-config');
      const modules = (global?.modules ?? {}) as Record<string, string>;
      assert.ok(modules[DASHBOARD] && modules[pkg.name], `${f.name}: its global-config node must list ${DASHBOARD} and ${pkg.name} in "modules" (got ${JSON.stringify(modules)})`);
      for (const type of ['ui-base', 'ui-page', 'ui-group', 'ui-theme']) assert.ok(nodes.some((n) => n.type === type), `${f.name} lacks its ${type} node`);
    }
  });

  test('every node type of this package that is not a config node appears in an example (scorecard N02)', () => {
    const used = new Set(files.flatMap((f) => parsed(f.text).map((n) => n.type)));
    const regular = ours.filter((t) => !t.config).map((t) => t.type);
    for (const t of ['ilo-power', 'ilo-virtual-media', 'ilo-boot-mode', 'ilo-health', 'ilo-deploy-flow']) assert.ok(regular.includes(t), `types read from the package: ${regular.join(', ')}`);
    assert.deepEqual(
      regular.filter((t) => !used.has(t)),
      [],
      'node types without an example',
    );
  });

  test('config references point at a config node of the right type in the same file; every config node is used', { skip: dashboardSkip }, () => {
    const known = typeTable(true);
    for (const f of files) {
      const nodes = parsed(f.text);
      const byId = new Map(nodes.map((n) => [n.id, n]));
      const referenced = new Set<string>();
      for (const n of nodes) {
        const refs = known.get(n.type)?.refs ?? {};
        for (const [prop, configType] of Object.entries(refs)) {
          if (!known.get(configType)?.config) continue;
          const v = n[prop];
          if (v === undefined || v === '') continue;
          const target = byId.get(String(v));
          assert.ok(target, `${f.name}: ${n.type} ${n.id}.${prop} points at ${String(v)}, which is not in the file`);
          assert.equal(target.type, configType, `${f.name}: ${n.type} ${n.id}.${prop} must point at a ${configType}`);
          referenced.add(target.id);
        }
      }
      for (const n of nodes.filter((x) => known.get(x.type)?.config && !STRUCTURAL_TYPES.has(x.type))) {
        assert.equal(n.z, undefined, `${f.name}: config node ${n.id} should be global (no z) so several examples share it`);
        assert.ok(referenced.has(n.id), `${f.name}: config node ${n.id} (${n.type}) is not used by any node`);
      }
    }
  });

  test('every node sits on a tab of its file and wires only to nodes of its file', () => {
    for (const f of files) {
      const nodes = parsed(f.text);
      const ids = new Set(nodes.map((n) => n.id));
      const tabs = new Set(nodes.filter((n) => n.type === 'tab').map((n) => n.id));
      for (const n of nodes) {
        if (n.z !== undefined) assert.ok(tabs.has(n.z), `${f.name}: ${n.id} is on ${n.z}, not a tab of this file`);
        for (const port of n.wires ?? []) for (const to of port) assert.ok(ids.has(to), `${f.name}: ${n.id} is wired to ${to}, which is not in the file`);
      }
      const catches = nodes.filter((n) => n.type === 'catch' && Array.isArray(n.scope));
      for (const c of catches) for (const id of c.scope as string[]) assert.ok(ids.has(id), `${f.name}: catch ${c.id} watches ${id}, which is not in the file`);
    }
  });

  test('the examples can be imported together: shared ids are identical config nodes, HTTP endpoints do not clash', () => {
    const seen = new Map<string, { file: string; node: FlowNode }>();
    const endpoints = new Map<string, string>();
    for (const f of files) {
      for (const n of parsed(f.text)) {
        const prev = seen.get(n.id);
        if (prev) {
          assert.equal(n.z, undefined, `${f.name} and ${prev.file} both hold node ${n.id}`);
          assert.deepEqual(n, prev.node, `${f.name} and ${prev.file} hold different versions of config node ${n.id}`);
        } else seen.set(n.id, { file: f.name, node: n });
        if (n.type === 'http in') {
          const key = `${String(n.method).toUpperCase()} ${String(n.url)}`;
          assert.equal(endpoints.get(key), undefined, `${key} is served by ${endpoints.get(key)} and ${f.name}`);
          endpoints.set(key, f.name);
        }
      }
    }
    // Node-RED serves every http in on one router, the first route registered winning: no two patterns may match one path.
    const pattern = (url: string): RegExp => new RegExp(`^${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:\w+/g, '[^/]+')}/?$`);
    const sample = (url: string): string => url.replace(/:\w+/g, 'x1');
    const keys = [...endpoints.keys()];
    for (const a of keys) {
      for (const b of keys) {
        const [verbA, urlA] = a.split(' ') as [string, string];
        const [verbB, urlB] = b.split(' ') as [string, string];
        if (a === b || verbA !== verbB) continue;
        assert.ok(!pattern(urlB).test(sample(urlA)), `${a} (${endpoints.get(a)}) is also matched by ${b} (${endpoints.get(b)})`);
      }
    }
    // One deploy API for the three processes: the process is the path's :method.
    for (const ep of ['POST /:method/deploy', 'GET /:method/deploy/:id', 'DELETE /:method/deploy/:id']) assert.ok(endpoints.has(ep), `no example serves ${ep}`);
    for (const ep of ['POST /servers/:name/power', 'GET /servers/:name/health']) assert.ok(endpoints.has(ep), `no example serves ${ep}`);
  });

  test('the deploy example serves every process and server through one fleet deploy node answering "when started", wired http in -> ilo-deploy-flow -> http response', () => {
    const f = files.find((x) => /^flows\/\d\d - Deploy with agent_ilo, iscsi_ilo or pxe_ilo\.json$/.test(x.name));
    assert.ok(f, 'no "Deploy with agent_ilo, iscsi_ilo or pxe_ilo" example');
    const nodes = parsed(f.text);
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const deployNodes = nodes.filter((n) => n.type === 'ilo-deploy-flow');
    assert.equal(deployNodes.length, 1, `${f.name}: one deploy node for the whole fleet`);
    const d = deployNodes[0]!;
    assert.deepEqual([d.target, byId.get(String(d.fleet))?.type, d.serverName, d.method, d.action, d.respond], ['fleet', 'ilo-fleet', '', 'msg', 'msg', 'started'], `${f.name}: ${d.id}`);
    for (const h of nodes.filter((n) => n.type === 'http in')) assert.deepEqual(h.wires, [[d.id]], `${h.id} goes straight to the deploy node`);
    // Its first output reaches the http response through at most one switch (inject results go to the debug sidebar).
    const next = (id: string): FlowNode[] => (byId.get(id)?.wires?.[0] ?? []).map((w) => byId.get(w)!);
    const reach = next(d.id).flatMap((n) => (n.type === 'switch' ? next(n.id) : [n]));
    assert.ok(reach.some((n) => n.type === 'http response'), `${f.name}: the deploy node answers through an http response node`);
    const injected = nodes.filter((n) => n.type === 'inject' && n.wires?.[0]?.includes(d.id)).map((n) => (n.props as Array<{ p: string; v: string }>).find((p) => p.p === 'method')?.v);
    for (const method of ['agent_ilo', 'iscsi_ilo', 'pxe_ilo']) assert.ok(injected.includes(method), `${f.name}: a button deploys with ${method}`);
  });

  test('the pool example: a button inspecting every server, a pool deploy by capabilities from a button and POST /pool-deploy, cleaning on undeploy', () => {
    const f = files.find((x) => /^flows\/\d\d - Pools, inspection and cleaning\.json$/.test(x.name));
    assert.ok(f, 'no "Pools, inspection and cleaning" example');
    const nodes = parsed(f.text);
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const propsOf = (n: FlowNode): Record<string, unknown> =>
      Object.fromEntries((n.props as Array<{ p: string; v: string; vt: string }>).map((p) => [p.p, p.vt === 'json' ? (JSON.parse(p.v) as unknown) : p.v]));
    const injectsInto = (id: string): Array<Record<string, unknown>> => nodes.filter((n) => n.type === 'inject' && n.wires?.[0]?.includes(id)).map(propsOf);

    const inspect = nodes.filter((n) => n.type === 'ilo-inspect');
    assert.equal(inspect.length, 1, `${f.name}: one inspect node`);
    assert.deepEqual([inspect[0]!.target, inspect[0]!.fleet, inspect[0]!.serverName], ['fleet', 'fleet-demo', ''], `${f.name}: inspect takes msg.server from the fleet`);
    assert.ok(injectsInto(inspect[0]!.id).some((p) => p.server === '*'), `${f.name}: a button inspects every server`);

    const deploys = nodes.filter((n) => n.type === 'ilo-deploy-flow');
    assert.equal(deploys.length, 1, `${f.name}: one deploy node`);
    const d = deploys[0]!;
    // agent_ilo: its ramdisk (DEPLOY_ISO) also runs the clean steps, which the DIB ramdisk of the two others cannot.
    assert.deepEqual([d.target, d.fleet, d.serverName, d.method, d.action, d.respond, d.clean, d.deployIso, d.deployIsoType], ['fleet', 'fleet-demo', '', 'agent_ilo', 'msg', 'started', 'undeploy', 'DEPLOY_ISO', 'env']);
    const tab = byId.get(String(d.z))!;
    assert.deepEqual(((tab.env ?? []) as Array<{ name: string }>).map((e) => e.name).sort(), ['DEPLOY_ISO', 'IMAGE'], `${f.name}: the tab's env (filled by npm start)`);
    const injected = injectsInto(d.id);
    assert.ok(
      injected.some((p) => p.action === 'deploy' && (p.server as { pool?: string; any?: boolean; capabilities?: object })?.any === true && (p.server as { pool?: string }).pool === 'demo' && (p.server as { capabilities?: object }).capabilities),
      `${f.name}: a button deploys any server of pool demo by capabilities: ${JSON.stringify(injected)}`,
    );
    assert.ok(injected.some((p) => p.action === 'undeploy'), `${f.name}: a button undeploys (and so cleans)`);

    const routes = nodes.filter((n) => n.type === 'http in').map((n) => `${String(n.method).toUpperCase()} ${String(n.url)}`).sort();
    assert.deepEqual(routes, ['DELETE /pool-deploy/:id', 'GET /pool-deploy/:id', 'POST /pool-deploy']);
    for (const h of nodes.filter((n) => n.type === 'http in')) assert.deepEqual(h.wires, [[d.id]], `${h.id} goes straight to the deploy node`);
    const next = (id: string): FlowNode[] => (byId.get(id)?.wires?.[0] ?? []).map((w) => byId.get(w)!);
    assert.ok(next(d.id).flatMap((n) => (n.type === 'switch' ? next(n.id) : [n])).some((n) => n.type === 'http response'), `${f.name}: the deploy node answers through an http response node`);
  });

  test('every example that reaches servers does it through the one fleet of the examples, each tab at most about a dozen nodes', () => {
    for (const f of files) {
      const nodes = parsed(f.text);
      const fleets = nodes.filter((n) => n.type === 'ilo-fleet');
      assert.deepEqual(fleets.map((n) => n.id), ['fleet-demo'], `${f.name}: the demo fleet`);
      assert.deepEqual((fleets[0]!.servers as Array<{ name: string }>).map((s) => s.name), ['server-1', 'server-2', 'server-3']);
      for (const n of nodes.filter((x) => x.z && 'target' in x)) assert.equal(n.target, 'fleet', `${f.name}: ${n.id} uses the fleet`);
      for (const tab of nodes.filter((n) => n.type === 'tab')) {
        const count = nodes.filter((n) => n.z === tab.id).length;
        assert.ok(count <= 15, `${f.name}: tab ${tab.id} has ${count} nodes`);
      }
    }
  });
});
