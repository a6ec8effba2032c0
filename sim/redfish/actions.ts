/**
 * What both REST services do alike with a request: boot override and
 * boot order (PATCH of a system's Boot), and ComputerSystem.Reset.
 */
import type { SimOneTimeBoot, SimServer } from '../server';
import { TARGET_OF } from './resources';

export const DEVICE_OF_TARGET: Record<string, SimOneTimeBoot> = {
  cd: { device: 'cdrom', value: 'CDROM' },
  hdd: { device: 'hdd', value: 'HDD' },
  pxe: { device: 'network', value: 'NETWORK' },
  usb: { device: 'usb', value: 'USB' },
  floppy: { device: 'floppy', value: 'FLOPPY' },
  biossetup: { device: 'setup', value: 'RBSU' },
  utilities: { device: 'other', value: 'EMB-MENU' },
};

/** Boot source override (Once or Continuous) and BootOrder, as both REST services take them. */
export function applyBootPatch(server: SimServer, boot: Record<string, unknown>, targets: readonly string[], failWith: (status: number, id: string, args?: string[]) => never): void {
  if (boot.BootOrder !== undefined) {
    if (!Array.isArray(boot.BootOrder) || !boot.BootOrder.every((x) => typeof x === 'string')) failWith(400, 'PropertyValueTypeError', ['BootOrder', 'BootOrder']);
    server.setPersistentOrder(boot.BootOrder as string[]);
  }
  const target = boot.BootSourceOverrideTarget;
  const enabled = boot.BootSourceOverrideEnabled;
  if (target === undefined && enabled === undefined) return;
  const known = targets.find((t) => typeof target === 'string' && t.toLowerCase() === target.toLowerCase());
  if (target !== undefined && !known) failWith(400, 'PropertyValueNotInList', [String(target), 'BootSourceOverrideTarget']);
  if (enabled !== undefined && !['disabled', 'once', 'continuous'].includes(String(enabled).toLowerCase())) failWith(400, 'PropertyValueNotInList', [String(enabled), 'BootSourceOverrideEnabled']);
  const current = server.oneTimeBoot;
  const t = known ?? (current ? TARGET_OF[current.device] : 'None');
  const e = enabled !== undefined ? String(enabled).toLowerCase() : current ? 'once' : 'disabled';
  const what = DEVICE_OF_TARGET[t.toLowerCase()];
  if (e === 'disabled' || t === 'None') server.setOneTimeBoot(null);
  else if (!what) failWith(400, 'PropertyValueNotInList', [t, 'BootSourceOverrideTarget']);
  else if (e === 'once') server.setOneTimeBoot(what);
  else {
    // Continuous: the device class goes first in the persistent order.
    const ids = server.activeOrder().filter((x) => x.device === what.device).map((x) => x.id);
    if (ids.length === 0) failWith(400, 'PropertyValueNotInList', [t, 'BootSourceOverrideTarget']);
    server.setPersistentOrder(ids);
  }
}

/** ComputerSystem.Reset, as iLO answers it (a no-op is refused with InvalidOperationForSystemState). */
export function systemReset(s: SimServer, type: unknown, invalid: () => never, unsupported: () => never): void {
  switch (type) {
    case 'On':
      if (s.powerState === 'on' || s.poweringOn) invalid();
      s.powerOn();
      break;
    case 'ForceOff':
      if (s.powerState === 'off') invalid();
      s.hardOff();
      break;
    case 'ForceRestart':
      if (s.powerState === 'off') invalid();
      s.warmReset();
      break;
    case 'GracefulShutdown':
      if (s.powerState === 'off') invalid();
      s.pressPowerButton();
      break;
    case 'PushPowerButton':
      s.pressPowerButton();
      break;
    case 'Nmi':
      if (s.powerState === 'off') invalid();
      break;
    default:
      unsupported();
  }
}

