/**
 * A deploy's config drive without any server: the request checks (each
 * problem named by its field, no secret repeated), the ready form decoded
 * as Ironic and the agent decode it, the drive built from the parts, and
 * where the partition goes on a whole-disk image's own table.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { agentConfigDrive, checkConfigDriveData, configDriveContent, driveLabel, type ConfigDriveParts } from '../../lib/deploy/config-drive';
import { planConfigDrivePartition, readDiskTable } from '../../lib/deploy/disk/config-drive-partition';
import { buildDeployRequest } from '../../lib/deploy/flow';
import { deployProcesses } from '../../lib/deploy/processes';
import type { DeployRequest } from '../../lib/deploy/types';
import { buildConfigDriveImage, buildFatImage, buildIso, configDriveFiles } from '../../lib/media';

const MiB = 1024 * 1024;
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOvUq7bQ ops@example.org';
const SECRET = 'hunter2-do-not-print';

function goodParts(): ConfigDriveParts {
  return {
    meta_data: { hostname: 'web-1.example.org', public_keys: { ops: KEY } },
    user_data: `#cloud-config\npassword: ${SECRET}\n`,
    network_data: {
      links: [{ id: 'eno1', type: 'phy', ethernet_mac_address: '52:54:00:12:34:56', mtu: 1500 }],
      networks: [{ id: 'net0', link: 'eno1', type: 'ipv4', ip_address: '10.0.0.5', netmask: '255.255.255.0', gateway: '10.0.0.1', routes: [{ network: '10.1.0.0', netmask: '255.255.0.0', gateway: '10.0.0.254' }] }],
      services: [{ type: 'dns', address: '10.0.0.2' }],
    },
  };
}

const agent: DeployRequest = { method: 'agent_ilo', image: '/srv/images/disk.raw', deployIso: '/srv/images/deploy.iso' };
const gz64 = (b: Buffer): string => gzipSync(b).toString('base64');

describe('config drive: the request is checked before anything starts', () => {
  const validate = (configDrive: unknown): void => deployProcesses().agent_ilo.validate({ ...agent, configDrive } as DeployRequest);

  test('the parts an operator gives for a hostname, SSH keys and a static address pass, in every process', () => {
    for (const p of Object.values(deployProcesses())) {
      const base: DeployRequest = p.method === 'pxe_ilo' ? { method: 'pxe_ilo', image: '/i', deployKernel: '/k', deployRamdisk: '/r' } : { ...agent, method: p.method };
      p.validate({ ...base, configDrive: goodParts() });
    }
    validate({ meta_data: { public_keys: [KEY] }, user_data: { runcmd: ['true'] }, vendor_data: { x: 1 } });
    validate({ user_data: null });
    validate('https://config.example.org/drives/web-1.gz');
  });

  test('every bad part is refused naming its field, and never repeats the user data or the drive', () => {
    const cases: Array<[unknown, string]> = [
      [42, 'configDrive'],
      ['', 'configDrive'],
      ['ftp://host/drive', 'configDrive'],
      [`H4sI${SECRET}!`, 'configDrive'],
      [{ ...goodParts(), extra: 1 }, 'configDrive.extra'],
      [{ meta_data: 'web-1' }, 'configDrive.meta_data'],
      [{ meta_data: { hostname: 'web_1 ' } }, 'configDrive.meta_data.hostname'],
      [{ meta_data: { hostname: `${'a'.repeat(64)}.example.org` } }, 'configDrive.meta_data.hostname'],
      [{ meta_data: { uuid: 7 } }, 'configDrive.meta_data.uuid'],
      [{ meta_data: { public_keys: 'ssh-rsa AAAA' } }, 'configDrive.meta_data.public_keys'],
      [{ meta_data: { public_keys: { ops: 'not a key' } } }, 'configDrive.meta_data.public_keys.ops'],
      [{ meta_data: { public_keys: [KEY, `${KEY}\nssh-rsa AAAA`] } }, 'configDrive.meta_data.public_keys.1'],
      [{ meta_data: { random_seed: 'not base64!' } }, 'configDrive.meta_data.random_seed'],
      [{ user_data: 12 }, 'configDrive.user_data'],
      [{ user_data: `#cloud-config\n${SECRET}\uD800` }, 'configDrive.user_data'],
      [{ vendor_data: [] }, 'configDrive.vendor_data'],
      [{ network_data: [] }, 'configDrive.network_data'],
      [{ network_data: { links: {}, networks: [] } }, 'configDrive.network_data.links'],
      [{ network_data: { routes: [] } }, 'configDrive.network_data.routes'],
      [{ network_data: { links: [{ id: 'eno1', type: 'phy' }] } }, 'configDrive.network_data.links[0].ethernet_mac_address'],
      [{ network_data: { links: [{ id: 'eno1', type: 'phy', ethernet_mac_address: '52:54:00:12:34' }] } }, 'configDrive.network_data.links[0].ethernet_mac_address'],
      [{ network_data: { links: [{ id: 'eno1', type: 'nic', ethernet_mac_address: '52:54:00:12:34:56' }] } }, 'configDrive.network_data.links[0].type'],
      [{ network_data: { links: [{ id: 'a', type: 'phy', name: 'eth0' }, { id: 'a', type: 'phy', name: 'eth1' }] } }, 'configDrive.network_data.links[1].id'],
      [{ network_data: { links: [{ id: 'b', type: 'bond', bond_links: ['x'] }] } }, 'configDrive.network_data.links[0].bond_links'],
      [{ network_data: { links: [{ id: 'a', type: 'phy', name: 'eth0' }, { id: 'v', type: 'vlan', vlan_link: 'a', vlan_id: 5000, vlan_mac_address: '52:54:00:12:34:56' }] } }, 'configDrive.network_data.links[1].vlan_id'],
      [{ network_data: { ...goodParts().network_data, networks: [{ id: 'n', link: 'eth9', type: 'ipv4_dhcp' }] } }, 'configDrive.network_data.networks[0].link'],
      [{ network_data: { ...goodParts().network_data, networks: [{ id: 'n', link: 'eno1', type: 'static' }] } }, 'configDrive.network_data.networks[0].type'],
      [{ network_data: { ...goodParts().network_data, networks: [{ id: 'n', link: 'eno1', type: 'ipv4', ip_address: '10.0.0.500', netmask: '255.255.255.0' }] } }, 'configDrive.network_data.networks[0].ip_address'],
      [{ network_data: { ...goodParts().network_data, networks: [{ id: 'n', link: 'eno1', type: 'ipv4', ip_address: '10.0.0.5', netmask: '255.0.255.0' }] } }, 'configDrive.network_data.networks[0].netmask'],
      [{ network_data: { ...goodParts().network_data, networks: [{ id: 'n', link: 'eno1', type: 'ipv4', ip_address: '10.0.0.5', netmask: '255.255.255.0', gateway: '2001:db8::1' }] } }, 'configDrive.network_data.networks[0].gateway'],
      [{ network_data: { ...goodParts().network_data, networks: [{ id: 'n', link: 'eno1', type: 'ipv4', ip_address: '10.0.0.5', netmask: '255.255.255.0', routes: [{ network: '10.1.0.0', netmask: '255.255.0.0' }] }] } }, 'configDrive.network_data.networks[0].routes[0].gateway'],
      [{ network_data: { ...goodParts().network_data, networks: [{ id: 'n', link: 'eno1', type: 'ipv6', ip_address: '2001:db8::5/129' }] } }, 'configDrive.network_data.networks[0].ip_address'],
      [{ network_data: { ...goodParts().network_data, services: [{ type: 'dns', address: 'dns.example.org' }] } }, 'configDrive.network_data.services[0].address'],
      [{ user_data: 'x'.repeat(65 * MiB) }, 'configDrive'],
    ];
    for (const [value, field] of cases) {
      assert.throws(() => validate(value), (err: Error & { code?: string; field?: string }) => {
        assert.equal(err.code, 'invalid-input', `${field}: ${err.message}`);
        assert.equal(err.field, field, err.message);
        assert.ok(err.message.startsWith(`${field}: expected `), err.message);
        assert.ok(!err.message.includes(SECRET), `the message repeats a secret: ${err.message}`);
        return true;
      });
    }
    // An IPv6 address with its prefix needs no netmask; DHCP needs no address.
    validate({ network_data: { links: [{ id: 'a', type: 'phy', ethernet_mac_address: '52:54:00:aa:bb:cc' }], networks: [{ id: 'n6', link: 'a', type: 'ipv6', ip_address: '2001:db8::5/64', gateway: '2001:db8::1' }, { id: 'n4', link: 'a', type: 'ipv4_dhcp' }] } });
  });

  test('the ready form is decoded before the deploy starts: base64, gzip, 64 MiB, an ISO 9660 or VFAT volume labelled config-2', async () => {
    const iso = await buildIso({ volumeId: 'config-2', files: [{ path: 'openstack/latest/meta_data.json', data: Buffer.from('{"uuid":"u"}') }] }).toBuffer();
    await checkConfigDriveData(gz64(iso));
    await checkConfigDriveData(gz64(iso).replace(/(.{76})/g, '$1\n'), 'configDrive'); // wrapped as `base64` wraps it
    await checkConfigDriveData('https://example.org/drive.gz'); // read when written
    const fat = buildFatImage({ label: 'CONFIG-2', size: 1440 * 1024, files: [{ path: 'openstack/latest/meta_data.json', data: Buffer.from('{}') }] }).toBufferSync();
    assert.deepEqual(driveLabel(fat), { fs: 'vfat', label: 'CONFIG-2' });
    await checkConfigDriveData(gz64(fat));

    const refused: Array<[string, RegExp]> = [
      [Buffer.from(`${SECRET} is not gzip at all`).toString('base64'), /expected base64 of gzip data/],
      [gz64(iso).slice(0, 200), /gzip stream is damaged/],
      [gz64(Buffer.alloc(65 * MiB)), /at most 64 MiB once decompressed/],
      [gz64(Buffer.from(`${SECRET} text, not a volume`)), /an ISO 9660 or VFAT image/],
      [gz64(await buildIso({ volumeId: 'CIDATA', files: [{ path: 'meta-data', data: Buffer.from('') }] }).toBuffer()), /labelled config-2 .*labelled "CIDATA"/],
    ];
    for (const [value, message] of refused) {
      await assert.rejects(checkConfigDriveData(value), (err: Error & { field?: string; code?: string }) => {
        assert.equal(err.code, 'invalid-input');
        assert.equal(err.field, 'configDrive');
        assert.match(err.message, message);
        assert.ok(!err.message.includes(SECRET));
        return true;
      });
    }
  });

  test('a deploy message gives it in msg.deploy.configDrive, or the node in its own field (which wins)', () => {
    const method = { value: 'agent_ilo', field: 'method' };
    const fromMsg = buildDeployRequest({ method, image: { value: '/i', field: 'image' }, extra: { configDrive: goodParts() } });
    assert.deepEqual(fromMsg.configDrive, goodParts());
    const fromNode = buildDeployRequest({ method, image: { value: '/i', field: 'image' }, extra: { configDrive: 'https://x/y' }, configDrive: { value: { meta_data: { hostname: 'a' } }, field: 'configDrive' } });
    assert.deepEqual(fromNode.configDrive, { meta_data: { hostname: 'a' } });
    assert.throws(() => buildDeployRequest({ method, configDrive: { value: 5, field: 'configDrive' } }), { field: 'configDrive' });
    assert.equal(buildDeployRequest({ method, configDrive: { value: '', field: 'configDrive' } }).configDrive, undefined);
  });
});

describe('config drive: built from the parts as Ironic builds it', () => {
  test('openstack/2012-08-10 and openstack/latest, the same files; uuid and name default to the deploy and the server; user data as text or JSON', () => {
    const content = configDriveContent({ ...goodParts(), vendor_data: { v: 1 } }, { uuid: 'deploy-1', name: 'server-1' });
    const files = configDriveFiles(content);
    assert.deepEqual(
      files.map((f) => f.path),
      ['2012-08-10', 'latest'].flatMap((v) => ['meta_data.json', 'network_data.json', 'vendor_data2.json', 'user_data'].map((n) => `openstack/${v}/${n}`)),
    );
    const meta = JSON.parse(String((files[0] as { data: Buffer }).data)) as Record<string, unknown>;
    assert.deepEqual(meta, { hostname: 'web-1.example.org', public_keys: { ops: KEY }, uuid: 'deploy-1', name: 'server-1' });
    assert.equal(configDriveContent({ meta_data: { uuid: 'mine', name: 'n' } }, { uuid: 'deploy-1', name: 'server-1' }).metaData.uuid, 'mine');
    assert.equal(String(configDriveContent({ user_data: { runcmd: ['true'] } }, { uuid: 'u' }).userData), '{"runcmd":["true"]}');
    assert.equal(configDriveContent({ user_data: null }, { uuid: 'u' }).userData, undefined);
    assert.equal(buildConfigDriveImage(content).volumeId, 'config-2');
  });

  test('the agent gets Ironic\'s string: the ISO gzipped and base64-encoded; a ready string or URL as given', async () => {
    const param = await agentConfigDrive(goodParts(), { uuid: 'deploy-1', name: 'server-1' });
    const image = gunzipSync(Buffer.from(param, 'base64'));
    assert.deepEqual(driveLabel(image), { fs: 'iso9660', label: 'config-2' });
    assert.ok(image.includes(Buffer.from('"hostname":"web-1.example.org"')));
    assert.equal(await agentConfigDrive(' https://x/drive.gz ', { uuid: 'u' }), 'https://x/drive.gz');
  });
});

/** A disk image's first MiB with a DOS table of the given primary partitions (start MiB, size MiB, type). */
function mbrHead(parts: Array<[number, number, number]>): Buffer {
  const head = Buffer.alloc(MiB);
  parts.forEach(([start, size, type], i) => {
    const at = 446 + 16 * i;
    head[at + 4] = type;
    head.writeUInt32LE((start * MiB) / 512, at + 8);
    head.writeUInt32LE((size * MiB) / 512, at + 12);
  });
  head.writeUInt16LE(0xaa55, 510);
  return head;
}

describe('config drive: where the partition goes on a whole-disk image', () => {
  test('MBR: a primary over the last 64 MiB in the first free slot; four primaries (an extended one counts) are refused as the agent refuses them', () => {
    const plan = planConfigDrivePartition(mbrHead([[1, 100, 0x83]]), 1024 * MiB, 400 * 1024);
    assert.equal(plan.number, 2);
    assert.equal(plan.startBytes, 960 * MiB);
    assert.equal(plan.sizeBytes, 64 * MiB);
    assert.equal(plan.writes.length, 1);
    const table = readDiskTable(plan.writes[0]!.data);
    assert.deepEqual(table.partitions.at(-1), { number: 2, startBytes: 960 * MiB, sizeBytes: 64 * MiB });
    assert.equal(table.mbrTypes?.[1], 0x0c);
    assert.throws(() => planConfigDrivePartition(mbrHead([[1, 10, 0x83], [11, 10, 0x83], [21, 10, 0x05], [31, 10, 0x83]]), 1024 * MiB, 1), { code: 'not-supported', message: /already has 4 primary partitions/ });
    // No room: the image's partition reaches into the last 64 MiB.
    assert.throws(() => planConfigDrivePartition(mbrHead([[1, 990, 0x83]]), 1024 * MiB, 1), { code: 'too-small', message: /no room for the 64 MiB config drive partition/ });
    // Beyond 2 TiB an MBR cannot address: just below the limit.
    const big = planConfigDrivePartition(mbrHead([[1, 100, 0x83]]), 3 * 1024 * 1024 * MiB, 1);
    assert.equal(big.startBytes + big.sizeBytes, 2 * 1024 * 1024 * MiB - MiB);
  });

  test('an image without a table, or a drive larger than a reused config-2 partition, is refused; a labelled partition is reused', () => {
    assert.throws(() => planConfigDrivePartition(Buffer.alloc(MiB), 1024 * MiB, 1), { code: 'image', message: /no MBR or GPT partition table/ });
    const reused = planConfigDrivePartition(mbrHead([[1, 100, 0x83], [101, 2, 0x83]]), 1024 * MiB, MiB, { labelled: [2] });
    assert.deepEqual({ n: reused.number, reused: reused.reused, writes: reused.writes.length }, { n: 2, reused: true, writes: 0 });
    assert.throws(() => planConfigDrivePartition(mbrHead([[1, 100, 0x83], [101, 2, 0x83]]), 1024 * MiB, 3 * MiB, { labelled: [2] }), { code: 'too-small' });
    assert.throws(() => planConfigDrivePartition(mbrHead([[1, 1, 0x83], [2, 2, 0x83]]), 1024 * MiB, 1, { labelled: [1, 2] }), { message: /More than one partition with label "config-2"/ });
  });
});
