/**
 * PXE boot configurations for pxe_ilo, as text: pxelinux for
 * BIOS, GRUB for UEFI. Three entries, as Ironic writes them: `deploy` (the
 * deploy kernel and ramdisk with everything the ramdisk needs on its command
 * line), `boot_partition` (the instance's kernel with root=UUID=…) and
 * `boot_whole_disk` (chain.c32 to the disk with that MBR signature, pxelinux
 * only). A config is written in deploy mode with Ironic's placeholders
 * `{{ ROOT }}` and `{{ DISK_IDENTIFIER }}`; `switchToInstanceBoot` fills them
 * in and changes the default entry once the image is on the disk.
 */
import { badInput } from '../errors';

export type PxeBootMode = 'bios' | 'uefi';
export type PxeBootloader = 'pxelinux' | 'grub';

export const ROOT_PLACEHOLDER = '{{ ROOT }}';
export const DISK_ID_PLACEHOLDER = '{{ DISK_IDENTIFIER }}';
export const DEFAULT_APPEND_PARAMS = 'nofb nomodeset vga=normal';
export const DEFAULT_DISK_DEVICES = 'cciss/c0d0,sda,hda,vda';

/** What the deploy ramdisk is told on its kernel command line. */
export interface PxeDeployParams {
  /** deployment_id: the node's id, which the ramdisk sends back in its callback URL. */
  deploymentId: string;
  /** deployment_key: the per-deploy secret the callback must carry. */
  deploymentKey: string;
  /** ironic_api_url and ipa-api-url: where the ramdisk calls back. */
  apiUrl: string;
  /** iscsi_target_iqn: the name the ramdisk exports the disk under. */
  iscsiTargetIqn: string;
  bootOption: 'local' | 'netboot';
  bootMode: PxeBootMode;
  /** disk=: candidate disks, first existing one wins (default `cciss/c0d0,sda,hda,vda`). */
  disk?: string;
  /** root_device=: root device hints, e.g. `size=100,vendor=HP`. */
  rootDevice?: string;
  /** ipa-driver-name= (default `pxe_ilo`). */
  ipaDriverName?: string;
  /** Extra kernel parameters for every entry (Ironic's pxe_append_params, default `nofb nomodeset vga=normal`). */
  appendParams?: string;
}

/** Files named in the config, as the boot loader reaches them over TFTP. */
export interface PxeConfigPaths {
  deployKernel: string;
  deployRamdisk: string;
  /** Instance kernel and ramdisk: needed for a partition image booted over the network. */
  kernel?: string;
  ramdisk?: string;
}

export interface RenderOptions {
  /** GRUB's command for a Linux kernel (default `linux`; Red Hat's older GRUB builds want `linuxefi`). */
  grubLinuxCommand?: 'linux' | 'linuxefi';
}

export type InstanceBoot = { kind: 'partition'; rootUuid: string } | { kind: 'whole-disk'; diskIdentifier: string };

export function bootloaderFor(mode: PxeBootMode): PxeBootloader {
  return mode === 'uefi' ? 'grub' : 'pxelinux';
}

// A kernel command-line value: printable, no whitespace, nothing a boot loader
// would read as quoting or escaping.
const VALUE = /^[\x21-\x7e]+$/;
const FORBIDDEN = /["'\\`]/;

function checkWord(field: string, v: unknown): string {
  if (typeof v !== 'string' || !VALUE.test(v) || FORBIDDEN.test(v)) {
    throw badInput(field, 'printable text without spaces, newlines, quotes or backslashes', v);
  }
  return v;
}

/** The deploy entry's kernel parameters, in Ironic's order. */
export function deployKernelParams(p: PxeDeployParams): string[] {
  if (p.bootOption !== 'local' && p.bootOption !== 'netboot') throw badInput('bootOption', '"local" or "netboot"', p.bootOption);
  if (p.bootMode !== 'bios' && p.bootMode !== 'uefi') throw badInput('bootMode', '"bios" or "uefi"', p.bootMode);
  const words = [
    'selinux=0',
    `disk=${checkWord('disk', p.disk ?? DEFAULT_DISK_DEVICES)}`,
    `iscsi_target_iqn=${checkWord('iscsiTargetIqn', p.iscsiTargetIqn)}`,
    `deployment_id=${checkWord('deploymentId', p.deploymentId)}`,
    `deployment_key=${checkWord('deploymentKey', p.deploymentKey)}`,
    `ironic_api_url=${checkWord('apiUrl', p.apiUrl)}`,
    'troubleshoot=0',
    'text',
    ...appendWords(p.appendParams),
    `boot_option=${p.bootOption}`,
    ...(p.rootDevice === undefined ? [] : [`root_device=${checkWord('rootDevice', p.rootDevice)}`]),
    `ipa-api-url=${p.apiUrl}`,
    `ipa-driver-name=${checkWord('ipaDriverName', p.ipaDriverName ?? 'pxe_ilo')}`,
    `boot_mode=${p.bootMode}`,
    'coreos.configdrive=0',
  ];
  if (!/^https?:\/\//.test(p.apiUrl)) throw badInput('apiUrl', 'an http:// or https:// URL', p.apiUrl);
  return words;
}

function appendWords(params: string | undefined): string[] {
  const text = params ?? DEFAULT_APPEND_PARAMS;
  if (typeof text !== 'string' || /[\r\n\t\0]/.test(text)) throw badInput('appendParams', 'kernel parameters separated by spaces, on one line', text);
  return text
    .split(' ')
    .filter((w) => w.length > 0)
    .map((w) => checkWord('appendParams', w));
}

function checkPaths(paths: PxeConfigPaths): void {
  checkWord('deployKernel', paths.deployKernel);
  checkWord('deployRamdisk', paths.deployRamdisk);
  if ((paths.kernel === undefined) !== (paths.ramdisk === undefined)) throw badInput('kernel', 'both kernel and ramdisk, or neither');
  if (paths.kernel !== undefined) checkWord('kernel', paths.kernel);
  if (paths.ramdisk !== undefined) checkWord('ramdisk', paths.ramdisk);
}

export function renderPxelinuxConfig(p: PxeDeployParams, paths: PxeConfigPaths): string {
  const deploy = deployKernelParams(p);
  checkPaths(paths);
  const lines = [
    'default deploy',
    '',
    'label deploy',
    `kernel ${paths.deployKernel}`,
    `append initrd=${paths.deployRamdisk} ${deploy.join(' ')}`,
    // pxelinux adds ip=… and BOOTIF=01-<mac> of the interface it booted from.
    'ipappend 3',
    '',
  ];
  if (paths.kernel && paths.ramdisk) {
    lines.push('label boot_partition', `kernel ${paths.kernel}`, `append initrd=${paths.ramdisk} root=${ROOT_PLACEHOLDER} ro text ${appendWords(p.appendParams).join(' ')}`.trimEnd(), '');
  }
  lines.push('label boot_whole_disk', 'COM32 chain.c32', `append mbr:${DISK_ID_PLACEHOLDER}`, '');
  return lines.join('\n');
}

/** GRUB reads `$ ; | & < > { } #` itself: such a word goes in single quotes (checkWord keeps quotes out). */
function grubWord(w: string): string {
  return /[$;|&<>{}#]/.test(w) ? `'${w}'` : w;
}

export function renderGrubConfig(p: PxeDeployParams, paths: PxeConfigPaths, options: RenderOptions = {}): string {
  const linux = options.grubLinuxCommand ?? 'linux';
  if (linux !== 'linux' && linux !== 'linuxefi') throw badInput('grubLinuxCommand', '"linux" or "linuxefi"', linux);
  const initrd = linux === 'linuxefi' ? 'initrdefi' : 'initrd';
  const deploy = deployKernelParams(p).map(grubWord);
  checkPaths(paths);
  const lines = [
    'set default=deploy',
    'set timeout=5',
    'set hidden_timeout_quiet=false',
    '',
    'menuentry "deploy" {',
    // No ipappend in GRUB: it expands its own variable for the MAC it booted from.
    `    ${linux} ${grubWord(paths.deployKernel)} ${deploy.join(' ')} BOOTIF=01-\${net_default_mac}`,
    `    ${initrd} ${grubWord(paths.deployRamdisk)}`,
    '}',
    '',
  ];
  if (paths.kernel && paths.ramdisk) {
    const extra = appendWords(p.appendParams).map(grubWord).join(' ');
    lines.push('menuentry "boot_partition" {', `    ${linux} ${grubWord(paths.kernel)} root=${ROOT_PLACEHOLDER} ro text ${extra}`.trimEnd(), `    ${initrd} ${grubWord(paths.ramdisk)}`, '}', '');
  }
  return lines.join('\n');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FAT_ID = /^[0-9A-F]{4}-[0-9A-F]{4}$/;
const DISK_ID = /^0x[0-9a-f]{8}$/i;

/**
 * A deploy-mode config switched to booting the instance, as Ironic does it:
 * the placeholder is replaced and the default entry changed. Whole-disk
 * images cannot be net-booted with GRUB (Ironic refuses UEFI + whole-disk +
 * netboot for the same reason).
 */
export function switchToInstanceBoot(config: string, bootloader: PxeBootloader, boot: InstanceBoot): string {
  if (boot.kind === 'partition') {
    if (typeof boot.rootUuid !== 'string' || !(UUID.test(boot.rootUuid) || FAT_ID.test(boot.rootUuid))) throw badInput('rootUuid', 'a filesystem UUID', boot.rootUuid);
    if (!config.includes(`root=${ROOT_PLACEHOLDER}`)) {
      throw badInput('config', 'a deploy-mode config with a boot_partition entry (write it with the instance kernel and ramdisk)');
    }
    const text = config.split(ROOT_PLACEHOLDER).join(`UUID=${boot.rootUuid}`);
    return bootloader === 'grub' ? text.replace(/^set default=.*$/m, 'set default=boot_partition') : text.replace(/^default .*$/m, 'default boot_partition');
  }
  if (boot.kind !== 'whole-disk') throw badInput('boot.kind', '"partition" or "whole-disk"', (boot as { kind: unknown }).kind);
  if (bootloader === 'grub') {
    throw badInput('bootMode', 'BIOS for booting a whole-disk image over the network (chain.c32 is a pxelinux module; a UEFI node boots a whole-disk image from its disk)');
  }
  if (typeof boot.diskIdentifier !== 'string' || !DISK_ID.test(boot.diskIdentifier)) throw badInput('diskIdentifier', 'an MBR signature like 0x1a2b3c4d', boot.diskIdentifier);
  return config.split(DISK_ID_PLACEHOLDER).join(boot.diskIdentifier.toLowerCase()).replace(/^default .*$/m, 'default boot_whole_disk');
}
