/**
 * Swift temporary URLs (tempurl middleware): HMAC over
 * `METHOD\nEXPIRES\nPATH` with the account's or the container's key, as hex.
 * sha1 is what Ironic-era clients used; sha256 and sha512 need a cluster
 * whose `allowed_digests` permits them (sha1 is deprecated in Swift 2.30).
 */
import { createHmac } from 'node:crypto';
import { invalidOpenStackInput } from './errors';

export type TempUrlDigest = 'sha1' | 'sha256' | 'sha512';
export const TEMP_URL_DIGESTS: readonly TempUrlDigest[] = ['sha1', 'sha256', 'sha512'];

export interface TempUrlRequest {
  /** The object's URL: storage URL + `/<container>/<object>`, path percent-encoded. */
  objectUrl: string;
  key: string;
  /** Expiry, Unix time in seconds. */
  expires: number;
  method?: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  /** Default sha256. */
  digest?: TempUrlDigest;
  /** Ask Swift to send Content-Disposition: attachment; filename=… */
  filename?: string;
}

/** Lower-case hex HMAC of the temp URL body. `path` is the decoded URL path (/v1/AUTH_x/c/o). */
export function tempUrlSignature(method: string, expires: number, path: string, key: string, digest: TempUrlDigest): string {
  return createHmac(digest, key).update(`${method}\n${expires}\n${path}`).digest('hex');
}

export function signTempUrl(req: TempUrlRequest): string {
  const digest = req.digest ?? 'sha256';
  if (!TEMP_URL_DIGESTS.includes(digest)) throw invalidOpenStackInput('swift', 'tempUrl.digest', TEMP_URL_DIGESTS.join(', '), digest);
  if (!Number.isInteger(req.expires) || req.expires <= 0) throw invalidOpenStackInput('swift', 'tempUrl.expires', 'Unix time in whole seconds', req.expires);
  if (typeof req.key !== 'string' || req.key === '') throw invalidOpenStackInput('swift', 'tempUrl.key', 'a non-empty key');
  let url: URL;
  try {
    url = new URL(req.objectUrl);
  } catch {
    throw invalidOpenStackInput('swift', 'tempUrl.objectUrl', 'an absolute URL of an object');
  }
  if (url.pathname.split('/').filter(Boolean).length < 4) {
    throw invalidOpenStackInput('swift', 'tempUrl.objectUrl', 'a URL whose path is /<version>/<account>/<container>/<object>');
  }
  const sig = tempUrlSignature(req.method ?? 'GET', req.expires, decodeURIComponent(url.pathname), req.key, digest);
  const query = new URLSearchParams({ temp_url_sig: sig, temp_url_expires: String(req.expires) });
  if (req.filename !== undefined) query.set('filename', req.filename);
  return `${url.protocol}//${url.host}${url.pathname}?${query.toString()}`;
}

/** The same URL with its signature hidden, for logs. */
export function redactTempUrl(url: string): string {
  return url.replace(/(temp_url_sig=)[^&]*/, '$1…');
}
