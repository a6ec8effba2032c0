/**
 * Errors of the media stores and image sources. Each has a `code` callers
 * branch on and, for bad input, the `field` at fault. None ever carries a
 * credential, a token or a signed URL.
 */
import { LibError, expectedMessage, type ErrorCode } from '../errors';

export type StoreErrorCode = Extract<
  ErrorCode,
  | 'invalid-input' // the caller asked for something malformed (see `field`)
  | 'checksum' // the data did not match its expected checksum
  | 'size' // the data was not as long as declared
  | 'source' // reading the source failed (stream error, HTTP error, missing file)
  | 'not-allowed' // the source is outside what this store may read (file roots)
  | 'closed' // the store was closed
  | 'in-use' // the state directory belongs to another running store
  | 'backend' // the storage behind the store failed (disk, Swift)
  | 'not-found' // renew: the object is not published (any more)
>;

const STORE_CODES: ReadonlySet<string> = new Set<StoreErrorCode>(['invalid-input', 'checksum', 'size', 'source', 'not-allowed', 'closed', 'in-use', 'backend', 'not-found']);

export class StoreError extends LibError<StoreErrorCode> {
  constructor(code: StoreErrorCode, message: string, details: { field?: string; cause?: unknown } = {}) {
    super(code, message, details);
    this.name = 'StoreError';
  }

  /**
   * A lower layer's error with a code the stores know (the Swift client's
   * "the data is longer than declared") as a StoreError, same code and words;
   * undefined for any other.
   */
  static from(err: unknown): StoreError | undefined {
    if (err instanceof StoreError) return err;
    if (err instanceof LibError && STORE_CODES.has(err.code)) return new StoreError(err.code as StoreErrorCode, err.message, { field: err.field, cause: err });
    return undefined;
  }
}

export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return err instanceof StoreError && (code === undefined || err.code === code);
}

/** An input error that names the field and what was expected. */
export function invalidStoreInput(field: string, expected: string, got?: unknown): StoreError {
  return new StoreError('invalid-input', expectedMessage(field, expected, got), { field });
}
