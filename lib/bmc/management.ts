/**
 * Management operations as an operator asks for them: validate, act, read
 * the result back. Used by the ilo-virtual-media, ilo-boot-mode and
 * ilo-health nodes.
 */
import { invalidInput } from './errors';
import { unhealthyComponents } from './health';
import { checkWellFormed, parseBoolean, parseBootDevices, parseBootMode, parseImageUrl, parseOneTimeBoot, parseVirtualMediaDevice, redactUrl } from './management-input';
import type { Bmc, BootDevice, BootMode, BootModeStatus, BootOrderEntry, HealthReport, HostInfo, LicenceInfo, VirtualMediaDevice, VirtualMediaStatus } from './types';

// ------------------------------------------------------------ virtual media

export type VirtualMediaAction = 'status' | 'insert' | 'eject';
export const VIRTUAL_MEDIA_ACTIONS: readonly VirtualMediaAction[] = ['status', 'insert', 'eject'];

export interface VirtualMediaRequest {
  action: VirtualMediaAction;
  device: VirtualMediaDevice;
  /** For insert. */
  url?: string;
  /** For insert: boot from it at the next reset only (CD-ROM). */
  bootOnce?: boolean;
  writeProtect?: boolean;
}

export interface VirtualMediaOutcome {
  action: VirtualMediaAction;
  device: VirtualMediaDevice;
  /** The drive as the iLO reports it after the action. */
  status: VirtualMediaStatus;
}

export function parseVirtualMediaAction(value: unknown, field = 'action'): VirtualMediaAction {
  checkWellFormed(value, field);
  const v = typeof value === 'string' ? value.trim().toLowerCase() : value;
  const found = VIRTUAL_MEDIA_ACTIONS.find((a) => a === v) ?? (v === 'mount' ? 'insert' : v === 'unmount' ? 'eject' : undefined);
  if (!found) throw invalidInput(field, `one of ${VIRTUAL_MEDIA_ACTIONS.join(', ')}`, value);
  return found;
}

/** Check a request whose parts come from the node or msg; fields are named as the caller names them. */
export function checkVirtualMediaRequest(
  raw: { action: unknown; device: unknown; url?: unknown; bootOnce?: unknown; writeProtect?: unknown },
  fields: { action: string; device: string; url: string; bootOnce?: string; writeProtect?: string },
): VirtualMediaRequest {
  const action = parseVirtualMediaAction(raw.action, fields.action);
  const device = parseVirtualMediaDevice(raw.device, fields.device);
  const req: VirtualMediaRequest = { action, device };
  if (action === 'insert') {
    req.url = parseImageUrl(raw.url, fields.url);
    const bootOnceField = fields.bootOnce ?? 'bootOnce';
    req.bootOnce = parseBoolean(raw.bootOnce, bootOnceField) ?? false;
    if (req.bootOnce && device === 'floppy') throw invalidInput(bootOnceField, 'boot-once only for the cdrom device (a floppy cannot be booted once)');
    const writeProtect = parseBoolean(raw.writeProtect, fields.writeProtect ?? 'writeProtect');
    if (writeProtect !== undefined) req.writeProtect = writeProtect;
  }
  return req;
}

export async function runVirtualMediaAction(bmc: Bmc, req: VirtualMediaRequest): Promise<VirtualMediaOutcome> {
  if (req.action === 'insert') {
    await bmc.insertVirtualMedia(req.device, req.url as string, { bootOnce: req.bootOnce, writeProtect: req.writeProtect });
  } else if (req.action === 'eject') {
    await bmc.ejectVirtualMedia(req.device);
  }
  return { action: req.action, device: req.device, status: await bmc.getVirtualMediaStatus(req.device) };
}

/** For a status line: "cdrom: deploy.iso" / "cdrom: empty". */
export function describeDrive(status: VirtualMediaStatus): string {
  if (!status.inserted) return `${status.device}: empty`;
  const name = redactUrl(status.imageUrl ?? '').split('/').pop()?.split('?')[0] || 'inserted';
  return `${status.device}: ${name}${status.connected ? '' : ' (not connected)'}`;
}

// ------------------------------------------------------------ boot

export type BootAction = 'status' | 'set-pending-mode' | 'one-time-boot' | 'persistent-order';
export const BOOT_ACTIONS: readonly BootAction[] = ['status', 'set-pending-mode', 'one-time-boot', 'persistent-order'];

export type BootRequest =
  | { action: 'status' }
  | { action: 'set-pending-mode'; mode: BootMode }
  | { action: 'one-time-boot'; device: BootDevice | 'normal' }
  | { action: 'persistent-order'; devices: BootDevice[] };

export interface BootOutcome {
  action: BootAction;
  /** Boot modes; undefined where the iLO cannot tell (iLO 3). */
  bootMode?: BootModeStatus;
  oneTimeBoot: string;
  persistentOrder: BootOrderEntry[];
}

export function parseBootAction(value: unknown, field = 'action'): BootAction {
  checkWellFormed(value, field);
  const v = typeof value === 'string' ? value.trim().toLowerCase() : value;
  const aliases: Record<string, BootAction> = { mode: 'set-pending-mode', 'boot-mode': 'set-pending-mode', 'one-time': 'one-time-boot', once: 'one-time-boot', order: 'persistent-order', 'boot-order': 'persistent-order' };
  const found = typeof v === 'string' ? (BOOT_ACTIONS.find((a) => a === v) ?? aliases[v]) : undefined;
  if (!found) throw invalidInput(field, `one of ${BOOT_ACTIONS.join(', ')}`, value);
  return found;
}

export function checkBootRequest(raw: { action: unknown; mode?: unknown; device?: unknown; devices?: unknown }, fields: { action: string; mode: string; device: string; devices: string }): BootRequest {
  const action = parseBootAction(raw.action, fields.action);
  switch (action) {
    case 'set-pending-mode':
      return { action, mode: parseBootMode(raw.mode, fields.mode) };
    case 'one-time-boot':
      return { action, device: parseOneTimeBoot(raw.device, fields.device) };
    case 'persistent-order':
      return { action, devices: parseBootDevices(raw.devices, fields.devices) };
    default:
      return { action };
  }
}

/** Act, then read everything back (boot mode, one-time boot, persistent order). */
export async function runBootAction(bmc: Bmc, req: BootRequest): Promise<BootOutcome> {
  if (req.action === 'set-pending-mode') await bmc.setPendingBootMode(req.mode);
  else if (req.action === 'one-time-boot') await bmc.setOneTimeBoot(req.device);
  else if (req.action === 'persistent-order') await bmc.setPersistentBootOrder(req.devices);
  const [bootMode, oneTimeBoot, persistentOrder] = await Promise.all([
    bmc.getBootMode().catch((err: { code?: string }) => {
      if (err?.code === 'not-supported') return undefined;
      throw err;
    }),
    bmc.getOneTimeBoot(),
    bmc.getPersistentBootOrder(),
  ]);
  return { action: req.action, ...(bootMode ? { bootMode } : {}), oneTimeBoot, persistentOrder };
}

/** A short status line: "uefi", "uefi (next: bios)", "bios, once: cdrom". */
export function describeBoot(o: BootOutcome): string {
  const mode = o.bootMode ? `${o.bootMode.current}${o.bootMode.pending !== o.bootMode.current ? ` (next: ${o.bootMode.pending})` : ''}` : 'bios';
  return o.oneTimeBoot && o.oneTimeBoot !== 'normal' ? `${mode}, once: ${o.oneTimeBoot}` : mode;
}

// ------------------------------------------------------------ health

export interface HealthOutcome {
  health: HealthReport;
  host: HostInfo;
  licence: LicenceInfo;
  /** Names of degraded or critical components (empty when all is well). */
  unhealthy: string[];
}

/** Health, host data (product, firmware, MACs) and licence, read side by side. */
export async function readHealth(bmc: Bmc): Promise<HealthOutcome> {
  const [health, host, licence] = await Promise.all([bmc.getHealth(), bmc.getHostInfo(), bmc.getLicence()]);
  return { health, host, licence, unhealthy: unhealthyComponents(health) };
}
