/**
 * The EFI system partition image a UEFI El Torito entry points at: a FAT
 * volume with GRUB as the removable-media boot path `EFI/BOOT/BOOTX64.EFI`
 * and grub.cfg in every place the common GRUB builds look for it.
 */
import { invalidMediaInput } from './errors';
import { buildFatImage, type FatImage } from './fat/writer';
import { toSource, type MediaInput } from './source';

/**
 * Where grub.cfg is written in the ESP. GRUB reads `$prefix/grub.cfg`, and
 * the prefix is built into the binary:
 * - `EFI/BOOT`: a grub-mkimage image with prefix `/EFI/BOOT`, and the
 *   `$cmdpath/grub.cfg` fallback of Debian's monolithic images;
 * - `boot/grub`: Debian's CD image (gcdx64.efi, prefix `/boot/grub`);
 * - `EFI/debian`, `EFI/ubuntu`: Debian's and Ubuntu's grubx64.efi.
 */
export const DEFAULT_GRUB_CONFIG_PATHS: readonly string[] = ['EFI/BOOT/grub.cfg', 'boot/grub/grub.cfg', 'EFI/debian/grub.cfg', 'EFI/ubuntu/grub.cfg'];

export interface EspOptions {
  /** The GRUB EFI binary (path, Buffer or source). */
  grubEfi: MediaInput;
  /** grub.cfg contents. */
  grubConfig: string;
  /** Where to put grub.cfg in the ESP. Default: DEFAULT_GRUB_CONFIG_PATHS. */
  grubConfigPaths?: readonly string[];
  /** Volume label of the ESP. Default `ESP`. */
  label?: string;
  date?: Date;
}

export async function buildEspImage(opts: EspOptions): Promise<FatImage> {
  const grub = await toSource(opts.grubEfi, 'grubEfi');
  if (grub.size === 0) throw invalidMediaInput('grubEfi', 'a non-empty EFI binary', grub.description);
  const paths = opts.grubConfigPaths ?? DEFAULT_GRUB_CONFIG_PATHS;
  if (!Array.isArray(paths)) throw invalidMediaInput('grubConfigPaths', 'an array of paths', paths);
  const cfg = Buffer.from(opts.grubConfig, 'utf8');
  return buildFatImage({
    label: opts.label ?? 'ESP',
    date: opts.date,
    files: [{ path: 'EFI/BOOT/BOOTX64.EFI', data: grub }, ...paths.map((p) => ({ path: p, data: cfg }))],
  });
}
