/**
 * Where things are, and which external tools this machine has.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root (the folder holding package.json). */
export const repoRoot: string = (() => {
  let d = __dirname;
  while (!existsSync(join(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) throw new Error('package.json not found above ' + __dirname);
    d = up;
  }
  return d;
})();

/** Test data kept in the repository (third-party data keeps its attribution in a README beside it). */
export const fixturesDir: string = join(repoRoot, 'test', 'fixtures');

/** Replies recorded from a real iLO 3 by python-hpilo (Apache-2.0 or GPL-3.0-or-later; see the README there). */
export const ribclRecordedDir: string = join(fixturesDir, 'ribcl-recorded', 'python-hpilo');

export const ribclFixtureDir = join(ribclRecordedDir, 'BL460c-G7_iLO3-1.82');

/** Debian package providing each tool, for the "did not run" message. */
const PACKAGE_OF: Record<string, string> = {
  hpilo_cli: 'python3-hpilo',
  ipmitool: 'ipmitool',
  ipmi_sim: 'openipmi',
  sdrcomp: 'openipmi',
  script: 'util-linux',
  xorriso: 'xorriso',
  mdir: 'mtools',
  mtype: 'mtools',
  mcopy: 'mtools',
  minfo: 'mtools',
  mlabel: 'mtools',
  'fsck.fat': 'dosfstools',
  'mkfs.vfat': 'dosfstools',
  mmd: 'mtools',
  'qemu-system-x86_64': 'qemu-system-x86',
  'qemu-img': 'qemu-utils',
  blkid: 'util-linux',
  cpio: 'cpio',
  depmod: 'kmod',
  modprobe: 'kmod',
  'apt-get': 'apt',
  'dpkg-deb': 'dpkg',
  busybox: 'busybox-static',
  tgtd: 'tgt',
  tgtadm: 'tgt',
  'qemu-io': 'qemu-utils',
  'iscsi-ls': 'libiscsi-bin',
  sfdisk: 'fdisk',
  'mkfs.ext4': 'e2fsprogs',
  e2fsck: 'e2fsprogs',
  mkswap: 'util-linux',
  'mkfs.xfs': 'xfsprogs',
  'swift-proxy-server': 'swift-proxy',
  'swift-object-server': 'swift-object',
  'swift-container-server': 'swift-container',
  'swift-account-server': 'swift-account',
  swift: 'python3-swiftclient',
  'keystone-manage': 'keystone',
  uwsgi: 'uwsgi-core uwsgi-plugin-python3',
  memcached: 'memcached',
  curl: 'curl',
  chromium: 'chromium',
  unshare: 'util-linux',
  mount: 'mount',
};

const found = new Map<string, boolean>();

export function hasTool(tool: string): boolean {
  let ok = found.get(tool);
  if (ok === undefined) {
    try {
      execFileSync('sh', ['-c', `command -v "${tool}" || test -x "/usr/sbin/${tool}" || test -x "/sbin/${tool}"`], { stdio: 'ignore' });
      ok = true;
    } catch {
      ok = false;
    }
    found.set(tool, ok);
  }
  return ok;
}

/**
 * `false` when every tool is present, else the reason to give `test(..., { skip })`.
 * The runner lists every such test loudly at the end of the run.
 */
export function needTools(...tools: string[]): string | false {
  const missing = tools.filter((t) => !hasTool(t));
  if (missing.length === 0) return false;
  const pkgs = [...new Set(missing.map((t) => PACKAGE_OF[t] ?? t))];
  const reason = `NOT RUN: missing ${missing.join(', ')} (Debian: ${pkgs.join(' ')})`;
  process.stderr.write(`\n!!! ${reason}\n`);
  return reason;
}
