/**
 * Validation of what callers ask the management operations for. Every error
 * names the field and what was expected, and an image URL's credentials are
 * never repeated in a message.
 */
import { invalidInput } from './errors';
import {
  BOOT_DEVICES,
  BOOT_MODES,
  VIRTUAL_MEDIA_BOOT_OPTIONS,
  VIRTUAL_MEDIA_DEVICES,
  type BootDevice,
  type BootMode,
  type DeployMedia,
  type VirtualMediaBootOption,
  type VirtualMediaDevice,
} from './types';

/**
 * A string with a lone UTF-16 surrogate (half of a pair, e.g. JSON "\ud800")
 * has no UTF-8 form: anything that encodes it would silently put U+FFFD in
 * its place. It is refused, naming the field.
 */
export function checkWellFormed(value: unknown, field: string): void {
  if (typeof value === 'string' && !value.isWellFormed()) throw invalidInput(field, 'text without a lone UTF-16 surrogate (an unpaired \\uD800-\\uDFFF)');
}

/** An optional yes/no: a boolean, or absent (undefined). "yes", 1, "true" are refused. */
export function parseBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw invalidInput(field, 'true or false (a JSON boolean)', value);
}

const lowerField = (v: unknown, field: string): unknown => {
  checkWellFormed(v, field);
  return typeof v === 'string' ? v.trim().toLowerCase() : v;
};

export function parseVirtualMediaDevice(value: unknown, field = 'device'): VirtualMediaDevice {
  const v = lowerField(value, field);
  const aliases: Record<string, VirtualMediaDevice> = { cd: 'cdrom', dvd: 'cdrom', 'cd-rom': 'cdrom', usb: 'floppy', 'usb-key': 'floppy' };
  const found = typeof v === 'string' ? (VIRTUAL_MEDIA_DEVICES.find((d) => d === v) ?? aliases[v]) : undefined;
  if (!found) throw invalidInput(field, 'cdrom or floppy', value);
  return found;
}

export function parseVirtualMediaBootOption(value: unknown, field = 'bootOption'): VirtualMediaBootOption {
  const v = lowerField(value, field);
  const normalised = typeof v === 'string' ? v.replace(/_/g, '-') : v;
  const found = VIRTUAL_MEDIA_BOOT_OPTIONS.find((o) => o === normalised);
  if (!found) throw invalidInput(field, `one of ${VIRTUAL_MEDIA_BOOT_OPTIONS.join(', ')}`, value);
  return found;
}

export function parseBootMode(value: unknown, field = 'mode'): BootMode {
  const v = lowerField(value, field);
  const aliases: Record<string, BootMode> = { legacy: 'bios', legacybios: 'bios' };
  const found = typeof v === 'string' ? (BOOT_MODES.find((m) => m === v) ?? aliases[v]) : undefined;
  if (!found) throw invalidInput(field, 'bios (legacy) or uefi', value);
  return found;
}

export function parseBootDevice(value: unknown, field = 'device'): BootDevice {
  const v = lowerField(value, field);
  const aliases: Record<string, BootDevice> = { cd: 'cdrom', pxe: 'network', disk: 'hdd' };
  const found = typeof v === 'string' ? (BOOT_DEVICES.find((d) => d === v) ?? aliases[v]) : undefined;
  if (!found) throw invalidInput(field, `one of ${BOOT_DEVICES.join(', ')}`, value);
  return found;
}

/** A one-time boot target: a device, or "normal" to clear it. */
export function parseOneTimeBoot(value: unknown, field = 'device'): BootDevice | 'normal' {
  const v = lowerField(value, field);
  if (v === 'normal' || v === 'none') return 'normal';
  try {
    return parseBootDevice(value, field);
  } catch {
    throw invalidInput(field, `normal or one of ${BOOT_DEVICES.join(', ')}`, value);
  }
}

/** A boot order: a non-empty list (or comma-separated string) of distinct device classes. */
export function parseBootDevices(value: unknown, field = 'devices'): BootDevice[] {
  checkWellFormed(value, field);
  const list = typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value;
  if (!Array.isArray(list) || list.length === 0) throw invalidInput(field, `a non-empty list of ${BOOT_DEVICES.join(', ')}`, value);
  const out = list.map((d, i) => parseBootDevice(d, `${field}[${i}]`));
  if (new Set(out).size !== out.length) throw invalidInput(field, 'each device at most once', value);
  return out;
}

const MAX_URL = 2048;

/** The URL without its user:password part, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***@');
}

/**
 * An image URL an iLO can fetch: absolute http(s), no control characters,
 * and not absurdly long. Credentials in it are allowed (some image servers
 * need them) but never echoed.
 */
export function parseImageUrl(value: unknown, field = 'url'): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalidInput(field, 'the http(s) URL of the image');
  checkWellFormed(value, field);
  const url = value.trim();
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\s]/.test(url)) throw invalidInput(field, 'a URL without spaces or control characters');
  if (url.length > MAX_URL) throw invalidInput(field, `a URL of at most ${MAX_URL} characters`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidInput(field, 'an absolute http(s) URL', redactUrl(url));
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw invalidInput(field, 'an http:// or https:// URL (what an iLO can fetch)', redactUrl(url));
  }
  if (!parsed.hostname) throw invalidInput(field, 'a URL with a host', redactUrl(url));
  return url;
}

/** Only a CD-ROM can be boot-once (Redfish has no boot-once floppy; keep both protocols alike). */
export function checkBootOnce(device: VirtualMediaDevice, bootOnce: boolean | undefined, field = 'options.bootOnce'): boolean {
  if (bootOnce && device === 'floppy') throw invalidInput(field, 'boot-once only for the cdrom device (a floppy cannot be booted once)');
  return !!bootOnce;
}

/** Validate deploy media: at least one thing to do, URLs an iLO can fetch. */
export function checkDeployMedia(media: DeployMedia): { cdrom?: string; floppy?: string; oneTimeBootCdrom: boolean } {
  if (!media || typeof media !== 'object') throw invalidInput('media', 'an object { cdrom?, floppy?, oneTimeBootCdrom }');
  const cdrom = media.cdrom === undefined ? undefined : parseImageUrl(media.cdrom, 'media.cdrom');
  const floppy = media.floppy === undefined ? undefined : parseImageUrl(media.floppy, 'media.floppy');
  const oneTimeBootCdrom = !!media.oneTimeBootCdrom;
  if (!cdrom && !floppy && !oneTimeBootCdrom) throw invalidInput('media', 'a cdrom or floppy URL, or oneTimeBootCdrom');
  return { cdrom, floppy, oneTimeBootCdrom };
}

/** "E4-11-5B-E0-14-58" -> "e4:11:5b:e0:14:58"; undefined when it is not a MAC. */
export function normaliseMac(mac: string): string | undefined {
  const hex = mac.trim().replace(/[-:.]/g, '').toLowerCase();
  if (!/^[0-9a-f]{12}$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}
