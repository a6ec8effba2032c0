/**
 * The Ironic API subset a deploy ramdisk calls, so a real ironic-python-agent
 * or DIB ramdisk works unchanged:
 *
 *   GET  /                      version discovery (IPA reads default_version)
 *   GET  /v1                    with the X-OpenStack-Ironic-API-* headers
 *   GET  /v1/lookup?addresses=<mac,…>&node_uuid=<id>
 *   POST /v1/heartbeat/{node}   { callback_url, agent_token, agent_version, agent_verify_ca (1.68) }
 *   POST [/v1]/nodes/{node}/vendor_passthru/pass_deploy_info           (DIB)
 *   POST [/v1]/nodes/{node}/vendor_passthru?method=pass_deploy_info     (DIB)
 *   POST [/v1]/nodes/{node}/vendor_passthru/pass_bootloader_install_info
 *
 * Every request is answered in the API version it asks for, as Ironic does:
 * `OpenStack-API-Version: baremetal <v>`, else `X-OpenStack-Ironic-API-Version:
 * <v>`, else the minimum; `latest` is the maximum; a version out of range
 * or malformed gets 406. The negotiated version comes back in
 * `X-OpenStack-Ironic-API-Version`, with the minimum and maximum beside it.
 *
 * Every state-changing call must carry the deploy's token (IPA: agent_token,
 * DIB: key); without it or with a wrong one the answer is 401 and nothing
 * changes. Lookup needs no token (IPA sends none) and reveals only the node id.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { heartbeatCaFault } from './agent-tls';
import type { CallbackKind } from './step';

/** What the API needs from the engine. */
export interface RamdiskApiEngine {
  findForRamdisk(nodeId: string | undefined, macs: string[]): Promise<{ id: string; rootDevice?: Record<string, unknown> } | undefined>;
  callback(nodeId: string, kind: CallbackKind, token: unknown, body: Record<string, unknown>): Promise<{ status: number; message: string }>;
}

export interface RamdiskApiOptions {
  /** Told to the agent in the lookup reply (Ironic: [api]ramdisk_heartbeat_timeout). */
  heartbeatTimeoutS?: number;
  log?: { warn(m: string): void };
}

const MIN_VERSION = '1.1';
const MAX_VERSION = '1.68';
const MIN = [1, 1] as const;
const MAX = [1, 68] as const;
const MAX_BODY = 64 * 1024;

type Req = IncomingMessage & { body?: unknown; originalUrl?: string };

/** An (req, res) handler: mount it under a prefix on Express (`app.use(prefix, h)`) or use it in node:http. */
export function createRamdiskApi(engine: RamdiskApiEngine, opts: RamdiskApiOptions = {}) {
  return async function ramdiskApi(req: Req, res: ServerResponse): Promise<void> {
    try {
      await route(req, res);
    } catch (err) {
      send(res, 500, fault(`internal error: ${(err as Error).message}`, 'Server'));
    }
  };

  async function route(req: Req, res: ServerResponse): Promise<void> {
    const version = negotiate(req);
    if (typeof version !== 'string') return send(res, 406, fault(version.refused));
    res.setHeader('X-OpenStack-Ironic-API-Version', version);
    const url = new URL(req.url ?? '/', 'http://ramdisk.api');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';

    if (method === 'GET' && path === '/') {
      return send(res, 200, {
        name: 'OpenStack Ironic API (node-red-contrib-ilo-deploy)',
        description: 'Ramdisk callback subset of the Ironic API',
        default_version: { id: 'v1', links: [{ href: `${baseHref(req)}/v1/`, rel: 'self' }], status: 'CURRENT', min_version: MIN_VERSION, version: MAX_VERSION },
        versions: [{ id: 'v1', links: [{ href: `${baseHref(req)}/v1/`, rel: 'self' }], status: 'CURRENT', min_version: MIN_VERSION, version: MAX_VERSION }],
      });
    }
    if (method === 'GET' && path === '/v1') {
      return send(res, 200, { id: 'v1', links: [{ href: `${baseHref(req)}/v1/`, rel: 'self' }], media_types: [{ base: 'application/json', type: 'application/vnd.openstack.ironic.v1+json' }] });
    }
    if (method === 'GET' && path === '/v1/lookup') {
      const macs = (url.searchParams.get('addresses') ?? '').split(',').filter(Boolean);
      const nodeId = url.searchParams.get('node_uuid') ?? undefined;
      if (macs.length === 0 && !nodeId) return send(res, 400, fault('lookup needs addresses or node_uuid'));
      const found = await engine.findForRamdisk(nodeId, macs);
      if (!found) return send(res, 404, fault('no node matches, or it is not being deployed'));
      return send(res, 200, {
        node: { uuid: found.id, properties: found.rootDevice ? { root_device: found.rootDevice } : {}, instance_info: {}, driver_internal_info: {} },
        config: {
          heartbeat_timeout: opts.heartbeatTimeoutS ?? 300,
          agent_token: '******',
          agent_token_required: true,
          agent_md5_checksum_enable: false,
        },
      });
    }
    let m = /^\/v1\/heartbeat\/([A-Za-z0-9-]{1,64})$/.exec(path);
    if (method === 'POST' && m) {
      const body = await jsonBody(req);
      if (!body) return send(res, 400, fault('the body must be a JSON object'));
      if (typeof body.callback_url !== 'string' || !/^https?:\/\//.test(body.callback_url)) {
        return send(res, 400, fault('"callback_url" must be specified as an http(s) URL'));
      }
      const caFault = heartbeatCaFault(body, version);
      if (caFault) return send(res, 400, fault(caFault));
      return reply(res, await engine.callback(m[1] as string, 'heartbeat', body.agent_token, body));
    }
    m = /^(?:\/v1)?\/nodes\/([A-Za-z0-9-]{1,64})\/vendor_passthru(?:\/(pass_deploy_info|pass_bootloader_install_info))?$/.exec(path);
    if (method === 'POST' && m) {
      const which = m[2] ?? url.searchParams.get('method');
      if (which !== 'pass_deploy_info' && which !== 'pass_bootloader_install_info') return send(res, 404, fault(`unknown vendor passthru method ${which ?? ''}`));
      const body = await jsonBody(req);
      if (!body) return send(res, 400, fault('the body must be a JSON object'));
      const required = which === 'pass_deploy_info' ? ['address', 'key', 'iqn'] : ['address', 'key', 'status'];
      const missing = required.filter((k) => body[k] === undefined || body[k] === '');
      if (missing.length) return send(res, 400, fault(`Parameters ${JSON.stringify(missing)} were not passed to ironic for deploy.`));
      return reply(res, await engine.callback(m[1] as string, which, body.key, body));
    }
    send(res, 404, fault(`no route for ${method} ${path}`));
  }

  function reply(res: ServerResponse, r: { status: number; message: string }): void {
    if (r.status === 202) {
      res.writeHead(202, versionHeaders());
      res.end();
      return;
    }
    send(res, r.status, fault(r.message));
  }
}

function baseHref(req: Req): string {
  const host = req.headers.host ?? 'localhost';
  const full = req.originalUrl ?? req.url ?? '/';
  const rel = req.url ?? '/';
  // Under Express, originalUrl keeps the mount prefix that url lost.
  const prefix = full.endsWith(rel) ? full.slice(0, full.length - rel.length) : '';
  return `http://${host}${prefix}`;
}

/** The version a request asks for (Ironic's rules, see the top of this file), or why it is refused. */
export function negotiate(req: Pick<IncomingMessage, 'headers'>): string | { refused: string } {
  const header = (name: string): string | undefined => {
    const v = req.headers[name];
    return Array.isArray(v) ? v.join(',') : v;
  };
  let asked: string | undefined;
  // The standard header first (its last baremetal entry), then the legacy one (its last value).
  for (const entry of (header('openstack-api-version') ?? '').split(',').reverse()) {
    const [service, v] = entry.trim().split(/\s+/, 2);
    if (service?.toLowerCase() === 'baremetal' && v) {
      asked = v;
      break;
    }
  }
  asked ??= header('x-openstack-ironic-api-version')?.split(',').at(-1)?.trim();
  if (!asked) return MIN_VERSION;
  if (asked.toLowerCase() === 'latest') return MAX_VERSION;
  const m = /^(\d{1,6})\.(\d{1,6})$/.exec(asked);
  if (!m) return { refused: 'Invalid value for X-OpenStack-Ironic-API-Version header' };
  const [major, minor] = [Number(m[1]), Number(m[2])];
  const version = `${major}.${minor}`;
  const range = `The supported version range is: [${MIN_VERSION}, ${MAX_VERSION}].`;
  if (major !== MIN[0]) return { refused: `Mutually exclusive versions requested. Version ${version} requested but not supported by this service. ${range}` };
  if (minor < MIN[1] || minor > MAX[1]) return { refused: `Version ${version} was requested but the minor version is not supported by this service. ${range}` };
  return version;
}

/** Always there; the negotiated version is set on the response once known. */
function versionHeaders(): Record<string, string> {
  return {
    'X-OpenStack-Ironic-API-Minimum-Version': MIN_VERSION,
    'X-OpenStack-Ironic-API-Maximum-Version': MAX_VERSION,
  };
}

function fault(message: string, code: 'Client' | 'Server' = 'Client'): Record<string, unknown> {
  return { faultstring: message, error_message: JSON.stringify({ faultstring: message, faultcode: code, debuginfo: null }) };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...versionHeaders() });
  res.end(text);
}

async function jsonBody(req: Req): Promise<Record<string, unknown> | undefined> {
  let value: unknown = req.body;
  if (value === undefined || (typeof value === 'object' && value !== null && Object.keys(value).length === 0 && !req.readableEnded)) {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) return undefined;
      chunks.push(c as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      value = text ? JSON.parse(text) : {};
    } catch {
      return undefined;
    }
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
