/**
 * Every example flow reads in the editor: no two nodes of a tab overlap, and
 * each tab fits a 1600x900 view. Checked here from the flow JSON (sizes
 * estimated a little wide); test/e2e/examples-layout-browser.test.ts checks
 * the same in the editor itself.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/env';
import { boxesByTab, layoutProblems, type FlowNode } from '../helpers/flow-geometry';

const dir = join(repoRoot, 'examples');
const files = readdirSync(dir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => readdirSync(join(dir, d.name)).filter((f) => f.endsWith('.json')).map((f) => join(d.name, f)));

test('there are examples to check', () => {
  assert.ok(files.length >= 6, files.join(', '));
});

for (const file of files) {
  test(`${file}: no two nodes overlap, each tab fits 1600x900`, () => {
    const flows = JSON.parse(readFileSync(join(dir, file), 'utf8')) as FlowNode[];
    const tabs = boxesByTab(flows);
    assert.ok(tabs.size > 0, 'a tab');
    for (const [tab, boxes] of tabs) assert.deepEqual(layoutProblems(boxes), [], `tab ${tab}`);
  });
}
