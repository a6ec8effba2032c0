/**
 * Errors from building media. Each names the input at fault and what was
 * expected, so a flow author can fix the input without reading the code.
 */

export type MediaErrorCode =
  | 'invalid-input' // the caller asked for something malformed (a bad key, a name that cannot be stored)
  | 'too-large' // the content does not fit the medium asked for
  | 'missing-file' // a boot loader or input file was not found (the message names every path searched)
  | 'source-changed' // an input file changed size between laying out the image and streaming it
  | 'io'; // reading an input failed

export class MediaError extends Error {
  readonly code: MediaErrorCode;
  /** The input at fault (`parameters.BOOTIF`, `kernel`, `files[2].path`...). */
  readonly field?: string;
  /** For `missing-file`: every path that was looked at, in order. */
  readonly searched?: readonly string[];

  constructor(code: MediaErrorCode, message: string, details: { field?: string; searched?: readonly string[]; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'MediaError';
    this.code = code;
    this.field = details.field;
    this.searched = details.searched;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, field: this.field, searched: this.searched };
  }
}

export function isMediaError(err: unknown, code?: MediaErrorCode): err is MediaError {
  return err instanceof MediaError && (code === undefined || err.code === code);
}

/** An input error that names the field and what was expected. */
export function invalidMediaInput(field: string, expected: string, got?: unknown): MediaError {
  const shown = got === undefined ? '' : ` (got ${describeValue(got)})`;
  return new MediaError('invalid-input', `${field}: expected ${expected}${shown}`, { field });
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Buffer.isBuffer(v)) return `a Buffer of ${v.length} bytes`;
  return typeof v;
}
