/**
 * Typed iLO errors. Every error carries the iLO's own message (when there is
 * one) and a `code` that callers branch on; none ever carries a credential.
 */
import { LibError, expectedMessage, type ErrorCode } from '../errors';

export type BmcErrorCode = Extract<
  ErrorCode,
  | 'login' // credentials rejected: do not retry (iLOs lock accounts)
  | 'permission' // the account lacks the privilege
  | 'not-supported' // this iLO/platform/firmware cannot do it
  | 'licence' // the feature needs a licence the iLO does not have
  | 'media' // the iLO could not read the image at the URL it was given (unreachable, 404, TLS)
  | 'busy' // try again later: host in POST, iLO resetting, generating a CSR
  | 'timeout' // no answer in time
  | 'connection' // could not reach the iLO, TLS refused, connection dropped
  | 'protocol' // the answer could not be understood
  | 'invalid-input' // the caller asked for something malformed
  | 'other' // the iLO refused with another status
>;

export type BmcErrorReason =
  | 'host-in-post'
  | 'ilo-resetting'
  | 'generating-csr'
  | 'rate-limited'
  | 'media-unreachable'
  | 'media-not-found'
  | 'media-tls'
  | 'media-refused'
  | 'other';

export interface BmcErrorDetails {
  /** The iLO's own message, verbatim (RIBCL MESSAGE or Redfish MessageId). */
  iloMessage?: string;
  /** RIBCL STATUS (hex string) or HTTP status for Redfish. */
  status?: string;
  /** Which iLO answered, as `host:port` (never credentials). */
  target?: string;
  /**
   * For `busy`: why, so a caller can decide how long to wait. For `media`:
   * what the iLO met at the image URL.
   */
  reason?: BmcErrorReason;
  /** Field of the caller's input at fault, for `invalid-input`. */
  field?: string;
  cause?: unknown;
}

export class BmcError extends LibError<BmcErrorCode> {
  readonly iloMessage?: string;
  readonly status?: string;
  readonly target?: string;
  readonly reason?: BmcErrorDetails['reason'];

  constructor(code: BmcErrorCode, message: string, details: BmcErrorDetails = {}) {
    super(code, message, details);
    this.name = 'BmcError';
    this.iloMessage = details.iloMessage;
    this.status = details.status;
    this.target = details.target;
    this.reason = details.reason;
  }

  /** Whether repeating the same request later may succeed. */
  get retryable(): boolean {
    return this.code === 'busy' || this.code === 'timeout' || this.code === 'connection';
  }

  protected override details(): Record<string, unknown> {
    return { iloMessage: this.iloMessage, status: this.status, target: this.target, reason: this.reason };
  }
}

export function isBmcError(err: unknown, code?: BmcErrorCode): err is BmcError {
  return err instanceof BmcError && (code === undefined || err.code === code);
}

/** An input error that names the field and what was expected. */
export function invalidInput(field: string, expected: string, got?: unknown): BmcError {
  return new BmcError('invalid-input', expectedMessage(field, expected, got), { field });
}
