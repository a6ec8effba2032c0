/**
 * How to authenticate to Swift (and Glance): the accepted configurations,
 * checked field by field, and the grant a login yields.
 */
import { invalidOpenStackInput } from './errors';

export type EndpointInterface = 'public' | 'internal' | 'admin';

/** tempauth / swauth (auth v1): `GET <authUrl>` with X-Auth-User and X-Auth-Key. */
export interface TempauthConfig {
  type: 'tempauth';
  /** e.g. http://swift:8080/auth/v1.0 */
  authUrl: string;
  /** `account:user`, e.g. `test:tester`. */
  user: string;
  key: string;
}

/** Keystone v3 with a user's password, scoped to a project. */
export interface KeystonePasswordConfig {
  type: 'keystone-password';
  /** e.g. http://keystone:5000/v3 (`/v3` is added when missing). */
  authUrl: string;
  username: string;
  password: string;
  /** Default `Default`. */
  userDomainName?: string;
  /** The project to scope to, by name (with its domain) or by id. */
  projectName?: string;
  projectId?: string;
  /** Default: the user's domain. */
  projectDomainName?: string;
}

/** Keystone v3 application credential (already bound to a project). */
export interface KeystoneAppCredentialConfig {
  type: 'keystone-application-credential';
  authUrl: string;
  applicationCredentialId: string;
  applicationCredentialSecret: string;
}

/** A token obtained elsewhere, with the endpoints to use it at. */
export interface PresetTokenConfig {
  type: 'token';
  token: string;
  /** Swift storage URL (…/v1/AUTH_<account>). */
  storageUrl?: string;
  /** Other endpoints by service type, e.g. `{ image: 'http://glance:9292' }`. */
  endpoints?: Record<string, string>;
}

export type OpenStackAuthConfig = TempauthConfig | KeystonePasswordConfig | KeystoneAppCredentialConfig | PresetTokenConfig;

export const AUTH_TYPES = ['tempauth', 'keystone-password', 'keystone-application-credential', 'token'] as const;

export interface CatalogEndpoint {
  interface: string;
  region?: string | null;
  region_id?: string | null;
  url: string;
}
export interface CatalogService {
  type: string;
  name?: string;
  endpoints: CatalogEndpoint[];
}

/** What a login yields. */
export interface AuthGrant {
  token: string;
  /** When the token stops working (ms since the epoch), when the server said. */
  expiresAt?: number;
  /** When it was issued (ms since the epoch, our clock). */
  issuedAt: number;
  /** Swift storage URL, when the auth system tells it (tempauth). */
  storageUrl?: string;
  /** Keystone's service catalog. */
  catalog?: CatalogService[];
  projectId?: string;
}

/** Checks a configuration; every error names the field (`<prefix>.authUrl`, …). */
export function validateAuthConfig(cfg: unknown, prefix = 'auth'): OpenStackAuthConfig {
  const bad = (field: string, expected: string, got?: unknown): Error => invalidOpenStackInput('swift', `${prefix}.${field}`, expected, got);
  if (typeof cfg !== 'object' || cfg === null) throw invalidOpenStackInput('swift', prefix, 'an object with a "type"', cfg);
  const c = cfg as Record<string, unknown>;
  const text = (field: string, required = true): void => {
    const v = c[field];
    if (v === undefined && !required) return;
    if (typeof v !== 'string' || v.trim() === '') throw bad(field, 'a non-empty string', v === undefined ? undefined : typeof v === 'string' ? v : typeof v);
  };
  const url = (field: string, required = true): void => {
    text(field, required);
    const v = c[field];
    if (v === undefined) return;
    let u: URL;
    try {
      u = new URL(v as string);
    } catch {
      throw bad(field, 'an http:// or https:// URL');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw bad(field, 'an http:// or https:// URL', u.protocol);
    if (u.username || u.password) throw bad(field, 'a URL without credentials in it');
  };
  switch (c.type) {
    case 'tempauth':
      url('authUrl');
      text('user');
      if (!String(c.user).includes(':')) throw bad('user', '"account:user", e.g. "test:tester"');
      text('key');
      break;
    case 'keystone-password':
      url('authUrl');
      text('username');
      text('password');
      text('userDomainName', false);
      text('projectName', false);
      text('projectId', false);
      text('projectDomainName', false);
      if (c.projectName === undefined && c.projectId === undefined) throw bad('projectName', 'a project name or projectId to scope the token to');
      break;
    case 'keystone-application-credential':
      url('authUrl');
      text('applicationCredentialId');
      text('applicationCredentialSecret');
      break;
    case 'token':
      text('token');
      url('storageUrl', false);
      break;
    default:
      throw bad('type', `one of ${AUTH_TYPES.join(', ')}`, c.type);
  }
  return cfg as OpenStackAuthConfig;
}
