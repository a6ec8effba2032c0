/**
 * Editor (admin) endpoints shared by the config nodes' "test" buttons:
 * reading the dialog's values, taking a stored secret instead of the
 * editor's placeholder, and answering JSON that can never carry a secret.
 */
import type { NodeAPI } from 'node-red';

/** What the editor puts in a password field whose value is stored but not shown. */
export const PASSWORD_PLACEHOLDER = '__PWRD__';

/** A refusal of the endpoint itself (not of the iLO or store): unknown node, bad request. */
export class AdminError extends Error {
  constructor(
    readonly code: 'not-found' | 'invalid-input',
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

export interface AdminReply {
  status: number;
  body: Record<string, unknown>;
}

interface ExpressLikeRequest {
  body?: unknown;
}
interface ExpressLikeResponse {
  status(code: number): ExpressLikeResponse;
  type(t: string): ExpressLikeResponse;
  send(body: string): void;
}

/** The request body as a plain object (the admin app parses JSON). */
export function dialogFields(req: ExpressLikeRequest): Record<string, unknown> {
  const b = req.body;
  return typeof b === 'object' && b !== null && !Array.isArray(b) ? (b as Record<string, unknown>) : {};
}

/** A secret typed in the dialog, or undefined when the dialog shows the stored one (placeholder) or left it empty. */
export function typedSecret(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' && v !== PASSWORD_PLACEHOLDER ? v : undefined;
}

export function text(v: unknown): string {
  return typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '';
}

/** `{ ok: false, code, error, field? }` from any error; `status` 400 for bad input, else 200 (the test ran and failed). */
export function failure(err: unknown, extra: Record<string, unknown> = {}): AdminReply {
  const e = err as { code?: unknown; message?: unknown; field?: unknown };
  const code = typeof e?.code === 'string' ? e.code : 'error';
  const body: Record<string, unknown> = { ok: false, code, error: typeof e?.message === 'string' ? e.message : String(err), ...extra };
  if (typeof e?.field === 'string') body.field = e.field;
  return { status: code === 'invalid-input' ? 400 : code === 'not-found' ? 404 : 200, body };
}

/**
 * Sends the reply as JSON. Whatever went wrong upstream, no secret leaves:
 * any secret found in the serialised body is replaced (the lib's errors
 * never carry one; this is the last line of defence).
 */
export function sendReply(res: ExpressLikeResponse, reply: AdminReply, secrets: Array<string | undefined>): void {
  let json = JSON.stringify(reply.body);
  for (const s of secrets) {
    if (!s || s.length < 3) continue;
    const encoded = JSON.stringify(s).slice(1, -1);
    json = json.split(encoded).join('***');
  }
  res.status(reply.status).type('application/json').send(json);
}

/**
 * Registers a POST route guarded by `permission`. The values of
 * `secretFields` in the request, and every secret the handler reports
 * through `secret()` (e.g. a stored password it used), are scrubbed from
 * the reply. An unexpected throw becomes `{ ok: false }`.
 */
export function postRoute(
  RED: NodeAPI,
  path: string,
  permission: string,
  secretFields: readonly string[],
  handler: (fields: Record<string, unknown>, secret: (s: string | undefined) => void) => Promise<AdminReply>,
): void {
  RED.httpAdmin.post(path, RED.auth.needsPermission(permission), (req, res) => {
    const fields = dialogFields(req);
    const secrets: Array<string | undefined> = secretFields.map((k) => typedSecret(fields[k]));
    const out = res as unknown as ExpressLikeResponse;
    Promise.resolve()
      .then(() => handler(fields, (s) => secrets.push(s)))
      .then((reply) => sendReply(out, reply, secrets))
      .catch((err: unknown) => sendReply(out, failure(err), secrets));
  });
}
