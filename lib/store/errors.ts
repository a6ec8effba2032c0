/**
 * Errors of the media stores and image sources. Each has a `code` callers
 * branch on and, for bad input, the `field` at fault. None ever carries a
 * credential, a token or a signed URL.
 */

export type StoreErrorCode =
  | 'invalid-input' // the caller asked for something malformed (see `field`)
  | 'checksum' // the data did not match its expected checksum
  | 'size' // the data was not as long as declared
  | 'source' // reading the source failed (stream error, HTTP error, missing file)
  | 'not-allowed' // the source is outside what this store may read (file roots)
  | 'closed' // the store was closed
  | 'in-use' // the state directory belongs to another running store
  | 'backend'; // the storage behind the store failed (disk, Swift)

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  readonly field?: string;

  constructor(code: StoreErrorCode, message: string, details: { field?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'StoreError';
    this.code = code;
    this.field = details.field;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, field: this.field };
  }
}

export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return err instanceof StoreError && (code === undefined || err.code === code);
}

/** An input error that names the field and what was expected. */
export function invalidStoreInput(field: string, expected: string, got?: unknown): StoreError {
  const shown = got === undefined ? '' : ` (got ${describeValue(got)})`;
  return new StoreError('invalid-input', `${field}: expected ${expected}${shown}`, { field });
}

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return v.length > 40 ? JSON.stringify(v.slice(0, 40) + '…') : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v;
}
