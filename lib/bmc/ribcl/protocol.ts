/**
 * RIBCL request building and reply analysis.
 */
import { BmcError, invalidInput } from '../errors';
import { XmlDepthError, XmlElement, XmlNode, attr, escapeAttr, parseXmlDocuments, writeNode } from './xml';

export type RibclSection = 'SERVER_INFO' | 'RIB_INFO' | 'USER_INFO';

export interface RibclCommand extends XmlNode {
  section: RibclSection;
  mode: 'read' | 'write';
  /**
   * Whether sending it twice does no harm. Only idempotent commands are
   * repeated after a transport failure whose outcome is unknown.
   */
  idempotent: boolean;
}

export interface RibclCredentials {
  username: string;
  password: string;
}

/**
 * Characters the PASSWORD attribute cannot carry. iLO firmware compares the
 * PASSWORD attribute without un-escaping entities (python-hpilo found this
 * on "all iLOs"), so `&`, `<` and `"` can be neither sent raw (they would
 * break or rewrite the XML) nor escaped (the login would fail for a reason
 * the operator cannot see). We refuse them up front with a clear message:
 * such a password works over Redfish, which is JSON.
 */
const PASSWORD_UNSAFE = /[&<"]/;

export function checkRibclPassword(password: string): void {
  if (PASSWORD_UNSAFE.test(password)) {
    throw invalidInput(
      'password',
      'a password without the characters & < " for RIBCL (the iLO cannot un-escape them); use the Redfish protocol or change the iLO password',
    );
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(password)) {
    throw invalidInput('password', 'a password without control characters or line breaks');
  }
}

/** Build the request body. Consecutive commands of one section and mode share a SECTION element. */
export function buildRibclRequest(creds: RibclCredentials, commands: RibclCommand[]): string {
  if (commands.length === 0) throw new TypeError('a RIBCL request needs at least one command');
  checkRibclPassword(creds.password);
  if (creds.username.length === 0) throw invalidInput('username', 'a non-empty iLO user name');
  const user = escapeAttr(creds.username, 'username');
  const lines: string[] = ['<?xml version="1.0"?>', '<RIBCL VERSION="2.0">'];
  // The password goes in raw: checkRibclPassword guarantees it holds no
  // character that could end the attribute or start markup.
  lines.push(`<LOGIN USER_LOGIN="${user}" PASSWORD="${creds.password}">`);
  let open: string | undefined;
  for (const cmd of commands) {
    const key = `${cmd.section}/${cmd.mode}`;
    if (key !== open) {
      if (open) lines.push(`</${open.split('/')[0]}>`);
      lines.push(`<${cmd.section} MODE="${cmd.mode}">`);
      open = key;
    }
    lines.push(writeNode({ name: cmd.name, attrs: cmd.attrs, children: cmd.children }, '  '));
  }
  if (open) lines.push(`</${open.split('/')[0]}>`);
  lines.push('</LOGIN>', '</RIBCL>', '');
  return lines.join('\r\n');
}

export interface RibclReply {
  /** RIBCL version the firmware reports, e.g. "2.23". */
  version?: string;
  /** Payload elements (anything but RESPONSE and INFORM), in order. */
  payload: XmlElement[];
  /** Informational 0x0000 messages and INFORM texts. */
  warnings: string[];
  /** Number of XML documents in the body. */
  documents: number;
}

const NOISE_INFORMS = [/Scripting utility should be updated/i];

/** Split a de-chunked body into documents and check every RESPONSE. Throws the first error. */
export function analyzeRibclReply(body: string, target?: string): RibclReply {
  // Control bytes other than whitespace have been seen from faulty hardware.
  // eslint-disable-next-line no-control-regex
  const clean = body.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
  let documents: XmlElement[][];
  try {
    documents = parseXmlDocuments(clean);
  } catch (err) {
    if (err instanceof XmlDepthError) {
      throw new BmcError('protocol', `the iLO's answer is not a RIBCL reply: ${err.message}`, { target });
    }
    throw err;
  }
  const reply: RibclReply = { payload: [], warnings: [], documents: 0 };
  let firstError: BmcError | undefined;
  for (const roots of documents) {
    const ribcl = roots.find((r) => r.name === 'RIBCL');
    if (!ribcl) continue;
    reply.documents++;
    // First-generation firmware self-closes the opening tag: adopt the siblings.
    const items = ribcl.children.length > 0 ? ribcl.children : roots.filter((r) => r !== ribcl);
    reply.version ??= attr(ribcl, 'VERSION');
    for (const item of items) {
      if (item.name === 'RESPONSE') {
        const status = (attr(item, 'STATUS') ?? '').trim();
        const message = (attr(item, 'MESSAGE') ?? '').trim();
        const code = parseInt(status, 16);
        if (Number.isNaN(code)) {
          firstError ??= new BmcError('protocol', `iLO sent a RESPONSE without a valid STATUS (${status || 'none'})`, {
            target,
            iloMessage: message,
          });
        } else if (code !== 0) {
          firstError ??= ribclStatusError(status, message, target);
        } else if (message && message !== 'No error') {
          reply.warnings.push(message);
        }
      } else if (item.name === 'INFORM') {
        const text = item.text.trim();
        if (text && !NOISE_INFORMS.some((re) => re.test(text))) reply.warnings.push(text);
      } else {
        reply.payload.push(item);
      }
    }
  }
  if (firstError) throw firstError;
  if (reply.documents === 0) {
    const snippet = clean.trim().slice(0, 80).replace(/\s+/g, ' ');
    throw new BmcError('protocol', `the iLO's answer holds no RIBCL document (starts with: ${JSON.stringify(snippet)})`, {
      target,
    });
  }
  return reply;
}

/** Map a non-zero RESPONSE STATUS to a typed error. */
export function ribclStatusError(status: string, message: string, target?: string): BmcError {
  const code = parseInt(status, 16);
  const details = { iloMessage: message, status, target };
  const m = message.toLowerCase();
  if (code === 0x5f || code === 0x0a) {
    return new BmcError('login', `iLO login failed: ${message || 'credentials rejected'}`, details);
  }
  // A licence refusal, whatever status the firmware gives it (but not 0x002E,
  // a bad key on activation).
  if (code !== 0x2e && /licen[cs]e/.test(m)) {
    return new BmcError('licence', `this iLO's licence does not allow it (virtual media needs iLO Advanced): ${message}`, details);
  }
  if (/virtual media (url|image)/.test(m)) return mediaError(message, details);
  if (m.includes('ribcli is disabled')) {
    return new BmcError('not-supported', `RIBCL is disabled on this iLO; use the Redfish protocol (${message})`, details);
  }
  if (code === 0x3c || m.includes('feature not supported')) {
    return new BmcError('not-supported', `not supported by this iLO: ${message}`, details);
  }
  if (code === 0x01 && m.includes('syntax error')) {
    return new BmcError('not-supported', `this iLO firmware does not know the command: ${message}`, details);
  }
  if (code === 0x23) return new BmcError('permission', `iLO refused: insufficient privilege (${message})`, details);
  if (code === 0x88) {
    return new BmcError('busy', `iLO busy: ${message}`, { ...details, reason: 'generating-csr' });
  }
  if (m.includes('problem manipulating ev')) {
    return new BmcError('busy', `iLO could not change boot settings now (host probably in POST): ${message}`, {
      ...details,
      reason: 'host-in-post',
    });
  }
  if (m.includes('error reading configuration')) {
    return new BmcError('busy', `iLO is resetting: ${message}`, { ...details, reason: 'ilo-resetting' });
  }
  return new BmcError('other', `iLO error ${status}: ${message}`, details);
}

/** The iLO could not read an image: say why, so the operator fixes the right thing. */
function mediaError(message: string, details: { iloMessage: string; status: string; target?: string }): BmcError {
  const m = message.toLowerCase();
  const reason = /not found|404/.test(m)
    ? 'media-not-found'
    : /secure|ssl|tls|certificate/.test(m)
      ? 'media-tls'
      : /refused|unauthori[sz]ed|forbidden|401|403/.test(m)
        ? 'media-refused'
        : 'media-unreachable';
  const hint: Record<string, string> = {
    'media-not-found': 'check the image URL',
    'media-tls': "the iLO does not trust the image server's certificate",
    'media-refused': 'the image server refused the iLO',
    'media-unreachable': 'the image server must be reachable from the iLO network',
  };
  return new BmcError('media', `the iLO could not read the image (${hint[reason]}): ${message}`, { ...details, reason });
}

/** The payload element with this name, or a protocol error naming what was missing. */
export function requirePayload(reply: RibclReply, name: string, target?: string): XmlElement {
  const el = reply.payload.find((p) => p.name === name);
  if (!el) {
    const got = reply.payload.map((p) => p.name).join(', ') || 'nothing';
    throw new BmcError('protocol', `expected ${name} in the iLO's answer, got ${got}`, { target });
  }
  return el;
}
