/**
 * Root device hints: checked before a deploy starts (a bad hint is named),
 * handed to the simulated agent through its lookup and to the DIB ramdisk
 * through its parameters; the ramdisk writes the disk they pick, and a deploy
 * whose hints match no disk fails before anything is written.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { buildIso } from '../../lib/media/iso/writer';
import { inspectedDisks, matchDisk, parseRootDeviceHints, refuseByInspection, rootDeviceParam } from '../../lib/deploy/root-device-hints';
import { needTools } from '../helpers/env';
import { makeImage, startLab, until, type Lab } from '../helpers/deploy-lab';
import { join } from 'node:path';

const GiB = 1024 ** 3;
const iscsiSkip = needTools('tgtd', 'tgtadm', 'qemu-img');

const sha = (file: string, size: number): string => createHash('sha256').update(readFileSync(file).subarray(0, size)).digest('hex');
const blank = (file: string): boolean => readFileSync(file).every((b) => b === 0);

describe('root device hints: checking and matching (Ironic semantics)', () => {
  const disk = { name: '/dev/sdb', sizeBytes: 447 * GiB + 5, model: 'LOGICAL VOLUME', vendor: 'HP', serial: '600508b1001cABC', rotational: false, hctl: '0:1:0:1' };

  test('a bad hint is refused naming it: unknown key, size not a positive whole number, unknown operator, rotational not a boolean', () => {
    assert.throws(() => parseRootDeviceHints({ colour: 'red' }), { field: 'rootDeviceHints.colour' });
    assert.throws(() => parseRootDeviceHints({ size: 0 }), { field: 'rootDeviceHints.size' });
    assert.throws(() => parseRootDeviceHints({ size: '>= ten' }), { field: 'rootDeviceHints.size' });
    assert.throws(() => parseRootDeviceHints({ model: '<all-in> x' }), { field: 'rootDeviceHints.model' });
    assert.throws(() => parseRootDeviceHints({ rotational: 'maybe' }), { field: 'rootDeviceHints.rotational' });
    assert.throws(() => parseRootDeviceHints(['size']), { field: 'rootDeviceHints' });
    assert.equal(parseRootDeviceHints(undefined).length, 0);
  });

  test('operators: size in whole GiB with ==, !=, >=, <=, >, <; strings lower-cased with s==, s!=, <in>, <or>; all hints must hold', () => {
    const m = (h: Record<string, unknown>): boolean | undefined => matchDisk(parseRootDeviceHints(h), disk);
    assert.equal(m({ size: 447 }), true);
    assert.equal(m({ size: '== 448' }), false);
    assert.equal(m({ size: '>= 400' }), true);
    assert.equal(m({ size: '< 447' }), false);
    assert.equal(m({ size: '<= 447' }), true);
    assert.equal(m({ size: '> 446' }), true);
    assert.equal(m({ size: '!= 447' }), false);
    assert.equal(m({ model: 'logical volume' }), true);
    assert.equal(m({ model: 's!= LOGICAL VOLUME' }), false);
    assert.equal(m({ vendor: '<or> dell <or> hp' }), true);
    assert.equal(m({ serial: '<in> 1cabc' }), true);
    assert.equal(m({ name: 'sdb' }), true, 'a name without /dev/ is completed');
    assert.equal(m({ rotational: false, size: '>= 400' }), true);
    assert.equal(m({ rotational: true, size: '>= 400' }), false);
    assert.equal(m({ wwn: '0x600508b1' }), undefined, 'a field the disk does not report: not known to match');
  });

  test('early refusal from inspected disks, and the DIB command-line form', () => {
    assert.match(String(refuseByInspection({ size: '>= 2000' }, [{ sizeBytes: 279 * GiB }, { sizeBytes: 447 * GiB }])), /No suitable device was found for deployment using these hints/);
    assert.equal(refuseByInspection({ size: '>= 400' }, [{ sizeBytes: 279 * GiB }, { sizeBytes: 447 * GiB }]), undefined);
    assert.equal(refuseByInspection({ serial: 'x' }, [{ sizeBytes: 279 * GiB }]), undefined, 'an inspection that does not know serials cannot refuse on them');
    assert.equal(rootDeviceParam({ model: 'LOGICAL VOLUME', size: 447 }), 'model=LOGICAL%20VOLUME,size=447');
    assert.equal(rootDeviceParam({}), undefined);
  });

  test('the disks an inspection shows the OS: logical drives hide their members; else the physical disks', () => {
    const disks = [
      { location: '1I:1:1', model: 'MM1000GBKAL', serial: 'S1', sizeBytes: 1000 * GiB, mediaType: 'HDD' as const, volume: 'LD1' },
      { location: '1I:1:2', model: 'MM1000GBKAL', serial: 'S2', sizeBytes: 1000 * GiB, mediaType: 'HDD' as const, volume: 'LD1' },
    ];
    const raid = inspectedDisks({ disks, volumes: [{ name: 'LD1', sizeBytes: 1000 * GiB, raid: '1', mediaType: 'HDD' }] });
    assert.deepEqual(raid, [{ sizeBytes: 1000 * GiB, rotational: true }]);
    assert.match(String(refuseByInspection({ model: 'MM1000GBKAL', rotational: false }, raid)), /none of the 1 disk\(s\) found by the last inspection matches/);
    assert.equal(refuseByInspection({ model: 'MM1000GBKAL' }, raid), undefined, 'a logical drive shows no member model: it cannot refuse on it');
    const plain = inspectedDisks({ disks: disks.map((d) => ({ ...d, volume: undefined, mediaType: 'SSD' as const })), volumes: [] });
    assert.equal(plain.length, 2);
    assert.deepEqual(plain[1], { sizeBytes: 1000 * GiB, model: 'MM1000GBKAL', serial: 'S2', rotational: false });
    assert.equal(refuseByInspection({ serial: 'S2' }, plain), undefined);
    assert.match(String(refuseByInspection({ serial: 'S3' }, plain)), /No suitable device/);
  });
});

describe('root device hints in deploys against the simulated fleet', () => {
  let lab: Lab;
  let deployIso: string;
  before(async () => {
    lab = await startLab({ servers: 2, fleet: { models: ['gen9', 'gen10'] } });
    const iso = await buildIso({ volumeId: 'DEPLOY', files: [{ path: 'isolinux/isolinux.cfg', data: Buffer.from('append boot_method=vmedia') }] });
    deployIso = join(lab.dir, 'deploy.iso');
    await iso.writeToFile(deployIso);
  });
  after(async () => lab?.stop());

  test('a bad hint refuses the deploy before anything starts, naming the field', async () => {
    const ilo = lab.fleet.ilos[0]!;
    const before = ilo.server.requests.ribcl;
    await assert.rejects(lab.deploy(ilo, { method: 'agent_ilo', image: '/x.img', deployIso, rootDeviceHints: { size: 'big' } as never }), { field: 'rootDeviceHints.size' });
    assert.equal(ilo.server.requests.ribcl, before, 'the iLO was not even asked');
  });

  test('agent_ilo: hints picking the second volume (the SSD, >= 400 GiB): the agent writes /dev/sdb, /dev/sda stays blank, the server boots it; the agent inventory is kept', async () => {
    const rd = lab.ramdisks[0]!;
    const image = makeImage(lab.dir, 'hinted.img');
    const started = await lab.deploy(lab.fleet.ilos[0]!, { method: 'agent_ilo', image: image.path, deployIso, rootDeviceHints: { size: '>= 400', rotational: false } });
    const done = await lab.engine.wait(started.deployId);
    assert.equal(done.state, 'active', done.lastError);
    assert.equal(rd.rootDisk.name, '/dev/sdb');
    // The agent's in-band inventory, kept beside the deploy: the same disks it chose from.
    const inv = done.result?.agentInventory as { disks: Array<{ name: string; size: number }>; memory: { physical_mb: number } } | undefined;
    assert.deepEqual(inv?.disks.map((d) => [d.name, d.size]), rd.disks.map((d) => [d.name, d.sizeBytes]));
    assert.equal(inv?.memory.physical_mb, lab.fleet.ilos[0]!.server.model.dimm.count * lab.fleet.ilos[0]!.server.model.dimm.mib);
    assert.equal(sha(rd.disks[1]!.file, image.size), image.sha256, '/dev/sdb holds the image');
    assert.ok(blank(rd.disks[0]!.file), '/dev/sda was not written');
    await until(() => rd.instanceBoots.some((b) => b.via === 'disk'), 10_000, 'the instance to boot');
  });

  test('agent_ilo: hints matching no disk: prepare_image fails with the agent\'s error, nothing is written', async () => {
    const ilo = lab.fleet.ilos[1]!;
    const rd = lab.ramdisks[1]!;
    const image = makeImage(lab.dir, 'nowhere.img');
    const started = await lab.deploy(ilo, { method: 'agent_ilo', image: image.path, deployIso, rootDeviceHints: { serial: 'no-such-serial' } });
    const done = await lab.engine.wait(started.deployId);
    assert.equal(done.state, 'deploy failed');
    assert.match(String(done.lastError), /No suitable device was found for deployment using these hints/);
    for (const d of rd.disks) assert.ok(blank(d.file), `${d.name} was not written`);
  });

  test('iscsi_ilo: the DIB ramdisk exports the disk its root_device parameter names (wwn), and the image lands there', { skip: iscsiSkip }, async () => {
    const ilo = lab.fleet.ilos[1]!;
    const rd = lab.ramdisks[1]!;
    const image = makeImage(lab.dir, 'dib-hinted.img', 2 * 1024 * 1024);
    const wwn = rd.disks[1]!.wwn;
    const started = await lab.deploy(ilo, { method: 'iscsi_ilo', image: image.path, deployIso, rootDeviceHints: { wwn } });
    const done = await lab.engine.wait(started.deployId);
    assert.equal(done.state, 'active', done.lastError);
    assert.equal(sha(rd.disks[1]!.file, image.size), image.sha256);
    assert.ok(blank(rd.disks[0]!.file), '/dev/sda was not written');
  });

  test('iscsi_ilo: a root_device matching no disk: the ramdisk reports it, the deploy fails without writing', { skip: iscsiSkip }, async () => {
    const ilo = lab.fleet.ilos[0]!;
    const rd = lab.ramdisks[0]!;
    const sdaBefore = sha(rd.disks[0]!.file, 1024 * 1024);
    const image = makeImage(lab.dir, 'dib-nowhere.img', 1024 * 1024);
    const started = await lab.rebuild(ilo, { method: 'iscsi_ilo', image: image.path, deployIso, rootDeviceHints: { size: 9999 } });
    const done = await lab.engine.wait(started.deployId);
    assert.equal(done.state, 'deploy failed');
    assert.match(String(done.lastError), /Could not find the root device/);
    assert.equal(sha(rd.disks[0]!.file, 1024 * 1024), sdaBefore, '/dev/sda unchanged');
  });
});
