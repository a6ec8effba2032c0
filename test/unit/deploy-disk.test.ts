/**
 * The pieces of the iSCSI deploy that need no target: partition layout in
 * Ironic's order, the MBR/GPT bytes (read back by sfdisk from a file), the
 * filesystem UUID reader (against blkid), the open-iscsi command lines, and
 * how qemu-img's messages become typed errors.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync, writeSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { identifyFilesystem } from '../../lib/deploy/disk/fs-uuid';
import { MiB, planLayout, type LayoutInput } from '../../lib/deploy/disk/layout';
import { buildPartitionTable, guidBytes, readDiskIdentifier } from '../../lib/deploy/disk/partition-table';
import { isDeployError } from '../../lib/deploy/errors';
import { openIscsiLogin } from '../../lib/deploy/iscsi/open-iscsi';
import { qemuImgFailure } from '../../lib/deploy/iscsi/qemu-img';
import { resolveLun, rawOver } from '../../lib/deploy/iscsi/target';
import { writeImageToIscsi } from '../../lib/deploy';
import type { RunResult, ToolRunner } from '../../lib/exec/run';
import { needTools } from '../helpers/env';

const GiB = 1024 * MiB;
const base: LayoutInput = { diskBytes: 10 * GiB, bootMode: 'bios', bootOption: 'local', rootMb: 2048, imageBytes: 1500 * MiB };
const parts = (l: ReturnType<typeof planLayout>): Array<[string, number, number, boolean]> => l.partitions.map((p) => [p.role, p.startBytes / MiB, p.sizeBytes / MiB, p.bootable]);

describe('partition layout (Ironic order)', () => {
  test('BIOS local: msdos, ephemeral, swap, config drive, root last with the boot flag', () => {
    const l = planLayout({ ...base, ephemeralMb: 1024, swapMb: 512, configdriveBytes: 64 * MiB + 1 });
    assert.equal(l.label, 'msdos');
    assert.deepEqual(parts(l), [
      ['ephemeral', 1, 1024, false],
      ['swap', 1025, 512, false],
      ['configdrive', 1537, 65, false],
      ['root', 1602, 2048, true],
    ]);
  });

  test('UEFI local: gpt with a 200 MiB ESP first; netboot and UEFI netboot stay msdos without boot flags', () => {
    assert.deepEqual(parts(planLayout({ ...base, bootMode: 'uefi' })), [
      ['esp', 1, 200, false],
      ['root', 201, 2048, false],
    ]);
    assert.equal(planLayout({ ...base, bootMode: 'uefi' }).label, 'gpt');
    for (const bootMode of ['bios', 'uefi'] as const) {
      const l = planLayout({ ...base, bootMode, bootOption: 'netboot' });
      assert.equal(l.label, 'msdos');
      assert.deepEqual(parts(l), [['root', 1, 2048, false]]);
    }
  });

  test("an image bigger than the root partition is refused in Ironic's words", () => {
    assert.throws(() => planLayout({ ...base, rootMb: 1024 }), (e: unknown) => isDeployError(e, 'too-small') && e.message === 'Root partition is too small for requested image. Image size: 1500 MB, Root size: 1024 MB');
  });

  test('a disk too small for the partitions, and msdos past 2 TiB, are refused', () => {
    assert.throws(() => planLayout({ ...base, diskBytes: 2048 * MiB }), (e: unknown) => isDeployError(e, 'too-small') && /cannot hold/.test(e.message));
    // GPT keeps 16.5 KiB at the end: a disk of exactly 1 + 200 + 2048 MiB is too small for it.
    assert.throws(() => planLayout({ ...base, bootMode: 'uefi', diskBytes: 2249 * MiB }), (e: unknown) => isDeployError(e, 'too-small'));
    assert.doesNotThrow(() => planLayout({ ...base, diskBytes: 2049 * MiB }));
    assert.throws(() => planLayout({ ...base, diskBytes: 4096 * GiB, rootMb: 2200 * 1024 }), (e: unknown) => isDeployError(e, 'not-supported') && /2 TiB/.test(e.message));
  });

  test('sizes must be whole MiB', () => {
    assert.throws(() => planLayout({ ...base, swapMb: 1.5 }), (e: unknown) => isDeployError(e, 'invalid-input') && e.field === 'swapMb');
    assert.throws(() => planLayout({ ...base, rootMb: 0 }), (e: unknown) => isDeployError(e, 'invalid-input') && e.field === 'rootMb');
  });
});

describe('partition tables as bytes, read back by sfdisk', { skip: needTools('sfdisk') }, () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'ptable-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Write the table into a sparse file of the disk's size and let sfdisk read it. */
  const onDisk = (diskBytes: number, writes: Array<{ offset: number; data: Buffer }>): string => {
    const file = join(dir, `disk-${Math.random().toString(36).slice(2)}.img`);
    writeFileSync(file, '');
    truncateSync(file, diskBytes);
    const fd = openSync(file, 'r+');
    for (const w of writes) writeSync(fd, w.data, 0, w.data.length, w.offset);
    closeSync(fd);
    return file;
  };
  const sfdisk = (file: string): { label: string; id: string; partitions: Array<{ start: number; size: number; type: string; bootable?: boolean; uuid?: string; name?: string }> } =>
    (JSON.parse(execFileSync('sfdisk', ['--json', file], { encoding: 'utf8' })) as { partitiontable: never }).partitiontable;

  test('msdos: types, boot flag and the disk signature', () => {
    const layout = planLayout({ ...base, ephemeralMb: 100, swapMb: 64, configdriveBytes: MiB });
    const t = buildPartitionTable(layout, { diskSignature: 0x1a2b3c4d });
    assert.equal(t.diskIdentifier, '0x1a2b3c4d');
    assert.equal(readDiskIdentifier(t.writes[0]?.data as Buffer), '0x1a2b3c4d');
    const read = sfdisk(onDisk(layout.diskBytes, t.writes));
    assert.equal(read.label, 'dos');
    assert.equal(read.id, '0x1a2b3c4d');
    assert.deepEqual(
      read.partitions.map((p) => [p.start, p.size, p.type, p.bootable === true]),
      layout.partitions.map((p) => [p.startBytes / 512, p.sizeBytes / 512, p.role === 'swap' ? '82' : '83', p.bootable]),
    );
  });

  test('gpt on a 3 TiB disk: types, names, GUIDs, and CRCs sfdisk accepts', () => {
    const layout = planLayout({ ...base, diskBytes: 3 * 1024 * GiB, bootMode: 'uefi', rootMb: 2200 * 1024, swapMb: 4096 });
    const guids = ['11111111-2222-3333-4444-555555555555', '66666666-7777-8888-9999-aaaaaaaaaaaa', 'bbbbbbbb-cccc-dddd-eeee-ffffffffffff'];
    const t = buildPartitionTable(layout, { diskGuid: '01234567-89ab-cdef-0123-456789abcdef', partitionGuids: guids });
    const file = onDisk(layout.diskBytes, t.writes);
    const read = sfdisk(file);
    assert.equal(read.label, 'gpt');
    assert.equal(read.id.toLowerCase(), '01234567-89ab-cdef-0123-456789abcdef');
    assert.deepEqual(
      read.partitions.map((p) => [p.start * 512, p.size * 512, p.type, p.name, p.uuid?.toLowerCase()]),
      [
        [MiB, 200 * MiB, 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', 'efi-part', guids[0]],
        [201 * MiB, 4096 * MiB, '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F', 'swap1', guids[1]],
        [4297 * MiB, 2200 * 1024 * MiB, '0FC63DAF-8483-4772-8E79-3D69D8477DE4', 'root', guids[2]],
      ],
    );
    // sfdisk --verify reports problems (bad CRC, overlaps, backup mismatch) on stdout.
    const verify = execFileSync('sfdisk', ['--verify', file], { encoding: 'utf8' });
    assert.match(verify, /No errors detected/);
    const tail = t.writes[1]?.data as Buffer;
    const backup = tail.subarray(tail.length - 512);
    assert.equal(backup.toString('latin1', 0, 8), 'EFI PART');
    const h = Buffer.from(backup.subarray(0, 92));
    const stored = h.readUInt32LE(16);
    h.writeUInt32LE(0, 16);
    assert.equal(crc32(h), stored, 'backup header CRC');
  });

  test('GUIDs are stored mixed-endian', () => {
    assert.equal(guidBytes('c12a7328-f81f-11d2-ba4b-00a0c93ec93b').toString('hex'), '28732ac11ff8d211ba4b00a0c93ec93b');
  });
});

describe('root filesystem UUID from the superblock, as blkid sees it', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'fsuuid-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const blkid = (f: string): string => execFileSync('blkid', ['-s', 'UUID', '-o', 'value', f], { encoding: 'utf8' }).trim();
  const head = (f: string): Buffer => readFileSync(f).subarray(0, 128 * 1024);

  test('ext4 made by mkfs.ext4', { skip: needTools('mkfs.ext4', 'blkid') }, () => {
    const f = join(dir, 'ext4.img');
    execFileSync('mkfs.ext4', ['-q', '-F', f, '8M']);
    assert.deepEqual(identifyFilesystem(head(f)), { type: 'ext2/3/4', uuid: blkid(f) });
  });

  for (const fat of ['32', '16', '12'] as const) {
    test(`FAT${fat} made by mkfs.vfat`, { skip: needTools('mkfs.vfat', 'blkid') }, () => {
      const f = join(dir, `fat${fat}.img`);
      execFileSync('mkfs.vfat', ['-C', '-F', fat, f, ({ '32': '40000', '16': '20000', '12': '4000' } as const)[fat]], { stdio: 'ignore' });
      assert.deepEqual(identifyFilesystem(head(f)), { type: 'vfat', uuid: blkid(f) });
    });
  }

  test('xfs and btrfs superblocks (synthetic), and nothing recognisable', () => {
    const xfs = Buffer.alloc(4096);
    xfs.write('XFSB', 0, 'latin1');
    Buffer.from('00112233445566778899aabbccddeeff', 'hex').copy(xfs, 32);
    assert.deepEqual(identifyFilesystem(xfs), { type: 'xfs', uuid: '00112233-4455-6677-8899-aabbccddeeff' });
    const btrfs = Buffer.alloc(0x10100);
    btrfs.write('_BHRfS_M', 0x10040, 'latin1');
    Buffer.from('ffeeddccbbaa99887766554433221100', 'hex').copy(btrfs, 0x10020);
    assert.deepEqual(identifyFilesystem(btrfs), { type: 'btrfs', uuid: 'ffeeddcc-bbaa-9988-7766-554433221100' });
    assert.equal(identifyFilesystem(Buffer.alloc(128 * 1024, 0x5a)), undefined);
  });
});

describe('open-iscsi initiator (command lines; cannot run on a kernel without iSCSI)', () => {
  const ok = (stdout = ''): RunResult => ({ file: 'iscsiadm', exitCode: 0, stdout, stderr: '', timedOut: false, canceled: false, notFound: false, durationMs: 1 });
  const lun = resolveLun({ portal: { host: '10.1.2.3' }, iqn: 'iqn.2008-10.org.openstack:node-1' });

  test('discovery, login, session check, rescan, by-path device; logout and delete at the end', async () => {
    const calls: string[] = [];
    const run: ToolRunner = async (file, args) => {
      calls.push([file, ...args].join(' '));
      return ok(args.includes('-S') ? 'tcp: [1] 10.1.2.3:3260,1 iqn.2008-10.org.openstack:node-1 (non-flash)' : '');
    };
    const waited: string[] = [];
    const s = await openIscsiLogin(lun, { iscsiadm: 'iscsiadm', run, sleep: async () => undefined, deviceReady: async (p) => (waited.push(p), true) });
    assert.equal(s.device, '/dev/disk/by-path/ip-10.1.2.3:3260-iscsi-iqn.2008-10.org.openstack:node-1-lun-1');
    assert.deepEqual(waited, [s.device]);
    await s.logout();
    assert.deepEqual(calls, [
      'iscsiadm -m discovery -t st -p 10.1.2.3:3260',
      'iscsiadm -m node -p 10.1.2.3:3260 -T iqn.2008-10.org.openstack:node-1 --login',
      'iscsiadm -m node -S',
      'iscsiadm -m node -p 10.1.2.3:3260 -T iqn.2008-10.org.openstack:node-1 -R',
      'iscsiadm -m node -p 10.1.2.3:3260 -T iqn.2008-10.org.openstack:node-1 --logout',
      'iscsiadm -m node -p 10.1.2.3:3260 -T iqn.2008-10.org.openstack:node-1 -o delete',
    ]);
    assert.equal(rawOver([['driver', 'host_device'], ['filename', s.device]], { offset: MiB, size: 2 * MiB }), `driver=raw,offset=${MiB},size=${2 * MiB},file.driver=host_device,file.filename=${s.device}`);
  });

  test('login retried 5 times then a connection error with iscsiadm\'s words; the record is cleaned up', async () => {
    const calls: string[] = [];
    const run: ToolRunner = async (_file, args) => {
      calls.push(args.join(' '));
      if (args.includes('--login')) return { ...ok(), exitCode: 8, stderr: 'iscsiadm: initiator reported error (8 - connection timed out)\n' };
      return args.includes('delete') || args.includes('--logout') ? { ...ok(), exitCode: 21 } : ok();
    };
    await assert.rejects(openIscsiLogin(lun, { iscsiadm: 'iscsiadm', run, sleep: async () => undefined }), (e: unknown) => isDeployError(e, 'connection') && /connection timed out/.test(e.message));
    assert.equal(calls.filter((c) => c.endsWith('--login')).length, 5);
    assert.deepEqual(calls.slice(-2), [`-m node -p 10.1.2.3:3260 -T ${lun.iqn} --logout`, `-m node -p 10.1.2.3:3260 -T ${lun.iqn} -o delete`]);
  });

  test('without iscsiadm: not-supported, naming the package; with CHAP: refused (the secret would be on a command line)', async () => {
    const run: ToolRunner = async () => ({ ...ok(), exitCode: undefined, notFound: true, failure: 'iscsiadm could not be started (ENOENT)' });
    await assert.rejects(openIscsiLogin(lun, { iscsiadm: 'iscsiadm', run }), (e: unknown) => isDeployError(e, 'not-supported') && /open-iscsi/.test(e.message));
    await assert.rejects(
      writeImageToIscsi({ portal: { host: '10.1.2.3' }, iqn: lun.iqn, image: '/x.img', imageType: 'whole-disk', initiator: 'open-iscsi', chap: { username: 'u', password: 'p-secret' } }),
      (e: unknown) => isDeployError(e, 'not-supported') && e.field === 'chap' && !e.message.includes('p-secret'),
    );
  });
});

describe('input checks and qemu-img messages', () => {
  test('portal, iqn and lun are checked, naming the field', () => {
    assert.throws(() => resolveLun({ portal: { host: 'a b' }, iqn: 'iqn.x:y' }), (e: unknown) => isDeployError(e, 'invalid-input') && e.field === 'portal.host');
    assert.throws(() => resolveLun({ portal: { host: 'h' }, iqn: 'iqn.x:y,file.driver=file' }), (e: unknown) => isDeployError(e, 'invalid-input') && e.field === 'iqn');
    assert.throws(() => resolveLun({ portal: { host: 'h', port: 0 }, iqn: 'iqn.x:y' }), (e: unknown) => isDeployError(e, 'invalid-input') && e.field === 'portal.port');
    assert.equal(resolveLun({ portal: { host: 'fd00::1' }, iqn: 'iqn-3f2a', lun: 0 }).portal, '[fd00::1]:3260');
  });

  test('partition options are checked before anything runs', async () => {
    const run: ToolRunner = async () => assert.fail('nothing should run');
    const common = { portal: { host: 'h' }, iqn: 'iqn.x:y', image: '/x.img', imageType: 'partition' as const, run };
    await assert.rejects(writeImageToIscsi({ ...common }), (e: unknown) => isDeployError(e, 'invalid-input') && e.field === 'partition');
    await assert.rejects(writeImageToIscsi({ ...common, partition: { rootMb: 10, bootMode: 'efi' as never, bootOption: 'local' } }), (e: unknown) => isDeployError(e, 'invalid-input') && e.field === 'partition.bootMode');
    await assert.rejects(writeImageToIscsi({ ...common, partition: { rootMb: 10, swapMb: -1, bootMode: 'bios', bootOption: 'local' } }), (e: unknown) => isDeployError(e, 'invalid-input') && e.field === 'partition.swapMb');
  });

  test('qemu-img failures become typed errors without the image-opts noise', () => {
    const r = (stderr: string, extra: Partial<RunResult> = {}): RunResult => ({ file: 'qemu-img', exitCode: 1, stdout: '', stderr, timedOut: false, canceled: false, notFound: false, durationMs: 1, ...extra });
    const e1 = qemuImgFailure(r("qemu-img: Could not open 'driver=raw,file.driver=iscsi,file.portal=h:1': iSCSI: Failed to connect to LUN : Failed to log in to target. Status: Target not found(515)\n"), 'x');
    assert.equal(e1.code, 'connection');
    assert.equal(e1.toolMessage, 'iSCSI: Failed to connect to LUN : Failed to log in to target. Status: Target not found(515)');
    assert.equal(qemuImgFailure(r("qemu-img: Could not open 'a': Unknown driver 'iscsi'\n"), 'x').code, 'not-supported');
    assert.equal(qemuImgFailure(r('', { notFound: true, exitCode: undefined }), 'x').code, 'not-supported');
    assert.equal(qemuImgFailure(r('', { canceled: true }), 'x').code, 'aborted');
  });
});
