/**
 * Bootable ISOs for iLO virtual media:
 * - the boot ISO of a deployed instance (Ironic's netboot: kernel + ramdisk
 *   of the instance, `root=UUID=...` on the command line);
 * - a deploy ISO from a deploy kernel + ramdisk, with `boot_method=vmedia`
 *   so the ramdisk reads its parameters from the virtual floppy.
 * Each boots under legacy BIOS (ISOLINUX) and UEFI (GRUB in an ESP image),
 * and optionally from a USB disk (isohybrid). Kernel and ramdisk are streamed
 * from disk when given as paths: the ISO is never held in memory.
 */
import { findBootLoader, readBootLoader, type BootLoaderPaths } from './bootloaders';
import { checkCmdlineLength, grubConfig, isolinuxConfig, kernelParamWords } from './bootconfig';
import { invalidMediaInput } from './errors';
import { buildEspImage, DEFAULT_GRUB_CONFIG_PATHS } from './esp';
import { imageSource } from './image';
import { buildIso, type IsoFile, type IsoImage } from './iso/writer';
import { checkVolumeId } from './iso/names';
import { formatParameters, parseParameters, type DeployParameters } from './parameters';
import { fileSource, toSource, type MediaInput } from './source';

export type BootModes = 'bios' | 'uefi' | 'both';

export interface BootIsoOptions {
  /** The kernel: a file path (streamed), a Buffer or a MediaSource. */
  kernel: MediaInput;
  /** The ramdisk (initrd), same forms. */
  ramdisk: MediaInput;
  /** Kernel command line, as a string or a list of words. */
  kernelParams?: string | readonly string[];
  /** Which firmware the ISO boots under. Default `both`. */
  bootModes?: BootModes;
  /** Volume label. Default `VMEDIA_BOOT_ISO` (Ironic's). */
  volumeId?: string;
  /** Also make the ISO bootable as a USB disk (isohybrid MBR; with UEFI, an ESP partition). Needs BIOS. Default false. */
  hybrid?: boolean;
  /** Boot loaders also talk on the first serial port (115200 baud). Default false. */
  serialConsole?: boolean;
  /** Boot loader files; each not given is searched for on this host (BOOT_LOADER_SEARCH). */
  bootLoaders?: BootLoaderPaths;
  /** Where grub.cfg goes inside the ESP. Default DEFAULT_GRUB_CONFIG_PATHS. */
  grubConfigPaths?: readonly string[];
  /** More files on the ISO (for example `openstack/latest/network_data.json`). */
  extraFiles?: ReadonlyArray<{ path: string; data: MediaInput }>;
  /** Publisher identifier (Ironic puts the node UUID). */
  publisher?: string;
  /** Timestamp of every entry. Default: now. */
  date?: Date;
}

export interface InstanceBootIsoOptions extends BootIsoOptions {
  /** Filesystem UUID of the instance's root partition: adds `root=UUID=<uuid>`. */
  rootUuid?: string;
}

export interface DeployIsoOptions extends BootIsoOptions {
  /**
   * Deploy parameters put on the kernel command line instead of (or as well
   * as) the virtual floppy, as modern Ironic does when it builds the ISO.
   */
  parameters?: DeployParameters;
}

/** Fixed layout of the boot ISOs (Ironic's names). */
export const BOOT_ISO_LAYOUT = {
  kernel: 'vmlinuz',
  ramdisk: 'initrd',
  isolinuxBin: 'isolinux/isolinux.bin',
  ldlinuxC32: 'isolinux/ldlinux.c32',
  isolinuxCfg: 'isolinux/isolinux.cfg',
  grubCfg: 'boot/grub/grub.cfg',
  espImage: 'boot/grub/efiboot.img',
} as const;

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$|^[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}$/;

/** Boot ISO for a deployed instance (Ironic netboot): kernel + ramdisk + `root=UUID=...`. */
export async function buildInstanceBootIso(opts: InstanceBootIsoOptions): Promise<IsoImage> {
  const words = kernelParamWords(opts.kernelParams);
  if (opts.rootUuid !== undefined) {
    if (typeof opts.rootUuid !== 'string' || !UUID.test(opts.rootUuid)) {
      throw invalidMediaInput('rootUuid', 'a filesystem UUID (8-4-4-4-12 hex digits, or XXXX-XXXX for FAT)', opts.rootUuid);
    }
    if (words.some((w) => w.startsWith('root='))) throw invalidMediaInput('kernelParams', 'no root= when rootUuid is given', words.find((w) => w.startsWith('root=')));
    words.unshift(`root=UUID=${opts.rootUuid}`);
  }
  return buildBootIso({ ...opts, kernelParams: words });
}

/** Deploy ISO from a deploy kernel + ramdisk, with `boot_method=vmedia` so the ramdisk reads the virtual floppy. */
export async function buildDeployIso(opts: DeployIsoOptions): Promise<IsoImage> {
  const words = kernelParamWords(opts.kernelParams);
  if (opts.parameters !== undefined) {
    const text = formatParameters(opts.parameters);
    if (text) words.push(...text.split('\n'));
  }
  const given = parseParameters(words.join(' '));
  if (given.boot_method !== undefined && given.boot_method !== 'vmedia') {
    throw invalidMediaInput('kernelParams', 'boot_method=vmedia or no boot_method (a deploy ISO is virtual media)', `boot_method=${given.boot_method}`);
  }
  if (given.boot_method === undefined) words.push('boot_method=vmedia');
  return buildBootIso({ ...opts, kernelParams: words });
}

/** A bootable ISO: kernel, ramdisk and command line, for BIOS, UEFI or both. */
export async function buildBootIso(opts: BootIsoOptions): Promise<IsoImage> {
  if (typeof opts !== 'object' || opts === null) throw invalidMediaInput('options', 'an object', opts);
  const modes = opts.bootModes ?? 'both';
  if (!['bios', 'uefi', 'both'].includes(modes)) throw invalidMediaInput('bootModes', '"bios", "uefi" or "both"', modes);
  const bios = modes !== 'uefi';
  const uefi = modes !== 'bios';
  if (opts.hybrid && !bios) throw invalidMediaInput('hybrid', 'bootModes "bios" or "both" (the isohybrid MBR starts ISOLINUX)', modes);
  const volumeId = checkVolumeId(opts.volumeId ?? 'VMEDIA_BOOT_ISO', 'volumeId');
  const params = kernelParamWords(opts.kernelParams);
  checkCmdlineLength(params);
  const loaders = opts.bootLoaders ?? {};
  const date = opts.date ?? new Date();

  const kernel = await toSource(opts.kernel, 'kernel');
  const ramdisk = await toSource(opts.ramdisk, 'ramdisk');
  if (kernel.size === 0) throw invalidMediaInput('kernel', 'a non-empty kernel image', kernel.description);

  const L = BOOT_ISO_LAYOUT;
  const entry = { kernel: `/${L.kernel}`, initrd: `/${L.ramdisk}`, params, serial: opts.serialConsole === true };
  const files: IsoFile[] = [
    { path: L.kernel, data: kernel },
    { path: L.ramdisk, data: ramdisk },
  ];
  if (bios) {
    files.push({ path: L.isolinuxBin, data: (await readBootLoader('isolinuxBin', loaders.isolinuxBin)).data });
    files.push({ path: L.ldlinuxC32, data: (await readBootLoader('ldlinuxC32', loaders.ldlinuxC32)).data });
    files.push({ path: L.isolinuxCfg, data: Buffer.from(isolinuxConfig(entry), 'utf8') });
  }
  if (uefi) {
    const cfg = Buffer.from(grubConfig({ ...entry, volumeId }), 'utf8');
    let configPaths = [...(opts.grubConfigPaths ?? DEFAULT_GRUB_CONFIG_PATHS)];
    if (loaders.espImage !== undefined) {
      files.push({ path: L.espImage, data: await fileSource(await findBootLoader('espImage', loaders.espImage), 'bootLoaders.espImage') });
    } else {
      const grubPath = await findBootLoader('grubEfi', loaders.grubEfi);
      // A GRUB taken from an ESP's EFI/<vendor>/ has /EFI/<vendor> as its prefix: put a config there too.
      const vendor = /\/EFI\/([^/]+)\/[^/]+$/i.exec(grubPath)?.[1];
      if (vendor && vendor.toUpperCase() !== 'BOOT') configPaths = [...new Set([...configPaths, `EFI/${vendor}/grub.cfg`])];
      const esp = await buildEspImage({ grubEfi: grubPath, grubConfig: cfg.toString('utf8'), grubConfigPaths: configPaths, date });
      files.push({ path: L.espImage, data: imageSource(esp, 'the ESP image') });
    }
    // The same places on the ISO itself: booted from a CD, GRUB's root device is the ISO.
    for (const p of new Set([L.grubCfg, ...configPaths])) files.push({ path: p, data: cfg });
  }
  for (const [i, f] of (opts.extraFiles ?? []).entries()) {
    if (typeof f !== 'object' || f === null) throw invalidMediaInput(`extraFiles[${i}]`, 'an object { path, data }', f);
    files.push({ path: f.path, data: await toSource(f.data, `extraFiles[${i}].data`) });
  }

  return buildIso({
    volumeId,
    files,
    date,
    publisher: opts.publisher,
    boot: {
      bios: bios ? { path: L.isolinuxBin, loadSectors: 4 } : undefined,
      uefi: uefi ? { path: L.espImage } : undefined,
      hybridMbr: opts.hybrid ? (await readBootLoader('isohybridMbr', loaders.isohybridMbr)).data : undefined,
    },
  });
}
