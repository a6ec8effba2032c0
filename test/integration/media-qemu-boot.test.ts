/**
 * The media lib/media builds, booted for real in QEMU (TCG). One deploy ISO
 * (BIOS + UEFI + isohybrid) is booted four ways: as an iLO-like USB CD-ROM
 * under SeaBIOS and under OVMF (the OVMF run fetches the ISO over HTTP with
 * Range requests answered from `image.stream()`), and as a USB disk under
 * both. The ramdisk (scripts/build-test-ramdisk.sh) finds the 100 KiB floppy
 * by its label, prints parameters.txt, checks a file on the ISO, calls the
 * ipa-api-url from the floppy on a server this test runs, and powers off.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import { buildDeployIso, buildFloppy, formatParameters, type IsoImage } from '../../lib/media';
import { needTools, repoRoot } from '../helpers/env';
import { anySkip, HOST_BOOT_FILES, needFiles, tempDir } from '../helpers/media-tools';
import { iloVirtualCd, iloVirtualFloppy, runQemu } from '../helpers/qemu';

const OVMF = '/usr/share/ovmf/OVMF.fd';
const BLOCK_CURL = '/usr/lib/x86_64-linux-gnu/qemu/block-curl.so';
const BOOT_TIMEOUT_MS = 240_000;

const skip = anySkip(needTools('qemu-system-x86_64', 'apt-get', 'apt-cache', 'dpkg-deb', 'depmod', 'modprobe', 'cpio', 'busybox'), needFiles(HOST_BOOT_FILES));
const skipUefi = needFiles([[OVMF, 'ovmf']]);
const skipHttp = anySkip(skipUefi, needFiles([[BLOCK_CURL, 'qemu-block-extra']]));

function buildTestRamdisk(): Promise<{ kernel: string; initrd: string }> {
  return new Promise((resolve, reject) => {
    execFile('bash', [join(repoRoot, 'scripts', 'build-test-ramdisk.sh')], { timeout: 600_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const kernel = /^KERNEL=(.+)$/m.exec(stdout)?.[1];
      const initrd = /^INITRD=(.+)$/m.exec(stdout)?.[1];
      if (err || !kernel || !initrd) reject(new Error(`scripts/build-test-ramdisk.sh failed: ${err?.message ?? 'no output'}\n${stderr}`));
      else resolve({ kernel, initrd });
    });
  });
}

interface Hello {
  node: string | null;
  body: string;
  nonce: string;
}

/** The "conductor": answers the ramdisk's call, and serves the ISO with Range support straight from the image. */
function startServer(iso: () => IsoImage): Promise<{ server: Server; port: number; hellos: Hello[]; rangeRequests: string[] }> {
  const hellos: Hello[] = [];
  const rangeRequests: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'POST' && url.pathname === '/v1/test-ramdisk/hello') {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const nonce = `nonce-${randomBytes(8).toString('hex')}`;
        hellos.push({ node: url.searchParams.get('node'), body: Buffer.concat(parts).toString(), nonce });
        res.end(nonce);
      });
      return;
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && url.pathname === '/deploy.iso') {
      const image = iso();
      const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      const start = m ? Number(m[1]) : 0;
      const end = m && m[2] ? Math.min(Number(m[2]), image.size - 1) : image.size - 1;
      if (m) rangeRequests.push(`${start}-${end}`);
      if (start > end) {
        res.writeHead(416, { 'Content-Range': `bytes */${image.size}` }).end();
        return;
      }
      res.writeHead(m ? 206 : 200, {
        'Accept-Ranges': 'bytes',
        'Content-Type': 'application/octet-stream',
        'Content-Length': end - start + 1,
        ...(m ? { 'Content-Range': `bytes ${start}-${end}/${image.size}` } : {}),
      });
      if (req.method === 'HEAD') res.end();
      else pipeline(image.stream({ start, end }), res).catch(() => res.destroy());
      return;
    }
    res.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, hellos, rangeRequests })));
}

describe('lib/media boots in QEMU', { skip }, () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let srv: Awaited<ReturnType<typeof startServer>>;
  let image: IsoImage;
  let isoPath: string;
  let floppyPath: string;
  let paramsText: string;
  const node = randomUUID();
  const check = `irtest.check=${randomBytes(6).toString('hex')}`;
  const extraName = 'Rock Ridge Name (mixed Case).txt';
  const extraData = randomBytes(50_000);

  before(async () => {
    tmp = await tempDir('qemu');
    const ramdisk = await buildTestRamdisk();
    srv = await startServer(() => image);
    // The guest reaches the host's 127.0.0.1 as 10.0.2.2 (QEMU user networking).
    const params = { deployment_id: node, deployment_key: randomBytes(16).toString('hex'), 'ipa-api-url': `http://10.0.2.2:${srv.port}`, boot_option: 'local', 'coreos.configdrive': 0 };
    paramsText = formatParameters(params);
    floppyPath = join(tmp.dir, 'floppy.img');
    await writeFile(floppyPath, buildFloppy(params)); // Ironic's default: 100 KiB
    image = await buildDeployIso({
      kernel: ramdisk.kernel,
      ramdisk: ramdisk.initrd,
      kernelParams: ['console=ttyS0,115200', 'panic=-1', 'loglevel=4', check],
      serialConsole: true,
      hybrid: true,
      extraFiles: [{ path: `extra/${extraName}`, data: extraData }],
    });
    isoPath = join(tmp.dir, 'deploy.iso');
    await image.writeToFile(isoPath);
  });

  after(async () => {
    await new Promise((r) => (srv ? srv.server.close(r) : r(undefined)));
    await tmp?.cleanup();
  });

  // Virtual media as an iLO presents them: USB mass storage (the floppy too, never a legacy floppy drive).
  const usbFloppy = (): string[] => iloVirtualFloppy(floppyPath);
  const usbCd = (drive: string): string[] => iloVirtualCd(drive);
  const usbDisk = (): string[] => [
    '-drive', `if=none,id=vcd,format=raw,readonly=on,file=${isoPath}`,
    '-device', 'usb-bot,bus=xhci.0,id=bot0',
    '-device', 'scsi-hd,bus=bot0.0,drive=vcd,bootindex=1',
  ];

  async function boot(t: { after(fn: () => void): void }, firmware: 'bios' | 'uefi', media: string[]): Promise<string> {
    const helloCount = srv.hellos.length;
    const run = runQemu(
      [
        '-machine', 'q35', '-m', '512', '-nodefaults', '-display', 'none', '-serial', 'stdio', '-monitor', 'none', '-no-reboot',
        ...(firmware === 'uefi' ? ['-bios', OVMF] : []),
        '-device', 'qemu-xhci,id=xhci',
        ...media,
        ...usbFloppy(),
        '-netdev', 'user,id=n0', '-device', 'virtio-net-pci,netdev=n0',
      ],
      { timeoutMs: BOOT_TIMEOUT_MS },
    );
    t.after(() => run.kill());
    const r = await run.result;
    const out = r.output;
    const tail = `\n--- serial console (last 3000 chars) ---\n${out.slice(-3000)}`;
    assert.equal(r.timedOut, false, `QEMU did not power off within ${BOOT_TIMEOUT_MS / 1000} s${tail}`);
    assert.doesNotMatch(out, /RAMDISK-ERROR/, tail);
    assert.match(out, /^MARKER ramdisk-init-started\r?$/m, tail);
    assert.match(out, /^MARKER ramdisk-done\r?$/m, tail);

    // The boot loader passed our command line, including boot_method=vmedia.
    const cmdline = /^CMDLINE (.*?)\r?$/m.exec(out)?.[1] ?? '';
    const words = cmdline.split(' ');
    for (const w of ['console=ttyS0,115200', check, 'boot_method=vmedia']) assert.ok(words.includes(w), `${w} in ${cmdline}`);

    // The floppy: found by label, long name seen, contents exact.
    assert.match(out, /^FLOPPY-DEVICE \/dev\/sd[a-z] model=Virtual Media/m, tail);
    assert.match(out, /^FLOPPY-FILES parameters\.txt \r?$/m, tail);
    const printed = /PARAMS-BEGIN\r?\n([\s\S]*?)\r?\nPARAMS-END/.exec(out)?.[1]?.replace(/\r/g, '');
    assert.equal(printed, paramsText);

    // The ISO as Linux reads it: Rock Ridge names and the bytes of a file.
    assert.match(out, /^ISO-ROOT EFI boot extra initrd isolinux vmlinuz \r?$/m, tail);
    const sha = createHash('sha256').update(extraData).digest('hex');
    assert.match(out, new RegExp(`^ISO-FILE ${sha} extra/${extraName.replace(/[()]/g, '\\$&')}\r?$`, 'm'), tail);

    // The call back: one request, from this node, carrying the floppy's parameters; the reply reached the ramdisk.
    const hellos = srv.hellos.slice(helloCount);
    assert.equal(hellos.length, 1, tail);
    assert.equal(hellos[0].node, node);
    assert.equal(hellos[0].body, paramsText);
    assert.match(out, new RegExp(`^HTTP-REPLY ${hellos[0].nonce}\r?$`, 'm'), tail);
    return out;
  }

  test('SeaBIOS boots the deploy ISO from an iLO-like USB CD-ROM (El Torito BIOS, ISOLINUX)', async (t) => {
    const out = await boot(t, 'bios', usbCd(`if=none,id=vcd,media=cdrom,format=raw,readonly=on,file=${isoPath}`));
    assert.match(out, /ISOLINUX 6\.\d+/);
    assert.match(out, /^ISO-DEVICE \/dev\/sr\d\r?$/m);
  });

  test('OVMF (UEFI) boots the same ISO from the CD-ROM, read over HTTP with Range requests from image.stream()', { skip: skipHttp }, async (t) => {
    const before = srv.rangeRequests.length;
    const url = `http://127.0.0.1:${srv.port}/deploy.iso`;
    const out = await boot(t, 'uefi', usbCd(`if=none,id=vcd,media=cdrom,format=raw,readonly=on,file.driver=http,file.url=${url}`));
    assert.match(out, /GRUB/);
    assert.match(out, /^ISO-DEVICE \/dev\/sr\d\r?$/m);
    assert.ok(srv.rangeRequests.length - before > 1, 'QEMU read the ISO in ranges');
  });

  test('SeaBIOS boots the same ISO written to a USB disk (isohybrid MBR)', async (t) => {
    const out = await boot(t, 'bios', usbDisk());
    assert.match(out, /ISOLINUX 6\.\d+/);
    assert.match(out, /^ISO-DEVICE \/dev\/sd[a-z]\r?$/m);
  });

  test('OVMF (UEFI) boots the same ISO written to a USB disk (ESP partition in the MBR)', { skip: skipUefi }, async (t) => {
    const out = await boot(t, 'uefi', usbDisk());
    assert.match(out, /GRUB/);
    assert.match(out, /^ISO-DEVICE \/dev\/sd[a-z]\r?$/m);
  });
});
