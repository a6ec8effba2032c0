/**
 * Why a deploy failed, with the step it failed in.
 */

export type DeployErrorCode =
  | 'invalid-input' // the request is malformed; nothing was started
  | 'busy' // the server already has a deploy in progress
  | 'not-found' // no such deploy
  | 'licence' // the iLO lacks the licence the method needs
  | 'timeout' // a wait ran out (power state, callback, agent command)
  | 'ramdisk' // the ramdisk reported an error or misbehaved
  | 'cancelled' // undeploy or shutdown interrupted it
  | 'interrupted' // Node-RED restarted in a step that cannot be resumed
  | 'failed'; // anything else, with the cause's message

export class DeployError extends Error {
  readonly code: DeployErrorCode;
  readonly step?: string;
  readonly field?: string;

  constructor(code: DeployErrorCode, message: string, opts: { step?: string; field?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'DeployError';
    this.code = code;
    this.step = opts.step;
    this.field = opts.field;
  }
}

export function deployInputError(field: string, expected: string, got?: unknown): DeployError {
  const shown = got === undefined ? '' : ` (got ${typeof got === 'string' ? JSON.stringify(got.length > 60 ? `${got.slice(0, 60)}…` : got) : typeof got})`;
  return new DeployError('invalid-input', `${field}: expected ${expected}${shown}`, { field });
}
