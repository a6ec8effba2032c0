/**
 * Boot devices across protocols and boot modes: RIBCL legacy names, UEFI
 * boot options described in words, Redfish override targets.
 */
import { BmcError } from './errors';
import type { BootDevice, BootOrderEntry } from './types';

/** RIBCL legacy device names (SET_ONE_TIME_BOOT / SET_PERSISTENT_BOOT values). */
export const RIBCL_DEVICE: Record<BootDevice, string> = {
  cdrom: 'CDROM',
  hdd: 'HDD',
  network: 'NETWORK',
  usb: 'USB',
  floppy: 'FLOPPY',
};

/** Redfish BootSourceOverrideTarget values. */
export const REDFISH_TARGET: Record<BootDevice, string> = {
  cdrom: 'Cd',
  hdd: 'Hdd',
  network: 'Pxe',
  usb: 'Usb',
  floppy: 'Floppy',
};

export function deviceFromRibclName(name: string): BootDevice | undefined {
  const n = name.trim().toUpperCase();
  return (Object.keys(RIBCL_DEVICE) as BootDevice[]).find((d) => RIBCL_DEVICE[d] === n);
}

export function deviceFromRedfishTarget(target: string): BootDevice | undefined {
  const t = target.trim().toLowerCase();
  return (Object.keys(REDFISH_TARGET) as BootDevice[]).find((d) => REDFISH_TARGET[d].toLowerCase() === t);
}

/**
 * The device class of a UEFI boot option from its description, the way
 * proliantutils reads them: virtual CD first, then network (PXE, NIC,
 * iSCSI), then disks, then USB and floppy.
 */
export function classifyBootDescription(description: string): BootDevice | 'other' {
  const d = description.toLowerCase();
  if (/virtual (usb )?cd|cd-?rom|dvd/.test(d)) return 'cdrom';
  if (/pxe|\bnic\b|iscsi|network|ethernet/.test(d)) return 'network';
  if (/logical drive|\bhdd\b|hard drive|storage|logvol|raid|sata|nvme|\bdisk\b/.test(d)) return 'hdd';
  if (/floppy|virtual usb key/.test(d)) return 'floppy';
  if (/\busb\b/.test(d)) return 'usb';
  return 'other';
}

/** Entry ids to send so that `devices` come first, in order (every matching entry of each class). */
export function orderFor(entries: BootOrderEntry[], devices: BootDevice[]): { ids: string[]; missing: BootDevice[] } {
  const ids: string[] = [];
  const missing: BootDevice[] = [];
  for (const dev of devices) {
    const matching = entries.filter((e) => e.device === dev);
    if (matching.length === 0) missing.push(dev);
    for (const e of matching) if (!ids.includes(e.id)) ids.push(e.id);
  }
  return { ids, missing };
}

/** "Gen10 Plus", "Gen9", "G7" … from a product name. */
export function generationOf(productName: string): string | undefined {
  const m = /\b(Gen\s?\d+(?:\s+Plus)?|G\d+)\b/i.exec(productName);
  return m ? m[1]!.replace(/^gen\s?/i, 'Gen').replace(/plus$/i, 'Plus') : undefined;
}

/** No boot entry of these classes: an invalid-input error naming the field. */
export function notConfigured(missing: BootDevice[]): BmcError {
  const names = missing.map((d) => `'${d}'`).join(', ');
  return new BmcError(
    'invalid-input',
    `devices: ${names} ${missing.length > 1 ? 'are' : 'is'} not configured as a boot device on this server (in UEFI mode an inserted virtual CD appears only after the next reset: use one-time boot)`,
    { field: 'devices' },
  );
}
