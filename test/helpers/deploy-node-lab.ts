/**
 * What the deploy node's tests share: a simulated fleet with one simulated
 * ramdisk per server, a deploy ISO, and node-red-node-test-helper's runtime
 * with its RED.httpNode served on a loopback port (the helper does not mount
 * it; the ramdisks call back through it, as through Node-RED's own), all in
 * one temp directory that `stop()` removes with everything else.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeAPI } from 'node-red';
import { buildIso } from '../../lib/media/iso/writer';
import { resetEngineForRestart } from '../../nodes/ilo-deploy-flow/engine-host';
import { Fleet, type FleetOptions } from '../../sim/fleet';
import { SimRamdisk } from '../../sim/ramdisk/boot';
import { helper } from './node-red';

export interface DeployNodeLab {
  dir: string;
  fleet: Fleet;
  ramdisks: SimRamdisk[];
  deployIso: string;
  /** Where RED.httpNode answers, e.g. http://127.0.0.1:41234 */
  base: string;
  stop(): Promise<void>;
}

export interface DeployNodeLabOptions {
  /** Prefix of the temp directory. */
  prefix: string;
  fleet: FleetOptions;
  /** Third octet of the ramdisks' loopback addresses (127.x.<subnet>.<server + 2>): one per test file, so files running at once do not meet. */
  ramdiskSubnet: number;
  /** The test's RED capture (passed to every helper.load) and its latest value. */
  captureRed: (r: NodeAPI) => void;
  red: () => NodeAPI | undefined;
}

export async function startDeployNodeLab(o: DeployNodeLabOptions): Promise<DeployNodeLab> {
  const dir = mkdtempSync(join(tmpdir(), o.prefix));
  helper.settings({ userDir: join(dir, 'userdir') });
  const fleet = await Fleet.start(o.fleet);
  const ramdisks = fleet.ilos.map((ilo, i) => new SimRamdisk(ilo.server, { address: `127.${40 + (process.pid % 200)}.${o.ramdiskSubnet}.${i + 2}`, heartbeatIntervalMs: 300 }));
  const deployIso = join(dir, 'deploy.iso');
  await (await buildIso({ volumeId: 'DEPLOY', files: [{ path: 'README', data: Buffer.from('deploy ramdisk') }] })).writeToFile(deployIso);
  await helper.startServer();
  await helper.load([o.captureRed as never], [], {});
  const httpNode = createServer((req, res) => (o.red()!.httpNode as unknown as (q: unknown, s: unknown) => void)(req, res));
  await new Promise<void>((r) => httpNode.listen(0, '127.0.0.1', () => r()));
  await helper.unload();
  return {
    dir,
    fleet,
    ramdisks,
    deployIso,
    base: `http://127.0.0.1:${(httpNode.address() as AddressInfo).port}`,
    async stop() {
      await helper.unload();
      await resetEngineForRestart();
      await helper.stopServer();
      await new Promise<void>((r) => httpNode.close(() => r()));
      await Promise.all(ramdisks.map((r) => r.dispose()));
      await fleet.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
