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

/** The SVG group of the workspace node whose label reads `label`. */
function nodeByLabel(page: Page, label: string) {
  return page.locator('g.red-ui-flow-node-group', { has: page.locator('text.red-ui-flow-node-label-text', { hasText: new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) });
}

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

  test('the ilo-config dialog opens from a node, and refuses a bad host before saving', async () => {
    await nodeByLabel(page, 'power msg.action').first().dblclick();
    await page.waitForSelector('#node-input-server', { state: 'visible' });
    await page.click('#node-input-btn-server-edit');
    const host = page.locator('#node-config-input-host');
    await host.waitFor({ state: 'visible' });
    assert.match(await host.inputValue(), /^127\.0\.0\.1$/);
    await host.fill('not a host!');
    await host.press('Tab');
    await page.waitForFunction(() => document.querySelector('#node-config-input-host')?.classList.contains('input-error'));
    await page.screenshot({ path: join(shots, '02-ilo-config-invalid.png') });
    await host.fill('127.0.0.1');
    await host.press('Tab');
    await page.waitForFunction(() => !document.querySelector('#node-config-input-host')?.classList.contains('input-error'));
    // Leave both dialogs without changing anything.
    await page.click('#node-config-dialog-cancel');
    await page.click('#node-dialog-cancel');
  });

  test('an inject button powers a simulated server on; the node status follows', async () => {
    const button = nodeByLabel(page, 'server-1: on').locator('.red-ui-flow-node-button-button');
    await button.click();
    const power = page.locator('g.red-ui-flow-node-group').filter({ has: page.locator('text.red-ui-flow-node-label-text', { hasText: 'power msg.action' }) }).first();
    await page.waitForFunction(
      (el) => /powering on|on…|^on$/.test(el?.querySelector('.red-ui-flow-node-status-label')?.textContent ?? ''),
      await power.elementHandle(),
      { timeout: 30_000 },
    );
    await page.waitForFunction((el) => el?.querySelector('.red-ui-flow-node-status-label')?.textContent === 'on', await power.elementHandle(), { timeout: 30_000 });
    await page.screenshot({ path: join(shots, '03-power-on-status.png') });
  });
});
