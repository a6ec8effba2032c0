/**
 * The deploy node as an HTTP API: with `msg.req`/`msg.res` (an `http in`
 * node before it) the node reads the request itself and answers with
 * `msg.statusCode`, `msg.headers` and a JSON `msg.payload`, so that
 * `http in -> ilo-deploy-flow -> http response` is a whole deploy API:
 *
 *   POST   /:method/deploy      {"server": "server-1", "image": ..., "bootMode": ..., "configDrive": ...}
 *                                -> 202, Location: /:method/deploy/<deployId>
 *   POST   /:method/deploy      {"server": {"pool": "rack-a", "any": true, "capabilities": {...}, "properties": {...}}}
 *                                -> 202 naming the server picked (`server`, `picked`), or 409 with `pool` (why none)
 *   GET    /:method/deploy/:id  -> 200 with the deploy's status
 *   DELETE /:method/deploy/:id  -> 202, the tear-down started
 *
 * Errors answer the same way: 400 naming the field, 404 (unknown server or
 * deploy), 409 with the deploy in the way, 502 (the iLO refused or could
 * not be reached), 504 (it did not answer in time).
 */
import { DeployError, badInput } from '../../lib/deploy/errors';
import { EXTRA_FIELDS, type FlowAction } from '../../lib/deploy/flow';
import { DEPLOY_METHODS } from '../../lib/deploy/types';

/** What an `http in` node puts in msg.req (the part of an express request read here). */
export interface HttpRequestLike {
  method?: string;
  originalUrl?: string;
  url?: string;
  baseUrl?: string;
  path?: string;
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: unknown;
}

/** What a request asks for, each value named by the field it came from. */
export interface HttpCall {
  action: FlowAction;
  deployId?: string;
  /** A name, a list of names, "*", { pool } (every server of it) or { pool, any: true, capabilities, properties } (one picked); undefined: the node's own server. */
  server?: unknown;
  /** From the path (`:method`) or the body; undefined: the node's method. */
  method?: string;
  image?: unknown;
  bootMode?: unknown;
  configDrive?: unknown;
  /** Cleaning before this deploy: true, false or a plan ({steps, deployIso}), as msg.deploy.clean. */
  clean?: unknown;
  /** Other request fields (imageChecksum...), as msg.deploy gives them. */
  extra: Record<string, unknown>;
}

/** The fields a POST body may hold. */
const BODY_FIELDS = ['server', 'method', 'action', 'image', 'bootMode', 'configDrive', 'clean', ...EXTRA_FIELDS] as const;

export function httpRequestOf(msg: object): HttpRequestLike | undefined {
  const { req, res } = msg as { req?: unknown; res?: unknown };
  if (typeof req !== 'object' || req === null || typeof res !== 'object' || res === null) return undefined;
  return req as HttpRequestLike;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * The request as a deploy call. POST deploys (or rebuilds: `"action":
 * "rebuild"`), GET reads a status, DELETE undeploys; the deploy is
 * `:id` in the path, the server `:server` in the path, `?server=a,b`, or
 * the body's `server`.
 */
export function readHttpCall(req: HttpRequestLike): HttpCall {
  const verb = (req.method ?? 'GET').toUpperCase();
  const params = req.params ?? {};
  const pathMethod = str(params.method);
  if (pathMethod !== undefined && !DEPLOY_METHODS.includes(pathMethod as (typeof DEPLOY_METHODS)[number])) {
    throw notFound(`no deploy API for method "${pathMethod.slice(0, 40)}" (${DEPLOY_METHODS.join(', ')})`);
  }
  const deployId = str(params.id) ?? str(params.deployId);
  if (verb === 'GET' || verb === 'DELETE') {
    const q = str(req.query?.server);
    const server = str(params.server) ?? (q?.includes(',') ? q.split(',').map((s) => s.trim()) : q);
    return { action: verb === 'GET' ? 'status' : 'undeploy', deployId, server, method: pathMethod, extra: {} };
  }
  if (verb !== 'POST' && verb !== 'PUT') throw badInput('method', 'an HTTP POST (deploy), GET (status) or DELETE (undeploy)', verb);
  const body = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Buffer.isBuffer(body)) {
    throw badInput('body', 'a JSON object such as {"server": "server-1"}, sent with Content-Type: application/json');
  }
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (!(BODY_FIELDS as readonly string[]).includes(k)) {
      throw new DeployError('invalid-input', `${k.slice(0, 40)}: unknown field; the body may hold ${BODY_FIELDS.join(', ')}`, { field: k.slice(0, 40) });
    }
  }
  const server = b.server ?? str(params.server);
  if (server !== undefined && !(typeof server === 'string' && server.trim() !== '') && !Array.isArray(server) && !(typeof server === 'object' && server !== null)) {
    throw badInput('server', 'the name of a server, e.g. "server-1" (or a list of names)', server);
  }
  const action = b.action ?? 'deploy';
  if (action !== 'deploy' && action !== 'rebuild') throw badInput('action', '"deploy" or "rebuild" (DELETE undeploys, GET reads the status)', action);
  const method = b.method ?? pathMethod;
  if (method !== undefined && (typeof method !== 'string' || !DEPLOY_METHODS.includes(method as (typeof DEPLOY_METHODS)[number]))) throw badInput('method', DEPLOY_METHODS.join(', '), method);
  if (pathMethod !== undefined && method !== pathMethod) throw badInput('method', `${pathMethod} (this is the ${pathMethod} API)`, method);
  if (b.image !== undefined && (typeof b.image !== 'string' || b.image === '')) {
    throw badInput('image', 'an http(s) URL, a file path under the media store\'s image directories, swift:container/object or glance:<id>', b.image);
  }
  if (b.bootMode !== undefined && b.bootMode !== 'bios' && b.bootMode !== 'uefi') throw badInput('bootMode', '"bios" or "uefi"', b.bootMode);
  const extra: Record<string, unknown> = {};
  for (const k of EXTRA_FIELDS) if (b[k] !== undefined) extra[k] = b[k];
  return { action, deployId, server, method: method as string | undefined, image: b.image, bootMode: b.bootMode, configDrive: b.configDrive, clean: b.clean, extra };
}

function notFound(message: string): Error & { code: string; statusCode: number } {
  return Object.assign(new Error(message), { code: 'not-found', statusCode: 404 });
}

/** HTTP status of an error, by its code. */
const STATUS_OF_CODE: Readonly<Record<string, number>> = {
  'invalid-input': 400,
  'not-allowed': 403,
  'not-found': 404,
  busy: 409,
  conflict: 409,
  'missing-tool': 424,
  timeout: 504,
  connection: 502,
  login: 502,
  permission: 502,
  protocol: 502,
  http: 502,
  other: 502,
  licence: 502,
  'not-supported': 502,
  media: 502,
};

export function httpStatusOf(err: unknown): number {
  const e = err as { statusCode?: unknown; code?: unknown } | null;
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode <= 599) return e.statusCode;
  return (typeof e?.code === 'string' && STATUS_OF_CODE[e.code]) || 500;
}

/** The JSON body of an error: its message (never a secret: errors carry none), code and field. */
export function errorBody(err: unknown): { error: string; code: string; field?: string; pool?: object } {
  const e = err as { message?: unknown; code?: unknown; field?: unknown; pool?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const code = typeof e?.code === 'string' ? e.code : 'error';
  const body: { error: string; code: string; field?: string; pool?: object } = { error: message, code };
  if (typeof e?.field === 'string') body.field = e.field;
  // A pool deploy refused: how many servers, how many matched, which were busy (NoServerAvailableError).
  if (typeof e?.pool === 'object' && e.pool !== null) body.pool = e.pool;
  return body;
}

/** Where a deploy's status is read: the request's path, ending in the deploy id. */
export function locationOf(req: HttpRequestLike, deployId: string): string {
  const raw = req.originalUrl ?? `${req.baseUrl ?? ''}${req.url ?? req.path ?? ''}`;
  const path = (raw.split('?')[0] ?? '').replace(/\/+$/, '');
  const last = path.slice(path.lastIndexOf('/') + 1);
  return last === deployId ? path : `${path}/${deployId}`;
}
