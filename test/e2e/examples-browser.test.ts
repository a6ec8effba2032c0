/**
 * The deploy example as a user meets it, in a real editor (Debian's Chromium
 * driven by playwright-core) on a fresh Node-RED that has only this package:
 * main menu → Import → Examples → node-red-contrib-ilo-deploy → "Deploy with
 * agent_ilo, iscsi_ilo or pxe_ilo" → Import, then what the README says to set
 * for your own servers, typed into the editor's dialogs: the fleet's
 * inventory pasted as CSV into the fleet's Import panel (addresses, ports,
 * pinned certificate fingerprints and each iLO's user and password: an
 * export carries no credentials), the media store's image directory, the
 * tab's environment variables, the TFTP root; then the red Deploy button.
 * Deploys started over the example's HTTP API (`POST /<method>/deploy
 * {"server": ...}`, the one deploy node for every process and server) then
 * run on a simulated fleet whose servers boot simulated ramdisks, and the
 * deploy node's status in the workspace counts the steps up to a green
 * "active". Screenshots go to .work/screenshots/examples-deploy-*.png.
 *
 * Node-RED listens on 1880 (the deploy node's callback URL as shipped) when
 * it is free. The simulated iLOs and the media store always get free ports,
 * typed into the dialogs as a user whose servers are elsewhere would: other
 * end-to-end files running at the same time (the demo, the shipped-examples
 * test) try 8443-8445 and 8089 themselves, and a check-then-bind on those
 * ports would race with them.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { attachRamdisks, iscsiBlockers, prepareArtefacts, type DemoArtefacts } from '../../scripts/demo-deploy';
import { Fleet } from '../../sim/fleet';
import type { SimRamdisk } from '../../sim/ramdisk/boot';
import { needTools, repoRoot } from '../helpers/env';
import { freeFixedPort, NodeRedProcess, portFree } from '../helpers/node-red-process';

const DASHBOARD = '@flowfuse/node-red-dashboard';
const PACKAGE = 'node-red-contrib-ilo-deploy';
const shots = join(repoRoot, '.work', 'screenshots');

const loud = (message: string): void => void process.stderr.write(`\n!!! examples-browser: ${message}\n`);

const browserSkip = needTools('chromium');
/** iscsi_ilo and pxe_ilo write the image over iSCSI: a real tgtd (root only) and qemu-img with libiscsi. */
const iscsiSkip: string | false =
  browserSkip ||
  needTools('tgtd', 'tgtadm', 'qemu-img') ||
  ((): string | false => {
    const why = iscsiBlockers();
    if (why.length === 0) return false;
    const reason = `NOT RUN: ${why.join('; ')}`;
    process.stderr.write(`\n!!! ${reason}\n`);
    return reason;
  })();

interface Example {
  method: 'agent_ilo' | 'iscsi_ilo' | 'pxe_ilo';
  server: string;
  stepCount: number;
  skip: string | false;
}

const EXAMPLE = '04 - Deploy with agent_ilo, iscsi_ilo or pxe_ilo';
const TAB = 'Deploy';
const DEPLOY_NODE = 'deploy (fleet, msg.server)';
const examples: Example[] = [
  { method: 'agent_ilo', server: 'server-1', stepCount: 12, skip: browserSkip },
  { method: 'iscsi_ilo', server: 'server-2', stepCount: 12, skip: iscsiSkip },
  { method: 'pxe_ilo', server: 'server-3', stepCount: 11, skip: iscsiSkip },
];

/** What the MutationObserver installed by `watchStatus` collects in the page. */
interface SeenStatus {
  text: string;
  fill: string;
}
type StatusWindow = { __iloStatuses?: SeenStatus[] };

/** The SVG group of the workspace node whose label reads exactly `label`. */
function nodeByLabel(page: Page, label: string): Locator {
  const exact = new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  return page.locator('#red-ui-workspace-chart g.red-ui-flow-node-group', { has: page.locator('text.red-ui-flow-node-label-text', { hasText: exact }) });
}

/** Every notification the editor shows right now (text, and whether it is an error). */
async function notifications(page: Page): Promise<Array<{ text: string; error: boolean }>> {
  return page.$$eval('.red-ui-notification', (els) => els.map((e) => ({ text: (e.textContent ?? '').trim(), error: e.classList.contains('red-ui-notification-error') })));
}

function assertNoProblemNotifications(list: Array<{ text: string; error: boolean }>, when: string): void {
  const bad = list.filter((n) => n.error || /unrecognised|unknown type|missing|not properly configured|error/i.test(n.text));
  assert.deepEqual(bad, [], `${when}: the editor showed a problem`);
}

describe('the deploy example imported through Import > Examples in Chromium, its fleet filled from a CSV, deployed, and each process run to "active"', { skip: browserSkip }, () => {
  let dir = '';
  let fleet: Fleet | undefined;
  let ramdisks: SimRamdisk[] = [];
  let red: NodeRedProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let files: DemoArtefacts;
  const ramdiskLog: string[] = [];
  const pageErrors: string[] = [];
  /** Ports that differ from the example's (typed into the dialogs); undefined where the shipped value works. */
  let storePort = 0;
  let callbackUrl: string | undefined;

  before(async () => {
    mkdirSync(shots, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'ilo-examples-browser-'));
    files = await prepareArtefacts(dir);

    // The demo's fleet, with short power timings (the steps still show: each waits for the simulated firmware).
    const fleetOpts = { servers: 3, models: ['gen9', 'gen10', 'gen8'] as Array<'gen9' | 'gen10' | 'gen8'>, timings: { powerOnMs: 300, postMs: 300, softOffMs: 300 } };
    fleet = await Fleet.start(fleetOpts);
    ramdisks = await attachRamdisks(fleet, files.tftpRoot, (line) => ramdiskLog.push(line));
    storePort = await freeFixedPort();

    // The deploy nodes call back to http://127.0.0.1:1880/ilo-deploy as shipped.
    const deny = { denyModules: [DASHBOARD] };
    if (await portFree(1880)) {
      red = await NodeRedProcess.start({ ...deny, port: 1880 }).catch((err: unknown) => {
        loud(`Node-RED could not start on 1880 (${(err as Error).message.split('\n')[0]}): another port, typed into the deploy nodes' Callback URL`);
        return undefined;
      });
    } else loud("127.0.0.1:1880 is in use: Node-RED gets a free port, typed into the deploy nodes' Callback URL");
    red ??= await NodeRedProcess.start(deny);
    if (red.url !== 'http://127.0.0.1:1880') callbackUrl = `${red.url}/ilo-deploy`;

    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking'] });
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${red.url}/`);
    await page.waitForSelector('.red-ui-palette-node[data-palette-type="ilo-deploy-flow"]', { timeout: 60_000 });
  });

  after(async () => {
    // Nothing here may fail the run (a Chromium helper still writing its profile once gave ENOTEMPTY): warn instead.
    const steps: Array<[string, () => Promise<unknown>]> = [
      ['Chromium', async () => browser?.close()],
      ['Node-RED', async () => red?.stop()],
      ['the simulated ramdisks', async () => Promise.all(ramdisks.map((r) => r.dispose()))],
      ['the simulated fleet', async () => fleet?.stop()],
      ['the temporary directory', async () => dir && rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })],
    ];
    for (const [what, stop] of steps) {
      try {
        await stop();
      } catch (err) {
        console.warn(`# examples-browser: could not clean up ${what}: ${(err as Error).message}`);
      }
    }
  });

  test('Node-RED has loaded only its core nodes and this package', async () => {
    assert.deepEqual(await red!.modules(), ['node-red', PACKAGE].sort());
  });

  /** Main menu → Import → Examples → this package → flows → `title` → Import. */
  async function importExample(title: string, tabLabel: string): Promise<void> {
    await page.click('#red-ui-header-button-sidemenu');
    await page.click('#menu-item-import');
    await page.locator('#red-ui-clipboard-dialog-import-tabs li', { hasText: 'Examples' }).click();
    const tree = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
    const label = (text: string): RegExp => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    // The package's own item (the innermost <li> holding its label): the tree has other "flows" folders.
    const packageItem = tree.locator('li').filter({ has: page.locator('.red-ui-treeList-label', { hasText: label(PACKAGE) }) }).last();
    const flowsFolder = packageItem.locator('.red-ui-treeList-label', { hasText: label('flows') }).first();
    const example = packageItem.locator('.red-ui-treeList-label', { hasText: label(title) }).first();
    // A folder label toggles: click until what it holds shows (it may still be open from the last import, or slow to render).
    const openUntilShown = async (folder: Locator, shown: Locator): Promise<void> => {
      for (let i = 0; i < 4 && !(await shown.isVisible()); i++) {
        await folder.click();
        await shown.waitFor({ state: 'visible', timeout: 5000 }).catch(() => undefined);
      }
    };
    await openUntilShown(tree.locator('.red-ui-treeList-label', { hasText: label(PACKAGE) }).last(), flowsFolder);
    await openUntilShown(flowsFolder, example);
    await example.click();
    await page.locator('#red-ui-clipboard-dialog-ok').click();
    // The configuration nodes are shared between the examples: from the second one on, the editor
    // says they already exist; "Import copy" keeps the ones already in the workspace.
    const tab = page.locator('#red-ui-workspace-tabs li.red-ui-tab', { hasText: tabLabel });
    const importCopy = page.locator('.red-ui-notification button', { hasText: 'Import copy' });
    await tab.or(importCopy).first().waitFor();
    if (await importCopy.isVisible()) await importCopy.click();
    // The imported flow opens as a new tab beside the current one: the user clicks it.
    await tab.click();
    await page.waitForFunction((label) => document.querySelector('#red-ui-workspace-tabs li.red-ui-tab.active')?.textContent?.includes(label), tabLabel);
  }

  /** Double-click a node; `edit` fills its dialog; Done. */
  async function editNode(label: string, edit: () => Promise<void>): Promise<void> {
    await nodeByLabel(page, label).dblclick();
    await page.waitForSelector('#node-dialog-ok', { state: 'visible' });
    await edit();
    await page.click('#node-dialog-ok');
    await page.waitForSelector('#node-dialog-ok', { state: 'detached' });
  }

  /** From an open node dialog: the pencil beside a configuration field, `edit`, Update. */
  async function editConfig(field: 'fleet' | 'store', edit: () => Promise<void>): Promise<void> {
    await page.click(`#node-input-btn-${field}-edit`);
    await page.waitForSelector('#node-config-dialog-ok', { state: 'visible' });
    await edit();
    await page.click('#node-config-dialog-ok');
    await page.waitForSelector('#node-config-dialog-ok', { state: 'detached' });
  }

  /** Double-click the flow's tab and type the values of its environment variables. */
  async function setTabEnv(tabLabel: string, env: Record<string, string>): Promise<void> {
    await page.locator('#red-ui-workspace-tabs li.red-ui-tab', { hasText: tabLabel }).dblclick();
    // The tray opens on Properties; the variables have their own tab (a list icon).
    await page.locator('a[href="#editor-tab-envProperties"]:visible').click();
    const rows = page.locator('.node-input-env-container-row li:visible');
    await rows.first().waitFor();
    const seen: string[] = [];
    for (const row of await rows.all()) {
      const name = await row.locator('input.node-input-env-name').inputValue();
      seen.push(name);
      const value = env[name];
      if (value === undefined) continue;
      // A typed input: the text box shown is the widget's own, the original input is kept hidden.
      const box = row.locator('.red-ui-typedInput-container input:visible');
      await box.fill(value);
      await box.press('Tab');
      assert.equal(await row.locator('input.node-input-env-value').inputValue(), value, name);
    }
    assert.deepEqual(seen.sort(), Object.keys(env).sort(), 'the environment variables the example declares');
    await page.click('#node-dialog-ok');
    await page.waitForSelector('#node-dialog-ok', { state: 'detached' });
  }

  /** The red Deploy button; waits for "Successfully deployed" and for Node-RED to start the flows. */
  async function deploy(): Promise<number> {
    const from = red!.output().length;
    await page.click('#red-ui-header-button-deploy');
    const ok = page.locator('.red-ui-notification', { hasText: 'Successfully deployed' });
    const confirm = page.locator('#node-dialog-confirm-deploy');
    await ok.or(confirm).first().waitFor();
    if (await confirm.isVisible()) assert.fail(`the editor asked before deploying: ${await confirm.textContent()}`);
    await red!.waitForLog(/Started (flows|modified)/, from, 30_000);
    const log = red!.output(from);
    assert.doesNotMatch(log, /Waiting for missing types/);
    assert.deepEqual(
      log.split('\n').filter((l) => /\[error\]/.test(l)),
      [],
      'Node-RED logged errors on deploy',
    );
    return from;
  }

  /** Record every status the node shows from now on (text and dot colour), in the page. */
  async function watchStatus(node: Locator): Promise<void> {
    await node.evaluate((g) => {
      const w = globalThis as unknown as StatusWindow;
      const seen: SeenStatus[] = [];
      w.__iloStatuses = seen;
      const read = (): void => {
        const text = g.querySelector('.red-ui-flow-node-status-label')?.textContent ?? '';
        const dot = g.querySelector('.red-ui-flow-node-status');
        const fill = /red-ui-flow-node-status-(?:dot|ring)-(\w+)/.exec(dot?.getAttribute('class') ?? '')?.[1] ?? '';
        const last = seen[seen.length - 1];
        if (text && (!last || last.text !== text || last.fill !== fill)) seen.push({ text, fill });
      };
      read();
      new MutationObserver(read).observe(g, { subtree: true, childList: true, characterData: true, attributes: true });
    });
  }

  test(`"${EXAMPLE}": Import > Examples, the fleet's inventory imported from a CSV, the user's settings typed in, Deploy`, async (t) => {
    try {
      await importExample(EXAMPLE, TAB);
      assertNoProblemNotifications(await notifications(page), 'after the import');
      await nodeByLabel(page, DEPLOY_NODE).waitFor();
      assert.equal(await page.locator('#red-ui-workspace-chart g.red-ui-flow-node-group').count(), 15, 'the tab holds the three-node API, its buttons and debug nodes: 15 nodes');
      await page.screenshot({ path: join(shots, 'examples-deploy-imported.png') });

      // The README's inventory file: name, address, port, pinned fingerprint and each iLO's account.
      const csv = ['name,ilo_address,client_port,ilo_tls_fingerprint,ilo_username,ilo_password', ...fleet!.ilos.map((i) => [i.name, i.host, i.port, i.fingerprint, i.username, i.password].join(','))].join('\n');
      await editNode(DEPLOY_NODE, async () => {
        await editConfig('fleet', async () => {
          assert.equal(await page.inputValue('#node-config-input-name'), 'demo fleet');
          await page.click('#ilo-fleet-import-open');
          await page.fill('#ilo-fleet-import-text', csv);
          await page.selectOption('#ilo-fleet-import-mode', 'merge');
          await page.click('#ilo-fleet-import-run');
          await page.waitForSelector('#ilo-fleet-import-result.ilo-fleet-ok-box', { timeout: 15_000 });
          assert.match((await page.textContent('#ilo-fleet-import-result')) ?? '', /0 added, 3 updated, 0 removed/);
        });
        // The media store serves the images from where this machine has them.
        await editConfig('store', async () => {
          assert.equal(await page.inputValue('#node-config-input-fileRoots'), '/srv/ilo-deploy/images');
          await page.fill('#node-config-input-fileRoots', files.imagesDir);
          await page.fill('#node-config-input-port', String(storePort));
        });
        if (callbackUrl) await page.fill('#node-input-apiUrl', callbackUrl);
        await page.fill('#node-input-tftpRoot', files.tftpRoot);
      });
      await setTabEnv(TAB, { IMAGE: files.image, DEPLOY_ISO: files.deployIso, DEPLOY_KERNEL: files.deployKernel, DEPLOY_RAMDISK: files.deployRamdisk });
      await deploy();
      await red!.waitForLog(/media store ready/, 0, 15_000);
      assertNoProblemNotifications(await notifications(page), 'after Deploy');
      t.diagnostic('imported, configured and deployed');
    } catch (err) {
      await page.screenshot({ path: join(shots, 'examples-deploy-failed.png') }).catch(() => undefined);
      await page.reload().catch(() => undefined);
      const e = err as Error;
      e.message += `\n--- Node-RED (last 4000 characters):\n${red?.output().slice(-4000)}`;
      throw e;
    }
  });

  for (const ex of examples) {
    test(`POST /${ex.method}/deploy {"server": "${ex.server}"} runs it to "active" while the deploy node's status counts the steps`, { skip: ex.skip }, async (t) => {
      const started = Date.now();
      const secs = (): string => ((Date.now() - started) / 1000).toFixed(1);
      const from = red!.output().length;
      const node = nodeByLabel(page, DEPLOY_NODE);
      try {
        await watchStatus(node);
        const res = await fetch(`${red!.url}/${ex.method}/deploy`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ server: ex.server }) });
        const accepted = (await res.json()) as { deployId: string; state: string; method: string; server: string };
        assert.equal(res.status, 202, JSON.stringify(accepted));
        assert.deepEqual([accepted.server, accepted.method, accepted.state], [ex.server, ex.method, 'deploying']);
        const location = res.headers.get('location');
        assert.equal(location, `/${ex.method}/deploy/${accepted.deployId}`);

        // What the user sees: the node's status label, step by step, to a green "active".
        // (The node serves every deploy: its status may still say "active" from the previous one until this one's first step.)
        await page.waitForFunction(
          (count) => {
            const all = (globalThis as unknown as StatusWindow).__iloStatuses ?? [];
            const first = all.findIndex((x) => new RegExp(`^(step )?\\d+/${count}\\b`).test(x.text));
            const last = all.at(-1);
            return first >= 0 && last !== undefined && (last.text === 'active' || last.fill === 'red');
          },
          ex.stepCount,
          { timeout: 120_000, polling: 250 },
        );
        const all = await page.evaluate(() => (globalThis as unknown as StatusWindow).__iloStatuses ?? []);
        const seen = all.slice(all.findIndex((x) => new RegExp(`^(step )?\\d+/${ex.stepCount}\\b`).test(x.text)));
        const texts = seen.map((s) => s.text);
        assert.deepEqual(seen.at(-1), { text: 'active', fill: 'green' }, `the status went: ${texts.join(' | ')}`);
        const steps = texts.filter((text) => new RegExp(`^(step )?\\d+/${ex.stepCount}\\b`).test(text));
        assert.ok(steps.length >= 2, `the status counted the steps of ${ex.stepCount}: ${texts.join(' | ')}`);
        t.diagnostic(`${ex.method}: active at ${secs()} s; the status went ${texts.join(' | ')}`);
        await page.screenshot({ path: join(shots, `examples-deploy-${ex.method}-active.png`) });
        const box = await node.boundingBox();
        if (box) await page.screenshot({ path: join(shots, `examples-deploy-${ex.method}-status.png`), clip: { x: box.x - 20, y: box.y - 20, width: box.width + 200, height: box.height + 40 } });

        const status = await fetch(`${red!.url}${location}`);
        const body = (await status.json()) as { state: string; deployId: string; lastError?: string };
        assert.equal(status.status, 200);
        assert.equal(body.state, 'active', body.lastError);
        assert.equal(body.deployId, accepted.deployId);
        assert.deepEqual(
          red!.output(from).split('\n').filter((l) => /\[error\]/.test(l)),
          [],
          'Node-RED logged errors during the deploy',
        );
        assert.deepEqual(pageErrors, [], 'no script errors in the editor');
      } catch (err) {
        await page.screenshot({ path: join(shots, `examples-deploy-${ex.method}-failed.png`) }).catch(() => undefined);
        const e = err as Error;
        e.message += `\n--- Node-RED (last 4000 characters):\n${red?.output().slice(-4000)}\n--- simulated ramdisks:\n${ramdiskLog.slice(-30).join('\n')}`;
        throw e;
      }
    });
  }
});
