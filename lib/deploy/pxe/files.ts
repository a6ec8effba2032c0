/**
 * pxe_ilo's files in a TFTP root:
 *
 *   <root>/<node>/config                     the rendered config
 *   <root>/<node>/deploy_kernel, deploy_ramdisk, kernel, ramdisk
 *                                            hard links to the given files (copies across filesystems)
 *   BIOS: <root>/pxelinux.cfg/01-<mac>       symlink -> ../<node>/config (what pxelinux looks for)
 *   UEFI: <root>/<grubDir>/grub.cfg-01-<mac> and <root>/<grubDir>/grub.cfg-<mac>
 *                                            symlinks -> the config: the first is what Red Hat's and
 *                                            SUSE's GRUB builds look for, the second what upstream
 *                                            GRUB 2.12+ looks for; both are in GRUB's own directory
 *                                            (`grub-mknetdir --subdir`), no master grub.cfg needed.
 *
 * Links are relative, so the tree works under a chrooted TFTP server. Paths
 * inside the config are relative to the TFTP root (pxelinux) or start with
 * `/` (GRUB), unless a prefix is given. Clean-up removes what setup wrote,
 * and only links that still point at this node's config.
 */
import { copyFile, link, mkdir, readFile, readlink, rename, rm, rmdir, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, posix, relative } from 'node:path';
import { DeployError, badInput } from '../errors';
import { bootloaderFor, renderGrubConfig, renderPxelinuxConfig, switchToInstanceBoot, type InstanceBoot, type PxeBootMode, type PxeDeployParams, type RenderOptions } from './render';

export interface PxeImages {
  deployKernel: string;
  deployRamdisk: string;
  /** Instance kernel and ramdisk (partition image, netboot). */
  kernel?: string;
  ramdisk?: string;
}

export interface PxeNodeLocation {
  /** The TFTP server's root directory. */
  tftpRoot: string;
  /** Directory name for the node (Ironic: the node UUID). */
  nodeId: string;
  /** MACs the node may PXE boot from. */
  macs: string[];
  bootMode: PxeBootMode;
  /** GRUB's directory under the TFTP root (default `grub`). */
  grubDir?: string;
}

export interface PxeSetupOptions extends PxeNodeLocation, RenderOptions {
  params: Omit<PxeDeployParams, 'bootMode'>;
  images: PxeImages;
  /** Put before the file names inside the config (e.g. `/tftpboot/` for a tftpd path map, or an HTTP URL for lpxelinux). */
  pathPrefix?: string;
}

export interface PxeFiles {
  nodeDir: string;
  config: string;
  /** Kernel and ramdisk files in the node directory. */
  images: string[];
  /** Per-MAC symlinks to the config. */
  links: string[];
}

const IMAGE_NAMES = ['deployKernel', 'deployRamdisk', 'kernel', 'ramdisk'] as const;
const FILE_NAME: Record<(typeof IMAGE_NAMES)[number], string> = { deployKernel: 'deploy_kernel', deployRamdisk: 'deploy_ramdisk', kernel: 'kernel', ramdisk: 'ramdisk' };
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const MAC = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;
const RESERVED = new Set(['pxelinux.cfg', 'grub', 'master_images']);

/** Lower case, colon-separated. */
export function normaliseMac(mac: unknown, field = 'macs'): string {
  if (typeof mac !== 'string' || !MAC.test(mac)) throw badInput(field, 'a MAC address like 52:54:00:12:34:56', mac);
  return mac.toLowerCase().replace(/-/g, ':');
}

interface Layout {
  nodeDir: string;
  config: string;
  links: string[];
}

export function pxeLayout(loc: PxeNodeLocation): Layout {
  if (typeof loc.tftpRoot !== 'string' || loc.tftpRoot.length === 0) throw badInput('tftpRoot', 'a directory path', loc.tftpRoot);
  if (typeof loc.nodeId !== 'string' || !NODE_ID.test(loc.nodeId) || loc.nodeId.includes('..') || RESERVED.has(loc.nodeId.toLowerCase())) {
    throw badInput('nodeId', 'a name of letters, digits, ".", "_", "-" (no "..", not pxelinux.cfg or grub), usable as one directory name', loc.nodeId);
  }
  if (!Array.isArray(loc.macs) || loc.macs.length === 0) throw badInput('macs', 'at least one MAC address', loc.macs);
  if (loc.bootMode !== 'bios' && loc.bootMode !== 'uefi') throw badInput('bootMode', '"bios" or "uefi"', loc.bootMode);
  const grubDir = loc.grubDir ?? 'grub';
  if (typeof grubDir !== 'string' || grubDir.split('/').some((s) => s === '..' || s === '') || grubDir.startsWith('/')) {
    throw badInput('grubDir', 'a relative directory inside the TFTP root', grubDir);
  }
  const nodeDir = join(loc.tftpRoot, loc.nodeId);
  const macs = [...new Set(loc.macs.map((m, i) => normaliseMac(m, `macs[${i}]`)))];
  const links = macs.flatMap((mac) => {
    const dashed = mac.replace(/:/g, '-');
    return loc.bootMode === 'bios' ? [join(loc.tftpRoot, 'pxelinux.cfg', `01-${dashed}`)] : [join(loc.tftpRoot, grubDir, `grub.cfg-01-${dashed}`), join(loc.tftpRoot, grubDir, `grub.cfg-${dashed}`)];
  });
  return { nodeDir, config: join(nodeDir, 'config'), links };
}

/** Write the node's deploy-mode config, its kernel/ramdisk files and the per-MAC links. */
export async function writePxeFiles(o: PxeSetupOptions): Promise<PxeFiles> {
  const layout = pxeLayout(o);
  const prefix = o.pathPrefix ?? (o.bootMode === 'uefi' ? '/' : '');
  if (typeof prefix !== 'string' || /\s/.test(prefix)) throw badInput('pathPrefix', 'a prefix without spaces', prefix);
  if (!o.images || typeof o.images.deployKernel !== 'string' || typeof o.images.deployRamdisk !== 'string') {
    throw badInput('images', 'deployKernel and deployRamdisk file paths');
  }
  if ((o.images.kernel === undefined) !== (o.images.ramdisk === undefined)) throw badInput('images', 'both kernel and ramdisk, or neither');

  const inConfig = (name: string): string => prefix + posix.join(o.nodeId, name);
  const paths = {
    deployKernel: inConfig(FILE_NAME.deployKernel),
    deployRamdisk: inConfig(FILE_NAME.deployRamdisk),
    ...(o.images.kernel ? { kernel: inConfig(FILE_NAME.kernel), ramdisk: inConfig(FILE_NAME.ramdisk) } : {}),
  };
  const params: PxeDeployParams = { ...o.params, bootMode: o.bootMode };
  // Render first: bad input fails before anything is written.
  const text = bootloaderFor(o.bootMode) === 'grub' ? renderGrubConfig(params, paths, o) : renderPxelinuxConfig(params, paths);

  for (const key of IMAGE_NAMES) {
    const src = o.images[key];
    if (src !== undefined && !(await stat(src).then((st) => st.isFile(), () => false))) throw badInput(`images.${key}`, 'an existing file', src);
  }

  await mkdir(layout.nodeDir, { recursive: true });
  const images: string[] = [];
  for (const key of IMAGE_NAMES) {
    const src = o.images[key];
    if (src === undefined) continue;
    const dest = join(layout.nodeDir, FILE_NAME[key]);
    await placeFile(src, dest, `images.${key}`);
    images.push(dest);
  }
  await writeAtomically(layout.config, text);
  for (const l of layout.links) {
    await mkdir(dirname(l), { recursive: true });
    await rm(l, { force: true });
    await symlink(relative(dirname(l), layout.config), l);
  }
  return { nodeDir: layout.nodeDir, config: layout.config, images, links: layout.links };
}

/** Rewrite the node's config from deploy mode to booting the instance (after the image is written). */
export async function switchPxeConfig(loc: PxeNodeLocation, boot: InstanceBoot): Promise<void> {
  const { config } = pxeLayout(loc);
  const text = await readFile(config, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new DeployError('invalid-input', `no PXE config for node ${loc.nodeId} at ${config} (${err.code})`, { field: 'nodeId' });
  });
  await writeAtomically(config, switchToInstanceBoot(text, bootloaderFor(loc.bootMode), boot));
}

/**
 * Remove the node's PXE files: its links (those still pointing at its
 * config), the config, the kernel/ramdisk files, and the node directory and
 * link directories when that leaves them empty. Returns what was removed.
 */
export async function removePxeFiles(loc: PxeNodeLocation): Promise<string[]> {
  const layout = pxeLayout(loc);
  const removed: string[] = [];
  for (const l of layout.links) {
    const to = await readlink(l).catch(() => undefined);
    if (to !== undefined && join(dirname(l), to) === layout.config) {
      await unlink(l);
      removed.push(l);
    }
  }
  for (const name of ['config', ...IMAGE_NAMES.map((k) => FILE_NAME[k])]) {
    const f = join(layout.nodeDir, name);
    if (await unlink(f).then(() => true, () => false)) removed.push(f);
  }
  for (const d of [layout.nodeDir, ...new Set(layout.links.map((l) => dirname(l)))]) {
    if (await rmdir(d).then(() => true, () => false)) removed.push(d);
  }
  return removed;
}

/** Hard link (no copy, same inode) where possible; a copy across filesystems. */
async function placeFile(src: string, dest: string, field: string): Promise<void> {
  await rm(dest, { force: true });
  try {
    await link(src, dest);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw badInput(field, 'an existing file', src);
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw err;
    await copyFile(src, dest);
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, path);
}
