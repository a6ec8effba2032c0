/**
 * JSON instead of Express's HTML error page (which carries the error's
 * stack and the server's paths) for requests that fail before a flow or an
 * admin endpoint sees them. Installed once per Node-RED runtime when the
 * package loads:
 *
 * - an error handler at the end of Node-RED's root Express app: errors from
 *   the admin app's body parser (with httpAdminRoot at `/` it reads every
 *   request's JSON body, the flows' included) and from the router (a URL
 *   that does not decode) reach it, whatever the flows add later. Node-RED's
 *   own http-in node moves its raw-body middleware in that same app's stack.
 * - a JSON body parser at the front of RED.httpNode, before any http-in route
 *   (flows start after the package loads): where the admin app does not read
 *   the body (httpAdminRoot elsewhere), a bad body gets a JSON 4xx instead
 *   of http-in's plain-text 500. A body already read is left alone.
 */
import type { NodeAPI } from 'node-red';
import { jsonBodyParser, jsonErrorHandler, type ErrorMiddleware, type Middleware } from '../../lib/http';

interface ExpressApp {
  use(...handlers: Array<Middleware | ErrorMiddleware>): unknown;
  parent?: ExpressApp;
}

const installed = new WeakSet<object>();

function root(app: ExpressApp): ExpressApp {
  let a = app;
  while (a.parent) a = a.parent;
  return a;
}

export function installJsonErrors(RED: NodeAPI): void {
  const settings = RED.settings as unknown as { apiMaxLength?: string; httpNodeRoot?: unknown; httpAdminRoot?: unknown };
  const limit = typeof settings.apiMaxLength === 'string' ? settings.apiMaxLength : '5mb';
  const node = (settings.httpNodeRoot !== false ? RED.httpNode : undefined) as unknown as ExpressApp | undefined;
  const admin = (settings.httpAdminRoot !== false ? RED.httpAdmin : undefined) as unknown as ExpressApp | undefined;
  const apps = [node, admin].filter((a): a is ExpressApp => typeof a?.use === 'function');
  if (apps.length === 0 || installed.has(apps[0] as object)) return;
  for (const a of apps) installed.add(a);
  const handler = jsonErrorHandler({ limit });
  // Both apps are normally mounted on one root app; where they are not (an embedding application
  // that has not mounted them yet, a test harness), each gets the handler at its end.
  const roots = [...new Set(apps.map(root))];
  for (const r of roots) r.use(handler);
  if (node) node.use(jsonBodyParser({ limit }));
}
