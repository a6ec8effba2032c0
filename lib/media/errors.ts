/**
 * Errors from building media. Each names the input at fault and what was
 * expected, so a flow author can fix the input without reading the code.
 */
import { LibError, expectedMessage, type ErrorCode } from '../errors';

export type MediaErrorCode = Extract<
  ErrorCode,
  | 'invalid-input' // the caller asked for something malformed (a bad key, a name that cannot be stored)
  | 'too-large' // the content does not fit the medium asked for
  | 'missing-file' // a boot loader or input file was not found (the message names every path searched)
  | 'source-changed' // an input file changed size between laying out the image and streaming it
  | 'io' // reading an input failed
>;

export class MediaError extends LibError<MediaErrorCode> {
  /** For `missing-file`: every path that was looked at, in order. */
  readonly searched?: readonly string[];

  constructor(code: MediaErrorCode, message: string, details: { field?: string; searched?: readonly string[]; cause?: unknown } = {}) {
    super(code, message, details);
    this.name = 'MediaError';
    this.searched = details.searched;
  }

  protected override details(): Record<string, unknown> {
    return { searched: this.searched };
  }
}

export function isMediaError(err: unknown, code?: MediaErrorCode): err is MediaError {
  return err instanceof MediaError && (code === undefined || err.code === code);
}

/** An input error that names the field and what was expected. */
export function invalidMediaInput(field: string, expected: string, got?: unknown): MediaError {
  return new MediaError('invalid-input', expectedMessage(field, expected, got), { field });
}

const CHAR_NAMES: Record<string, string> = { ' ': 'a space', '\t': 'a tab', '\n': 'a newline', '\r': 'a carriage return', '"': 'a double quote', "'": 'a single quote', '\\': 'a backslash', '=': "'='" };

/**
 * Where a value breaks the rules, without repeating the value (it may be a
 * secret, such as an agent token): "found a space at position 5".
 */
export function describeBadCharacter(value: string, allowed: (c: string) => boolean): string {
  let pos = 0;
  for (const c of value) {
    pos++;
    if (!allowed(c)) {
      const code = c.codePointAt(0) ?? 0;
      const name = CHAR_NAMES[c] ?? (code < 0x20 || code === 0x7f ? 'a control character' : code > 0x7e ? `U+${code.toString(16).toUpperCase().padStart(4, '0')}` : `'${c}'`);
      return `found ${name} at position ${pos}`;
    }
  }
  return value.length === 0 ? 'found an empty value' : 'found nothing wrong';
}
