/**
 * One authenticated identity: logs in when first needed, caches the token,
 * renews it shortly before it expires or when a service answers 401, and
 * finds service endpoints (Swift storage URL, Glance) for it.
 */
import type { Dispatcher } from 'undici';
import { validateAuthConfig, type AuthGrant, type EndpointInterface, type OpenStackAuthConfig } from './auth';
import { OpenStackError } from './errors';
import { findEndpoint, keystoneLogin } from './keystone';
import { tempauthLogin } from './tempauth';

export interface SessionOptions {
  auth: OpenStackAuthConfig;
  agent: Dispatcher;
  /** Which catalog endpoints to use (Keystone): default `public`. */
  interface?: EndpointInterface;
  region?: string;
  /** Renew this long before the token expires (default 300 s, at most a tenth of its life). */
  renewBeforeSeconds?: number;
  now?: () => number;
}

export class OpenStackSession {
  readonly auth: OpenStackAuthConfig;
  readonly stats = { logins: 0 };
  private readonly opts: SessionOptions;
  private readonly now: () => number;
  private current?: AuthGrant;
  private pending?: Promise<AuthGrant>;

  constructor(opts: SessionOptions) {
    this.auth = validateAuthConfig(opts.auth);
    this.opts = opts;
    this.now = opts.now ?? Date.now;
  }

  /** A token believed valid, logging in if needed (one login at a time). */
  async grant(): Promise<AuthGrant> {
    if (this.current && this.fresh(this.current)) return this.current;
    if (!this.pending) {
      this.pending = this.login().finally(() => {
        this.pending = undefined;
      });
    }
    return this.pending;
  }

  /** A service refused `token`: forget it so the next call logs in again. */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }

  /** The URL of a service (`object-store`, `image`) for this identity. */
  async endpoint(type: string): Promise<string> {
    const g = await this.grant();
    const a = this.auth;
    if (a.type === 'token') {
      const url = type === 'object-store' ? a.storageUrl ?? a.endpoints?.[type] : a.endpoints?.[type];
      if (url) return url.replace(/\/+$/, '');
    } else if (type === 'object-store' && g.storageUrl) {
      return g.storageUrl.replace(/\/+$/, '');
    } else if (g.catalog) {
      const url = findEndpoint(g.catalog, type, this.opts.interface ?? 'public', this.opts.region);
      if (url) return url;
    }
    const where = this.opts.region ? ` in region ${this.opts.region}` : '';
    throw new OpenStackError(
      a.type.startsWith('keystone') ? 'keystone' : 'swift',
      'config',
      `no ${this.opts.interface ?? 'public'} "${type}" endpoint${where} is known for this identity; give its URL explicitly`,
    );
  }

  private fresh(g: AuthGrant): boolean {
    if (g.expiresAt === undefined) return true;
    const life = g.expiresAt - g.issuedAt;
    const margin = Math.min((this.opts.renewBeforeSeconds ?? 300) * 1000, life / 10);
    return this.now() < g.expiresAt - margin;
  }

  private async login(): Promise<AuthGrant> {
    const a = this.auth;
    let g: AuthGrant;
    if (a.type === 'token') g = { token: a.token, issuedAt: this.now(), storageUrl: a.storageUrl };
    else if (a.type === 'tempauth') g = await tempauthLogin(this.opts.agent, a, this.now);
    else g = await keystoneLogin(this.opts.agent, a, this.now);
    this.stats.logins++;
    this.current = g;
    return g;
  }
}
