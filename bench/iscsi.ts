/**
 * `npm run bench -- iscsi`: writing images over iSCSI to a real tgtd on
 * 127.0.0.1. Speed against running `qemu-img convert` by hand (the floor:
 * the same copy with nothing around it), and memory: this process's RSS must
 * not grow with the image (qemu-img streams; nothing is buffered here).
 */
import { execFile } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeImageToIscsi } from '../lib/deploy';
import { hasTool } from '../test/helpers/env';
import { startTgtd } from '../sim/tgtd';
import { compare, heading, measure, peakRss, rssMb } from './harness';
import type { BenchSuite } from './suite';

const run = promisify(execFile);
const MiB = 1024 * 1024;

function randomImage(path: string, mb: number): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(MiB);
  for (let i = 0; i < mb; i++) writeSync(fd, randomFillSync(chunk));
  closeSync(fd);
}

export const iscsiBench: BenchSuite = {
  name: 'iscsi',
  async run() {
    heading('iscsi: image writes over libiscsi to tgtd (127.0.0.1)');
    if (!hasTool('tgtd') || !hasTool('qemu-img')) {
      console.log('NOT RUN: tgtd and qemu-img (Debian: tgt qemu-utils qemu-block-extra) are needed');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'bench-iscsi-'));
    const target = await startTgtd({ sizeBytes: 600 * MiB });
    try {
      const small = join(dir, 'small.img');
      const big = join(dir, 'big.img');
      randomImage(small, 64);
      randomImage(big, 256);
      const url = `iscsi://127.0.0.1:${target.port}/${target.iqn}/1`;
      const opts = { portal: { host: '127.0.0.1', port: target.port }, iqn: target.iqn, imageType: 'whole-disk' as const };

      // Warm-up: the first write also allocates the LUN's backing file; both measured runs overwrite.
      await run('qemu-img', ['convert', '-n', '-f', 'raw', '-O', 'raw', big, url]);
      // Best of 3, interleaved: the machine is shared and single runs vary by a third.
      let baseMs = Infinity;
      let oursMs = Infinity;
      for (let i = 0; i < 3; i++) {
        const b = await measure('qemu-img convert by hand, 256 MiB', 256, async () => {
          await run('qemu-img', ['convert', '-n', '-f', 'raw', '-O', 'raw', big, url]);
        });
        const o = await measure('writeImageToIscsi, 256 MiB', 256, async () => {
          await writeImageToIscsi({ ...opts, image: big });
        });
        baseMs = Math.min(baseMs, b.wallMs);
        oursMs = Math.min(oursMs, o.wallMs);
      }
      const base = { ops: 256, wallMs: baseMs };
      const ours = { ops: 256, wallMs: oursMs };
      compare('whole-disk 256 MiB, MiB/s', ours.ops / (ours.wallMs / 1000), base.ops / (base.wallMs / 1000), 'MiB/s', { atLeast: 0.8 });

      const r0 = rssMb();
      const p1 = peakRss(5);
      await writeImageToIscsi({ ...opts, image: small });
      const growSmall = Math.max(0.1, p1.stop() - r0);
      const r1 = rssMb();
      const p2 = peakRss(5);
      await writeImageToIscsi({ ...opts, image: big });
      const growBig = Math.max(0.1, p2.stop() - r1);
      console.log(`RSS growth while writing: 64 MiB image ${growSmall.toFixed(1)} MB, 256 MiB image ${growBig.toFixed(1)} MB`);
      // Baseline: what holding the image in memory would cost.
      compare('RSS growth vs image size (256 MiB)', growBig, 256, 'MB', { atMost: 0.1 });
    } finally {
      await target.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
