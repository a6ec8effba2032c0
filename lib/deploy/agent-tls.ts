/**
 * Agent TLS, as Ironic does it with ironic-python-agent.
 *
 * From Ironic API 1.68 an agent with automatic TLS (IPA's default) generates
 * a self-signed certificate for the address it advertises (its host name as
 * the CN, the address as a critical IP subjectAltName), serves its command
 * API over HTTPS with it, heartbeats an `https://` callback_url, and sends
 * the certificate (PEM) as `agent_verify_ca`. Ironic keeps the first one for
 * the node, refuses a heartbeat that brings another ("Detected change in
 * ramdisk provided "agent_verify_ca""), and when it calls the agent it
 * verifies the chain against exactly that certificate, with the usual host
 * check (the callback URL's address must be in the certificate).
 *
 * An agent configured with its own certificate (IPA's `listen_tls`) sends
 * none: it is verified against the operator's CA (Ironic's
 * `[agent]verify_ca`), else against the system's CAs. Ironic's
 * `[agent]require_tls` refuses a callback_url that is not https://.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { Agent, type Dispatcher } from 'undici';

/** The API version from which a heartbeat may carry `agent_verify_ca` (Ironic 1.68). */
export const AGENT_VERIFY_CA_VERSION = '1.68';

/** What the deploy engine checks of an agent's TLS at each heartbeat. */
export interface AgentTlsPolicy {
  /** Refuse a heartbeat whose callback_url is not https:// (Ironic's `[agent]require_tls`). */
  requireTls?: boolean;
}

/** What the agent client trusts for one agent. */
export interface AgentTrust {
  /** PEM the agent's certificate must chain to; absent: the system's CAs. */
  ca?: string;
  /** Where it comes from: the agent's own heartbeat, the operator's agent CA, or the system. */
  source: 'pinned' | 'operator' | 'system';
}

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';

/**
 * The certificates of a PEM text (one or more blocks), parsed. Throws when
 * there is none or one does not parse. Split with indexOf: linear in the
 * text whatever it holds.
 */
export function certificatesIn(pem: string): X509Certificate[] {
  const certs: X509Certificate[] = [];
  let at = pem.indexOf(BEGIN);
  while (at >= 0) {
    const end = pem.indexOf(END, at + BEGIN.length);
    if (end < 0) throw new Error('a certificate block has no END line');
    certs.push(new X509Certificate(pem.slice(at, end + END.length)));
    at = pem.indexOf(BEGIN, end + END.length);
  }
  if (certs.length === 0) throw new Error('no "-----BEGIN CERTIFICATE-----" block');
  return certs;
}

function minorOf(version: string): number {
  return Number(version.split('.')[1] ?? 0);
}

/** Whether a heartbeat brings a certificate (absent, null or empty: none, as Ironic reads it). */
function givenCa(body: Record<string, unknown>): unknown {
  const v = body.agent_verify_ca;
  return v === undefined || v === null || v === '' ? undefined : v;
}

/**
 * What the ramdisk API answers (400) to a heartbeat's `agent_verify_ca`
 * before anything else looks at it, or undefined when it is acceptable:
 * Ironic refuses the field below API 1.68; it must be a PEM certificate.
 */
export function heartbeatCaFault(body: Record<string, unknown>, version: string): string | undefined {
  const ca = givenCa(body);
  if (ca === undefined) return undefined;
  if (minorOf(version) < minorOf(AGENT_VERIFY_CA_VERSION)) return 'Field "agent_verify_ca" not recognised in this version';
  if (typeof ca !== 'string') return '"agent_verify_ca" must be a string: the agent\'s TLS certificate (PEM)';
  try {
    certificatesIn(ca);
  } catch (err) {
    return `"agent_verify_ca" is not a PEM certificate: ${(err as Error).message}`;
  }
  return undefined;
}

/** The same certificate (compared by DER; texts that do not parse are compared trimmed). */
export function sameCertificate(a: string, b: string): boolean {
  try {
    return certificatesIn(a)[0]!.raw.equals(certificatesIn(b)[0]!.raw);
  } catch {
    return a.trim() === b.trim();
  }
}

/** A certificate's SHA-256 fingerprint, shortened, to name it in a log line. */
export function shortFingerprint(pem: string): string {
  try {
    return `SHA-256 ${certificatesIn(pem)[0]!.fingerprint256.slice(0, 23)}…`;
  } catch {
    return 'unreadable';
  }
}

/**
 * Why a heartbeat is refused (400) for its TLS, after its token was found
 * right: `message` for the agent (Ironic's words), `log` for the operator.
 * `pinned` is the certificate kept from the deploy's first heartbeat.
 */
export function heartbeatTlsRefusal(pinned: string | undefined, body: Record<string, unknown>, policy: AgentTlsPolicy = {}): { message: string; log: string } | undefined {
  const url = typeof body.callback_url === 'string' ? body.callback_url : '';
  if (policy.requireTls && !/^https:\/\//i.test(url)) {
    return { message: 'TLS is required by configuration', log: `its callback_url ${url} does not use TLS, and TLS is required (settings.js iloDeployAgentRequireTls)` };
  }
  const ca = givenCa(body);
  if (pinned && typeof ca === 'string' && !sameCertificate(pinned, ca)) {
    return {
      message: 'Detected change in ramdisk provided "agent_verify_ca"',
      log: `its certificate (agent_verify_ca, ${shortFingerprint(ca)}) is not the one its first heartbeat sent (${shortFingerprint(pinned)}): a rebooted agent or another machine with this deploy's token`,
    };
  }
  return undefined;
}

/** The agent's own certificate from its first heartbeat first (pinned), else the operator's agent CA, else the system's CAs (as Ironic's agent client chooses). */
export function agentTrust(pinned: string | undefined, operatorCa: string | undefined): AgentTrust {
  if (pinned) return { ca: pinned, source: 'pinned' };
  if (operatorCa) return { ca: operatorCa, source: 'operator' };
  return { source: 'system' };
}

const TLS_FAILURE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|INVALID_CA|^ERR_SSL|^ERR_TLS|^EPROTO$/;

/** A TLS failure reaching the agent, said plainly; undefined for any other error. */
export function agentTlsFailure(err: unknown, trust: AgentTrust | undefined, host: string): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  if (!TLS_FAILURE.test(code)) return undefined;
  const why = `${code}: ${(err as Error).message}`;
  switch (trust?.source) {
    case 'pinned':
      return `the agent at ${host} is not trusted: its TLS certificate is not the one it sent in its first heartbeat, for this address (${why})`;
    case 'operator':
      return `the agent at ${host} is not trusted: its TLS certificate is not signed by the agent CA (settings.js iloDeployAgentCa), or not for this address (${why})`;
    default:
      return `the agent at ${host} is not trusted: it sent no certificate in its heartbeat (agent_verify_ca) and no CA of this system signed its TLS certificate for this address (${why}); give the CA that signs the agents' certificates in settings.js iloDeployAgentCa`;
  }
}

const IDLE_CLOSE_MS = 5 * 60_000;
const dispatchers = new Map<string, { agent: Agent; timer: NodeJS.Timeout }>();

/**
 * An HTTP client trusting only `ca`, shared by the calls to agents with the
 * same trust and closed once unused for a few minutes (gracefully: a call in
 * flight ends first).
 */
export function agentDispatcher(ca: string): Dispatcher {
  const known = dispatchers.get(ca);
  if (known) clearTimeout(known.timer);
  // One parsed secure context for the agent's connections (given `ca`, each connection would parse it again).
  const agent = known?.agent ?? new Agent({ connect: { secureContext: createSecureContext({ ca }) } });
  const timer = setTimeout(() => {
    dispatchers.delete(ca);
    agent.close().catch(() => undefined);
  }, IDLE_CLOSE_MS);
  timer.unref();
  dispatchers.set(ca, { agent, timer });
  return agent;
}

export interface AgentTlsSettings {
  /** PEM of the CA(s) for agents with their own certificates. */
  ca?: string;
  requireTls: boolean;
}

/**
 * settings.js `iloDeployAgentCa` (a PEM file's path, or the PEM text) and
 * `iloDeployAgentRequireTls` (true or false), with what is wrong in them (left out).
 */
export function parseAgentTlsSettings(raw: { ca?: unknown; requireTls?: unknown }, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): AgentTlsSettings & { problems: string[] } {
  const problems: string[] = [];
  let requireTls = false;
  if (raw.requireTls !== undefined && raw.requireTls !== null) {
    if (typeof raw.requireTls === 'boolean') requireTls = raw.requireTls;
    else problems.push(`iloDeployAgentRequireTls: expected true or false, got ${JSON.stringify(raw.requireTls)}`);
  }
  let ca: string | undefined;
  if (raw.ca !== undefined && raw.ca !== null && raw.ca !== '') {
    if (typeof raw.ca !== 'string') problems.push('iloDeployAgentCa: expected the path of a PEM file, or PEM text');
    else {
      let text: string | undefined = raw.ca;
      if (!raw.ca.includes(BEGIN)) {
        try {
          text = read(raw.ca);
        } catch (err) {
          problems.push(`iloDeployAgentCa: cannot read ${raw.ca}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
          text = undefined;
        }
      }
      if (text !== undefined) {
        try {
          certificatesIn(text);
          ca = text;
        } catch (err) {
          problems.push(`iloDeployAgentCa: not a PEM certificate (${(err as Error).message})`);
        }
      }
    }
  }
  return { ca, requireTls, problems };
}
