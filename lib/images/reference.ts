/**
 * What an image reference may be, parsed and checked field by field:
 *
 *   "https://host/path/deploy.iso"       an http(s) URL
 *   "/srv/images/deploy.iso", "file:///…" a local file (inside the allowed roots)
 *   "swift:container/object"              an object in the store's Swift account
 *   "glance:<image id>", "glance://<id>"  a Glance v2 image (Keystone)
 *
 * or an object `{ url | file | swift | glance, checksum?, size?, name? }`
 * where checksum is "sha256:<hex>", "md5:<hex>", "sha512:<hex>" or bare hex
 * (the length tells the algorithm).
 */
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeValue } from '../errors';
import { invalidStoreInput } from '../store/errors';

export type ChecksumAlgorithm = 'md5' | 'sha256' | 'sha512';
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['md5', 'sha256', 'sha512'];
const HEX_LENGTH: Record<ChecksumAlgorithm, number> = { md5: 32, sha256: 64, sha512: 128 };

export interface Checksum {
  algorithm: ChecksumAlgorithm;
  /** Lower-case hex. */
  value: string;
}

export type ImageSource =
  | { kind: 'url'; url: string }
  | { kind: 'file'; path: string }
  | { kind: 'swift'; container: string; object: string }
  | { kind: 'glance'; id: string };

export interface ImageSpec {
  source: ImageSource;
  checksum?: Checksum;
  size?: number;
  /** Object name to publish under. */
  name?: string;
}

export interface ImageObject {
  url?: string;
  file?: string;
  swift?: string | { container: string; object: string };
  glance?: string;
  checksum?: string | Checksum;
  size?: number;
  name?: string;
}

export type ImageInput = string | ImageObject;

/** A reference as it may be shown in a message: no query string, no user:password. */
function shown(s: string): string {
  return s.replace(/\?.*$/s, '?…').replace(/\/\/[^/@]*@/, '//…@');
}

const GLANCE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseImage(input: unknown, field = 'image'): ImageSpec {
  if (typeof input === 'string') return { source: parseSourceString(input.trim(), field) };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalidStoreInput(field, 'an image URL, file path, swift:container/object, glance:<id>, or an object with one of url/file/swift/glance', input);
  }
  const o = input as ImageObject;
  const keys = (['url', 'file', 'swift', 'glance'] as const).filter((k) => o[k] !== undefined);
  if (keys.length !== 1) throw invalidStoreInput(field, 'exactly one of url, file, swift, glance', keys.length ? keys.join(' and ') : undefined);
  const key = keys[0] as 'url' | 'file' | 'swift' | 'glance';
  let source: ImageSource;
  if (key === 'swift' && typeof o.swift === 'object' && o.swift !== null) {
    source = swiftSource(o.swift.container, o.swift.object, `${field}.swift`);
  } else {
    const v = o[key];
    if (typeof v !== 'string' || v.trim() === '') throw invalidStoreInput(`${field}.${key}`, 'a non-empty string', v);
    const prefixed = key === 'url' ? v : key === 'file' ? v : key === 'swift' ? (v.startsWith('swift:') ? v : `swift:${v}`) : v.startsWith('glance:') ? v : `glance:${v}`;
    source = parseSourceString(prefixed.trim(), `${field}.${key}`);
    if (source.kind !== key) throw invalidStoreInput(`${field}.${key}`, expectedFor(key), shown(v));
  }
  const spec: ImageSpec = { source };
  if (o.checksum !== undefined) spec.checksum = parseChecksum(o.checksum, `${field}.checksum`);
  if (o.size !== undefined) {
    if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0) throw invalidStoreInput(`${field}.size`, 'a whole number of bytes', o.size);
    spec.size = o.size;
  }
  if (o.name !== undefined) {
    if (typeof o.name !== 'string') throw invalidStoreInput(`${field}.name`, 'a string', o.name);
    spec.name = o.name;
  }
  return spec;
}

function expectedFor(key: 'url' | 'file' | 'swift' | 'glance'): string {
  return { url: 'an http:// or https:// URL', file: 'an absolute path', swift: 'container/object', glance: 'a Glance image id' }[key];
}

function parseSourceString(s: string, field: string): ImageSource {
  if (/^https?:\/\//i.test(s)) {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      throw invalidStoreInput(field, 'a valid http(s) URL', shown(s));
    }
    if (u.username || u.password) throw invalidStoreInput(field, 'a URL without user:password in it (put credentials elsewhere)');
    return { kind: 'url', url: u.toString() };
  }
  if (/^file:/i.test(s)) {
    let path: string;
    try {
      path = fileURLToPath(s);
    } catch {
      throw invalidStoreInput(field, 'a file:///absolute/path URL', s);
    }
    return { kind: 'file', path };
  }
  if (/^swift:/i.test(s)) {
    const rest = s.replace(/^swift:(\/\/)?/i, '');
    const slash = rest.indexOf('/');
    if (slash <= 0) throw invalidStoreInput(field, 'swift:container/object', s);
    return swiftSource(rest.slice(0, slash), rest.slice(slash + 1), field);
  }
  if (/^glance:/i.test(s)) {
    const id = s.replace(/^glance:(\/\/)?/i, '');
    if (!GLANCE_ID_RE.test(id)) throw invalidStoreInput(field, 'glance:<image id>', s);
    return { kind: 'glance', id };
  }
  if (UUID_RE.test(s)) return { kind: 'glance', id: s.toLowerCase() };
  if (isAbsolute(s)) return { kind: 'file', path: s };
  throw invalidStoreInput(field, 'an http(s) URL, an absolute file path, swift:container/object or glance:<id>', shown(s));
}

function swiftSource(container: unknown, object: unknown, field: string): ImageSource {
  if (typeof container !== 'string' || container === '' || container.includes('/') || container.length > 256) {
    throw invalidStoreInput(`${field}`, 'swift:container/object with a container name of 1-256 characters', container);
  }
  if (typeof object !== 'string' || object === '' || object.length > 1024) throw invalidStoreInput(`${field}`, 'swift:container/object with an object name', object);
  return { kind: 'swift', container, object };
}

export function parseChecksum(v: unknown, field = 'checksum'): Checksum {
  if (typeof v === 'object' && v !== null) {
    const c = v as Partial<Checksum>;
    return parseChecksum(`${String(c.algorithm)}:${String(c.value)}`, field);
  }
  if (typeof v !== 'string') throw invalidStoreInput(field, '"sha256:<hex>", "sha512:<hex>", "md5:<hex>" or bare hex', v);
  const m = /^(?:(md5|sha256|sha512)[:=])?([0-9a-fA-F]+)$/.exec(v.trim());
  const algo = (m?.[1]?.toLowerCase() ?? byLength(m?.[2]?.length)) as ChecksumAlgorithm | undefined;
  const hex = m?.[2]?.toLowerCase();
  if (!m || !algo || !hex || hex.length !== HEX_LENGTH[algo]) {
    throw invalidStoreInput(field, `"sha256:<64 hex>", "sha512:<128 hex>", "md5:<32 hex>" or bare hex of one of those lengths (got ${describeValue(v)})`);
  }
  return { algorithm: algo, value: hex };
}

function byLength(n: number | undefined): ChecksumAlgorithm | undefined {
  return CHECKSUM_ALGORITHMS.find((a) => HEX_LENGTH[a] === n);
}
