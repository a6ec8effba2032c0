/**
 * The deploy examples as a user meets them, in a real editor (Debian's
 * Chromium driven by playwright-core) on a fresh Node-RED that has only this
 * package: main menu → Import → Examples → node-red-contrib-ilo-deploy →
 * "Deploy with <method>" → Import, then what the README says to set for your
 * own servers, typed into the editor's dialogs (the iLO user and password:
 * an export carries no credentials; the image directory of the media store;
 * the tab's environment variables; the TFTP root for pxe_ilo), then the red
 * Deploy button. A deploy started over the example's HTTP API
 * (`POST /<method>/deploy {"server": ...}`) then runs on a simulated fleet
 * whose servers boot simulated ramdisks, and the deploy node's status in the
 * workspace counts the steps up to a green "active". Screenshots go to
 * .work/screenshots/examples-<method>-*.png.
 *
 * Node-RED listens on 1880 (the deploy nodes' callback URL as shipped) when
 * it is free. The simulated iLOs and the media store always get free ports,
 * typed into the ilo-config and store dialogs as a user whose servers are
 * elsewhere would: other end-to-end files running at the same time (the
 * demo, the shipped-examples test) try 8443-8445 and 8089 themselves, and a
 * check-then-bind on those ports would race with them.
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
  /** The example's name in Import > Examples (its file name without .json). */
  title: string;
  /** The server the example's inject buttons deploy, and the deploy node routed to for it. */
  server: string;
  stepCount: number;
  env: (files: DemoArtefacts) => Record<string, string>;
  skip: string | false;
}

const examples: Example[] = [
  { method: 'agent_ilo', title: '03 - Deploy with agent_ilo', server: 'server-1', stepCount: 12, env: (f) => ({ IMAGE: f.image, DEPLOY_ISO: f.deployIso }), skip: browserSkip },
  { method: 'iscsi_ilo', title: '04 - Deploy with iscsi_ilo', server: 'server-2', stepCount: 12, env: (f) => ({ IMAGE: f.image, DEPLOY_ISO: f.deployIso }), skip: iscsiSkip },
  {
    method: 'pxe_ilo',
    title: '05 - Deploy with pxe_ilo',
    server: 'server-3',
    stepCount: 11,
    env: (f) => ({ IMAGE: f.image, DEPLOY_KERNEL: f.deployKernel, DEPLOY_RAMDISK: f.deployRamdisk }),
    skip: iscsiSkip,
  },
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

describe('the deploy examples imported through Import > Examples in Chromium, deployed, and run to "active"', { skip: browserSkip }, () => {
  let dir = '';
  let fleet: Fleet | undefined;
  let ramdisks: SimRamdisk[] = [];
  let red: NodeRedProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let files: DemoArtefacts;
  const ramdiskLog: string[] = [];
  const pageErrors: string[] = [];
  /** Ports that differ from the examples' (typed into the dialogs); undefined where the shipped value works. */
  let storePort = 0;
  let callbackUrl: string | undefined;
  /** Configuration nodes (shared by the examples) already given their settings in the editor. */
  const configured = new Set<string>();

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
  async function editConfig(field: 'server' | 'store', edit: () => Promise<void>): Promise<void> {
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

  for (const ex of examples) {
    const tabLabel = `Deploy with ${ex.method}`;
    const nodeLabel = `${ex.method} ${ex.server}`;
    test(`"${ex.title}": Import > Examples, the user's settings typed in, Deploy; POST /${ex.method}/deploy runs ${ex.server} to "active" while the node status counts the steps`, { skip: ex.skip }, async (t) => {
      const started = Date.now();
      const secs = (): string => ((Date.now() - started) / 1000).toFixed(1);
      try {
        await importExample(ex.title, tabLabel);
        assertNoProblemNotifications(await notifications(page), 'after the import');
        const node = nodeByLabel(page, nodeLabel);
        await node.waitFor();
        assert.equal(await nodeByLabel(page, 'look up the deploy').count(), 1, 'the tab has its own "look up the deploy" node');
        await page.screenshot({ path: join(shots, `examples-${ex.method}-imported.png`) });

        await editNode(nodeLabel, async () => {
          if (!configured.has(ex.server)) {
            // Exported flows carry no credentials: the user types the iLO's user and password (and checks them).
            const ilo = fleet!.get(ex.server);
            await editConfig('server', async () => {
              assert.equal(await page.inputValue('#node-config-input-name'), ex.server);
              await page.fill('#node-config-input-port', String(ilo.port));
              await page.fill('#node-config-input-username', ilo.username);
              await page.fill('#node-config-input-password', ilo.password);
              await page.click('#ilo-config-test');
              await page.waitForSelector('#ilo-config-test-result.ilo-config-ok', { timeout: 30_000 });
              assert.match((await page.textContent('#ilo-config-test-result')) ?? '', /Logged in\./);
            });
            configured.add(ex.server);
          }
          if (!configured.has('media-store')) {
            // The media store serves the images from where this machine has them.
            await editConfig('store', async () => {
              assert.equal(await page.inputValue('#node-config-input-fileRoots'), '/srv/ilo-deploy/images');
              await page.fill('#node-config-input-fileRoots', files.imagesDir);
              await page.fill('#node-config-input-port', String(storePort));
            });
            configured.add('media-store');
          }
          if (callbackUrl) await page.fill('#node-input-apiUrl', callbackUrl);
          if (ex.method === 'pxe_ilo') await page.fill('#node-input-tftpRoot', files.tftpRoot);
        });
        await setTabEnv(tabLabel, ex.env(files));

        const from = await deploy();
        await red!.waitForLog(/media store ready/, 0, 15_000);
        assertNoProblemNotifications(await notifications(page), 'after Deploy');

        t.diagnostic(`${ex.method}: imported, configured and deployed in ${secs()} s`);
        await watchStatus(node);
        const res = await fetch(`${red!.url}/${ex.method}/deploy`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ server: ex.server }) });
        const accepted = (await res.json()) as { deployId: string; state: string; method: string; server: string };
        assert.equal(res.status, 202, JSON.stringify(accepted));
        assert.deepEqual([accepted.server, accepted.method, accepted.state], [ex.server, ex.method, 'deploying']);
        const location = res.headers.get('location');
        assert.equal(location, `/${ex.method}/deploy/${accepted.deployId}`);

        // What the user sees: the node's status label, step by step, to a green "active".
        await page.waitForFunction(
          () => {
            const last = (globalThis as unknown as StatusWindow).__iloStatuses?.at(-1);
            return last !== undefined && (last.text === 'active' || last.fill === 'red');
          },
          undefined,
          { timeout: 120_000, polling: 250 },
        );
        const seen = await page.evaluate(() => (globalThis as unknown as StatusWindow).__iloStatuses ?? []);
        const texts = seen.map((s) => s.text);
        assert.deepEqual(seen.at(-1), { text: 'active', fill: 'green' }, `the status went: ${texts.join(' | ')}`);
        const steps = texts.filter((text) => new RegExp(`^(step )?\\d+/${ex.stepCount}\\b`).test(text));
        assert.ok(steps.length >= 2, `the status counted the steps of ${ex.stepCount}: ${texts.join(' | ')}`);
        t.diagnostic(`${ex.method}: active at ${secs()} s; the status went ${texts.join(' | ')}`);
        await page.screenshot({ path: join(shots, `examples-${ex.method}-active.png`) });
        // The node and its status, close up.
        const box = await node.boundingBox();
        if (box) await page.screenshot({ path: join(shots, `examples-${ex.method}-status.png`), clip: { x: box.x - 20, y: box.y - 20, width: box.width + 200, height: box.height + 40 } });

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
        await page.screenshot({ path: join(shots, `examples-${ex.method}-failed.png`) }).catch(() => undefined);
        // Leave no dialog open for the next example.
        await page.reload().catch(() => undefined);
        const e = err as Error;
        e.message += `\n--- Node-RED (last 4000 characters):\n${red?.output().slice(-4000)}\n--- simulated ramdisks:\n${ramdiskLog.slice(-30).join('\n')}`;
        throw e;
      }
    });
  }
});
