/**
 * Every example as the editor draws it: in Debian's Chromium on a real
 * Node-RED with this package (and Dashboard 2.0 when installed), each tab
 * shown in turn, each node's box read from the editor after it sized the
 * node to its label. No two nodes of a tab overlap, and each tab fits a
 * 1600x900 view. The editor's widths are also checked against the estimate
 * test/unit/examples-layout.test.ts works from, so that the fast check from
 * the JSON is never kinder than the editor.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HeadlessPage } from '../helpers/browser';
import { needTools, repoRoot } from '../helpers/env';
import { estimatedBox, layoutProblems, type Box, type FlowNode } from '../helpers/flow-geometry';
import { NodeRedProcess } from '../helpers/node-red-process';
import { installedModuleDir } from '../helpers/node-types';

const browserSkip = needTools('chromium');
const withDashboard = !!installedModuleDir('@flowfuse/node-red-dashboard', repoRoot);
const dir = join(repoRoot, 'examples');
const files = readdirSync(dir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => readdirSync(join(dir, d.name)).filter((f) => f.endsWith('.json')).map((f) => join(d.name, f)));

describe('the examples as the editor draws them', { skip: browserSkip }, () => {
  let red: NodeRedProcess;
  let page: HeadlessPage;
  before(async () => {
    red = await NodeRedProcess.start();
    page = await HeadlessPage.open(red.url);
    await page.waitFor(`window.RED && RED.nodes && RED.view && document.querySelector('#red-ui-workspace-chart') && RED.nodes.getType('ilo-power')${withDashboard ? " && RED.nodes.getType('ui-button')" : ''}`, 90_000, 'the editor with this package');
  });
  after(async () => {
    await page?.close();
    await red?.stop();
  });

  for (const file of files) {
    const dashboard = file.startsWith('dashboard');
    const skip = dashboard && !withDashboard ? (process.stderr.write(`\n!!! NOT RUN: ${file}: @flowfuse/node-red-dashboard is not installed\n`), 'NOT RUN: Dashboard 2.0 not installed') : false;
    test(`${file}: no two nodes overlap, each tab fits 1600x900`, { skip }, async () => {
      const flows = JSON.parse(readFileSync(join(dir, file), 'utf8')) as FlowNode[];
      const tabs = flows.filter((n) => n.type === 'tab').map((n) => n.id);
      // The flows go into the editor's model as a deploy would show them (an import through the menu
      // would hang them on the mouse for placing).
      const drawn = await page.evaluate<Record<string, Box[]>>(`(async () => {
        RED.nodes.clear();
        RED.nodes.import(${JSON.stringify(flows)});
        const out = {};
        for (const tab of ${JSON.stringify(tabs)}) {
          RED.workspaces.show(tab);
          RED.view.redraw(true);
          const nodes = () => RED.nodes.filterNodes({ z: tab });
          for (let i = 0; i < 100 && nodes().some((n) => !n.w || !n.h); i++) await new Promise((r) => setTimeout(r, 50));
          out[tab] = nodes().map((n) => ({ id: n.id, type: n.type, x: n.x, y: n.y, w: n.w, h: n.h,
            label: (document.querySelector('#' + CSS.escape(n.id) + ' .red-ui-flow-node-label') || {}).textContent || '' }));
        }
        return out;
      })()`);
      const byId = new Map(flows.map((n) => [n.id, n]));
      for (const tab of tabs) {
        const boxes = drawn[tab] ?? [];
        assert.ok(boxes.length > 0, `tab ${tab} has nodes in the editor`);
        for (const b of boxes) assert.ok(b.w > 0 && b.h > 0, `${b.id} was sized`);
        assert.deepEqual(layoutProblems(boxes), [], `tab ${tab}, as drawn`);
        const kinder = boxes.filter((b) => estimatedBox(byId.get(b.id) as FlowNode).w < b.w).map((b) => `${b.type} "${b.label}" ${b.w} px`);
        assert.deepEqual(kinder, [], 'drawn wider than test/helpers/flow-geometry estimates (teach labelOf this label)');
      }
    });
  }
});
