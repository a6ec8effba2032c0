/**
 * `npm run sim` (dist/sim/cli.js) as an operator starts it: the models asked
 * for, and the power-on and POST durations set on the command line, seen by
 * a client (Ironic waits to see InPost: a long POST must be observable).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { RedfishBmc } from '../../lib/bmc/redfish/provider';
import { RibclBmc } from '../../lib/bmc/ribcl/provider';
import { repoRoot } from '../helpers/env';

const CLI = join(repoRoot, 'dist', 'sim', 'cli.js');

interface Listed {
  name: string;
  host: string;
  port: number;
  username: string;
  password: string;
  model: string;
}

function startCli(args: string[]): { child: ChildProcessWithoutNullStreams; firstLine: Promise<string>; exit: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
  const firstLine = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    void exit.then(({ code }) => reject(new Error(`sim exited (${code}) before printing: ${stderr}`)));
  });
  firstLine.catch(() => undefined); // a caller that wants the line awaits it; one that waits for the exit does not
  return { child, firstLine, exit };
}

describe('npm run sim: models and timings from the command line', () => {
  let dir: string;
  let sim: ReturnType<typeof startCli>;
  let ilos: Listed[];
  let ca: string;
  const open: Array<{ close(): Promise<void> }> = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
    // A POST of a minute: long enough that any client polling sees InPost, whatever the machine's load.
    sim = startCli(['--servers', '2', '--port', '0', '--models', 'gen11,gen8', '--power-on-ms', '0', '--post-ms', '60000', '--json', '--ca-out', join(dir, 'ca.pem')]);
    ilos = JSON.parse(await sim.firstLine) as Listed[];
    ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
  });
  after(async () => {
    await Promise.all(open.map((c) => c.close()));
    if (sim?.child.pid !== undefined && sim.child.exitCode === null) process.kill(sim.child.pid, 'SIGTERM');
    await sim?.exit;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const endpoint = (i: Listed): ConstructorParameters<typeof RedfishBmc>[0] => ({ host: i.host, port: i.port, username: i.username, password: i.password, tls: { mode: 'ca', ca } });

  test('--models gives each iLO its model, in turn', () => {
    assert.deepEqual(
      ilos.map((i) => i.model),
      ['gen11', 'gen8'],
    );
  });

  test('--post-ms: after power-on the host stays InPost (Oem.Hpe.PostState) for the POST given', async () => {
    const bmc = new RedfishBmc(endpoint(ilos[0]!));
    open.push(bmc);
    await bmc.powerOn();
    const system = await bmc.redfish.get('/redfish/v1/Systems/1/');
    assert.equal(system.PowerState, 'On', '--power-on-ms 0: on at once');
    assert.equal((system.Oem as { Hpe: { PostState: string } }).Hpe.PostState, 'InPost');
    // And boot changes are refused while in POST, as a real iLO refuses them.
    await assert.rejects(bmc.setOneTimeBoot('cdrom'), { code: 'busy', reason: 'host-in-post' });
  });

  test('the same over RIBCL on the Gen8: powered on, and boot changes refused while in POST', async () => {
    const bmc = new RibclBmc(endpoint(ilos[1]!));
    open.push(bmc);
    await bmc.powerOn();
    assert.equal(await bmc.getPowerState(), 'on');
    await assert.rejects(bmc.setOneTimeBoot('cdrom'), { code: 'busy', reason: 'host-in-post' });
  });

  test('a bad duration is refused with the option named', async () => {
    const bad = startCli(['--servers', '1', '--port', '0', '--post-ms', '1.5s']);
    const { code, stderr } = await bad.exit;
    assert.notEqual(code, 0);
    assert.match(stderr, /--post-ms: expected a whole number of milliseconds/);
  });
});
