/**
 * Config drives checked by their real consumer and by the real tools:
 * cloud-init's ConfigDrive data source (Debian `cloud-init`) reads the drive
 * we build, the ready drives others build (xorriso as openstacksdk runs it,
 * mkfs.vfat + mtools), and the partition read back from disks we wrote over
 * a real tgtd iSCSI target; sgdisk and parted, run as the agent runs them,
 * are the yardstick for where we put the partition on a whole-disk image.
 * (No loop mount here: the drives are extracted with xorriso / mtools and
 * cloud-init reads the directory, with the reader it runs on a mount.)
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { checkConfigDriveData, configDriveContent, configDriveFile, type ConfigDriveParts } from '../../lib/deploy/config-drive';
import { writeImageToIscsi, type WriteImageOptions } from '../../lib/deploy';
import { planConfigDrivePartition } from '../../lib/deploy/disk/config-drive-partition';
import { buildConfigDriveImage } from '../../lib/media';
import { startTgtd, type Tgtd } from '../../sim/tgtd';
import { missingCloudInit, partitionToFile, readWithCloudInit, sfdiskPartitions, type CloudInitView } from '../helpers/cloud-init';
import { needTools } from '../helpers/env';

const MiB = 1024 * 1024;
const KEY1 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOvUq7bQx ops@example.org';
const KEY2 = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 backup@example.org';
const NICS = { '52:54:00:12:34:56': 'eno1', '52:54:00:12:34:57': 'eno2' };

const skipCloudInit = missingCloudInit();
const skipDisk = skipCloudInit || needTools('sfdisk', 'sgdisk', 'parted', 'blkid', 'mkfs.vfat');
const skipIscsi = skipDisk || needTools('tgtd', 'tgtadm', 'qemu-img');

/** What an operator gives for a hostname, SSH keys and a static address (plus IPv6 on a second NIC). */
function operatorParts(): ConfigDriveParts {
  return {
    meta_data: { hostname: 'web-1.example.org', public_keys: { ops: KEY1, backup: KEY2 }, availability_zone: 'rack-7' },
    user_data: '#cloud-config\npackages:\n  - nginx\n',
    network_data: {
      links: [
        { id: 'port-1', type: 'phy', ethernet_mac_address: '52:54:00:12:34:56', mtu: 9000 },
        { id: 'port-2', type: 'phy', ethernet_mac_address: '52:54:00:12:34:57' },
      ],
      networks: [
        { id: 'net-1', link: 'port-1', type: 'ipv4', ip_address: '192.0.2.10', netmask: '255.255.255.0', gateway: '192.0.2.1', routes: [{ network: '198.51.100.0', netmask: '255.255.255.0', gateway: '192.0.2.254' }] },
        { id: 'net-2', link: 'port-2', type: 'ipv6', ip_address: '2001:db8::10/64', gateway: '2001:db8::1' },
      ],
      services: [{ type: 'dns', address: '192.0.2.53' }],
    },
    vendor_data: { site: 'lab' },
  };
}

/** What a user checks in cloud-init's view: identity, keys, user data, and each NIC's configuration. */
function assertOperatorView(v: CloudInitView, instanceId: string): void {
  assert.equal(v.found, true, 'cloud-init found the config drive');
  assert.equal(v.version, 2);
  assert.equal(v.instance_id, instanceId);
  assert.equal(v.hostname, 'web-1.example.org');
  assert.deepEqual([...(v.public_keys ?? [])].sort(), [KEY1, KEY2].sort());
  assert.equal(v.userdata, '#cloud-config\npackages:\n  - nginx\n');
  const config = v.network_config?.config ?? [];
  const eno1 = config.find((c) => c.name === 'eno1') as { mac_address: string; mtu: number; subnets: Array<Record<string, unknown>> } | undefined;
  assert.ok(eno1, `eno1 configured: ${JSON.stringify(config)}`);
  assert.equal(eno1.mac_address, '52:54:00:12:34:56');
  assert.equal(eno1.mtu, 9000);
  assert.deepEqual(pick(eno1.subnets[0], 'type', 'address', 'netmask', 'gateway', 'routes'), {
    type: 'static',
    address: '192.0.2.10',
    netmask: '255.255.255.0',
    gateway: '192.0.2.1',
    routes: [{ network: '198.51.100.0', netmask: '255.255.255.0', gateway: '192.0.2.254' }],
  });
  const eno2 = config.find((c) => c.name === 'eno2') as { subnets: Array<Record<string, unknown>> } | undefined;
  assert.deepEqual(pick(eno2?.subnets[0], 'type', 'address', 'gateway'), { type: 'static6', address: '2001:db8::10/64', gateway: '2001:db8::1' });
  assert.ok(config.some((c) => c.type === 'nameserver' && c.address === '192.0.2.53'), 'the DNS server');
}

function pick(o: Record<string, unknown> | undefined, ...keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => o?.[k] !== undefined).map((k) => [k, o?.[k]]));
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A whole-disk image with its own table: partition 1 (1 MiB to 7 MiB) filled with a pattern. */
function wholeDiskImage(path: string, label: 'dos' | 'gpt', sizeMb = 8, tool: 'sfdisk' | 'sgdisk' = 'sfdisk'): Buffer {
  writeFileSync(path, '');
  truncateSync(path, sizeMb * MiB);
  // sfdisk leaves 1 MiB unused at each end of a GPT disk, sgdisk 34 sectors: both kinds are about.
  if (tool === 'sgdisk') sh('sgdisk', ['-n', '1:2048:+6M', path]);
  else execFileSync('sfdisk', ['-q', path], { input: `label: ${label}\nstart=2048, size=${6 * 2048}, type=${label === 'gpt' ? '0FC63DAF-8483-4772-8E79-3D69D8477DE4' : '83'}\n` });
  const pattern = Buffer.alloc(6 * MiB);
  for (let i = 0; i < pattern.length; i += 4) pattern.writeUInt32LE((i * 2654435761) >>> 0, i);
  const fd = openSync(path, 'r+');
  writeSync(fd, pattern, 0, pattern.length, MiB);
  closeSync(fd);
  return pattern;
}

describe('cloud-init reads the config drive we build', { skip: skipCloudInit }, () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'config-drive-ci-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('hostname, SSH keys, user data, static IPv4 with a route, static IPv6 and DNS: as the operator gave them; blkid sees an ISO 9660 labelled config-2', async () => {
    const iso = join(work, 'drive.iso');
    await buildConfigDriveImage(configDriveContent(operatorParts(), { uuid: 'deploy-1234', name: 'server-1' })).writeToFile(iso);
    assert.match(sh('blkid', ['-o', 'export', iso]), /LABEL=config-2\nTYPE=iso9660/);
    assertOperatorView(readWithCloudInit(iso, NICS), 'deploy-1234');
  });

  test('user data given as an object reaches cloud-init as JSON text; vendor_data as vendor_data2.json', async () => {
    const iso = join(work, 'drive2.iso');
    await buildConfigDriveImage(configDriveContent({ user_data: { runcmd: ['touch /x'] }, vendor_data: { site: 'lab' } }, { uuid: 'deploy-5' })).writeToFile(iso);
    const v = readWithCloudInit(iso);
    assert.equal(v.instance_id, 'deploy-5');
    assert.deepEqual(JSON.parse(v.userdata ?? ''), { runcmd: ['touch /x'] });
    assert.deepEqual(v.vendordata, { site: 'lab' });
  });

  test("the ready forms others build pass our checks and decode to their bytes: xorriso's ISO as openstacksdk makes it, and a VFAT drive", { skip: skipDisk }, async () => {
    const tree = join(work, 'tree');
    const files = buildFiles(tree, { uuid: 'ready-1', hostname: 'ready-1.example.org', public_keys: { k: KEY1 } });
    assert.ok(files > 0);
    // openstacksdk's pack(): genisoimage/mkisofs/xorrisofs with these options.
    const iso = join(work, 'ready.iso');
    sh('xorriso', ['-as', 'mkisofs', '-o', iso, '-ldots', '-allow-lowercase', '-allow-multidot', '-l', '-publisher', 'metalsmith', '-quiet', '-J', '-r', '-V', 'config-2', tree]);
    const vfat = join(work, 'ready.vfat');
    sh('mkfs.vfat', ['-C', '-n', 'CONFIG-2', vfat, '2048']);
    sh('mcopy', ['-s', '-i', vfat, join(tree, 'openstack'), '::/']);
    for (const image of [iso, vfat]) {
      const ready = gzipSync(readFileSync(image)).toString('base64');
      await checkConfigDriveData(ready);
      const out = await configDriveFile(ready, { uuid: 'x' }, join(work, 'decoded.img'), async () => assert.fail('no download'));
      assert.ok(readFileSync(out.path).equals(readFileSync(image)), 'decoded to the same bytes');
      const v = readWithCloudInit(image);
      assert.equal(v.instance_id, 'ready-1');
      assert.equal(v.hostname, 'ready-1.example.org');
      assert.deepEqual(v.public_keys, [KEY1]);
    }
  });
});

/** openstack/{2012-08-10,latest}/meta_data.json in a directory, as openstacksdk's populate_directory writes it. */
function buildFiles(dir: string, meta: Record<string, unknown>): number {
  let n = 0;
  for (const v of ['2012-08-10', 'latest']) {
    mkdirSync(join(dir, 'openstack', v), { recursive: true });
    writeFileSync(join(dir, 'openstack', v, 'meta_data.json'), JSON.stringify(meta));
    n++;
  }
  return n;
}

describe('the config drive partition on a whole-disk image, against sgdisk and parted as the agent runs them', { skip: skipDisk }, () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'config-drive-part-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  /** Our plan applied to `ours`, the agent's commands run on `theirs`: both copies of the image grown to the disk's size. */
  const compare = (label: 'dos' | 'gpt', diskMb: number, tool: 'sfdisk' | 'sgdisk' = 'sfdisk'): { ours: string; theirs: string; number: number } => {
    const image = join(work, `${label}.img`);
    wholeDiskImage(image, label, 8, tool);
    const ours = join(work, `${label}-ours.img`);
    const theirs = join(work, `${label}-theirs.img`);
    for (const f of [ours, theirs]) {
      copyFileSync(image, f);
      truncateSync(f, diskMb * MiB);
    }
    const plan = planConfigDrivePartition(readFileSync(image).subarray(0, MiB), diskMb * MiB, 300 * 1024);
    const fd = openSync(ours, 'r+');
    for (const w of plan.writes) writeSync(fd, w.data, 0, w.data.length, w.offset);
    closeSync(fd);
    if (label === 'gpt') {
      sh('sgdisk', ['-e', theirs]);
      sh('sgdisk', ['-n', '0:-64MB:0', '-u', `0:${'0e0e0e0e-0e0e-4e0e-8e0e-0e0e0e0e0e0e'}`, theirs]);
    } else {
      sh('parted', ['-a', 'optimal', '-s', '--', theirs, 'mkpart', 'primary', 'fat32', '-64MiB', '-0']);
    }
    return { ours, theirs, number: plan.number };
  };

  test('MBR: the same primary partition as parted makes (start, size, FAT32 type), the first one untouched', () => {
    const { ours, theirs, number } = compare('dos', 200);
    const a = sfdiskPartitions(ours);
    const b = sfdiskPartitions(theirs);
    assert.equal(number, 2);
    assert.deepEqual(a.partitions.map(({ number: n, start, size, type }) => ({ n, start, size, type })), b.partitions.map(({ number: n, start, size, type }) => ({ n, start, size, type })));
    assert.deepEqual(a.partitions[1], { number: 2, start: 136 * MiB, size: 64 * MiB, type: 'c', uuid: undefined });
  });

  for (const tool of ['sfdisk', 'sgdisk'] as const) {
  test(`GPT made by ${tool}: the same partition and usable range as sgdisk gives (aligned start, end of the usable space), the backup table moved to the end; sgdisk -v finds no problem`, () => {
    const { ours, theirs, number } = compare('gpt', 300, tool);
    const a = sfdiskPartitions(ours);
    const b = sfdiskPartitions(theirs);
    assert.equal(number, 2);
    assert.deepEqual(a.partitions.map(({ number: n, start, size, type }) => ({ n, start, size, type })), b.partitions.map(({ number: n, start, size, type }) => ({ n, start, size, type })));
    const usable = (f: string): string => /First usable sector is \d+, last usable sector is \d+/.exec(sh('sgdisk', ['-p', f]))?.[0] ?? 'none';
    assert.equal(usable(ours), usable(theirs));
    assert.match(sh('sgdisk', ['-v', ours]), /No problems found/);
    // The backup table alone gives the same partitions (primary header destroyed).
    const fd = openSync(ours, 'r+');
    writeSync(fd, Buffer.alloc(512), 0, 512, 512);
    closeSync(fd);
    assert.deepEqual(sfdiskPartitions(ours).partitions.map((p) => [p.start, p.size]), a.partitions.map((p) => [p.start, p.size]));
  });
  }
});

describe('the config drive written over iSCSI, read back by cloud-init', { skip: skipIscsi }, () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'config-drive-iscsi-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  const withTarget = async (sizeBytes: number, fn: (t: Tgtd, base: Pick<WriteImageOptions, 'portal' | 'iqn' | 'lun'>) => Promise<void>): Promise<void> => {
    const t = await startTgtd({ sizeBytes, fill: 0xaa });
    try {
      await fn(t, { portal: { host: '127.0.0.1', port: t.port }, iqn: t.iqn, lun: t.lun });
    } finally {
      await t.stop();
    }
  };

  const drive = async (uuid: string): Promise<string> => {
    const path = join(work, `${uuid}.iso`);
    await buildConfigDriveImage(configDriveContent(operatorParts(), { uuid })).writeToFile(path);
    return path;
  };

  for (const label of ['dos', 'gpt'] as const) {
    test(`whole-disk image with an ${label === 'dos' ? 'MBR' : 'GPT'} table: a config drive partition added at the end of the disk; the image's partition intact; cloud-init reads the partition`, async () => {
      const image = join(work, `whole-${label}.img`);
      const pattern = wholeDiskImage(image, label);
      await withTarget(128 * MiB, async (t, base) => {
        const result = await writeImageToIscsi({ ...base, image, imageType: 'whole-disk', configdrive: { path: await drive(`whole-${label}`) } });
        assert.deepEqual(result.partitions, [{ number: 2, role: 'configdrive', startBytes: label === 'dos' ? 64 * MiB : 63 * MiB, sizeBytes: label === 'dos' ? 64 * MiB : 64 * MiB + 512 }]);
        const table = sfdiskPartitions(t.backingFile);
        assert.equal(table.label, label);
        const cd = table.partitions.find((p) => p.number === 2);
        assert.ok(cd, JSON.stringify(table));
        assert.deepEqual([cd.start, cd.size], [result.partitions?.[0]?.startBytes, result.partitions?.[0]?.sizeBytes]);
        if (label === 'gpt') assert.match(sh('sgdisk', ['-v', t.backingFile]), /No problems found/);
        assert.ok(readFileSync(t.backingFile).subarray(MiB, 7 * MiB).equals(pattern), "the image's own partition is intact");
        assert.match(sh('blkid', ['-p', '-O', String(cd.start), '-o', 'export', t.backingFile]), /LABEL=config-2/);
        assertOperatorView(readWithCloudInit(partitionToFile(t.backingFile, cd.start, cd.size, join(work, `part-${label}.img`)), NICS), `whole-${label}`);
      });
    });
  }

  test('partition image: the config drive partition in Ironic\'s layout (before root) holds our drive; cloud-init reads it', async () => {
    const root = join(work, 'root.ext4');
    sh('mkfs.ext4', ['-q', '-F', '-L', 'root', root, '8M']);
    await withTarget(64 * MiB, async (t, base) => {
      const result = await writeImageToIscsi({ ...base, image: root, imageType: 'partition', partition: { rootMb: 16, bootMode: 'bios', bootOption: 'netboot' }, configdrive: { path: await drive('part-1') } });
      const cd = result.partitions?.find((p) => p.role === 'configdrive');
      assert.deepEqual(result.partitions?.map((p) => p.role), ['configdrive', 'root']);
      assert.ok(cd);
      assertOperatorView(readWithCloudInit(partitionToFile(t.backingFile, cd.startBytes, cd.sizeBytes, join(work, 'part-p.img')), NICS), 'part-1');
    });
  });

  test('a whole-disk image without a partition table gets no config drive: refused before anything is written', async () => {
    const image = join(work, 'no-table.img');
    writeFileSync(image, Buffer.alloc(4 * MiB, 0x11));
    await withTarget(128 * MiB, async (t, base) => {
      await assert.rejects(writeImageToIscsi({ ...base, image, imageType: 'whole-disk', configdrive: { path: await drive('x') } }), { code: 'image', message: /no MBR or GPT partition table/ });
      assert.ok(readFileSync(t.backingFile).subarray(0, 8 * MiB).equals(Buffer.alloc(8 * MiB, 0xaa)), 'the disk is untouched');
    });
  });
});
