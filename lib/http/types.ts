/**
 * The slice of an Express/Connect request and response the middleware here
 * uses: Node's own http types plus what Express's body parsers add. No
 * Express import (lib/ has no web framework dependency).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type Request = IncomingMessage & {
  /** Set by a body parser. */
  body?: unknown;
  /** Set by body parsers once the body was read (body-parser's convention). */
  _body?: boolean;
  /** Express: the path below the mount point. */
  path?: string;
};
export type Response = ServerResponse;
export type Next = (err?: unknown) => void;
export type Middleware = (req: Request, res: Response, next: Next) => void;
export type ErrorMiddleware = (err: unknown, req: Request, res: Response, next: Next) => void;

/** Answers `status` with a JSON body (no stack, no path, nothing from the server's files). */
export function sendJson(res: Response, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.setHeader('cache-control', 'no-store');
  res.end(text);
}
