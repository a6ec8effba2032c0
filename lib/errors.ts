/**
 * The one base of every error lib/ throws, and the codes they carry.
 *
 * Each part of lib/ has its own class (BmcError, DeployError, MediaError,
 * StoreError, OpenStackError) for the details only it knows (the iLO's own
 * message, the tool's words, the OpenStack service); all of them are a
 * `LibError`, so a caller branches on `code` whatever the class
 * (`isLibError(err, 'invalid-input')`), and every bad input reads the same:
 * `<field>: expected <what> (got <value>)`. No error carries a credential,
 * a token or a signed URL: callers may log them and send them to a flow.
 */

/** What each code means; a class uses a subset (see its own `…ErrorCode` type). */
export const ERROR_CODES = {
  // The caller
  'invalid-input': 'the caller asked for something malformed; `field` names the input and the message what was expected',
  'not-found': 'no such thing (a deploy, an object, a Swift resource)',
  busy: 'not now: the iLO is resetting or in POST, or the server already has a deploy in progress',
  conflict: 'the request conflicts with the state of the resource (Swift 409)',
  // Trust and rights
  login: 'the iLO refused the credentials (never retried: iLOs lock accounts)',
  auth: 'an OpenStack service refused the credentials or token',
  permission: 'authenticated, but not allowed to do this',
  licence: 'the feature needs an iLO licence this iLO does not have',
  'not-allowed': 'the source is outside what may be read (a file outside the allowed directories)',
  // What this machine or that peer can do
  'not-supported': 'this iLO, platform or firmware cannot do it, or the combination cannot work',
  'missing-tool': 'a program this machine must run is not installed; the message names it and its Debian package',
  config: 'the service is not set up as needed (no temp URL key, no endpoint)',
  // Talking to peers
  timeout: 'no answer, or no end, in time',
  connection: 'could not connect, TLS refused, the connection dropped, or an iSCSI login failed',
  protocol: 'an answer that could not be understood',
  http: 'an HTTP status nothing else explains',
  other: 'the iLO refused with another status',
  // Data
  media: 'the iLO could not read the image at the URL it was given',
  image: 'the image cannot be read, or is not what it claims to be',
  checksum: 'the data did not match its expected checksum',
  size: 'the data was not as long as declared',
  'too-large': 'more than the medium, the cluster or the request allows',
  'too-small': 'the disk or the root partition cannot hold what was asked',
  source: 'reading the source failed (a stream error, an HTTP error, a missing file)',
  'source-changed': 'an input file changed between laying out an image and streaming it',
  'missing-file': 'a file needed to build media was not found; the message names every path searched',
  io: 'reading an input failed',
  // Our own machinery
  backend: 'the storage behind a media store failed (disk, Swift)',
  closed: 'the store or client was closed',
  'in-use': 'a state directory belongs to another running store',
  'tool-failed': 'an external tool reported a failure; `toolMessage` has its words',
  ramdisk: 'the deploy ramdisk reported an error or misbehaved',
  aborted: "the caller's AbortSignal fired",
  cancelled: 'an undeploy or a shutdown interrupted the deploy',
  interrupted: 'Node-RED restarted inside a deploy step that cannot be run again',
  'lease-lost': 'another Node-RED instance took this deploy over; this one must stop without writing',
  failed: 'anything else, with the cause in the message',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface LibErrorDetails {
  /** The caller's input at fault (`image`, `tls.fingerprint`, `parameters.BOOTIF`...). */
  field?: string;
  cause?: unknown;
}

export class LibError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly field?: string;

  constructor(code: C, message: string, details: LibErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'LibError';
    this.code = code;
    this.field = details.field;
  }

  /** What a flow or a log gets: the code, the message and the class's own details; never the cause's stack. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, field: this.field, ...this.details() };
  }

  /** A subclass's own fields for toJSON. */
  protected details(): Record<string, unknown> {
    return {};
  }
}

export function isLibError(err: unknown, code?: ErrorCode): err is LibError {
  return err instanceof LibError && (code === undefined || err.code === code);
}

/**
 * A value as an error message shows it: strings quoted and cut at 60
 * characters (a 2 MB string is not repeated), a Buffer by its size, objects
 * by their type only (they may hold a secret).
 */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Buffer.isBuffer(v)) return `a Buffer of ${v.length} bytes`;
  return typeof v;
}

/** The message of every input error: `<field>: expected <what> (got <value>)`. */
export function expectedMessage(field: string, expected: string, got?: unknown): string {
  return `${field}: expected ${expected}${got === undefined ? '' : ` (got ${describeValue(got)})`}`;
}
