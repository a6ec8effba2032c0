/**
 * JSON over HTTPS to one iLO's Redfish service: one session per client
 * (X-Auth-Token, DELETEd on close) or basic auth (also when the iLO answers
 * a session login with 405/501: it has no session service), redirects followed
 * (iLO 5 308s a missing trailing slash; the Location may be path-only),
 * one re-login when a session expires, ETags remembered for If-Match with
 * the 412 fallback sushy uses, and errors typed by MessageId.
 */
import { BmcError } from '../errors';
import type { IloHttpClient } from '../transport';
import { redfishError } from './errors';

export type RedfishAuth = 'session' | 'basic';

export type JsonObject = Record<string, unknown>;

export interface RedfishClientOptions {
  /**
   * Send `OData-Version: 4.0` (default). iLO 4's RESTful API hides its
   * pre-Redfish properties (`links.*.href`) from a request that says it,
   * so a client of that API leaves it out, as proliantutils does.
   */
  odataVersion?: boolean;
}

export interface RedfishCallOptions {
  /** Safe to send again when the outcome is unknown (GET, PATCH of a value). */
  idempotent?: boolean;
  /** Send If-Match with the ETag last seen for this resource (PATCH). */
  ifMatch?: boolean;
  /** What the caller was doing, for error messages. */
  what?: string;
}

const SESSIONS = '/redfish/v1/SessionService/Sessions/';
const MAX_REDIRECTS = 3;

export class RedfishClient {
  /** Session, or Basic: chosen, or fallen back to when the iLO offers no session login. */
  private auth: RedfishAuth;
  /** The HTTP status of a session login that said "no session service here", once we fell back to Basic. */
  private fellBack?: string;
  private token?: string;
  private sessionPath?: string;
  private loggingIn?: Promise<void>;
  private readonly etags = new Map<string, string>();
  private closed = false;
  private readonly odataHeader: Record<string, string>;

  constructor(
    private readonly http: IloHttpClient,
    auth: RedfishAuth = 'session',
    options: RedfishClientOptions = {},
  ) {
    this.auth = auth;
    this.odataHeader = options.odataVersion === false ? {} : { 'odata-version': '4.0' };
  }

  get target(): string {
    return this.http.target;
  }

  /** Whether a session is open (for tests and stats). */
  get hasSession(): boolean {
    return this.token !== undefined;
  }

  /** How requests authenticate now ("basic" after a fallback from an unsupported session login). */
  get authMode(): RedfishAuth {
    return this.auth;
  }

  get(path: string, what = `GET ${path}`): Promise<JsonObject> {
    return this.call('GET', path, undefined, { idempotent: true, what });
  }

  /** A GET that needs no credentials (the service root). */
  async getOpen(path: string): Promise<{ status: number; body?: JsonObject }> {
    const res = await this.http.request({ method: 'GET', path, headers: { accept: 'application/json' }, idempotent: true });
    return { status: res.statusCode, body: parseJson(res.body) };
  }

  post(path: string, body: JsonObject, what: string, idempotent = false): Promise<JsonObject> {
    return this.call('POST', path, body, { idempotent, what });
  }

  async patch(path: string, body: JsonObject, what: string): Promise<JsonObject> {
    try {
      return await this.call('PATCH', path, body, { idempotent: true, ifMatch: true, what });
    } catch (err) {
      // The resource changed since we read it, or the iLO does not like our
      // weak tag: like sushy, send the change once more without If-Match.
      if (err instanceof BmcError && err.status === '412') return this.call('PATCH', path, body, { idempotent: true, ifMatch: false, what });
      throw err;
    }
  }

  async call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body: JsonObject | undefined, opts: RedfishCallOptions): Promise<JsonObject> {
    if (this.closed) throw new BmcError('connection', `the client for iLO ${this.target} was closed`, { target: this.target });
    let relogged = false;
    let p = path;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { accept: 'application/json', ...this.odataHeader, ...(await this.authHeaders()) };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const etag = opts.ifMatch ? this.etags.get(key(p)) : undefined;
      if (etag) headers['if-match'] = etag;
      const res = await this.http.request({
        method,
        path: p,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        idempotent: opts.idempotent ?? method === 'GET',
      });
      const status = res.statusCode;
      if (status === 301 || status === 302 || status === 307 || status === 308) {
        if (hop >= MAX_REDIRECTS) {
          throw new BmcError('protocol', `iLO ${this.target} redirected ${method} ${path} more than ${MAX_REDIRECTS} times (last to ${p})`, { target: this.target, status: String(status) });
        }
        const loc = headerValue(res.headers.location) ?? '';
        if (!loc) throw new BmcError('protocol', `iLO ${this.target} redirected ${method} ${p} without a Location`, { target: this.target });
        p = pathOf(loc);
        continue;
      }
      // Any other 3xx (303 See Other, 300, 304...) did not carry out the request: never a success.
      if (status >= 300 && status < 400) {
        throw new BmcError('protocol', `iLO ${this.target} answered ${method} ${p} with HTTP ${status} instead of doing it`, { target: this.target, status: String(status) });
      }
      if (status === 401 && this.fellBack) {
        // Basic was our own choice, made because session login is not offered: say both.
        throw new BmcError('login', `iLO ${this.target} offers no session login (HTTP ${this.fellBack}) and refused Basic authentication: check the user name and password`, {
          target: this.target,
          status: '401',
          iloMessage: redfishError(401, parseJson(res.body), this.target, 'Redfish login').iloMessage,
        });
      }
      if (status === 401 && this.auth === 'session' && this.token && !relogged) {
        // The session expired or the iLO was reset: log in again, once.
        this.token = undefined;
        relogged = true;
        continue;
      }
      const parsed = parseJson(res.body);
      if (status >= 400) throw redfishError(status, parsed, this.target, opts.what ?? `${method} ${p}`);
      if (method === 'GET') {
        const tag = headerValue(res.headers.etag) ?? (typeof parsed?.['@odata.etag'] === 'string' ? (parsed['@odata.etag'] as string) : undefined);
        if (tag) this.etags.set(key(p), tag);
      } else if (method === 'PATCH') this.etags.delete(key(p));
      // An action may change any resource: forget every tag rather than send a stale one.
      else this.etags.clear();
      if (parsed === undefined && res.body.length > 0) {
        throw new BmcError('protocol', `iLO ${this.target} answered ${method} ${p} with something that is not JSON`, { target: this.target, status: String(status) });
      }
      return parsed ?? {};
    }
  }

  private async authHeaders(): Promise<Record<string, string>> {
    const ep = this.http.endpoint;
    if (!this.token && this.auth === 'session') {
      this.loggingIn ??= this.login().finally(() => {
        this.loggingIn = undefined;
      });
      // Either a session, or the login found no session service and chose Basic.
      await this.loggingIn;
    }
    if (this.auth === 'basic') {
      return { authorization: `Basic ${Buffer.from(`${ep.username}:${ep.password}`).toString('base64')}` };
    }
    return { 'x-auth-token': this.token as string };
  }

  /** One session for the client's lifetime (iLOs allow few). */
  private async login(): Promise<void> {
    const ep = this.http.endpoint;
    const res = await this.http.request({
      method: 'POST',
      path: SESSIONS,
      headers: { accept: 'application/json', 'content-type': 'application/json', 'odata-version': '4.0' },
      body: JSON.stringify({ UserName: ep.username, Password: ep.password }),
      // A lost reply may have created a session; a second one is harmless, and DELETE cleans ours.
      idempotent: true,
    });
    const parsed = parseJson(res.body);
    if (res.statusCode === 405 || res.statusCode === 501) {
      // No session login on this service (not a credentials problem): Basic
      // authentication works wherever the service takes credentials at all.
      this.auth = 'basic';
      this.fellBack = String(res.statusCode);
      return;
    }
    if (res.statusCode >= 400) throw redfishError(res.statusCode, parsed, this.target, 'Redfish login');
    const token = headerValue(res.headers['x-auth-token']);
    if (!token) throw new BmcError('protocol', `iLO ${this.target} created a session without an X-Auth-Token`, { target: this.target });
    this.token = token;
    const loc = headerValue(res.headers.location);
    this.sessionPath = loc ? pathOf(loc) : typeof parsed?.['@odata.id'] === 'string' ? (parsed['@odata.id'] as string) : undefined;
  }

  /** Log out (DELETE the session) and stop. */
  async close(): Promise<void> {
    if (this.closed) return;
    const token = this.token;
    const path = this.sessionPath;
    this.token = undefined;
    if (token && path) {
      try {
        await this.http.request({ method: 'DELETE', path, headers: { 'x-auth-token': token, accept: 'application/json' }, idempotent: true });
      } catch {
        // The iLO times the session out anyway.
      }
    }
    this.closed = true;
  }
}

function key(path: string): string {
  return path.toLowerCase().replace(/\/?(\?.*)?$/, '/');
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** A Location may be absolute (same iLO) or path-only (iLO 5 over IPv6). */
export function pathOf(location: string): string {
  if (location.startsWith('/')) return location;
  try {
    const u = new URL(location);
    return `${u.pathname}${u.search}`;
  } catch {
    return location;
  }
}

function parseJson(buf: Buffer): JsonObject | undefined {
  if (buf.length === 0) return undefined;
  try {
    const v: unknown = JSON.parse(buf.toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}
