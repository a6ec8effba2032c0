/**
 * Typed errors of the deploy side (image writing, PXE files). Like BmcError,
 * each carries a `code` to branch on and the tool's own words when a tool
 * failed; none carries a credential (an iSCSI CHAP secret, a deploy key).
 */

export type DeployErrorCode =
  | 'invalid-input' // the caller asked for something malformed
  | 'not-supported' // a tool is missing, or the combination cannot work
  | 'connection' // the iSCSI portal did not answer or refused the login
  | 'image' // the image cannot be read, or is not what it claims
  | 'too-small' // the disk or the root partition cannot hold what was asked
  | 'tool-failed' // an external tool reported a failure
  | 'timeout'
  | 'aborted'; // the caller's AbortSignal fired

export interface DeployErrorDetails {
  field?: string;
  /** The tool's own message, verbatim (secrets removed). */
  toolMessage?: string;
  cause?: unknown;
}

export class DeployError extends Error {
  readonly code: DeployErrorCode;
  readonly field?: string;
  readonly toolMessage?: string;

  constructor(code: DeployErrorCode, message: string, details: DeployErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'DeployError';
    this.code = code;
    this.field = details.field;
    this.toolMessage = details.toolMessage;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, field: this.field, toolMessage: this.toolMessage };
  }
}

export function isDeployError(err: unknown, code?: DeployErrorCode): err is DeployError {
  return err instanceof DeployError && (code === undefined || err.code === code);
}

/** An input error that names the field and what was expected. */
export function badInput(field: string, expected: string, got?: unknown): DeployError {
  const shown = got === undefined ? '' : ` (got ${describe(got)})`;
  return new DeployError('invalid-input', `${field}: expected ${expected}${shown}`, { field });
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return typeof v;
}
