/**
 * HTTP middleware for Node-RED: JSON errors for requests that fail before a
 * flow sees them, and guards for settings.js (same-origin, basic auth).
 */
export { clientErrorReply, jsonBodyParser, jsonErrorHandler, parseSize, type HttpErrorReply } from './json-errors';
export { basicAuth, refuseCrossOrigin, type BasicAuthOptions, type CrossOriginOptions } from './guards';
export type { ErrorMiddleware, Middleware } from './types';
