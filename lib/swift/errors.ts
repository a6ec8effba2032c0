/**
 * Errors from OpenStack services (Swift, Keystone, tempauth, Glance). The
 * message names the service, the method and the URL without its query
 * string; never a token, key, password or temp URL signature.
 */
import { LibError, expectedMessage, type ErrorCode } from '../errors';

export type OpenStackService = 'swift' | 'tempauth' | 'keystone' | 'glance' | 'http';

export type OpenStackErrorCode = Extract<
  ErrorCode,
  | 'auth' // credentials or token refused (401)
  | 'permission' // authenticated but not allowed (403)
  | 'not-found' // 404
  | 'conflict' // 409
  | 'too-large' // 413: larger than the cluster allows in one request
  | 'checksum' // 422: the data did not match the ETag sent / received
  | 'http' // any other unexpected status
  | 'timeout' // no answer in time
  | 'connection' // could not connect, TLS refused, connection dropped
  | 'protocol' // an answer we could not understand
  | 'config' // the service is not set up as needed (no temp URL key, no endpoint)
  | 'invalid-input' // the caller asked for something malformed
>;

export class OpenStackError extends LibError<OpenStackErrorCode> {
  readonly service: OpenStackService;
  readonly status?: number;

  constructor(service: OpenStackService, code: OpenStackErrorCode, message: string, details: { status?: number; field?: string; cause?: unknown } = {}) {
    super(code, `${service}: ${message}`, details);
    this.name = 'OpenStackError';
    this.service = service;
    this.status = details.status;
  }

  get retryable(): boolean {
    return this.code === 'timeout' || this.code === 'connection' || (this.code === 'http' && (this.status ?? 0) >= 500);
  }

  protected override details(): Record<string, unknown> {
    return { service: this.service, status: this.status };
  }
}

export function isOpenStackError(err: unknown, code?: OpenStackErrorCode): err is OpenStackError {
  return err instanceof OpenStackError && (code === undefined || err.code === code);
}

export function invalidOpenStackInput(service: OpenStackService, field: string, expected: string, got?: unknown): OpenStackError {
  return new OpenStackError(service, 'invalid-input', expectedMessage(field, expected, got), { field });
}

export function codeForStatus(status: number): OpenStackErrorCode {
  switch (status) {
    case 401:
      return 'auth';
    case 403:
      return 'permission';
    case 404:
      return 'not-found';
    case 409:
      return 'conflict';
    case 413:
      return 'too-large';
    case 422:
      return 'checksum';
    default:
      return 'http';
  }
}
