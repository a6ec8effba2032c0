/**
 * A headless Chromium (Debian's `chromium`) driven over the DevTools
 * protocol, for tests that use a page as a person would: open it, click,
 * read what it shows. No browser download, no extra package: the protocol
 * is spoken over undici's WebSocket.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'undici';

interface CdpReply {
  id?: number;
  result?: { result?: { value?: unknown }; exceptionDetails?: unknown };
  error?: { message: string };
}

export class HeadlessPage {
  private nextId = 0;
  private readonly pending = new Map<number, (r: CdpReply) => void>();

  private constructor(
    private readonly chromium: ChildProcess,
    private readonly profile: string,
    private readonly ws: WebSocket,
  ) {
    ws.addEventListener('message', (e) => {
      const m = JSON.parse(String(e.data)) as CdpReply;
      if (m.id !== undefined) {
        this.pending.get(m.id)?.(m);
        this.pending.delete(m.id);
      }
    });
  }

  static async open(url: string): Promise<HeadlessPage> {
    const profile = mkdtempSync(join(tmpdir(), 'chromium-'));
    const chromium = spawn('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--remote-debugging-port=0', `--user-data-dir=${profile}`, '--window-size=1400,900', 'about:blank'], {
      stdio: 'ignore',
      // Its own process group, so close() can stop the renderer and helper
      // processes too: they keep writing to the profile after the main one exits.
      detached: true,
    });
    try {
      let port = '';
      // Up to 60 s: a loaded machine starts Chromium slowly; one that exited is reported at once.
      for (let i = 0; i < 1200 && !port && chromium.exitCode === null && chromium.signalCode === null; i++) {
        try {
          port = readFileSync(join(profile, 'DevToolsActivePort'), 'utf8').split('\n')[0] ?? '';
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      if (!port) throw new Error(`chromium did not open its DevTools port${chromium.exitCode !== null || chromium.signalCode !== null ? ` (it exited: ${chromium.exitCode ?? chromium.signalCode})` : ' within 60 s'}`);
      const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ type: string; webSocketDebuggerUrl: string }>;
      const target = targets.find((t) => t.type === 'page');
      if (!target) throw new Error('chromium has no page');
      const ws = new WebSocket(target.webSocketDebuggerUrl);
      await once(ws as unknown as EventTarget, 'open');
      const page = new HeadlessPage(chromium, profile, ws);
      await page.send('Page.enable');
      await page.send('Page.navigate', { url });
      return page;
    } catch (err) {
      await stopChromium(chromium, profile);
      throw err;
    }
  }

  private send(method: string, params: Record<string, unknown> = {}): Promise<CdpReply> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (r) => (r.error ? reject(new Error(`${method}: ${r.error.message}`)) : resolve(r)));
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Evaluate `expression` in the page; its value must be JSON-serialisable. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.result?.exceptionDetails) throw new Error(`page error: ${JSON.stringify(r.result.exceptionDetails)}`);
    return r.result?.result?.value as T;
  }

  /** Wait until `expression` evaluates to something other than null/undefined/false; returns it. */
  async waitFor<T>(expression: string, ms: number, what: string): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await this.evaluate<T>(expression).catch(() => undefined);
      if (v !== undefined && v !== null && v !== false) return v;
      if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Click the button whose visible text is `text`. */
  async clickButton(text: string): Promise<void> {
    const found = await this.waitFor<boolean>(
      `(() => { const b = [...document.querySelectorAll('button')].find((x) => x.textContent.trim() === ${JSON.stringify(text)}); if (!b) return false; b.click(); return true; })()`,
      15_000,
      `a button "${text}"`,
    );
    if (!found) throw new Error(`no button "${text}"`);
  }

  async close(): Promise<void> {
    this.ws.close();
    await stopChromium(this.chromium, this.profile);
  }
}

async function stopChromium(chromium: ChildProcess, profile: string): Promise<void> {
  if (chromium.exitCode === null && chromium.signalCode === null) {
    const exited = once(chromium, 'exit');
    try {
      if (chromium.pid !== undefined) process.kill(-chromium.pid, 'SIGKILL');
    } catch {
      chromium.kill('SIGKILL');
    }
    await exited;
  }
  // A helper that outlived the group kill may still be closing files in the profile.
  try {
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  } catch (err) {
    console.warn(`# could not remove the Chromium profile ${profile}: ${(err as Error).message}`);
  }
}
