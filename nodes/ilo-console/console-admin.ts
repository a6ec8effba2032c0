/**
 * The editor's way to the consoles, behind permissions of their own:
 *
 *   GET  ilo-console/servers  (ilo-console.read)  the deployed servers with a console
 *   POST ilo-console/ticket   (ilo-console.read)  { server } -> { ticket, write }: a
 *        single-use ticket (30 s) for the websocket; `write` when the user
 *        also has ilo-console.write
 *   WS   ilo-console/socket?ticket=…  the terminal: binary frames are output
 *        (server to browser) and keystrokes (browser to server, writer only);
 *        text frames are JSON control messages (status, writer, resize,
 *        break, take, release, reconnect)
 *
 * Authentication is Node-RED's own: the ticket route runs behind
 * RED.auth.needsPermission like every admin route, so the websocket (which
 * a browser cannot give an Authorization header) accepts only what an
 * authenticated request with the permission obtained moments before.
 * Credentials never leave the runtime: the browser names a server by key.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { NodeAPI } from 'node-red';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { ConsoleAttachment, ConsoleStatus, WriterInfo } from '../../lib/console';
import { consoleHub, consoleServers, resolveConsoleTarget } from '../common/console';

export const READ = 'ilo-console.read';
export const WRITE = 'ilo-console.write';
const TICKET_TTL_MS = 30_000;
/** A viewer this far behind is disconnected (it reconnects and gets the recent screen again). */
const MAX_BUFFERED = 4 * 1024 * 1024;

interface Ticket {
  key: string;
  write: boolean;
  user: string;
  expires: number;
}

interface AdminRequest extends IncomingMessage {
  body?: unknown;
  user?: { username?: string };
}
interface AdminResponse {
  status(code: number): AdminResponse;
  json(body: unknown): void;
}

const tickets = new Map<string, Ticket>();
const hooked = new WeakSet<object>();

/** Whether the request's user has `permission`, asked of Node-RED's own middleware. */
function hasPermission(RED: NodeAPI, req: AdminRequest, permission: string): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (v: boolean): void => {
      if (!settled) {
        settled = true;
        resolve(v);
      }
    };
    // A response that only records the refusal (Node-RED answers 401 through status().end()).
    const res = {
      statusCode: 200,
      status: () => res,
      setHeader: () => res,
      set: () => res,
      end: () => settle(false),
      send: () => settle(false),
      json: () => settle(false),
    };
    const middleware = RED.auth.needsPermission(permission) as unknown as (req: unknown, res: unknown, next: () => void) => void;
    middleware(req, res, () => settle(true));
  });
}

function userName(req: AdminRequest): string {
  return typeof req.user?.username === 'string' && req.user.username ? req.user.username : 'an editor user';
}

function adminPath(RED: NodeAPI, suffix: string): string | undefined {
  const root = (RED.settings as unknown as { httpAdminRoot?: string | false }).httpAdminRoot;
  if (root === false) return undefined;
  const r = root ?? '/';
  return `${r.startsWith('/') ? '' : '/'}${r}${r.endsWith('/') ? '' : '/'}${suffix}`;
}

export function registerConsoleAdmin(RED: NodeAPI): void {
  RED.httpAdmin.get('/ilo-console/servers', RED.auth.needsPermission(READ), (_req, res) => {
    (res as unknown as AdminResponse).json({ servers: consoleServers(RED) });
  });

  RED.httpAdmin.post('/ilo-console/ticket', RED.auth.needsPermission(READ), (req, res) => {
    const r = req as unknown as AdminRequest;
    const out = res as unknown as AdminResponse;
    const body = (typeof r.body === 'object' && r.body !== null ? r.body : {}) as { server?: unknown };
    const key = typeof body.server === 'string' ? body.server : '';
    if (!key || !resolveConsoleTarget(RED, key)) {
      out.status(404).json({ ok: false, code: 'not-found', error: `server: no deployed server "${key}" has a console` });
      return;
    }
    hasPermission(RED, r, WRITE)
      .then((write) => {
        const now = Date.now();
        for (const [t, v] of tickets) if (v.expires < now) tickets.delete(t);
        const ticket = randomBytes(32).toString('base64url');
        tickets.set(ticket, { key, write, user: userName(r), expires: now + TICKET_TTL_MS });
        out.json({ ok: true, ticket, write });
      })
      .catch((err: unknown) => out.status(500).json({ ok: false, code: 'other', error: `the console ticket could not be issued: ${(err as Error)?.message ?? String(err)}` }));
  });

  const path = adminPath(RED, 'ilo-console/socket');
  const server = (RED as unknown as { server?: { on(e: 'upgrade', f: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): void } }).server;
  if (!path || !server || hooked.has(server)) return;
  hooked.add(server);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== path) return; // another listener's (Node-RED's comms, websocket nodes)
    const t = url.searchParams.get('ticket') ?? '';
    const ticket = tickets.get(t);
    tickets.delete(t);
    if (!ticket || ticket.expires < Date.now() || !resolveConsoleTarget(RED, ticket.key)) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveViewer(RED, ws, ticket));
  });
}

function serveViewer(RED: NodeAPI, ws: WebSocket, ticket: Ticket): void {
  let att: ConsoleAttachment;
  try {
    att = consoleHub(RED).attach(ticket.key, { name: ticket.user, kind: 'viewer', canWrite: ticket.write });
  } catch (err) {
    ws.close(1011, (err as Error).message.slice(0, 120));
    return;
  }
  const sc = att.console;
  const control = (m: Record<string, unknown>): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
  };
  const writerOf = (w: WriterInfo | undefined): Record<string, unknown> | null => (w ? { name: w.name, you: w.id === att.id } : null);
  const onData = (d: Buffer): void => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) return void ws.close(1013, 'too far behind');
    ws.send(d, { binary: true });
  };
  const onStatus = (s: ConsoleStatus): void => control({ type: 'status', status: s });
  const onWriter = (w: WriterInfo | undefined): void => control({ type: 'writer', writer: writerOf(w) });
  control({ type: 'hello', server: { key: ticket.key, label: sc.label }, canWrite: ticket.write, status: sc.status, writer: writerOf(sc.writer) });
  const history = att.history();
  if (history.length > 0) ws.send(history, { binary: true });
  sc.on('data', onData);
  sc.on('status', onStatus);
  sc.on('writer', onWriter);

  const refuse = (err: unknown): void => control({ type: 'error', code: (err as { code?: string }).code ?? 'error', message: (err as Error).message });
  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) {
      att.write(Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data as ArrayBuffer)])).catch(refuse);
      return;
    }
    let m: { type?: unknown; cols?: unknown; rows?: unknown; force?: unknown };
    try {
      m = JSON.parse(String(data)) as typeof m;
    } catch {
      return;
    }
    try {
      if (m.type === 'resize') att.resize(Number(m.cols), Number(m.rows));
      else if (m.type === 'break') att.sendBreak().catch(refuse);
      else if (m.type === 'take') att.takeWriter();
      else if (m.type === 'release') att.releaseWriter();
      else if (m.type === 'reconnect') {
        if (m.force === true && !ticket.write) throw Object.assign(new Error('taking over the serial port needs the ilo-console.write permission'), { code: 'permission' });
        att.reconnect(m.force === true);
      }
    } catch (err) {
      refuse(err);
    }
  });
  // A viewer whose network died is noticed within a minute.
  let alive = true;
  ws.on('pong', () => (alive = true));
  const ping = setInterval(() => {
    if (!alive) return void ws.terminate();
    alive = false;
    ws.ping();
  }, 30_000);
  ping.unref();
  ws.on('error', () => undefined);
  ws.on('close', () => {
    clearInterval(ping);
    sc.off('data', onData);
    sc.off('status', onStatus);
    sc.off('writer', onWriter);
    att.detach();
  });
}
