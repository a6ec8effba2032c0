/**
 * Middleware for Node-RED's settings.js (`httpAdminMiddleware`,
 * `httpNodeMiddleware`) that keep the HTTP API to the clients meant to use
 * it. See the README, "Securing the HTTP API".
 *
 * - `refuseCrossOrigin()`: refuses a request a web page of another origin
 *   makes a browser send (its `Origin` names another host, or its
 *   `Sec-Fetch-Site` says cross-site), and, with `hosts`, a request for a
 *   Host name not listed (DNS rebinding). Programs (curl, a ramdisk calling
 *   back) send neither header and pass; so does a link followed to the editor.
 *   Node-RED's admin app answers every request under httpAdminRoot with
 *   `Access-Control-Allow-Origin: *`, and with both roots at `/` that covers
 *   the flows' endpoints too: this refusal is what stops a page elsewhere.
 * - `basicAuth()`: HTTP basic authentication for the flows' endpoints. Put it
 *   in `httpNodeMiddleware`, not `httpNodeAuth`: httpNodeAuth also covers the
 *   deploy ramdisks' call-back API, which they cannot authenticate to (it
 *   checks each deploy's own token instead).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { sendJson, type Middleware } from './types';

export interface CrossOriginOptions {
  /** Origins allowed besides the request's own (e.g. "https://dashboard.example.com"). */
  allowOrigins?: string[];
  /** When set, only these Host header values ("127.0.0.1:1880", "nodered.example.com") are served. */
  hosts?: string[];
}

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return undefined;
  }
}

export function refuseCrossOrigin(options: CrossOriginOptions = {}): Middleware {
  const allowed = new Set((options.allowOrigins ?? []).map((o) => o.replace(/\/+$/, '').toLowerCase()));
  const hosts = options.hosts ? new Set(options.hosts.map((h) => h.toLowerCase())) : undefined;
  return function iloDeployRefuseCrossOrigin(req, res, next) {
    const host = String(req.headers.host ?? '').toLowerCase();
    if (hosts && !hosts.has(host)) {
      return sendJson(res, 421, { error: `host: ${JSON.stringify(host)} is not a name this server answers to`, code: 'forbidden' });
    }
    const origin = req.headers.origin;
    if (typeof origin === 'string' && !allowed.has(origin.replace(/\/+$/, '').toLowerCase()) && originHost(origin) !== host) {
      res.removeHeader('access-control-allow-origin');
      return sendJson(res, 403, { error: `cross-origin request refused (from ${origin.slice(0, 100)})`, code: 'forbidden' });
    }
    const site = req.headers['sec-fetch-site'];
    const navigation = req.headers['sec-fetch-mode'] === 'navigate' && (req.method === 'GET' || req.method === 'HEAD');
    if ((site === 'cross-site' || site === 'same-site') && origin === undefined && !navigation) {
      res.removeHeader('access-control-allow-origin');
      return sendJson(res, 403, { error: 'cross-origin request refused', code: 'forbidden' });
    }
    next();
  };
}

export interface BasicAuthOptions {
  user: string;
  /** The password (read it from the environment or a file rather than writing it into settings.js). */
  password: string;
  /** Realm shown by browsers. */
  realm?: string;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export function basicAuth(options: BasicAuthOptions): Middleware {
  if (!options.user || !options.password) throw new Error('basicAuth: user and password are required');
  const want = digest(`${options.user}:${options.password}`);
  const realm = (options.realm ?? 'Node-RED').replace(/"/g, '');
  return function iloDeployBasicAuth(req, res, next) {
    // Preflights carry no credentials (refuseCrossOrigin answers those from elsewhere).
    if (req.method === 'OPTIONS') return next();
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(String(req.headers.authorization ?? ''));
    const given = m ? Buffer.from(m[1] as string, 'base64').toString('utf8') : '';
    if (m && timingSafeEqual(digest(given), want)) return next();
    res.setHeader('www-authenticate', `Basic realm="${realm}", charset="UTF-8"`);
    sendJson(res, 401, { error: 'authentication required', code: 'unauthorized' });
  };
}
