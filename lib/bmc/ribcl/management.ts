/**
 * RIBCL management commands and the decoding of their answers. Every
 * builder returns a command that can be batched.
 */
import { classifyBootDescription, deviceFromRibclName } from '../boot-devices';
import { BmcError } from '../errors';
import type { BootDevice, BootMode, BootModeStatus, BootOrderEntry, LicenceInfo, VirtualMediaBootOption, VirtualMediaDevice, VirtualMediaStatus } from '../types';
import { RibclCommand, RibclReply, requirePayload } from './protocol';
import { attr, child, childValue } from './xml';

const read = (name: string, section: RibclCommand['section'], attrs?: Record<string, string>): RibclCommand => ({
  section,
  mode: 'read',
  name,
  attrs,
  idempotent: true,
});

const write = (name: string, section: RibclCommand['section'], attrs?: Record<string, string>, children?: RibclCommand['children']): RibclCommand => ({
  section,
  mode: 'write',
  name,
  attrs,
  children,
  // Every management write below leaves the same end state when repeated.
  idempotent: true,
});

export const VM_DEVICE: Record<VirtualMediaDevice, string> = { cdrom: 'CDROM', floppy: 'FLOPPY' };

/** VM_BOOT_OPTION values: the three states, plus the CONNECT/DISCONNECT actions. */
export type RibclVmOption = 'BOOT_ONCE' | 'BOOT_ALWAYS' | 'NO_BOOT' | 'CONNECT' | 'DISCONNECT';

export const VM_OPTION: Record<VirtualMediaBootOption, RibclVmOption> = {
  'boot-once': 'BOOT_ONCE',
  'boot-always': 'BOOT_ALWAYS',
  'no-boot': 'NO_BOOT',
};

export const ribclManagement = {
  getVmStatus: (device: VirtualMediaDevice): RibclCommand => read('GET_VM_STATUS', 'RIB_INFO', { DEVICE: VM_DEVICE[device] }),
  insertVirtualMedia: (device: VirtualMediaDevice, url: string): RibclCommand =>
    write('INSERT_VIRTUAL_MEDIA', 'RIB_INFO', { DEVICE: VM_DEVICE[device], IMAGE_URL: url }),
  ejectVirtualMedia: (device: VirtualMediaDevice): RibclCommand => write('EJECT_VIRTUAL_MEDIA', 'RIB_INFO', { DEVICE: VM_DEVICE[device] }),
  setVmStatus: (device: VirtualMediaDevice, option: RibclVmOption, writeProtect?: boolean): RibclCommand =>
    write('SET_VM_STATUS', 'RIB_INFO', { DEVICE: VM_DEVICE[device] }, [
      { name: 'VM_BOOT_OPTION', attrs: { VALUE: option } },
      ...(writeProtect === undefined ? [] : [{ name: 'VM_WRITE_PROTECT', attrs: { VALUE: writeProtect ? 'YES' : 'NO' } }]),
    ]),

  getCurrentBootMode: (): RibclCommand => read('GET_CURRENT_BOOT_MODE', 'SERVER_INFO'),
  getPendingBootMode: (): RibclCommand => read('GET_PENDING_BOOT_MODE', 'SERVER_INFO'),
  getSupportedBootMode: (): RibclCommand => read('GET_SUPPORTED_BOOT_MODE', 'SERVER_INFO'),
  setPendingBootMode: (mode: BootMode): RibclCommand => write('SET_PENDING_BOOT_MODE', 'SERVER_INFO', { VALUE: mode === 'uefi' ? 'UEFI' : 'LEGACY' }),

  getOneTimeBoot: (): RibclCommand => read('GET_ONE_TIME_BOOT', 'SERVER_INFO'),
  /** NORMAL, CDROM, HDD, … or a UEFI BootXXXX id (case kept). */
  setOneTimeBoot: (value: string): RibclCommand => write('SET_ONE_TIME_BOOT', 'SERVER_INFO', { VALUE: value }),
  getPersistentBoot: (): RibclCommand => read('GET_PERSISTENT_BOOT', 'SERVER_INFO'),
  setPersistentBoot: (ids: string[]): RibclCommand =>
    write(
      'SET_PERSISTENT_BOOT',
      'SERVER_INFO',
      undefined,
      ids.map((id) => ({ name: 'DEVICE', attrs: { VALUE: id } })),
    ),

  getAllLicenses: (): RibclCommand => read('GET_ALL_LICENSES', 'RIB_INFO'),
  getFwVersion: (): RibclCommand => read('GET_FW_VERSION', 'RIB_INFO'),
  getProductName: (): RibclCommand => read('GET_PRODUCT_NAME', 'SERVER_INFO'),
  getHostData: (): RibclCommand => read('GET_HOST_DATA', 'SERVER_INFO'),
  getEmbeddedHealth: (): RibclCommand => read('GET_EMBEDDED_HEALTH', 'SERVER_INFO'),
};

const yes = (v: string | undefined): boolean => (v ?? '').trim().toUpperCase() === 'YES';

/** The GET_VM_STATUS answer for one device (a batch may hold both). */
export function decodeVmStatus(reply: RibclReply, device: VirtualMediaDevice, target?: string): VirtualMediaStatus {
  const all = reply.payload.filter((p) => p.name === 'GET_VM_STATUS');
  const el = all.find((p) => (attr(p, 'DEVICE') ?? '').trim().toUpperCase() === VM_DEVICE[device]) ?? (all.length === 1 ? all[0] : undefined);
  if (!el) throw new BmcError('protocol', `expected GET_VM_STATUS for ${VM_DEVICE[device]} in the iLO's answer`, { target });
  const inserted = yes(attr(el, 'IMAGE_INSERTED'));
  const url = (attr(el, 'IMAGE_URL') ?? '').trim();
  const option = (attr(el, 'BOOT_OPTION') ?? '').trim().toUpperCase();
  const bootOption: VirtualMediaBootOption = option === 'BOOT_ONCE' ? 'boot-once' : option === 'BOOT_ALWAYS' ? 'boot-always' : 'no-boot';
  return {
    device,
    inserted,
    ...(inserted && url ? { imageUrl: url } : {}),
    bootOption,
    writeProtected: yes(attr(el, 'WRITE_PROTECT') ?? attr(el, 'WRITE_PROTECT_FLAG')),
    connected: (attr(el, 'VM_APPLET') ?? '').trim().toUpperCase() === 'CONNECTED',
  };
}

function bootModeValue(reply: RibclReply, element: string, inner: string, target?: string): string {
  const el = requirePayload(reply, element, target);
  return (childValue(el, inner) ?? '').toUpperCase();
}

const MODE_OF: Record<string, BootMode> = { LEGACY: 'bios', UEFI: 'uefi' };

/** The three boot-mode answers of one batched request. */
export function decodeBootMode(reply: RibclReply, target?: string): BootModeStatus {
  const current = MODE_OF[bootModeValue(reply, 'GET_CURRENT_BOOT_MODE', 'BOOT_MODE', target)];
  if (!current) throw new BmcError('protocol', 'the iLO reported an unknown current boot mode', { target });
  const pendingRaw = bootModeValue(reply, 'GET_PENDING_BOOT_MODE', 'BOOT_MODE', target);
  const supportedRaw = bootModeValue(reply, 'GET_SUPPORTED_BOOT_MODE', 'SUPPORTED_BOOT_MODE', target);
  const supported: BootModeStatus['supported'] =
    supportedRaw === 'LEGACY_ONLY' ? 'bios-only' : supportedRaw === 'UEFI_ONLY' ? 'uefi-only' : 'bios-and-uefi';
  return { current, pending: MODE_OF[pendingRaw] ?? 'unknown', supported };
}

/** "normal", a device class, or the iLO's own value lower-cased (RBSU, a UEFI BootXXXX …). */
export function decodeOneTimeBoot(reply: RibclReply, target?: string): BootDevice | 'normal' | string {
  const el = reply.payload.find((p) => p.name === 'ONE_TIME_BOOT' || p.name === 'GET_ONE_TIME_BOOT');
  if (!el) throw new BmcError('protocol', 'expected ONE_TIME_BOOT in the iLO answer', { target });
  const bootType = child(el, 'BOOT_TYPE');
  // iLO 2 used a DEVICE attribute, later firmware VALUE.
  const raw = (attr(bootType, 'VALUE') ?? attr(bootType, 'DEVICE') ?? '').trim();
  if (raw.toLowerCase() === 'normal' || raw === '') return 'normal';
  return deviceFromRibclName(raw) ?? raw.toLowerCase();
}

/** Persistent order: legacy names, or UEFI BootXXXX entries with their descriptions. */
export function decodePersistentBoot(reply: RibclReply, target?: string): BootOrderEntry[] {
  const el = reply.payload.find((p) => p.name === 'PERSISTENT_BOOT' || p.name === 'GET_PERSISTENT_BOOT');
  if (!el) throw new BmcError('protocol', 'expected PERSISTENT_BOOT in the iLO answer', { target });
  return el.children
    .filter((c) => c.name === 'DEVICE')
    .map((c) => {
      const id = (attr(c, 'VALUE') ?? '').trim();
      const description = attr(c, 'DESCRIPTION')?.trim();
      if (description !== undefined) return { id, description, device: classifyBootDescription(description) };
      return { id, device: deviceFromRibclName(id) ?? 'other' };
    });
}

/** Ironic's classification by the licence name's ending, and what it allows. */
export function classifyLicence(type: string): LicenceInfo {
  const t = type.trim();
  const tier: LicenceInfo['tier'] = /advanced/i.test(t)
    ? 'advanced'
    : /essentials/i.test(t)
      ? 'essentials'
      : /standard/i.test(t) || t === ''
        ? 'standard'
        : 'other';
  return { type: t || 'none', tier, virtualMedia: tier === 'advanced' };
}

const TIER_RANK: Record<LicenceInfo['tier'], number> = { standard: 0, other: 1, essentials: 2, advanced: 3 };

/** GET_ALL_LICENSES: the best licence installed (there may be several). */
export function decodeLicences(reply: RibclReply, target?: string): LicenceInfo {
  const el = requirePayload(reply, 'GET_ALL_LICENSES', target);
  const found = el.children.filter((c) => c.name === 'LICENSE').map((l) => classifyLicence(childValue(l, 'LICENSE_TYPE') ?? ''));
  if (found.length === 0) return classifyLicence('');
  return found.reduce((best, l) => (TIER_RANK[l.tier] > TIER_RANK[best.tier] ? l : best));
}

/** GET_FW_VERSION attributes. */
export function decodeFwVersion(reply: RibclReply, target?: string): { firmware: string; date?: string; processor?: string; licenceType?: string } {
  const el = requirePayload(reply, 'GET_FW_VERSION', target);
  const date = attr(el, 'FIRMWARE_DATE')?.trim();
  return {
    firmware: (attr(el, 'FIRMWARE_VERSION') ?? '').trim(),
    ...(date ? { date } : {}),
    processor: attr(el, 'MANAGEMENT_PROCESSOR')?.trim(),
    licenceType: attr(el, 'LICENSE_TYPE')?.trim(),
  };
}

export function decodeProductName(reply: RibclReply, target?: string): string {
  return (childValue(requirePayload(reply, 'GET_PRODUCT_NAME', target), 'PRODUCT_NAME') ?? '').trim();
}
