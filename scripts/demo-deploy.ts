/**
 * What the deploy examples need in the demo: the files a deploy reads (a
 * disk image, a deploy ISO, a deploy kernel and ramdisk), a TFTP root, a
 * simulated ramdisk on every simulated server, and which of the three
 * processes can complete on this machine (and why not).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { buildIso } from '../lib/media/iso/writer';
import type { Fleet } from '../sim/fleet';
import { SimRamdisk } from '../sim/ramdisk/boot';

export interface DemoArtefacts {
  /** Where the media store may read images from. */
  imagesDir: string;
  image: string;
  deployIso: string;
  deployKernel: string;
  deployRamdisk: string;
  tftpRoot: string;
}

/** 4 MiB of random bytes behind an MBR whose one Linux partition spans 1 to 4 MiB. */
function demoDiskImage(): Buffer {
  const img = randomBytes(4 * 1024 * 1024);
  img.fill(0, 0, 512);
  img[446 + 4] = 0x83;
  img.writeUInt32LE(2048, 446 + 8);
  img.writeUInt32LE(6144, 446 + 12);
  img.writeUInt16LE(0xaa55, 510);
  return img;
}

/** Creates the demo's images once (kept across runs) and a fresh TFTP root. */
export async function prepareArtefacts(userDir: string): Promise<DemoArtefacts> {
  const imagesDir = join(userDir, 'images');
  mkdirSync(imagesDir, { recursive: true });
  const a: DemoArtefacts = {
    imagesDir,
    image: join(imagesDir, 'disk.img'),
    deployIso: join(imagesDir, 'deploy.iso'),
    deployKernel: join(imagesDir, 'deploy.kernel'),
    deployRamdisk: join(imagesDir, 'deploy.initrd'),
    tftpRoot: join(userDir, 'tftp'),
  };
  // A small whole-disk "image": what the simulated agent or our iSCSI writer puts on the simulated disk. It has an MBR
  // with one partition, so a deploy with a config drive can add its partition (an image from an older demo lacks it).
  if (!existsSync(a.image) || readFileSync(a.image).readUInt16LE(510) !== 0xaa55) writeFileSync(a.image, demoDiskImage());
  if (!existsSync(a.deployIso)) {
    // Stands in for an ironic-python-agent / DIB ISO: the simulated server only checks it is ISO 9660.
    const iso = buildIso({ volumeId: 'DEPLOY', files: [{ path: 'README.TXT', data: Buffer.from('Demo deploy ramdisk (simulated).\n') }] });
    await iso.writeToFile(a.deployIso);
  }
  if (!existsSync(a.deployKernel)) writeFileSync(a.deployKernel, Buffer.alloc(64 * 1024, 1));
  if (!existsSync(a.deployRamdisk)) writeFileSync(a.deployRamdisk, Buffer.alloc(256 * 1024, 2));
  rmSync(a.tftpRoot, { recursive: true, force: true });
  mkdirSync(a.tftpRoot, { recursive: true });
  return a;
}

function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/**
 * A simulated ramdisk on every server, each on its own loopback address (the
 * DIB ramdisk listens on port 10000 there), booting what the iLO boots.
 */
export async function attachRamdisks(fleet: Fleet, tftpRoot: string, log: (line: string) => void): Promise<SimRamdisk[]> {
  let block = 0;
  for (let tries = 0; tries < 50 && !block; tries++) {
    const b = 60 + Math.floor(Math.random() * 190);
    const free = await Promise.all(fleet.ilos.map((_, i) => portFree(10000, `127.${b}.0.${i + 2}`)));
    if (free.every(Boolean)) block = b;
  }
  if (!block) throw new Error('no free loopback block for the simulated ramdisks (port 10000 on 127.x.0.y)');
  return fleet.ilos.map((ilo, i) => {
    const rd = new SimRamdisk(ilo.server, { address: `127.${block}.0.${i + 2}`, heartbeatIntervalMs: 2000, tftpRoot, diskSizeBytes: 128 * 1024 * 1024, log });
    // `log` already tells which ramdisk or instance booted.
    rd.on('no-boot', (why: string) => log(`${ilo.name}: nothing booted: ${why}`));
    rd.on('error', (err: Error) => log(`${ilo.name}: simulated ramdisk failed: ${err.message}`));
    return rd;
  });
}

function onPath(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v "${tool}" || test -x "/usr/sbin/${tool}" || test -x "/sbin/${tool}"`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function qemuImgHasIscsi(): boolean {
  try {
    return /\biscsi\b/.test(execFileSync('qemu-img', ['--help'], { encoding: 'utf8' }));
  } catch {
    return false;
  }
}

/**
 * iscsi_ilo and pxe_ilo write the image over iSCSI: the simulated DIB ramdisk
 * exports its disk with a real tgtd (root only: its control socket lives in
 * /var/run/tgtd), and Node-RED writes with qemu-img's libiscsi driver.
 * Returns why they cannot complete here, or nothing when they can.
 */
export function iscsiBlockers(): string[] {
  const why: string[] = [];
  const missing = ['tgtd', 'tgtadm'].filter((t) => !onPath(t));
  if (missing.length) why.push(`${missing.join(' and ')} missing (Debian: tgt)`);
  if (!onPath('qemu-img')) why.push('qemu-img missing (Debian: qemu-utils qemu-block-extra)');
  else if (!qemuImgHasIscsi()) why.push('qemu-img has no iSCSI driver (Debian: qemu-block-extra)');
  if (typeof process.getuid === 'function' && process.getuid() !== 0) why.push('tgtd needs root (run npm start as root, or in a container)');
  return why;
}
