/**
 * The editor in a real browser: Debian's Chromium driven by playwright-core
 * (no browser download), against the demo (`npm start`). Screenshots go to
 * .work/screenshots/.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { hasTool, repoRoot } from '../helpers/env';
import { startDemo, type RunningDemo } from '../helpers/demo';

const CHROMIUM = '/usr/bin/chromium';
const skip = hasTool('chromium') ? false : 'NOT RUN: missing chromium (Debian: chromium)';
if (skip) process.stderr.write(`\n!!! ${skip}\n`);

const shots = join(repoRoot, '.work', 'screenshots');

describe('the editor in Chromium', { skip }, () => {
  let demo: RunningDemo;
  let browser: Browser;
  let page: Page;

  before(async () => {
    mkdirSync(shots, { recursive: true });
    demo = await startDemo();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${demo.url}/`);
    await page.waitForSelector('.red-ui-palette-node[data-palette-type="ilo-power"]', { timeout: 60_000 });
  });

  after(async () => {
    await browser?.close();
    await demo?.stop();
  });

  test('the palette shows every node of the package in the iLO category', async () => {
    const types = await page.$$eval('#red-ui-palette-container-iLO .red-ui-palette-node', (els) => els.map((e) => e.getAttribute('data-palette-type')));
    for (const t of ['ilo-power', 'ilo-virtual-media', 'ilo-boot-mode', 'ilo-health', 'ilo-deploy-flow']) assert.ok(types.includes(t), `${t} in the iLO category (have ${types.join(', ')})`);
    await page.screenshot({ path: join(shots, '01-palette.png') });
  });

  test('the fleet dialog opens from a node, shows the demo fleet, and refuses a bad port before saving', async () => {
    await page.locator('g.red-ui-flow-node-group[id="power-fleet"]').dblclick();
    await page.waitForSelector('#node-input-fleet', { state: 'visible' });
    await page.click('#node-input-btn-fleet-edit');
    await page.waitForSelector('#ilo-fleet-viewport', { state: 'visible' });
    await page.waitForFunction(() => document.querySelector('#ilo-fleet-count')?.textContent === '3 servers');
    const hosts = await page.$$eval('#ilo-fleet-rows .ilo-fleet-row .c-host', (els) => els.map((e) => e.textContent));
    assert.equal(hosts.length, 3);
    for (const h of hosts) assert.match(h ?? '', /^127\.0\.0\.1:\d+$/, 'npm start filled in the simulated iLOs');
    await page.locator('#ilo-fleet-rows .ilo-fleet-row', { has: page.locator('.c-name', { hasText: /^server-1$/ }) }).click();
    const port = page.locator('#ilo-fleet-row-port');
    await port.waitFor({ state: 'visible' });
    const was = await port.inputValue();
    await port.fill('70000');
    assert.ok(await port.evaluate((e) => e.classList.contains('input-error')), 'a bad port is marked');
    await page.screenshot({ path: join(shots, '02-ilo-fleet-invalid.png') });
    await port.fill(was);
    assert.ok(!(await port.evaluate((e) => e.classList.contains('input-error'))));
    // Leave both dialogs without changing anything.
    await page.click('#node-config-dialog-cancel');
    await page.click('#node-dialog-cancel');
  });

  test('an inject button powers the whole simulated fleet on; the node status counts the servers', async () => {
    await page.locator('g.red-ui-flow-node-group[id="power-inj-on"] .red-ui-flow-node-button-button').click();
    const power = page.locator('g.red-ui-flow-node-group[id="power-fleet"]');
    await page.waitForFunction((el) => el?.querySelector('.red-ui-flow-node-status-label')?.textContent === '3 servers ok', await power.elementHandle(), { timeout: 60_000 });
    await page.screenshot({ path: join(shots, '03-power-on-status.png') });
    for (const server of ['server-1', 'server-2', 'server-3']) {
      const res = await fetch(`${demo.url}/servers/${server}/power`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'status' }) });
      assert.equal(((await res.json()) as { powerState: string }).powerState, 'on', server);
    }
  });
});
