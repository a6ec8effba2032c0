/**
 * The HTTPS face of one simulated iLO. RIBCL is answered at POST /ribcl;
 * other protocols register routes. Every reply says `Connection: close`, as
 * the recorded iLO does, and faults are applied before the handler runs.
 * TLS: an iLO 4 negotiates TLS 1.2 at most (its firmware has no TLS 1.3);
 * session resumption (tickets) is on unless turned off, so clients can be
 * measured against an iLO that resumes and one that does not.
 */
import { constants as cryptoConstants } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { CertPair } from './certs';
import type { SimFault } from './faults';
import { commandsIn, handleRibcl } from './ribcl/handler';
import { chunkBody } from './ribcl/render';
import { parseRibclRequest } from './ribcl/request';
import type { SimServer } from './server';

export interface RouteContext {
  server: SimServer;
  req: IncomingMessage;
  res: ServerResponse;
  body: Buffer;
  url: URL;
}

export type RouteHandler = (ctx: RouteContext) => Promise<void> | void;

interface Route {
  method: string;
  prefix: string;
  handler: RouteHandler;
}

const MAX_BODY = 1024 * 1024;

/** Routes shared by every simulated iLO (added by later protocol modules). */
const extraRoutes: Route[] = [];

export function registerIloRoute(method: string, prefix: string, handler: RouteHandler): void {
  extraRoutes.push({ method, prefix, handler });
}

export interface IloEndpointOptions {
  /** Resume TLS sessions (default true). Off: every connection is a full handshake. */
  tlsResumption?: boolean;
}

export class IloEndpoint {
  private httpsServer?: Server;
  private readonly sockets = new Set<Socket>();
  host = '127.0.0.1';
  port = 0;

  constructor(
    readonly server: SimServer,
    private readonly cert: CertPair,
    private readonly options: IloEndpointOptions = {},
  ) {}

  async listen(port = 0, host = '127.0.0.1'): Promise<void> {
    const tls = {
      key: this.cert.key,
      cert: this.cert.cert,
      ...(this.server.model.managerType === 'iLO 4' ? { maxVersion: 'TLSv1.2' as const } : {}),
      // Without tickets a Node server resumes nothing (it keeps no session cache).
      ...(this.options.tlsResumption === false ? { secureOptions: cryptoConstants.SSL_OP_NO_TICKET } : {}),
    };
    const srv = createServer(tls, (req, res) => {
      void this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain', connection: 'close' });
          res.end(`simulator error: ${(err as Error).message}`);
        } else res.destroy();
      });
    });
    srv.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    srv.on('tlsClientError', () => undefined);
    // RIBCL replies close the connection; Redfish keeps it, as iLO 5 does.
    srv.keepAliveTimeout = 15_000;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, host, () => {
        srv.off('error', reject);
        resolve();
      });
    });
    this.httpsServer = srv;
    this.host = host;
    this.port = (srv.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const srv = this.httpsServer;
    if (!srv) return;
    this.httpsServer = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const server = this.server;
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'https://ilo.sim');
    if (url.pathname !== '/sim/stats') {
      server.requests.total++;
      server.clients.push({ at: Date.now(), from: (req.socket.remoteAddress ?? '?').replace(/^::ffff:/, ''), what: `${req.method} ${url.pathname}` });
      if (server.clients.length > 10_000) server.clients.shift();
    }
    if (req.method === 'POST' && url.pathname === '/ribcl') {
      server.requests.ribcl++;
      const xml = body.toString('latin1');
      const parsed = parseRibclRequest(xml);
      const fault = server.faults.take(parsed.ok ? commandsIn(parsed.roots) : []);
      if (fault && (await this.applyTransportFault(fault, req, res))) return;
      const forced = fault?.kind === 'error' ? { status: fault.status, message: fault.message } : undefined;
      const result = await handleRibcl(server, xml, forced);
      let out = result.body;
      // A reply cut short inside a document: what a crashing web server sends.
      if (fault?.kind === 'malformed') out = out.slice(0, Math.floor(out.length / 3));
      writeChunked(res, out);
      return;
    }
    if (req.method === 'GET' && url.pathname === '/sim/stats') {
      // Simulator-only: lets a benchmark in another process count requests.
      res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ name: server.name, requests: server.requests, power: server.powerState }));
      return;
    }
    for (const route of extraRoutes) {
      if (req.method === route.method && url.pathname.startsWith(route.prefix)) {
        await route.handler({ server, req, res, body, url });
        return;
      }
    }
    res.writeHead(404, { 'content-type': 'text/html', connection: 'close' });
    res.end('<html><body>404 Not Found</body></html>');
  }

  /** Returns true when the fault took over the exchange. */
  private async applyTransportFault(fault: SimFault, req: IncomingMessage, _res: ServerResponse): Promise<boolean> {
    switch (fault.kind) {
      case 'latency':
        await new Promise((r) => setTimeout(r, fault.ms));
        return false;
      case 'reset':
        req.socket.destroy();
        return true;
      case 'hang':
        return true; // never answer; the socket is destroyed when the endpoint closes
      default:
        return false;
    }
  }
}

function writeChunked(res: ServerResponse, body: string): void {
  res.writeHead(200, {
    'content-type': 'text/xml',
    'cache-control': 'no-cache',
    expires: 'Thu, 26 Oct 1995 00:00:00 GMT',
    server: 'Allegro-Software-RomPager/4.62',
    connection: 'close',
  });
  for (const piece of chunkBody(body)) res.write(piece, 'latin1');
  res.end();
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
