/**
 * Boot loader binaries come from the host (Debian/Ubuntu packages isolinux,
 * syslinux-common, grub-efi-amd64-bin or grub-efi-amd64-signed) or from
 * configured paths. Nothing is run: the files are only read.
 */
import { access, readdir, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { MediaError, invalidMediaInput } from './errors';

export interface BootLoaderPaths {
  /** ISOLINUX boot image (BIOS). */
  isolinuxBin?: string;
  /** ISOLINUX's ldlinux.c32 (syslinux 5 and later cannot boot without it). */
  ldlinuxC32?: string;
  /**
   * A GRUB EFI binary for x86_64, used as `EFI/BOOT/BOOTX64.EFI` in the ESP.
   * It must find its configuration in one of the places the boot ISO
   * builder writes it (see README, "How GRUB finds its configuration").
   */
  grubEfi?: string;
  /** A ready-made ESP image (FAT) used as is instead of building one around `grubEfi`. */
  espImage?: string;
  /** isohybrid MBR code (isohdpfx.bin), for `hybrid: true`. */
  isohybridMbr?: string;
}

export type BootLoaderKind = keyof BootLoaderPaths;

/** Where each file is looked for when no path is configured, in order (an ESP image is never searched for). */
export const BOOT_LOADER_SEARCH: Readonly<Record<BootLoaderKind, readonly string[]>> = {
  isolinuxBin: ['/usr/lib/ISOLINUX/isolinux.bin', '/usr/lib/syslinux/isolinux.bin', '/usr/share/syslinux/isolinux.bin', '/usr/lib/syslinux/bios/isolinux.bin'],
  ldlinuxC32: ['/usr/lib/syslinux/modules/bios/ldlinux.c32', '/usr/lib/syslinux/ldlinux.c32', '/usr/share/syslinux/ldlinux.c32', '/usr/lib/syslinux/bios/ldlinux.c32'],
  grubEfi: [
    // Debian/Ubuntu signed monolithic images (grub-efi-amd64-signed): the CD image first.
    '/usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed',
    '/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed',
    // Debian's unsigned monolithic images (grub-efi-amd64-bin).
    '/usr/lib/grub/x86_64-efi/monolithic/gcdx64.efi',
    '/usr/lib/grub/x86_64-efi/monolithic/grubx64.efi',
    // Copies installed on this host's own ESP ("*": every vendor directory, in name order).
    '/boot/efi/EFI/*/grubx64.efi',
  ],
  isohybridMbr: ['/usr/lib/ISOLINUX/isohdpfx.bin', '/usr/lib/syslinux/isohdpfx.bin', '/usr/share/syslinux/isohdpfx.bin', '/usr/lib/syslinux/bios/isohdpfx.bin'],
  espImage: [],
};

const WHAT: Record<BootLoaderKind, { file: string; pkg: string }> = {
  isolinuxBin: { file: 'isolinux.bin', pkg: 'isolinux' },
  ldlinuxC32: { file: 'ldlinux.c32', pkg: 'syslinux-common' },
  grubEfi: { file: 'a GRUB x86_64 EFI binary', pkg: 'grub-efi-amd64-bin' },
  isohybridMbr: { file: 'isohdpfx.bin', pkg: 'isolinux' },
  espImage: { file: 'an ESP image', pkg: 'grub-efi-amd64-bin' },
};

async function readable(path: string): Promise<boolean> {
  try {
    await access(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** Expands one `*` directory component (`/boot/efi/EFI/<any>/grubx64.efi`); a pattern whose directory is missing stays as is. */
async function expand(pattern: string): Promise<string[]> {
  const star = pattern.indexOf('/*/');
  if (star < 0) return [pattern];
  const dir = pattern.slice(0, star);
  const rest = pattern.slice(star + 3);
  try {
    const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    return names.length ? names.sort().map((n) => `${dir}/${n}/${rest}`) : [pattern];
  } catch {
    return [pattern];
  }
}

/**
 * The path of a boot loader file: the configured one, or the first of the
 * usual places that exists. The error names every path looked at.
 */
export async function findBootLoader(kind: BootLoaderKind, configured?: string, search: readonly string[] = BOOT_LOADER_SEARCH[kind]): Promise<string> {
  const field = `bootLoaders.${kind}`;
  if (configured !== undefined) {
    if (typeof configured !== 'string' || configured === '') throw invalidMediaInput(field, 'a file path', configured);
    if (await readable(configured)) return configured;
    throw new MediaError('missing-file', `${field}: ${configured} does not exist or cannot be read`, { field, searched: [configured] });
  }
  const searched: string[] = [];
  for (const pattern of search) {
    for (const p of await expand(pattern)) {
      searched.push(p);
      if (p !== pattern || !p.includes('/*/')) {
        if (await readable(p)) return p;
      }
    }
  }
  const { file, pkg } = WHAT[kind];
  throw new MediaError(
    'missing-file',
    `${field}: ${file} not found; searched ${searched.join(', ')}. Install the Debian/Ubuntu package ${pkg} or set ${field} to its path`,
    { field, searched },
  );
}

/** Reads a (small) boot loader file found by `findBootLoader`. */
export async function readBootLoader(kind: BootLoaderKind, configured?: string, search?: readonly string[]): Promise<{ path: string; data: Buffer }> {
  const path = await findBootLoader(kind, configured, search);
  try {
    return { path, data: await readFile(path) };
  } catch (err) {
    throw new MediaError('io', `bootLoaders.${kind}: cannot read ${path}: ${(err as Error).message}`, { field: `bootLoaders.${kind}`, cause: err });
  }
}
