/**
 * What the REST front-ends of a simulated iLO share (iLO 5/6 Redfish and
 * iLO 4's RESTful API): paths, sessions, authentication, replies, faults.
 *
 * Sessions behave as iLO documents them: every login is an iLO session;
 * a session idle for longer than SessionService.SessionTimeout (30 minutes
 * unless changed, 30 s to 24 h) is closed; Basic authentication holds a
 * session for the length of the request and frees it at once; when all
 * sessions are taken, a login (or a Basic request) is refused until one is
 * deleted or times out.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouteContext } from '../ilo-endpoint';
import type { SimServer, SimSession } from '../server';

/** How many REST sessions the simulated iLO holds at once. */
export const SESSION_LIMIT = 16;
export const DEFAULT_SESSION_TIMEOUT_S = 30 * 60;

interface SessionState {
  timeoutS: number;
  /** Sessions held by Basic-auth requests in flight. */
  transient: number;
}

const state = new WeakMap<SimServer, SessionState>();

function stateOf(server: SimServer): SessionState {
  let s = state.get(server);
  if (!s) state.set(server, (s = { timeoutS: DEFAULT_SESSION_TIMEOUT_S, transient: 0 }));
  return s;
}

export function sessionTimeout(server: SimServer): number {
  return stateOf(server).timeoutS;
}

/** PATCH SessionService SessionTimeout; false when out of range. */
export function setSessionTimeout(server: SimServer, seconds: unknown): boolean {
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 30 || seconds > 86400) return false;
  stateOf(server).timeoutS = seconds;
  return true;
}

function expired(server: SimServer, s: SimSession, now: number): boolean {
  return now - s.lastUsed > stateOf(server).timeoutS * 1000;
}

export function pruneSessions(server: SimServer): void {
  const now = Date.now();
  for (const [t, s] of server.sessions) if (expired(server, s, now)) server.sessions.delete(t);
}

function full(server: SimServer): boolean {
  pruneSessions(server);
  return server.sessions.size + stateOf(server).transient >= SESSION_LIMIT;
}

export function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export type LoginOutcome = { ok: true; session: SimSession } | { ok: false; why: 'credentials' | 'limit' };

/** A login (POST to the sessions collection) with this JSON body. */
export function openSession(server: SimServer, body: Record<string, unknown>): LoginOutcome {
  const ok = typeof body.UserName === 'string' && typeof body.Password === 'string' && body.UserName === server.username && same(body.Password, server.password);
  if (!ok) return { ok: false, why: 'credentials' };
  if (full(server)) return { ok: false, why: 'limit' };
  const token = randomBytes(16).toString('hex');
  const id = `${server.username.toLowerCase().replace(/[^a-z0-9]/g, '')}${randomBytes(8).toString('hex')}`;
  const now = Date.now();
  const session: SimSession = { id, token, username: server.username, created: now, lastUsed: now };
  server.sessions.set(token, session);
  return { ok: true, session };
}

export function closeSession(server: SimServer, id: string): boolean {
  for (const [t, s] of server.sessions) {
    if (s.id === id) {
      server.sessions.delete(t);
      return true;
    }
  }
  return false;
}

export type Caller = { kind: 'session'; session: SimSession } | { kind: 'basic'; release(): void };

export type AuthOutcome = { ok: true; caller: Caller } | { ok: false; why: 'credentials' | 'limit' };

/** X-Auth-Token, or Basic credentials (which hold a session until `release()`). */
export function authenticate(server: SimServer, req: IncomingMessage): AuthOutcome {
  const token = req.headers['x-auth-token'];
  if (typeof token === 'string') {
    const s = server.sessions.get(token);
    if (s && !expired(server, s, Date.now())) {
      s.lastUsed = Date.now();
      return { ok: true, caller: { kind: 'session', session: s } };
    }
    if (s) server.sessions.delete(token);
    return { ok: false, why: 'credentials' };
  }
  const auth = req.headers.authorization;
  if (auth && /^basic /i.test(auth)) {
    const [user, ...rest] = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8').split(':');
    if (user !== server.username || !same(rest.join(':'), server.password)) return { ok: false, why: 'credentials' };
    if (full(server)) return { ok: false, why: 'limit' };
    const st = stateOf(server);
    st.transient++;
    let held = true;
    const release = (): void => {
      if (held) st.transient--;
      held = false;
    };
    return { ok: true, caller: { kind: 'basic', release } };
  }
  return { ok: false, why: 'credentials' };
}

/**
 * The path as the route tables match it: lower case, with a trailing slash.
 * iLO answers a path with or without the slash alike (a 308 for the missing
 * slash would cost every client a round trip).
 */
export function routePath(pathname: string): string {
  const p = pathname.toLowerCase().replace(/\/{2,}/g, '/');
  return p.endsWith('/') ? p : `${p}/`;
}

export interface JsonReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A JSON body, or undefined when there is none or it is not a JSON object. */
export function jsonObject(body: Buffer): Record<string, unknown> | undefined {
  if (body.length === 0) return undefined;
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Write a reply. iLO 5/6 send every body chunked (here in two pieces); iLO 4
 * sends a Content-Length.
 */
export function writeJson(res: ServerResponse, r: JsonReply, framing: 'chunked' | 'length'): void {
  const text = r.body === undefined ? '' : JSON.stringify(r.body);
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'odata-version': '4.0',
    'cache-control': 'no-cache',
    'x-frame-options': 'sameorigin',
    ...r.headers,
  };
  if (framing === 'length') headers['content-length'] = String(Buffer.byteLength(text));
  res.writeHead(r.status, headers);
  if (framing === 'length') {
    res.end(text);
    return;
  }
  const half = Math.floor(text.length / 2);
  if (half > 0) res.write(text.slice(0, half));
  res.end(text.slice(half));
}

/**
 * Apply an injected fault for this request. Returns true when the fault
 * answered (or dropped) the request itself; an `error` fault is returned
 * for the front-end to word.
 */
export async function takeFault(ctx: RouteContext, method: string, path: string): Promise<{ done: boolean; error?: { status: number; message: string } }> {
  const { server, req, res } = ctx;
  const fault = server.faults.take(['redfish', `${method} ${path}`]);
  if (!fault) return { done: false };
  switch (fault.kind) {
    case 'latency':
      await new Promise((r) => setTimeout(r, fault.ms));
      return { done: false };
    case 'reset':
      req.socket.destroy();
      return { done: true };
    case 'hang':
      return { done: true };
    case 'malformed':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"@odata.id": "/redfish/v1/Sys');
      return { done: true };
    case 'error':
      return { done: false, error: { status: fault.status >= 400 ? fault.status : 500, message: fault.message } };
  }
}
