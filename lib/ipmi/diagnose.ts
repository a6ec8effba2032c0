/**
 * Turn what ipmitool printed into a typed BmcError. ipmitool reports some
 * failures with exit code 0 (a refused boot device, for one), so callers also
 * come here when the success line they expect is missing.
 */
import { BmcError, type BmcErrorCode, type BmcErrorDetails } from '../bmc/errors';
import type { RunResult } from '../exec/run';

/** Lines ipmitool -v prints on every run; they say nothing about the outcome. */
const NOISE: readonly RegExp[] = [
  /^Loading IANA PEN Registry/,
  /^Running Get VSO Capabilities/,
  /^Discovered IPMB address/,
  /^Get HPM\.x Capabilities request failed/,
  /^Using (best available )?cipher suite/i,
  /^Password:\s*$/,
];

interface Rule {
  code: BmcErrorCode;
  test: RegExp;
  /** The BMC refused the RMCP+ cipher suite (used by the 17 -> 3 fallback). */
  cipherRefused?: boolean;
  reason?: 'other';
}

/** First match wins: the specific causes come before ipmitool's generic "Unable to establish". */
const RULES: readonly Rule[] = [
  { code: 'not-supported', cipherRefused: true, test: /invalid (authentication|integrity|confidentiality) algorithm|no matching cipher suite|unsupported cipher suite|invalid cipher suite/i },
  { code: 'login', test: /RAKP \d.*(HMAC is invalid|unauthorized name|invalid (password|user))|unauthorized name|Activate Session (command failed|error)|invalid user ?name|Unable to read password/i },
  { code: 'permission', test: /invalid role|Set Session Privilege Level to \w+ failed|insufficient privilege|privilege level (is )?not available/i },
  { code: 'busy', reason: 'other', test: /already active on another session|insufficient resources for session|node busy/i },
  { code: 'connection', test: /Get (Channel )?Auth(entication)? Capabilities (error|command failed)|Error issuing Get Channel Authentication Capabilities|Address lookup for .* failed|No response from remote controller|Connection refused|Network is unreachable|No route to host|Unable to establish/i },
  { code: 'not-supported', test: /Invalid command|Invalid argument|Invalid data field in request|Parameter not supported|not supported|Unknown (command|option)/i },
];

export interface Diagnosis {
  code: BmcErrorCode;
  /** What ipmitool said, noise removed, on one line. */
  text: string;
  cipherRefused: boolean;
  reason?: 'other';
}

/** ipmitool's meaningful lines (stderr first, then stdout), without the -v chatter. */
export function meaningfulLines(output: string): string[] {
  const lines = output
    .split(/\r?\n|\r/)
    .map((l) => l.replace(/^>\s*/, '').trim())
    .filter((l) => l.length > 0);
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (NOISE.some((re) => re.test(line))) {
      // The vendor-capability probe that -v runs answers "Invalid command" on most BMCs.
      if (/^Running Get VSO Capabilities/.test(line) && /^Invalid completion code received/.test(lines[i + 1] ?? '')) i++;
      continue;
    }
    out.push(line);
  }
  return out;
}

export function diagnose(output: string): Diagnosis {
  const lines = meaningfulLines(output);
  const text = lines.join('; ');
  for (const rule of RULES) {
    if (rule.test.test(text)) return { code: rule.code, text, cipherRefused: rule.cipherRefused === true, reason: rule.reason };
  }
  return { code: 'other', text, cipherRefused: false };
}

export interface FailureContext {
  /** What was asked, e.g. `power on`. */
  action: string;
  /** `host:port` of the BMC. */
  target: string;
  /** Removed from every message, whatever ipmitool printed. */
  password: string;
}

export class IpmitoolError extends BmcError {
  /** The BMC refused the RMCP+ cipher suite that was asked for. */
  readonly cipherRefused: boolean;
  constructor(code: BmcErrorCode, message: string, details: BmcErrorDetails & { cipherRefused?: boolean }) {
    super(code, message, details);
    this.name = 'BmcError';
    this.cipherRefused = details.cipherRefused === true;
  }
}

/** The error for a run that failed, or that exited 0 without the expected answer. */
export function ipmitoolFailure(run: RunResult, ctx: FailureContext): IpmitoolError {
  const where = `ipmitool ${ctx.action} on ${ctx.target}`;
  if (run.notFound) {
    return new IpmitoolError('not-supported', `${where}: ${run.file} is not installed or not executable (Debian package: ipmitool)`, { target: ctx.target });
  }
  if (run.timedOut) return new IpmitoolError('timeout', `${where}: no answer in ${run.durationMs.toFixed(0)} ms`, { target: ctx.target });
  const d = diagnose(`${run.stderr}\n${run.stdout}`);
  const said = redact(d.text, ctx.password) || (run.failure ?? `exit code ${run.exitCode ?? 'none'} and no message`);
  const code: BmcErrorCode = d.text === '' && run.exitCode === 0 ? 'protocol' : d.code;
  const status = run.exitCode === undefined ? undefined : String(run.exitCode);
  return new IpmitoolError(code, `${where} failed: ${said}`, { target: ctx.target, iloMessage: said, status, reason: d.reason, cipherRefused: d.cipherRefused });
}

/** Remove every occurrence of the secret from a text that is about to leave this module. */
export function redact(text: string, secret: string): string {
  return secret === '' ? text : text.split(secret).join('***');
}
