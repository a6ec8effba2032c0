/**
 * A request's config drive checked before the deploy starts, each problem
 * naming its field: the parts' shapes (as Ironic's API schema, plus what
 * cloud-init needs), the built drive's size, and for the ready form its
 * base64, its gzip, its size once decompressed (Ironic's 64 MiB) and that
 * it is an ISO 9660 or VFAT volume labelled config-2. Values that may hold
 * a secret (user data, the drive itself) never appear in a message.
 */
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { buildConfigDriveImage } from '../../media/config-drive';
import { DeployError, badInput } from '../errors';
import { configDriveContent } from './content';
import { checkNetworkData } from './network-data';
import { CONFIG_DRIVE_PARTS, MAX_CONFIG_DRIVE_BYTES, type ConfigDrive, type ConfigDriveParts } from './types';

const gunzipAsync = promisify(gunzip);
const MiB = 1024 * 1024;
const BASE64 = /^[A-Za-z0-9+/=\s]+$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
/** One OpenSSH public key line: type, base64 blob, optional comment. */
const SSH_KEY = /^(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$/;
/** The gzip of a 64 MiB drive cannot be much larger than 64 MiB; its base64 is 4/3 of that. */
const MAX_TEXT = Math.ceil((MAX_CONFIG_DRIVE_BYTES + MiB) / 3) * 4;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Plain JSON (what ends up in the .json files): no cycle, no BigInt, no function. */
function jsonOf(v: unknown, field: string): string {
  try {
    const s = JSON.stringify(v);
    if (typeof s !== 'string') throw new Error('not serialisable');
    return s;
  } catch {
    throw badInput(field, 'JSON data (no cycles, BigInts or functions)');
  }
}

function checkMetaData(md: unknown, field: string): void {
  if (!isObject(md)) throw badInput(field, 'an object (meta_data.json: hostname, public_keys, uuid, name, …)', md);
  jsonOf(md, field);
  for (const key of ['uuid', 'name'] as const) {
    if (md[key] !== undefined && (typeof md[key] !== 'string' || md[key] === '')) throw badInput(`${field}.${key}`, 'a non-empty string', md[key]);
  }
  if (md.hostname !== undefined && (typeof md.hostname !== 'string' || !HOSTNAME.test(md.hostname))) {
    throw badInput(`${field}.hostname`, 'a host name (letters, digits, hyphens; dot-separated labels of at most 63 characters)', md.hostname);
  }
  const keys = md.public_keys;
  if (keys !== undefined) {
    const entries: Array<[string, unknown]> = Array.isArray(keys) ? keys.map((k, i) => [String(i), k]) : isObject(keys) ? Object.entries(keys) : [];
    if (!Array.isArray(keys) && !isObject(keys)) throw badInput(`${field}.public_keys`, 'an object { name: "ssh-ed25519 AAAA… comment" } or an array of such keys', keys);
    for (const [k, v] of entries) {
      if (typeof v !== 'string' || !SSH_KEY.test(v.trim())) throw badInput(`${field}.public_keys.${k}`, 'one OpenSSH public key line ("ssh-ed25519 AAAA… comment")', v);
    }
  }
  if (md.random_seed !== undefined && (typeof md.random_seed !== 'string' || !BASE64.test(md.random_seed))) {
    // cloud-init decodes it and gives up on the whole drive when it cannot.
    throw badInput(`${field}.random_seed`, 'base64 text');
  }
}

function checkParts(parts: Record<string, unknown>, field: string): void {
  for (const key of Object.keys(parts)) {
    if (!(CONFIG_DRIVE_PARTS as readonly string[]).includes(key)) throw badInput(`${field}.${key}`, `only ${CONFIG_DRIVE_PARTS.join(', ')} in a config drive`);
  }
  if (parts.meta_data !== undefined) checkMetaData(parts.meta_data, `${field}.meta_data`);
  const ud = parts.user_data;
  if (ud !== undefined && ud !== null) {
    if (typeof ud === 'string') {
      if (/[\uD800-\uDFFF]/u.test(ud)) throw badInput(`${field}.user_data`, 'text without a lone UTF-16 surrogate');
    } else if (typeof ud === 'object') {
      jsonOf(ud, `${field}.user_data`);
    } else {
      throw badInput(`${field}.user_data`, 'text (e.g. "#cloud-config\\n…"), or an object or array (written as JSON)', ud);
    }
  }
  if (parts.network_data !== undefined) {
    checkNetworkData(parts.network_data, `${field}.network_data`);
    jsonOf(parts.network_data, `${field}.network_data`);
  }
  if (parts.vendor_data !== undefined) {
    if (!isObject(parts.vendor_data)) throw badInput(`${field}.vendor_data`, 'an object (vendor_data2.json)', parts.vendor_data);
    jsonOf(parts.vendor_data, `${field}.vendor_data`);
  }
  const size = buildConfigDriveImage(configDriveContent(parts as ConfigDriveParts, { uuid: 'check', name: 'check' })).size;
  if (size > MAX_CONFIG_DRIVE_BYTES) throw badInput(field, `a config drive of at most 64 MiB (these parts make ${Math.ceil(size / MiB)} MiB)`);
}

/** Whether a string is Ironic's URL form (Ironic tells them apart by `://`). */
export function isConfigDriveUrl(s: string): boolean {
  return s.includes('://');
}

/**
 * The shape of `configDrive` (no decompression: that is `checkConfigDriveData`,
 * asynchronous). Throws a DeployError naming the field.
 */
export function checkConfigDrive(value: unknown, field = 'configDrive'): void {
  if (value === undefined) return;
  if (typeof value === 'string') {
    const s = value.trim();
    if (s === '') throw badInput(field, 'a config drive: base64 of a gzip-compressed ISO 9660 or VFAT image, an http(s) URL to one, or an object { meta_data, user_data, network_data, vendor_data }');
    if (isConfigDriveUrl(s)) {
      let url: URL | undefined;
      try {
        url = new URL(s);
      } catch {
        url = undefined;
      }
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || /\s/.test(s)) throw badInput(field, 'an http(s) URL the server can fetch the config drive from');
      return;
    }
    if (!BASE64.test(s)) throw badInput(field, 'base64 of a gzip-compressed ISO 9660 or VFAT image (found a character outside base64)');
    if (s.length > MAX_TEXT) throw badInput(field, 'a config drive of at most 64 MiB');
    return;
  }
  if (!isObject(value)) throw badInput(field, 'a string (base64 of a gzipped image, or a URL) or an object { meta_data, user_data, network_data, vendor_data }', value);
  checkParts(value, field);
}

/** The volume label of an ISO 9660 or FAT image, or undefined when it is neither. */
export function driveLabel(image: Buffer): { fs: 'iso9660' | 'vfat'; label: string } | undefined {
  if (image.length >= 0x8000 + 72 && image.toString('latin1', 0x8001, 0x8006) === 'CD001') {
    return { fs: 'iso9660', label: image.toString('latin1', 0x8000 + 40, 0x8000 + 72).trim() };
  }
  if (image.length >= 512 && image.readUInt16LE(510) === 0xaa55 && [512, 1024, 2048, 4096].includes(image.readUInt16LE(11))) {
    const fat32 = image.toString('latin1', 0x52, 0x57) === 'FAT32';
    const fat = fat32 || image.toString('latin1', 0x36, 0x39) === 'FAT';
    if (fat) return { fs: 'vfat', label: image.toString('latin1', fat32 ? 0x47 : 0x2b, fat32 ? 0x52 : 0x36).trim() };
  }
  return undefined;
}

/** An image as a config drive must be: a volume cloud-init finds on a partition (label config-2), at most 64 MiB. */
export function checkDriveImage(image: Buffer, field: string): void {
  if (image.length > MAX_CONFIG_DRIVE_BYTES) throw badInput(field, `a config drive of at most 64 MiB (it is ${Math.ceil(image.length / MiB)} MiB)`);
  const vol = driveLabel(image);
  if (!vol) throw badInput(field, 'an ISO 9660 or VFAT image once decompressed');
  if (vol.label.toLowerCase() !== 'config-2') {
    throw badInput(field, `a volume labelled config-2 (cloud-init finds a config drive partition by that label; this ${vol.fs} volume is labelled ${JSON.stringify(vol.label)})`);
  }
}

/** Ironic's ready form decoded: base64, then gunzip (at most 64 MiB out). */
export async function decodeConfigDrive(text: string, field: string): Promise<Buffer> {
  const packed = Buffer.from(text.replace(/\s+/g, ''), 'base64');
  if (packed.length < 18 || packed[0] !== 0x1f || packed[1] !== 0x8b) throw badInput(field, 'base64 of gzip data (Ironic form: the image is gzip-compressed, then base64-encoded)');
  try {
    return await gunzipAsync(packed, { maxOutputLength: MAX_CONFIG_DRIVE_BYTES + 1 });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw badInput(field, 'a config drive of at most 64 MiB once decompressed');
    throw new DeployError('invalid-input', `${field}: expected base64 of gzip data; the gzip stream is damaged (${(err as Error).message})`, { field });
  }
}

/** What needs decompressing: the ready inline form, decoded and checked (a URL is read when the deploy writes it). */
export async function checkConfigDriveData(value: ConfigDrive | undefined, field = 'configDrive'): Promise<void> {
  if (typeof value !== 'string' || isConfigDriveUrl(value.trim())) return;
  checkDriveImage(await decodeConfigDrive(value, field), field);
}
