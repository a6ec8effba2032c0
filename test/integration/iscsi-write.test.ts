/**
 * writeImageToIscsi against a real tgtd iSCSI target on 127.0.0.1, through
 * qemu-img's userspace initiator. What a deploy must leave on the disk is read
 * from the LUN's backing file by independent tools: sfdisk for the partition
 * table, blkid for filesystems, fsck for their integrity, and byte compares
 * for the images.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { writeImageToIscsi, type WriteImageOptions, type WriteProgress } from '../../lib/deploy';
import { isDeployError } from '../../lib/deploy/errors';
import { runTool, type ToolRunner } from '../../lib/exec/run';
import { needTools } from '../helpers/env';
import { startTgtd, type Tgtd } from '../../sim/tgtd';

const MiB = 1024 * 1024;
const ESP_TYPE = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
const LINUX_FS_TYPE = '0FC63DAF-8483-4772-8E79-3D69D8477DE4';

function qemuIscsiSkip(): string | false {
  const tools = needTools('tgtd', 'tgtadm', 'qemu-img', 'sfdisk', 'blkid', 'mkfs.ext4', 'e2fsck', 'mkfs.vfat', 'mkswap', 'fsck.fat');
  if (tools) return tools;
  const formats = execFileSync('qemu-img', ['--help'], { encoding: 'utf8' });
  if (/Supported formats:.*\biscsi\b/.test(formats.replace(/\n/g, ' '))) return false;
  const reason = 'NOT RUN: qemu-img has no iscsi driver (Debian: qemu-block-extra)';
  process.stderr.write(`\n!!! ${reason}\n`);
  return reason;
}
const skip = qemuIscsiSkip();

/** Bytes [offset, offset+length) of a file. */
function slice(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(length);
    const n = readSync(fd, b, 0, length, offset);
    return b.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

interface SfdiskTable {
  label: string;
  id: string;
  sectorsize: number;
  partitions: Array<{ node: string; start: number; size: number; type: string; bootable?: boolean; name?: string; uuid?: string }>;
}
const sfdisk = (file: string): SfdiskTable => (JSON.parse(sh('sfdisk', ['--json', file])) as { partitiontable: SfdiskTable }).partitiontable;

/** blkid's view of a filesystem starting at `offset` in `file`. */
function blkidAt(file: string, offset: number): Record<string, string> {
  const out = sh('blkid', ['-p', '-O', String(offset), '-o', 'export', file]);
  return Object.fromEntries(out.trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
}

/** Copy a region of `file` into its own file (for fsck). */
function extract(file: string, offset: number, length: number, to: string): string {
  writeFileSync(to, slice(file, offset, length));
  return to;
}

describe('writing images over iSCSI to a real tgtd (libiscsi initiator)', { skip }, () => {
  let work: string;
  let rootImage: string;
  let rootUuid: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'iscsi-write-test-'));
    // A root filesystem image with files in it, as a partition image would be.
    const content = join(work, 'rootfs');
    mkdirSync(join(content, 'etc'), { recursive: true });
    writeFileSync(join(content, 'etc', 'hostname'), 'deployed-by-test\n');
    writeFileSync(join(content, 'big.bin'), Buffer.alloc(3 * MiB, 7));
    rootImage = join(work, 'root.img');
    sh('mkfs.ext4', ['-q', '-F', '-L', 'cloudimg-rootfs', '-d', content, rootImage, '24M']);
    rootUuid = sh('blkid', ['-s', 'UUID', '-o', 'value', rootImage]).trim();
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** A fresh target whose disk holds old data (0xAA everywhere) unless `sparse`. */
  const withTarget = async (sizeBytes: number, fn: (t: Tgtd) => Promise<void>, chap?: { username: string; password: string }, sparse = false): Promise<void> => {
    const t = await startTgtd({ sizeBytes, fill: sparse ? undefined : 0xaa, chap });
    try {
      await fn(t);
    } finally {
      await t.stop();
    }
  };
  const base = (t: Tgtd): Pick<WriteImageOptions, 'portal' | 'iqn' | 'lun'> => ({ portal: { host: '127.0.0.1', port: t.port }, iqn: t.iqn, lun: t.lun });

  test('whole-disk raw image: byte for byte on the LUN, disk signature read back', async () => {
    const image = join(work, 'whole.img');
    const bytes = Buffer.alloc(6 * MiB);
    for (let i = 0; i < bytes.length; i += 4) bytes.writeUInt32LE((i * 2654435761) >>> 0, i);
    bytes.writeUInt32LE(0x5eed1234, 440);
    writeFileSync(image, bytes);
    await withTarget(16 * MiB, async (t) => {
      const steps: WriteProgress[] = [];
      const result = await writeImageToIscsi({ ...base(t), image, imageType: 'whole-disk', onProgress: (p) => steps.push(p) });
      assert.deepEqual(result, { diskIdentifier: '0x5eed1234' });
      assert.ok(slice(t.backingFile, 0, bytes.length).equals(bytes), 'the LUN holds the image');
      assert.ok(slice(t.backingFile, bytes.length, MiB).equals(Buffer.alloc(MiB, 0xaa)), 'nothing written past the image');
      assert.ok(steps.some((s) => s.step === 'whole-disk' && s.percent === 100), JSON.stringify(steps));
    });
  });

  test('whole-disk qcow2 image: converted to raw on the way, format detected', async () => {
    const raw = join(work, 'whole2.img');
    const bytes = Buffer.alloc(4 * MiB, 0);
    bytes.fill(0x3c, MiB, 2 * MiB);
    bytes.writeUInt32LE(0xcafef00d, 440);
    writeFileSync(raw, bytes);
    const qcow = join(work, 'whole2.qcow2');
    sh('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow]);
    await withTarget(8 * MiB, async (t) => {
      const result = await writeImageToIscsi({ ...base(t), image: qcow, imageType: 'whole-disk' });
      assert.equal(result.diskIdentifier, '0xcafef00d');
      assert.ok(slice(t.backingFile, 0, bytes.length).equals(bytes), 'zeros of the image are written too (old data overwritten)');
    });
  });

  test('partition image, BIOS local boot: msdos table, ephemeral, swap, config drive, root last and bootable', async () => {
    const drive = Buffer.from('config drive contents\n'.repeat(5000));
    await withTarget(128 * MiB, async (t) => {
      const result = await writeImageToIscsi({
        ...base(t),
        image: rootImage,
        imageType: 'partition',
        partition: { rootMb: 32, swapMb: 8, ephemeralMb: 16, configdrive: gzipSync(drive).toString('base64'), bootMode: 'bios', bootOption: 'local' },
      });
      assert.equal(result.rootUuid, rootUuid, "the root UUID is the image's filesystem UUID");
      assert.equal(result.label, 'msdos');

      const table = sfdisk(t.backingFile);
      assert.equal(table.label, 'dos');
      assert.equal(table.id, result.diskIdentifier);
      assert.deepEqual(
        table.partitions.map((p) => [p.start * 512, p.size * 512, p.type, p.bootable === true]),
        [
          [1 * MiB, 16 * MiB, '83', false], // ephemeral
          [17 * MiB, 8 * MiB, '82', false], // swap
          [25 * MiB, 1 * MiB, '83', false], // config drive (rounded up to a MiB)
          [26 * MiB, 32 * MiB, '83', true], // root, last, with the boot flag
        ],
      );
      const image = readFileSync(rootImage);
      assert.ok(slice(t.backingFile, 26 * MiB, image.length).equals(image), 'the root partition holds the image');
      assert.ok(slice(t.backingFile, 25 * MiB, drive.length).equals(drive), 'the config drive partition holds the decoded drive');
      assert.deepEqual(pick(blkidAt(t.backingFile, 17 * MiB), 'TYPE', 'LABEL'), { TYPE: 'swap', LABEL: 'swap1' });
      assert.deepEqual(pick(blkidAt(t.backingFile, 1 * MiB), 'TYPE', 'LABEL'), { TYPE: 'ext4', LABEL: 'ephemeral0' });
      sh('e2fsck', ['-n', '-f', extract(t.backingFile, 1 * MiB, 16 * MiB, join(work, 'eph.img'))]);
      assert.equal(blkidAt(t.backingFile, 26 * MiB)['UUID'], rootUuid);
      // Old data before the first partition and in the last 18 KiB is gone (Ironic's wipe).
      assert.ok(slice(t.backingFile, 512, MiB - 512).equals(Buffer.alloc(MiB - 512)), 'gap before partition 1 wiped');
      assert.ok(slice(t.backingFile, 128 * MiB - 18 * 1024, 18 * 1024).equals(Buffer.alloc(18 * 1024)), 'last 18 KiB wiped');
    });
  });

  test('partition image, UEFI local boot: GPT with a 200 MiB FAT32 ESP first, root after it', async () => {
    await withTarget(256 * MiB, async (t) => {
      const result = await writeImageToIscsi({ ...base(t), image: rootImage, imageType: 'partition', partition: { rootMb: 32, bootMode: 'uefi', bootOption: 'local' } });
      assert.equal(result.label, 'gpt');
      assert.equal(result.rootUuid, rootUuid);
      assert.equal(result.diskIdentifier, undefined);
      const table = sfdisk(t.backingFile);
      assert.equal(table.label, 'gpt');
      assert.deepEqual(
        table.partitions.map((p) => [p.start * 512, p.size * 512, p.type, p.name]),
        [
          [1 * MiB, 200 * MiB, ESP_TYPE, 'efi-part'],
          [201 * MiB, 32 * MiB, LINUX_FS_TYPE, 'root'],
        ],
      );
      const esp = blkidAt(t.backingFile, MiB);
      assert.deepEqual(pick(esp, 'TYPE', 'LABEL', 'UUID'), { TYPE: 'vfat', LABEL: 'efi-part', UUID: result.efiSystemPartitionUuid });
      sh('fsck.fat', ['-n', extract(t.backingFile, MiB, 200 * MiB, join(work, 'esp.img'))]);
      const image = readFileSync(rootImage);
      assert.ok(slice(t.backingFile, 201 * MiB, image.length).equals(image));

      // The backup GPT at the end is valid too: with the primary header destroyed, sfdisk reads the same table from it.
      const copy = join(work, 'gpt-copy.img');
      sh('cp', ['--sparse=always', t.backingFile, copy]);
      const fd = openSync(copy, 'r+');
      writeSync(fd, Buffer.alloc(512), 0, 512, 512);
      closeSync(fd);
      assert.deepEqual(sfdisk(copy).partitions.map((p) => [p.start, p.size, p.type]), table.partitions.map((p) => [p.start, p.size, p.type]));
      rmSync(copy);
    }, undefined, true);
  });

  test('partition image as qcow2, BIOS netboot: root found inside the qcow2, not bootable', async () => {
    const qcow = join(work, 'root.qcow2');
    sh('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', rootImage, qcow]);
    await withTarget(64 * MiB, async (t) => {
      const result = await writeImageToIscsi({ ...base(t), image: qcow, imageType: 'partition', partition: { rootMb: 40, bootMode: 'bios', bootOption: 'netboot' } });
      assert.equal(result.rootUuid, rootUuid);
      const table = sfdisk(t.backingFile);
      assert.deepEqual(table.partitions.map((p) => [p.start * 512, p.size * 512, p.bootable === true]), [[MiB, 40 * MiB, false]]);
      const image = readFileSync(rootImage);
      assert.ok(slice(t.backingFile, MiB, image.length).equals(image), 'the qcow2 was written as raw');
    });
  });

  test('CHAP: logs in with the secret, which never appears on a command line; a wrong one is a connection error', async () => {
    const chap = { username: 'deployer', password: 'Chap-Secret-1234' };
    const argv: string[] = [];
    const recording: ToolRunner = (file, args, opts) => {
      argv.push([file, ...args].join(' '));
      return runTool(file, args, opts);
    };
    await withTarget(
      16 * MiB,
      async (t) => {
        const image = join(work, 'small.img');
        writeFileSync(image, Buffer.alloc(MiB, 0x11));
        await writeImageToIscsi({ ...base(t), image, imageType: 'whole-disk', chap, run: recording });
        assert.ok(slice(t.backingFile, 0, MiB).equals(Buffer.alloc(MiB, 0x11)));
        assert.ok(argv.length >= 3 && argv.every((a) => !a.includes(chap.password)), argv.join('\n'));
        assert.ok(argv.some((a) => a.includes('user=deployer') && a.includes('password-secret=')));
        await assert.rejects(writeImageToIscsi({ ...base(t), image, imageType: 'whole-disk', chap: { ...chap, password: 'not-it' } }), (err: unknown) => {
          assert.ok(isDeployError(err, 'connection'), String(err));
          assert.match(err.message, /Authentication failure/);
          assert.ok(!err.message.includes('not-it'));
          return true;
        });
      },
      chap,
    );
  });

  test('refusals: root too small, image larger than the disk, not a filesystem, unknown target; the disk is left alone', async () => {
    await withTarget(8 * MiB, async (t) => {
      const untouched = (): void => assert.ok(slice(t.backingFile, 0, 8 * MiB).equals(Buffer.alloc(8 * MiB, 0xaa)), 'the disk was not written');
      await assert.rejects(
        writeImageToIscsi({ ...base(t), image: rootImage, imageType: 'partition', partition: { rootMb: 16, bootMode: 'bios', bootOption: 'local' } }),
        (err: unknown) => isDeployError(err, 'too-small') && /Image size: 24 MB, Root size: 16 MB/.test(err.message),
      );
      await assert.rejects(
        writeImageToIscsi({ ...base(t), image: rootImage, imageType: 'partition', partition: { rootMb: 24, bootMode: 'bios', bootOption: 'local' } }),
        (err: unknown) => isDeployError(err, 'too-small') && /cannot hold/.test(err.message),
      );
      await assert.rejects(writeImageToIscsi({ ...base(t), image: rootImage, imageType: 'whole-disk', lun: 1 }), (err: unknown) => isDeployError(err, 'too-small'));
      const random = join(work, 'random.img');
      writeFileSync(random, Buffer.alloc(MiB, 0x5a));
      await assert.rejects(
        writeImageToIscsi({ ...base(t), image: random, imageType: 'partition', partition: { rootMb: 2, bootMode: 'bios', bootOption: 'local' } }),
        (err: unknown) => isDeployError(err, 'image') && /whole-disk image/.test(err.message),
      );
      await assert.rejects(writeImageToIscsi({ ...base(t), iqn: `${t.iqn}-nope`, image: random, imageType: 'whole-disk' }), (err: unknown) => isDeployError(err, 'connection') && /Target not found/.test(err.message));
      untouched();
    });
  });

  test('a qcow2 with a backing file is refused (it would read a file nobody named)', async () => {
    const backing = join(work, 'secret-backing.img');
    writeFileSync(backing, Buffer.alloc(MiB));
    const overlay = join(work, 'overlay.qcow2');
    sh('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', backing, '-F', 'raw', overlay]);
    await assert.rejects(
      writeImageToIscsi({ portal: { host: '127.0.0.1', port: 9 }, iqn: 'iqn.2024-01.x:y', image: overlay, imageType: 'whole-disk' }),
      (err: unknown) => isDeployError(err, 'image') && /backing/.test(err.message),
    );
  });

  test('an AbortSignal that has fired stops the write before it starts', async () => {
    await withTarget(8 * MiB, async (t) => {
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(writeImageToIscsi({ ...base(t), image: rootImage, imageType: 'whole-disk', signal: ac.signal }), (err: unknown) => isDeployError(err, 'aborted'));
    });
  });
});

function pick(o: Record<string, string>, ...keys: string[]): Record<string, string | undefined> {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}
