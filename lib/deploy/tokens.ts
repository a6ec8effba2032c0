/**
 * Per-deploy secrets. Ironic's Kilo deploy key was 32 characters from
 * Python's non-cryptographic `random`; ours are 32 bytes from the CSPRNG,
 * compared in constant time.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function newDeployId(): string {
  return randomUUID();
}

/** Constant-time comparison (of digests, so lengths never leak either). */
export function tokenMatches(expected: string, presented: unknown): boolean {
  if (typeof presented !== 'string' || presented.length === 0 || presented.length > 512) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(presented).digest();
  return timingSafeEqual(a, b);
}
