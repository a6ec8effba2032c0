/**
 * What a published object may be called, and for how long. Names never
 * reach a file system path (the built-in store files objects under random
 * ids) but are still kept to a safe alphabet so URLs are predictable.
 */
import { basename } from 'node:path';
import { invalidStoreInput } from './errors';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const NAME_RULE = '1-128 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit';
/** Ten years: an instance's boot ISO may stay published as long as the instance lives. */
export const MAX_TTL_SECONDS = 10 * 366 * 24 * 3600;

export function checkObjectName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || !NAME_RE.test(name)) throw invalidStoreInput(field, NAME_RULE, name);
  return name;
}

/** A valid object name made from a file name or URL path (e.g. "my image (1).iso" -> "my-image-1-.iso"). */
export function sanitiseObjectName(raw: string, fallback = 'image'): string {
  const base = basename(raw.replace(/[?#].*$/, '').replace(/\\/g, '/'));
  let decoded = base;
  try {
    decoded = decodeURIComponent(base);
  } catch {
    // keep it encoded
  }
  const cleaned = decoded
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 128);
  return NAME_RE.test(cleaned) ? cleaned : fallback;
}

export function checkTtl(ttl: unknown, field = 'ttlSeconds'): number {
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS) {
    throw invalidStoreInput(field, `a whole number of seconds from 1 to ${MAX_TTL_SECONDS}`, ttl);
  }
  return ttl;
}

export function checkSize(size: unknown, field = 'size'): number | undefined {
  if (size === undefined) return undefined;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalidStoreInput(field, 'a whole number of bytes >= 0', size);
  return size;
}

export function checkContentType(ct: unknown, field = 'contentType'): string {
  if (ct === undefined) return 'application/octet-stream';
  if (typeof ct !== 'string' || !/^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;\s*[A-Za-z0-9_.+-]+=[A-Za-z0-9_.+"-]+)*$/.test(ct) || ct.length > 200) {
    throw invalidStoreInput(field, 'a MIME type such as application/octet-stream', ct);
  }
  return ct;
}
