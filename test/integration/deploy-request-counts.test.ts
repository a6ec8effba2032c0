/**
 * How many requests each deploy process sends the iLO, per protocol: one
 * deploy per fresh server and client (so the protocol probe, the Redfish
 * login and discovery count, as in `npm run bench -- deploy`), counted by
 * the simulated iLO itself. A count, not a timing: the simulated power
 * transitions end well before our first poll, so polls add a fixed number.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DeployMethod, DeployRequest } from '../../lib/deploy/types';
import { buildIso } from '../../lib/media/iso/writer';
import { needTools } from '../helpers/env';
import { makeImage, startLab, type Lab } from '../helpers/deploy-lab';

const iscsiSkip = needTools('tgtd', 'tgtadm', 'qemu-img');

/**
 * The most requests a deploy may send. RIBCL: issue 17's goals. Redfish:
 * what it takes today (issue 17 asks for 15; see the README's benchmark
 * section for why it is not reached), so that it can only go down.
 */
const MAX: Record<DeployMethod, { ribcl: number; redfish: number }> = {
  agent_ilo: { ribcl: 10, redfish: 21 },
  iscsi_ilo: { ribcl: 9, redfish: 18 },
  pxe_ilo: { ribcl: 8, redfish: 15 },
};

describe('iLO requests per deploy', () => {
  let lab: Lab;
  let deployIso: string;
  let kernel: string;
  let ramdisk: string;
  before(async () => {
    lab = await startLab({
      servers: 6,
      fleet: { models: ['gen9', 'gen9', 'gen9', 'gen10', 'gen10', 'gen10'], timings: { powerOnMs: 2, postMs: 5, softOffMs: 2, hardOffMs: 0 } },
      settings: { pollIntervalMs: 300 },
    });
    deployIso = join(lab.dir, 'deploy.iso');
    await buildIso({ volumeId: 'DEPLOY', files: [{ path: 'isolinux/isolinux.cfg', data: Buffer.from('append boot_method=vmedia') }] }).writeToFile(deployIso);
    kernel = join(lab.dir, 'deploy.kernel');
    ramdisk = join(lab.dir, 'deploy.initrd');
    writeFileSync(kernel, Buffer.alloc(64 * 1024, 1));
    writeFileSync(ramdisk, Buffer.alloc(64 * 1024, 2));
  });
  after(async () => lab?.stop());

  const cases: Array<{ method: DeployMethod; protocol: 'ribcl' | 'redfish'; server: number }> = [
    { method: 'agent_ilo', protocol: 'ribcl', server: 0 },
    { method: 'iscsi_ilo', protocol: 'ribcl', server: 1 },
    { method: 'pxe_ilo', protocol: 'ribcl', server: 2 },
    { method: 'agent_ilo', protocol: 'redfish', server: 3 },
    { method: 'iscsi_ilo', protocol: 'redfish', server: 4 },
    { method: 'pxe_ilo', protocol: 'redfish', server: 5 },
  ];
  for (const c of cases) {
    const max = MAX[c.method][c.protocol];
    test(`${c.method} over ${c.protocol === 'ribcl' ? 'RIBCL (Gen9)' : 'Redfish (Gen10)'}: at most ${max} iLO requests, the deploy active`, { skip: c.method !== 'agent_ilo' && iscsiSkip }, async () => {
      const ilo = lab.fleet.ilos[c.server]!;
      const image = makeImage(lab.dir, `${c.method}-${c.server}.img`);
      const request: DeployRequest =
        c.method === 'pxe_ilo' ? { method: c.method, image: image.path, deployKernel: kernel, deployRamdisk: ramdisk } : { method: c.method, image: image.path, deployIso };
      const before = { ...ilo.server.requests };
      const logged = ilo.server.clients.length;
      const started = await lab.deploy(ilo, request);
      const done = await lab.engine.wait(started.deployId);
      assert.equal(done.state, 'active', done.lastError);
      const sent = ilo.server.requests.total - before.total;
      const other = c.protocol === 'ribcl' ? ilo.server.requests.redfish - before.redfish : ilo.server.requests.ribcl - before.ribcl;
      // The Redfish service root read by the protocol probe counts for RIBCL too: 1 at most.
      assert.ok(other <= 1, `${other} requests of the other protocol`);
      assert.ok(sent <= max, `${c.method} over ${c.protocol} sent ${sent} requests; at most ${max} expected`);
      console.log(`# ${c.method} ${c.protocol}: ${sent} iLO requests: ${ilo.server.clients.slice(logged).map((x) => x.what).join(', ')}`);
    });
  }
});
