/**
 * Typed errors of the deploy side: the engine (why a deploy failed, in which
 * step) and its tools (image writing, PXE files). Like BmcError, each carries
 * a `code` to branch on and, when a tool failed, the tool's own words; none
 * carries a credential (a CHAP secret, a deploy token).
 */
import { LibError, expectedMessage, type ErrorCode } from '../errors';

export type DeployErrorCode = Extract<
  ErrorCode,
  | 'invalid-input' // the request is malformed; nothing was started
  | 'busy' // the server already has a deploy in progress
  | 'not-found' // no such deploy
  | 'licence' // the iLO lacks the licence the method needs
  | 'not-supported' // the combination cannot work
  | 'missing-tool' // a program the process runs here is not installed; nothing was started
  | 'connection' // the iSCSI portal did not answer or refused the login
  | 'image' // the image cannot be read, or is not what it claims
  | 'too-small' // the disk or the root partition cannot hold what was asked
  | 'tool-failed' // an external tool reported a failure
  | 'timeout' // a wait ran out (power state, callback, agent command)
  | 'ramdisk' // the ramdisk reported an error or misbehaved
  | 'aborted' // the caller's AbortSignal fired
  | 'cancelled' // undeploy or shutdown interrupted the deploy
  | 'interrupted' // Node-RED restarted in a step that cannot be resumed
  | 'lease-lost' // another instance took the deploy over (a shared deploy store)
  | 'failed' // anything else, with the cause's message
>;

export interface DeployErrorDetails {
  /** The deploy step it failed in. */
  step?: string;
  field?: string;
  /** The tool's own message, verbatim (secrets removed). */
  toolMessage?: string;
  cause?: unknown;
}

export class DeployError extends LibError<DeployErrorCode> {
  readonly step?: string;
  readonly toolMessage?: string;

  constructor(code: DeployErrorCode, message: string, details: DeployErrorDetails = {}) {
    super(code, message, details);
    this.name = 'DeployError';
    this.step = details.step;
    this.toolMessage = details.toolMessage;
  }

  protected override details(): Record<string, unknown> {
    return { step: this.step, toolMessage: this.toolMessage };
  }
}

export function isDeployError(err: unknown, code?: DeployErrorCode): err is DeployError {
  return err instanceof DeployError && (code === undefined || err.code === code);
}

/** An input error that names the field and what was expected. */
export function badInput(field: string, expected: string, got?: unknown): DeployError {
  return new DeployError('invalid-input', expectedMessage(field, expected, got), { field });
}
