/**
 * Deploys with a config drive against the simulated fleet, each process the
 * way Ironic does it: agent_ilo hands the drive to the agent in
 * standby.prepare_image and the simulated agent adds its partition with
 * sgdisk / parted as ironic-python-agent does; iscsi_ilo and pxe_ilo write it
 * themselves over a real tgtd target. Then what a user checks: the booted
 * instance reports the hostname, keys, user data and network it found, and
 * cloud-init's own ConfigDrive data source reads the same from the partition
 * read back from the disk. A bad config drive is refused before anything
 * touches the server.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { configDriveContent, type ConfigDriveParts } from '../../lib/deploy/config-drive';
import type { DeployRequest } from '../../lib/deploy/types';
import { buildConfigDriveImage, buildIso, configDriveFiles } from '../../lib/media';
import type { InstanceBoot, SimRamdisk } from '../../sim/ramdisk/boot';
import { missingCloudInit, partitionToFile, readWithCloudInit, sfdiskPartitions } from '../helpers/cloud-init';
import { missingBootLoaders, startLab, until, type Lab } from '../helpers/deploy-lab';
import { needTools } from '../helpers/env';

const MiB = 1024 * 1024;
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOvUq7bQx ops@example.org';
const skip = missingCloudInit() || needTools('sfdisk', 'sgdisk', 'parted', 'blkid', 'tgtd', 'tgtadm', 'qemu-img', 'mkfs.ext4', 'mkfs.vfat', 'mcopy');

/** A hostname, an SSH key, user data and a static address on the server's first NIC. */
function parts(host: string, mac: string): ConfigDriveParts {
  return {
    meta_data: { hostname: `${host}.example.org`, public_keys: { ops: KEY } },
    user_data: `#cloud-config\nfqdn: ${host}.example.org\n`,
    network_data: {
      links: [{ id: 'nic0', type: 'phy', ethernet_mac_address: mac }],
      networks: [{ id: 'net0', link: 'nic0', type: 'ipv4', ip_address: '192.0.2.21', netmask: '255.255.255.0', gateway: '192.0.2.1' }],
      services: [{ type: 'dns', address: '192.0.2.53' }],
    },
  };
}

/** A whole-disk image with its own table and one 6 MiB partition. */
function wholeDiskImage(path: string, label: 'dos' | 'gpt', extraPrimaries = 0): string {
  writeFileSync(path, '');
  truncateSync(path, 8 * MiB);
  const type = label === 'gpt' ? '0FC63DAF-8483-4772-8E79-3D69D8477DE4' : '83';
  const lines = [`start=2048, size=${2 * 2048}, type=${type}`, ...Array.from({ length: extraPrimaries }, (_, i) => `start=${(3 + i) * 2048}, size=1024, type=${type}`)];
  execFileSync('sfdisk', ['-q', path], { input: `label: ${label}\n${lines.join('\n')}\n` });
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(MiB, 0x5a), 0, MiB, MiB);
  closeSync(fd);
  return path;
}

describe('deploys with a config drive', { skip }, () => {
  let lab: Lab;
  let deployIso: string;
  before(async () => {
    lab = await startLab({ servers: 4, fleet: { models: ['gen9', 'gen10', 'gen9', 'gen8'] }, ramdisk: { diskSizeBytes: 160 * MiB } });
    deployIso = join(lab.dir, 'deploy.iso');
    await buildIso({ volumeId: 'DEPLOY', files: [{ path: 'isolinux/isolinux.cfg', data: Buffer.from('append boot_method=vmedia') }] }).writeToFile(deployIso);
    writeFileSync(join(lab.dir, 'k'), Buffer.alloc(64 * 1024, 1));
    writeFileSync(join(lab.dir, 'r'), Buffer.alloc(64 * 1024, 2));
  });
  after(async () => lab?.stop());

  const mac = (i: number): string => (lab.fleet.ilos[i]!.server.macs.host[0] as string).toLowerCase();

  /** The last instance boot of server i, once there is one from `via`. */
  async function instanceBoot(rd: SimRamdisk, via: InstanceBoot['via']): Promise<InstanceBoot> {
    await until(() => rd.instanceBoots.some((b) => b.via === via), 15_000, `the instance to boot (${via})`);
    return rd.instanceBoots.filter((b) => b.via === via).at(-1) as InstanceBoot;
  }

  /** What the user checks: what the instance found, and what cloud-init reads from the config drive partition on the disk. */
  function assertFound(i: number, boot: InstanceBoot, deployId: string, host: string): void {
    assert.equal(boot.configDriveError, undefined);
    const cd = boot.configDrive;
    assert.ok(cd, 'the instance found a config drive');
    assert.equal(cd.uuid, deployId);
    assert.equal(cd.hostname, `${host}.example.org`);
    assert.deepEqual(cd.publicKeys, { ops: KEY });
    assert.equal(cd.userData, `#cloud-config\nfqdn: ${host}.example.org\n`);
    assert.equal(cd.version, '2012-08-10', 'the newest version directory cloud-init knows');
    const disk = lab.ramdisks[i]!.diskFile;
    const part = sfdiskPartitions(disk).partitions.find((p) => p.number === cd.partition);
    assert.ok(part);
    const v = readWithCloudInit(partitionToFile(disk, part.start, part.size, join(lab.dir, `cd-${i}.img`)), { [mac(i)]: 'eno1' });
    assert.equal(v.found, true);
    assert.equal(v.instance_id, deployId);
    assert.equal(v.hostname, `${host}.example.org`);
    assert.deepEqual(v.public_keys, [KEY]);
    const nic = v.network_config?.config.find((c) => c.name === 'eno1') as { subnets: Array<Record<string, unknown>> } | undefined;
    assert.equal(nic?.subnets[0]?.address, '192.0.2.21');
    assert.equal(nic?.subnets[0]?.gateway, '192.0.2.1');
  }

  test('agent_ilo (RIBCL), MBR image, config drive as parts: the agent adds a primary partition over the last 64 MiB; the instance and cloud-init find it', async () => {
    const image = wholeDiskImage(join(lab.dir, 'agent-mbr.img'), 'dos');
    const started = await lab.deploy(lab.fleet.ilos[0]!, { method: 'agent_ilo', image, deployIso, configDrive: parts('web-1', mac(0)) });
    const done = await lab.engine.wait(started.deployId);
    assert.equal(done.state, 'active', done.lastError);
    const table = sfdiskPartitions(lab.ramdisks[0]!.diskFile);
    assert.deepEqual(table.partitions.map((p) => [p.number, p.start, p.size]), [[1, MiB, 2 * MiB], [2, 96 * MiB, 64 * MiB]]);
    assertFound(0, await instanceBoot(lab.ramdisks[0]!, 'disk'), started.deployId, 'web-1');
  });

  test('agent_ilo (Redfish), GPT image, a ready drive (gzip + base64): the agent adds its partition with sgdisk', async () => {
    const image = wholeDiskImage(join(lab.dir, 'agent-gpt.img'), 'gpt');
    const ready = gzipSync(await buildConfigDriveImage(configDriveContent(parts('web-2', mac(1)), { uuid: 'from-the-operator' })).toBuffer()).toString('base64');
    const started = await lab.deploy(lab.fleet.ilos[1]!, { method: 'agent_ilo', image, deployIso, configDrive: ready });
    const done = await lab.engine.wait(started.deployId);
    assert.equal(done.state, 'active', done.lastError);
    assert.match(execFileSync('sgdisk', ['-v', lab.ramdisks[1]!.diskFile], { encoding: 'utf8' }), /No problems found/);
    const boot = await instanceBoot(lab.ramdisks[1]!, 'disk');
    assert.equal(boot.configDrive?.uuid, 'from-the-operator', 'a ready drive is written as given');
    assert.equal(boot.configDrive?.hostname, 'web-2.example.org');
  });

  test('iscsi_ilo, MBR image, a VFAT drive fetched from a URL (Ironic\'s string form): we add the partition over iSCSI; the instance reads the VFAT volume', async () => {
    const image = wholeDiskImage(join(lab.dir, 'iscsi-mbr.img'), 'dos');
    // A VFAT drive labelled CONFIG-2, as some tools make them (mkfs.vfat + mcopy), with the files we would build.
    const tree = join(lab.dir, 'tree-3');
    for (const f of configDriveFiles(configDriveContent(parts('web-3', mac(2)), { uuid: 'placeholder' }))) {
      mkdirSync(dirname(join(tree, f.path)), { recursive: true });
      writeFileSync(join(tree, f.path), f.data as Buffer);
    }
    const vfat = join(lab.dir, 'drive-3.vfat');
    execFileSync('mkfs.vfat', ['-C', '-n', 'CONFIG-2', vfat, '1024'], { stdio: 'ignore' });
    execFileSync('mcopy', ['-s', '-i', vfat, join(tree, 'openstack'), '::/'], { stdio: 'ignore' });
    const web = await lab.media.publish('drive-3.gz.b64', Buffer.from(gzipSync(readFileSync(vfat)).toString('base64')), { ttlSeconds: 600 });
    const started = await lab.deploy(lab.fleet.ilos[2]!, { method: 'iscsi_ilo', image, deployIso, configDrive: web.url });
    const done = await lab.engine.wait(started.deployId);
    assert.equal(done.state, 'active', done.lastError);
    assert.deepEqual(done.result?.partitions, [{ number: 2, role: 'configdrive', startBytes: 96 * MiB, sizeBytes: 64 * MiB }]);
    const boot = await instanceBoot(lab.ramdisks[2]!, 'disk');
    assert.equal(boot.configDrive?.fs, 'vfat');
    assert.equal(boot.configDrive?.uuid, 'placeholder');
    assert.equal(boot.configDrive?.hostname, 'web-3.example.org');
    assert.ok(readFileSync(lab.ramdisks[2]!.diskFile).subarray(MiB, 2 * MiB).equals(Buffer.alloc(MiB, 0x5a)), "the image's partition is intact");
    await lab.media.unpublish('drive-3.gz.b64');
  });

  test('pxe_ilo (Gen8), GPT image, parts: we add the partition and move the backup GPT to the end; cloud-init finds hostname, key and address', async () => {
    const image = wholeDiskImage(join(lab.dir, 'pxe-gpt.img'), 'gpt');
    const started = await lab.deploy(lab.fleet.ilos[3]!, { method: 'pxe_ilo', image, deployKernel: join(lab.dir, 'k'), deployRamdisk: join(lab.dir, 'r'), configDrive: parts('web-4', mac(3)) });
    const done = await lab.engine.wait(started.deployId);
    assert.equal(done.state, 'active', done.lastError);
    assert.match(execFileSync('sgdisk', ['-v', lab.ramdisks[3]!.diskFile], { encoding: 'utf8' }), /No problems found/);
    assertFound(3, await instanceBoot(lab.ramdisks[3]!, 'disk'), started.deployId, 'web-4');
  });

  test('iscsi_ilo netboot of a partition image: the config drive partition in Ironic\'s layout; the instance booted from its ISO finds it', { skip: missingBootLoaders() }, async () => {
    const root = join(lab.dir, 'root.ext4');
    execFileSync('mkfs.ext4', ['-q', '-F', root, '8M'], { stdio: 'ignore' });
    const request: DeployRequest = {
      method: 'iscsi_ilo',
      image: root,
      imageType: 'partition',
      rootMb: 16,
      bootOption: 'netboot',
      instanceKernel: join(lab.dir, 'k'),
      instanceRamdisk: join(lab.dir, 'r'),
      deployIso,
      configDrive: parts('web-5', mac(0)),
    };
    const started = await lab.rebuild(lab.fleet.ilos[0]!, request);
    const done = await lab.engine.wait(started.deployId);
    assert.equal(done.state, 'active', done.lastError);
    assert.deepEqual(done.result?.partitions?.map((p) => p.role), ['configdrive', 'root']);
    assertFound(0, await instanceBoot(lab.ramdisks[0]!, 'boot-iso'), started.deployId, 'web-5');
  });

  test('a bad config drive is refused before anything touches the server, naming the field', async () => {
    const ilo = lab.fleet.ilos[1]!;
    await lab.engine.undeploy(`${ilo.host}:${ilo.port}`).then((s) => lab.engine.wait(s.deployId));
    const power = ilo.server.powerState;
    const image = wholeDiskImage(join(lab.dir, 'refused.img'), 'dos');
    const base: DeployRequest = { method: 'agent_ilo', image, deployIso };
    const bad: Array<[unknown, string]> = [
      [{ ...parts('x', mac(1)), network_data: { links: [{ id: 'nic0', type: 'phy' }] } }, 'configDrive.network_data.links[0].ethernet_mac_address'],
      [{ meta_data: { hostname: 'not a host name' } }, 'configDrive.meta_data.hostname'],
      [Buffer.from('not gzip').toString('base64'), 'configDrive'],
      [gzipSync(Buffer.alloc(65 * MiB)).toString('base64'), 'configDrive'],
    ];
    for (const [configDrive, field] of bad) {
      await assert.rejects(lab.deploy(ilo, { ...base, configDrive } as DeployRequest), { code: 'invalid-input', field });
    }
    assert.equal(ilo.server.powerState, power, 'the server was not touched');
    assert.equal((await lab.engine.status(`${ilo.host}:${ilo.port}`))?.state ?? 'available', 'available');
  });

  test('agent_ilo on an MBR image with four primary partitions: the agent refuses the config drive as ironic-python-agent does; the deploy fails and cleans up', async () => {
    const ilo = lab.fleet.ilos[1]!;
    const image = wholeDiskImage(join(lab.dir, 'four.img'), 'dos', 3);
    const started = await lab.deploy(ilo, { method: 'agent_ilo', image, deployIso, configDrive: parts('web-6', mac(1)) });
    const done = await lab.engine.wait(started.deployId);
    assert.equal(done.state, 'deploy failed');
    assert.equal(done.failedStep, 'write-image');
    assert.match(done.lastError ?? '', /Config drive cannot be created\. Disk \(.*\) uses MBR partitioning and already has 4 primary partitions/);
    assert.equal(ilo.server.powerState, 'off');
  });
});
