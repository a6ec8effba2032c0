/**
 * The demo lives and dies as one: Node-RED killed, the demo's own process
 * (the fleet) killed, or a simulated ramdisk failing to start a tool it
 * needs. Nothing may be left running, and a part that fails to start a
 * child process must not take anything else down.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { startDemo, type RunningDemo } from '../helpers/demo';
import { needTools, repoRoot } from '../helpers/env';
import { allGone, commandLine, descendants, running } from '../helpers/processes';

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Whether the port stops accepting connections within `ms` (the kernel closes
 * a process's sockets as its last thread ends, a moment after it is reaped).
 */
async function closes(port: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (await listening(port)) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
  return true;
}

/** Who listens on a port, for a failure message. */
function listeners(port: number): string {
  try {
    return execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' }).trim();
  } catch {
    return '(ss not available)';
  }
}

/** The simulated iLOs' ports, from the banner. */
function fleetPorts(demo: RunningDemo): number[] {
  return [...demo.output().matchAll(/server-\d https:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms).unref())]);
}

describe('the demo stops as a whole', () => {
  let demo: RunningDemo | undefined;
  afterEach(async () => {
    await demo?.stop();
    demo = undefined;
  });

  test('Node-RED killed: the fleet, the ramdisks and the image server stop, nothing is left running', async () => {
    demo = await startDemo();
    const tree = descendants(demo.pid);
    const red = tree.find((p) => /red\.js|node-red/.test(commandLine(p)));
    assert.ok(red, `Node-RED runs below the demo: ${tree.map(commandLine).join('; ')}`);
    const ports = fleetPorts(demo);
    assert.equal(ports.length, 3);
    assert.ok(await listening(ports[0]!), 'the fleet answers before');

    process.kill(red, 'SIGKILL');
    const end = await within(demo.exited, 60_000, 'the demo did not stop');
    assert.notEqual(end.code, 0, 'a demo that lost Node-RED exits with an error');
    assert.match(demo.output(), /Node-RED ended \(SIGKILL\); stopping the demo/);
    await allGone([demo.pid, ...tree], 60_000);
    for (const p of ports) if (!(await closes(p, 10_000))) assert.fail(`simulated iLO port ${p} is still open: ${listeners(p)}`);
  });

  test("the demo's own process killed (SIGKILL): Node-RED stops by itself", async () => {
    demo = await startDemo();
    const tree = descendants(demo.pid);
    assert.ok(tree.some((p) => /red\.js|node-red/.test(commandLine(p))), 'Node-RED runs below the demo');
    assert.ok(await listening(demo.port));

    process.kill(demo.pid, 'SIGKILL');
    await within(demo.exited, 60_000, 'the demo process did not die');
    await allGone(tree, 60_000);
    if (!(await closes(demo.port, 10_000))) assert.fail(`the editor port ${demo.port} is still open: ${listeners(demo.port)}`);
  });

  test('iscsi_ilo on a machine without tgtd: refused up front (424) naming the tool and its package, and the rest of the demo keeps working', async () => {
    // tgtd lives in sbin; a PATH without the sbin directories is a machine without it.
    const path = (process.env.PATH ?? '')
      .split(delimiter)
      .filter((d) => !/\/sbin\/?$/.test(d))
      .join(delimiter);
    demo = await startDemo({ PATH: path });
    const res = await fetch(`${demo.url}/iscsi_ilo/deploy`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ server: 'server-2' }) });
    const body = (await res.json()) as { error?: string };
    // Refused up front (the demo's settings.js names tgtd for iscsi_ilo): the answer names the missing tool and its Debian package.
    assert.equal(res.status, 424, JSON.stringify(body));
    assert.match(String(body.error), /tgtd/);
    assert.match(String(body.error), /\btgt\b/);
    assert.ok(running(demo.pid), 'the demo still runs');
    const power = await fetch(`${demo.url}/servers/server-1/power`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'status' }) });
    assert.equal(power.status, 200, await power.text());
    assert.doesNotMatch(demo.output(), /spawn tgtd ENOENT|Unhandled|uncaught/i);
  });

  test("a simulated ramdisk's tgtd ends with the process that started it, even one killed with SIGKILL", { skip: needTools('tgtd', 'tgtadm') || (process.getuid?.() === 0 ? false : 'NOT RUN: tgtd needs root') }, async () => {
    const script = `require(${JSON.stringify(join(repoRoot, 'dist', 'sim', 'tgtd.js'))}).startTgtd({ sizeBytes: 1 << 20 }).then(() => console.log('ready'))`;
    const owner = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let out = '';
      owner.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await within(
        new Promise<void>((resolve, reject) => {
          owner.stdout.on('data', () => out.includes('ready') && resolve());
          owner.once('exit', (code) => reject(new Error(`the tgtd owner exited ${code}: ${out}`)));
        }),
        60_000,
        'tgtd did not start',
      );
      const tgtd = descendants(owner.pid as number).filter((p) => /tgtd/.test(commandLine(p)));
      assert.equal(tgtd.length, 1, 'one tgtd below its owner');
      owner.kill('SIGKILL');
      await allGone(tgtd, 60_000);
    } finally {
      if (owner.exitCode === null && owner.signalCode === null) owner.kill('SIGKILL');
    }
  });
});
