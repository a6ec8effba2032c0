/**
 * Redfish error replies (HTTP 4xx/5xx with @Message.ExtendedInfo) to typed
 * errors, by MessageId key, never by human text.
 */
import { BmcError, type BmcErrorCode, type BmcErrorDetails } from '../errors';

export interface ExtendedInfo {
  MessageId?: string;
  MessageArgs?: unknown[];
  Message?: string;
}

export function extendedInfoOf(body: unknown): ExtendedInfo[] {
  const b = body as { error?: { '@Message.ExtendedInfo'?: unknown }; '@Message.ExtendedInfo'?: unknown } | undefined;
  const list = b?.error?.['@Message.ExtendedInfo'] ?? b?.['@Message.ExtendedInfo'];
  return Array.isArray(list) ? (list as ExtendedInfo[]) : [];
}

/** "iLO.2.14.UnableToModifyDuringSystemPOST" -> "UnableToModifyDuringSystemPOST". */
export function messageKeys(body: unknown): string[] {
  return extendedInfoOf(body)
    .map((i) => String(i.MessageId ?? '').split('.').pop() ?? '')
    .filter(Boolean);
}

export function hasMessage(err: unknown, key: string): boolean {
  return err instanceof BmcError && (err.iloMessage ?? '').split(', ').some((id) => id.split('.').pop() === key);
}

const BY_KEY: Record<string, { code: BmcErrorCode; reason?: BmcErrorDetails['reason']; text: string }> = {
  UnableToModifyDuringSystemPOST: { code: 'busy', reason: 'host-in-post', text: 'the iLO cannot change boot settings while the host is in POST; retry when it has booted or is off' },
  LicenseKeyRequired: { code: 'licence', text: "this iLO's licence does not allow it (virtual media needs iLO Advanced)" },
  CouldNotEstablishConnection: { code: 'media', reason: 'media-unreachable', text: 'the iLO could not read the image (the image server must be reachable from the iLO network, and trusted if https)' },
  ResourceAtUriUnauthorized: { code: 'media', reason: 'media-refused', text: 'the iLO could not read the image (the image server refused it)' },
  InsufficientPrivilege: { code: 'permission', text: 'iLO refused: insufficient privilege' },
  NoValidSession: { code: 'login', text: 'iLO login failed (no valid session)' },
  UnauthorizedLoginAttempt: { code: 'login', text: 'iLO login failed' },
  SessionLimitExceeded: { code: 'busy', reason: 'rate-limited', text: 'the iLO has no free session (too many open sessions)' },
  VirtualMediaIsDisabled: { code: 'not-supported', text: 'virtual media is disabled on this iLO' },
  UnsupportedOperation: { code: 'not-supported', text: 'not supported by this iLO' },
  UnsupportedOperationInLegacyBootMode: { code: 'not-supported', text: 'not possible while the host boots legacy BIOS (secure boot needs UEFI)' },
  ActionNotSupported: { code: 'not-supported', text: 'not supported by this iLO' },
  OperationNotAllowed: { code: 'not-supported', text: 'not supported by this iLO' },
};

/** The typed error for a failed Redfish call; `what` says what was being done. */
export function redfishError(status: number, body: unknown, target: string, what: string): BmcError {
  const infos = extendedInfoOf(body);
  const ids = infos.map((i) => String(i.MessageId ?? '')).filter(Boolean);
  const keys = ids.map((id) => id.split('.').pop() ?? '');
  const iloMessage = ids.join(', ') || (body as { error?: { message?: string } })?.error?.message || `HTTP ${status}`;
  const details: BmcErrorDetails = { iloMessage, status: String(status), target };
  // A 400 naming a missing resource is about the image URL; a 404 is about the iLO's own tree.
  if (status === 400 && keys.includes('ResourceMissingAtURI')) {
    return new BmcError('media', `${what}: the iLO could not read the image (not found at the URL) (${iloMessage})`, { ...details, reason: 'media-not-found' });
  }
  for (const key of keys) {
    const known = BY_KEY[key];
    if (known) return new BmcError(known.code, `${what}: ${known.text} (${iloMessage})`, { ...details, reason: known.reason });
  }
  if (status === 401) return new BmcError('login', `${what}: iLO login failed (${iloMessage})`, details);
  if (status === 403) return new BmcError('permission', `${what}: iLO refused (${iloMessage})`, details);
  if (status === 404) return new BmcError('not-supported', `${what}: this iLO has no such resource (${iloMessage})`, details);
  if (status === 405 || status === 501) return new BmcError('not-supported', `${what}: this iLO does not support this request (${iloMessage})`, details);
  if (status === 503) return new BmcError('busy', `${what}: the iLO is busy (${iloMessage})`, { ...details, reason: 'other' });
  return new BmcError('other', `${what}: iLO error HTTP ${status} (${iloMessage})`, details);
}
