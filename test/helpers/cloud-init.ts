/**
 * The real consumer of a config drive: cloud-init (Debian `cloud-init`),
 * whose ConfigDrive data source reads a drive we built or wrote. This
 * machine cannot mount ISO 9660 (no loop/iso9660 in the kernel of a
 * container), so the drive's files are extracted with xorriso (ISO) or
 * mtools (VFAT) and cloud-init reads the directory, through the same
 * read_config_drive it runs on a mounted device.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, readSync, closeSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needTools, repoRoot } from './env';

/** Debian's python3 (where the cloud-init package installs its modules). */
const PY = '/usr/bin/python3';

/** `false` when cloud-init and the extract tools are here, else the NOT RUN reason. */
export function missingCloudInit(): string | false {
  const tools = needTools('xorriso', 'mcopy');
  if (tools) return tools;
  try {
    execFileSync(PY, ['-c', 'import cloudinit.sources.DataSourceConfigDrive'], { stdio: 'ignore' });
    return false;
  } catch {
    const reason = 'NOT RUN: cloud-init is not installed (Debian: cloud-init)';
    process.stderr.write(`\n!!! ${reason}\n`);
    return reason;
  }
}

export interface CloudInitView {
  found: boolean;
  instance_id?: string;
  hostname?: string;
  public_keys?: string[];
  userdata?: string;
  vendordata?: unknown;
  network_config?: { version: number; config: Array<Record<string, unknown>> };
  version?: number;
}

/** Extracts a drive image (ISO 9660 or VFAT) into a new directory. */
export function extractDrive(image: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'config-drive-x-'));
  const head = Buffer.alloc(6);
  const fd = openSync(image, 'r');
  readSync(fd, head, 0, 6, 0x8000);
  closeSync(fd);
  if (head.toString('latin1', 1, 6) === 'CD001') {
    execFileSync('xorriso', ['-osirrox', 'on', '-indev', image, '-extract', '/', dir], { stdio: 'ignore' });
  } else {
    execFileSync('mcopy', ['-s', '-n', '-i', image, '::/openstack', dir], { stdio: 'ignore', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
  }
  return dir;
}

/** What cloud-init's ConfigDrive data source reads from the drive image, the NICs given by MAC (`{ mac: name }`). */
export function readWithCloudInit(image: string, nics: Record<string, string> = {}): CloudInitView {
  const dir = extractDrive(image);
  try {
    const out = execFileSync(PY, [join(repoRoot, 'test', 'helpers', 'cloud_init_read.py'), dir, ...Object.entries(nics).map(([m, n]) => `${m}=${n}`)], { encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').at(-1) as string) as CloudInitView;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The bytes of one partition of a disk image file, into a file of their own (what /dev/sdaN would show). */
export function partitionToFile(disk: string, start: number, size: number, into: string): string {
  const fd = openSync(disk, 'r');
  try {
    const buf = Buffer.alloc(size);
    readSync(fd, buf, 0, size, start);
    writeFileSync(into, buf);
  } finally {
    closeSync(fd);
  }
  return into;
}

/** The partitions of a disk image as sfdisk (util-linux) reads its table: number, start and size in bytes, type. */
export function sfdiskPartitions(disk: string): { label: string; partitions: Array<{ number: number; start: number; size: number; type: string; uuid?: string }> } {
  const t = (JSON.parse(execFileSync('sfdisk', ['--json', disk], { encoding: 'utf8' })) as { partitiontable: { label: string; sectorsize?: number; partitions?: Array<{ node: string; start: number; size: number; type: string; uuid?: string }> } }).partitiontable;
  const ss = t.sectorsize ?? 512;
  return { label: t.label, partitions: (t.partitions ?? []).map((p) => ({ number: Number(p.node.slice(disk.length)), start: p.start * ss, size: p.size * ss, type: p.type, uuid: p.uuid })) };
}
