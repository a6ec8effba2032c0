/**
 * Every child process the library, the simulator and the demo start, started
 * with its program missing: a typed error naming the tool (and the Debian
 * package that brings it), never a crash. An `error` event nobody listens to
 * would end this test process, which the runner reports as a failure.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BmcError } from '../../lib/bmc/errors';
import { makeEsp } from '../../lib/deploy/disk/filesystems';
import { DeployError } from '../../lib/deploy/errors';
import { writeImageToIscsi } from '../../lib/deploy/iscsi/write';
import { runTool } from '../../lib/exec/run';
import { Ipmitool } from '../../lib/ipmi/ipmitool';
import { spawnSol } from '../../lib/ipmi/sol';
import { startChild } from '../../scripts/demo-child';
import { TgtdError, startTgtd } from '../../sim/tgtd';
import { needTools } from '../helpers/env';
import { descendants, running } from '../helpers/processes';

const scratch = mkdtempSync(join(tmpdir(), 'missing-tools-'));
const image = join(scratch, 'disk.img');
writeFileSync(image, Buffer.alloc(1024 * 1024));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs `fn` with PATH set to `path` (spawn reads it at each call). */
async function withPath<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = path;
  try {
    return await fn();
  } finally {
    process.env.PATH = saved;
  }
}

function typed<T extends Error>(cls: new (...args: never[]) => T, check: (e: T) => void): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof cls, `a ${cls.name}, got ${String((err as Error)?.stack ?? err)}`);
    check(err);
    return true;
  };
}

describe('a missing program is a typed error, never a crash', () => {
  test('lib/exec runTool: reports notFound', async () => {
    const r = await runTool(join(scratch, 'no-such-tool'), ['--version']);
    assert.equal(r.notFound, true);
    assert.match(r.failure ?? '', /could not be started \(ENOENT\)/);
  });

  test('ipmitool', async () => {
    const ipmi = new Ipmitool({ host: '127.0.0.1', username: 'admin', password: 'secret-pw', ipmitoolPath: join(scratch, 'ipmitool') });
    await assert.rejects(
      ipmi.powerStatus(),
      typed(BmcError, (e) => {
        assert.equal(e.code, 'not-supported');
        assert.match(e.message, /not installed.*Debian package: ipmitool/);
        assert.doesNotMatch(e.message, /secret-pw/);
      }),
    );
  });

  test('serial-over-LAN: util-linux script missing', async () => {
    await assert.rejects(
      spawnSol({ scriptPath: join(scratch, 'script'), command: ['ipmitool', 'sol', 'activate'], env: {}, target: '127.0.0.1:623', password: 'pw', readyTimeoutMs: 30_000 }),
      typed(BmcError, (e) => {
        assert.equal(e.code, 'not-supported');
        assert.match(e.message, /needs util-linux "script"/);
      }),
    );
  });

  test('qemu-img (iSCSI image writing)', async () => {
    await assert.rejects(
      writeImageToIscsi({ portal: { host: '127.0.0.1' }, iqn: 'iqn.2008-10.org.openstack:x', lun: 1, image, imageType: 'whole-disk', tools: { qemuImg: join(scratch, 'qemu-img') } }),
      typed(DeployError, (e) => {
        assert.equal(e.code, 'not-supported');
        assert.match(e.message, /not installed \(Debian: qemu-utils/);
      }),
    );
  });

  test('iscsiadm (open-iscsi initiator)', { skip: needTools('qemu-img') }, async () => {
    await assert.rejects(
      writeImageToIscsi({ portal: { host: '127.0.0.1' }, iqn: 'iqn.2008-10.org.openstack:x', lun: 1, image, imageType: 'whole-disk', initiator: 'open-iscsi', tools: { iscsiadm: join(scratch, 'iscsiadm') } }),
      typed(DeployError, (e) => {
        assert.equal(e.code, 'not-supported');
        assert.match(e.message, /not installed \(Debian: open-iscsi\)/);
      }),
    );
  });

  test('mkfs.vfat and friends (partition images)', async () => {
    // The tools are named, not configured: run them from an empty directory.
    const ctx = { run: (file: string, args: readonly string[]) => runTool(join(scratch, file), args), dir: scratch };
    await assert.rejects(
      makeEsp(ctx, 64 * 1024 * 1024),
      typed(DeployError, (e) => {
        assert.equal(e.code, 'not-supported');
        assert.match(e.message, /mkfs\.vfat is not installed \(Debian: dosfstools\)/);
      }),
    );
  });

  test('tgtd (the simulated DIB ramdisk): TgtdError naming the tool and Debian tgt', async () => {
    const empty = mkdtempSync(join(scratch, 'bin-'));
    await withPath(empty, () =>
      assert.rejects(
        startTgtd({ sizeBytes: 1024 * 1024 }),
        typed(TgtdError, (e) => {
          assert.equal(e.code, 'missing-tool');
          assert.equal(e.tool, 'tgtd');
          assert.match(e.message, /tgtd is not installed.*Debian package: tgt/);
        }),
      ),
    );
  });

  test('tgtadm missing beside a working tgtd: TgtdError, and the tgtd started is stopped', { skip: needTools('tgtd') || (process.getuid?.() === 0 ? false : 'NOT RUN: tgtd needs root') }, async () => {
    const bin = mkdtempSync(join(scratch, 'bin-'));
    const tgtd = ['/usr/sbin/tgtd', '/sbin/tgtd', '/usr/local/sbin/tgtd'].find((p) => existsSync(p));
    assert.ok(tgtd, 'tgtd found to link');
    symlinkSync(tgtd, join(bin, 'tgtd'));
    await withPath(bin, () =>
      assert.rejects(
        startTgtd({ sizeBytes: 1024 * 1024 }),
        typed(TgtdError, (e) => {
          assert.equal(e.code, 'missing-tool');
          assert.equal(e.tool, 'tgtadm');
        }),
      ),
    );
    const left = descendants(process.pid).filter(running);
    assert.deepEqual(left, [], 'no tgtd left behind');
  });

  test("the demo's children (scripts/demo-child): a program that cannot start ends with the reason, nothing thrown", async () => {
    const child = startChild('missing', join(scratch, 'no-such-program'), [], { stdio: ['ignore', 'ignore', 'ignore'] });
    const end = await child.ended;
    assert.equal(child.running, false);
    assert.equal((end.error as NodeJS.ErrnoException | undefined)?.code, 'ENOENT');
    assert.deepEqual(await child.stop(), end, 'stopping one that never started is a no-op');
  });
});
