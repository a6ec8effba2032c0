/**
 * lib/media benchmarks:
 * - the virtual floppy built in process, against mkfs.vfat + mcopy (what
 *   Ironic runs); target: under 1 ms;
 * - a BIOS + UEFI + isohybrid deploy ISO from an 8 MB kernel + 50 MB
 *   ramdisk, like for like: the baseline builds the ESP from the same GRUB
 *   and grub.cfg with mtools, then runs xorriso; each timed as a whole
 *   process (ours also in process); target: no slower. Peak memory must
 *   stay flat when the input grows 4x (256 MB).
 * Each ISO build runs in its own process, whose peak RSS (VmHWM) is sampled.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { link, mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BOOT_ISO_LAYOUT, DEFAULT_GRUB_CONFIG_PATHS, buildFloppy, findBootLoader } from '../lib/media';
import { compare, fmt, heading } from './harness';
import type { BenchSuite } from './suite';

const run = promisify(execFile);
const PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;

function hasTool(tool: string): boolean {
  return PATH.split(':').some((d) => d && existsSync(join(d, tool)));
}

function absolute(what: string, value: number, unit: string, limit: number): void {
  console.log(`${what.padEnd(44)} ours ${fmt(value)} ${unit}  (target < ${limit} ${unit}: ${value < limit ? 'MET' : 'NOT MET'})`);
}

const PARAMS = {
  deployment_id: '1be26c0b-03f2-4d2d-ae87-c02d7f33c123',
  deployment_key: 'O4lX2a9cDq1UvB7nM3kL0pQz',
  iscsi_target_iqn: 'iqn.2008-10.org.openstack:1be26c0b-03f2-4d2d-ae87-c02d7f33c123',
  ironic_api_url: 'http://192.0.2.10:6385',
  disk: 'cciss/c0d0,sda,hda,vda',
  boot_option: 'local',
  boot_mode: 'bios',
  'coreos.configdrive': 0,
  'ipa-api-url': 'http://192.0.2.10:6385',
  'ipa-driver-name': 'iscsi_ilo',
  BOOTIF: '52:54:00:aa:bb:cc',
};

async function benchFloppy(dir: string): Promise<void> {
  heading('media: virtual floppy (100 KiB FAT12, parameters.txt)');
  for (let i = 0; i < 2000; i++) buildFloppy(PARAMS); // warm up
  const n = 20000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) buildFloppy(PARAMS);
  const oursMs = (performance.now() - t0) / n;
  absolute('floppy build, in process', oursMs, 'ms', 1);
  if (!hasTool('mkfs.vfat') || !hasTool('mcopy')) {
    console.log('floppy baseline: NOT RUN (mkfs.vfat or mcopy missing; Debian: dosfstools mtools)');
    return;
  }
  const txt = join(dir, 'parameters.txt');
  await writeFile(txt, Object.entries(PARAMS).map(([k, v]) => `${k}=${v}`).join('\n'));
  const runs = 20;
  const t1 = performance.now();
  for (let i = 0; i < runs; i++) {
    const img = join(dir, `f${i}.img`);
    await run('mkfs.vfat', ['-C', '-n', 'ir-vfd-dev', img, '100'], { env: { ...process.env, PATH } });
    await run('mcopy', ['-i', img, txt, '::/parameters.txt'], { env: { ...process.env, PATH } });
  }
  const baseMs = (performance.now() - t1) / runs;
  compare('floppy build vs mkfs.vfat + mcopy', oursMs, baseMs, 'ms', { atMost: 1 });
}

/** Runs a process, sampling its peak RSS (VmHWM) until it exits. */
function measured(cmd: string, args: string[]): Promise<{ wallMs: number; peakMb: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    let peakKb = 0;
    const sample = (): void => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        // exited
      }
    };
    const timer = setInterval(sample, 5);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      const wallMs = performance.now() - t0;
      if (code !== 0) reject(new Error(`${cmd} exited ${code}: ${stderr.slice(-2000)}`));
      else resolve({ wallMs, peakMb: peakKb / 1024, stdout });
    });
  });
}

/** User + system CPU time of one run of a command and its children, from the shell's `times` (children's line). */
async function childCpuMs(cmd: string, args: string[]): Promise<number> {
  const { stdout } = await run('bash', ['-c', '"$@" >/dev/null 2>&1; times', 'bash', cmd, ...args], { env: { ...process.env, PATH } });
  const lines = stdout.trim().split('\n');
  const secs = [...(lines[lines.length - 1] ?? '').matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return secs.reduce((a, b) => a + b, 0) * 1000;
}

async function randomFile(path: string, bytes: number): Promise<void> {
  const f = await open(path, 'w');
  const chunk = randomBytes(1 << 20);
  for (let left = bytes; left > 0; left -= chunk.length) await f.write(chunk, 0, Math.min(chunk.length, left));
  await f.close();
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

/**
 * The baseline, like for like: what a shell script does with the same
 * inputs our builder gets (kernel, ramdisk, the GRUB EFI binary, ISOLINUX,
 * the boot configs): build the ESP image with mtools (mkfs.vfat, mmd,
 * mcopy: GRUB and grub.cfg in the same places as ours), then xorriso over
 * the tree. xorriso runs with -stdio_sync off: by default it flushes its
 * output to disk every 16 MiB, which we do not do either.
 */
async function baselineScript(dir: string, label: string, ours: string, kernel: string, ramdisk: string): Promise<{ script: string; xorrisoArgs: string[] }> {
  const tree = join(dir, `tree-${label}`);
  await rm(tree, { recursive: true, force: true });
  // The config files our builder generated, and the sizes it chose (untimed).
  await run('xorriso', ['-osirrox', 'on', '-indev', ours, '-extract', '/', tree], { env: { ...process.env, PATH } });
  await run('chmod', ['-R', 'u+w', tree]);
  const espOurs = join(tree, BOOT_ISO_LAYOUT.espImage);
  // mkfs.vfat lays a volume out differently from ours: give it room to spare.
  const espKiB = Math.ceil(((await stat(espOurs)).size / 1024) * 1.25) + 512;
  const espFiles = join(dir, `esp-files-${label}`);
  await rm(espFiles, { recursive: true, force: true });
  await run('mkdir', ['-p', espFiles]);
  await run('mcopy', ['-s', '-i', espOurs, '::/*', espFiles], { env: { ...process.env, PATH } });
  await rm(espOurs);
  // The same kernel and ramdisk files, not copies.
  for (const [from, to] of [
    [kernel, BOOT_ISO_LAYOUT.kernel],
    [ramdisk, BOOT_ISO_LAYOUT.ramdisk],
  ] as const) {
    await rm(join(tree, to));
    await link(from, join(tree, to));
  }
  const grubEfi = await findBootLoader('grubEfi');
  const cfgPaths = DEFAULT_GRUB_CONFIG_PATHS;
  const dirs = [...new Set(['EFI', 'EFI/BOOT', ...cfgPaths.flatMap((p) => p.split('/').slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join('/')))])];
  const q = (x: string): string => `'${x.replace(/'/g, `'\\''`)}'`;
  const esp = join(tree, BOOT_ISO_LAYOUT.espImage);
  const xorrisoArgs = [
    '-stdio_sync', 'off', '-as', 'mkisofs', '-quiet', '-o', join(dir, 'xorriso.iso'), '-V', 'VMEDIA_BOOT_ISO', '-R',
    '-isohybrid-mbr', (await findBootLoader('isohybridMbr')),
    '-b', 'isolinux/isolinux.bin', '-c', 'isolinux/boot.cat', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table',
    '-eltorito-alt-boot', '-e', BOOT_ISO_LAYOUT.espImage, '-no-emul-boot', '-isohybrid-gpt-basdat',
    tree,
  ];
  const script = [
    'set -e',
    `rm -f ${q(esp)}`,
    `mkfs.vfat -C -n ESP ${q(esp)} ${espKiB} >/dev/null`,
    `mmd -i ${q(esp)} ${dirs.map((d) => q(`::/${d}`)).join(' ')}`,
    `mcopy -i ${q(esp)} ${q(grubEfi)} ::/EFI/BOOT/BOOTX64.EFI`,
    ...cfgPaths.map((p) => `mcopy -i ${q(esp)} ${q(join(espFiles, 'EFI/BOOT/grub.cfg'))} ${q(`::/${p}`)}`),
    `xorriso ${xorrisoArgs.map(q).join(' ')} 2>/dev/null`,
  ].join('\n');
  return { script, xorrisoArgs };
}

async function benchIso(dir: string): Promise<void> {
  heading('media: boot ISO (BIOS + UEFI + isohybrid), like for like against mtools + xorriso');
  const worker = join(__dirname, 'media-iso-worker.js');
  const runs = Number(process.env.BENCH_ISO_RUNS ?? 7);
  const sizes = [
    { label: '8 MB + 50 MB', kernel: 8 << 20, ramdisk: 50 << 20 },
    { label: '16 MB + 240 MB', kernel: 16 << 20, ramdisk: 240 << 20 },
  ];
  console.log(`each build ${runs} times, ours and the baseline interleaved, medians; every figure is a whole process (spawn to exit) unless it says "in process"`);
  const peaks: number[] = [];
  for (const s of sizes) {
    const tag = s.label.replace(/\W+/g, '');
    const kernel = join(dir, `vmlinuz-${tag}`);
    const ramdisk = join(dir, `initrd-${tag}`);
    await randomFile(kernel, s.kernel);
    await randomFile(ramdisk, s.ramdisk);
    const out = join(dir, 'ours.iso');
    const oursOnce = async (): Promise<{ wall: number; inProcess: number; cpuInProcess: number; mb: number }> => {
      const r = await measured(process.execPath, [worker, kernel, ramdisk, out]);
      const { ms, cpuMs } = JSON.parse(r.stdout) as { ms: number; cpuMs: number };
      return { wall: r.wallMs, inProcess: ms, cpuInProcess: cpuMs, mb: r.peakMb };
    };
    const ours = [await oursOnce()];
    const base: number[] = [];
    let baseline: { script: string; xorrisoArgs: string[] } | undefined;
    const missing = ['xorriso', 'mkfs.vfat', 'mmd', 'mcopy'].filter((t) => !hasTool(t));
    if (missing.length === 0) {
      baseline = await baselineScript(dir, tag, out, kernel, ramdisk);
      for (let i = 0; i < runs; i++) {
        base.push((await measured('bash', ['-c', baseline.script])).wallMs);
        ours.push(await oursOnce());
      }
    } else {
      console.log(`baseline NOT RUN: ${missing.join(', ')} missing (Debian: xorriso dosfstools mtools)`);
      for (let i = 1; i < runs; i++) ours.push(await oursOnce());
    }
    const oursWall = median(ours.map((o) => o.wall));
    const oursIn = median(ours.map((o) => o.inProcess));
    const oursMb = median(ours.map((o) => o.mb));
    peaks.push(oursMb);
    console.log(`${s.label}: ours ${fmt(oursWall)} ms as a whole process, ${fmt(oursIn)} ms in process (${fmt(median(ours.map((o) => o.cpuInProcess)))} ms CPU), peak RSS ${fmt(oursMb)} MB`);
    if (baseline) {
      const baseWall = median(base);
      console.log(`${s.label}: mtools + xorriso ${fmt(baseWall)} ms as a whole process (ESP built from the same GRUB and grub.cfg, then xorriso)`);
      compare(`boot ISO ${s.label}, whole process vs whole process`, oursWall, baseWall, 'ms', { atMost: 1 });
      console.log(`${`boot ISO ${s.label}, ours in process`.padEnd(44)} ours ${fmt(oursIn)} ms  baseline ${fmt(baseWall)} ms  ratio ${fmt(oursIn / baseWall)}x  (reference)`);
      const xo = await measured('xorriso', baseline.xorrisoArgs);
      const xoCpu = await childCpuMs('bash', ['-c', baseline.script]);
      const oursCpu = await childCpuMs(process.execPath, [worker, kernel, ramdisk, out]);
      console.log(`${`boot ISO ${s.label}, CPU (whole processes)`.padEnd(44)} ours ${fmt(oursCpu)} ms  baseline ${fmt(xoCpu)} ms  ratio ${fmt(oursCpu / xoCpu)}x  (reference)`);
      console.log(`${`boot ISO ${s.label}, peak RSS`.padEnd(44)} ours ${fmt(oursMb)} MB (a whole Node.js process)  xorriso ${fmt(xo.peakMb)} MB  (reference)`);
    }
    await rm(kernel, { force: true });
    await rm(ramdisk, { force: true });
  }
  compare('ISO peak RSS growth, 256 MB vs 58 MB input', peaks[1] as number, peaks[0] as number, 'MB', { atMost: 1.1 });
}

export const mediaBench: BenchSuite = {
  name: 'media',
  async run(): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'ilo-media-bench-'));
    try {
      await benchFloppy(dir);
      await benchIso(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
