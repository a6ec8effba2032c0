/**
 * The editor's fields (strings, checkboxes) and the credential store's
 * secrets, turned into a MediaServiceConfig. Errors name the editor field.
 */
import { join } from 'node:path';
import type { MediaServiceConfig } from '../../lib/images/service';
import { StoreError } from '../../lib/store/errors';
import type { EndpointInterface, OpenStackAuthConfig } from '../../lib/swift/auth';
import type { TempUrlDigest } from '../../lib/swift/tempurl';

/** What the editor saves (node.defaults in ilo-media-store.html). */
export interface MediaStoreFields {
  storeType?: string;
  host?: string;
  port?: string | number;
  publicUrl?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  stateDir?: string;
  authType?: string;
  authUrl?: string;
  userDomain?: string;
  projectName?: string;
  projectDomain?: string;
  region?: string;
  endpointInterface?: string;
  caFile?: string;
  tlsInsecure?: boolean;
  container?: string;
  tempUrlDigest?: string;
  tempUrlKeyScope?: string;
  createContainerKey?: boolean;
  publicStorageUrl?: string;
  fileRoots?: string;
  glanceUrl?: string;
  requireChecksum?: boolean;
  defaultTtl?: string | number;
}

/** What the credential store keeps (never in the flow). */
export interface MediaStoreCredentials {
  username?: string;
  password?: string;
  appCredId?: string;
  appCredSecret?: string;
  tempUrlKey?: string;
}

const bad = (field: string, expected: string): StoreError => new StoreError('invalid-input', `${field}: expected ${expected}`, { field });
const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');

function wholeNumber(v: unknown, field: string, min: number, max: number, fallback: number): number {
  if (v === undefined || v === '') return fallback;
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isInteger(n) || n < min || n > max) throw bad(field, `a whole number from ${min} to ${max} (got ${JSON.stringify(v)})`);
  return n;
}

export function serviceConfigFromFields(f: MediaStoreFields, c: MediaStoreCredentials, ctx: { nodeId: string; userDir: string }): MediaServiceConfig {
  const store = text(f.storeType) || 'builtin';
  if (store !== 'builtin' && store !== 'swift') throw bad('storeType', '"builtin" or "swift"');
  const cfg: MediaServiceConfig = {
    store,
    defaultTtlSeconds: wholeNumber(f.defaultTtl, 'defaultTtl', 1, 10 * 366 * 86400, 900),
    images: {
      fileRoots: text(f.fileRoots)
        .split(/[\n,]/)
        .map((s) => s.trim())
        .filter(Boolean),
      glanceUrl: text(f.glanceUrl) || undefined,
      requireChecksum: f.requireChecksum === true,
    },
  };
  if (store === 'builtin') {
    cfg.builtin = {
      stateDir: text(f.stateDir) || join(ctx.userDir, 'ilo-media-store', ctx.nodeId.replace(/[^A-Za-z0-9_-]/g, '_')),
      host: text(f.host) || '0.0.0.0',
      port: wholeNumber(f.port, 'port', 0, 65535, 8089),
      publicUrl: text(f.publicUrl) || undefined,
      tlsCertFile: text(f.tlsCertFile) || undefined,
      tlsKeyFile: text(f.tlsKeyFile) || undefined,
    };
  }
  const auth = authFrom(f, c);
  if (auth) {
    const iface = text(f.endpointInterface) || 'public';
    if (!['public', 'internal', 'admin'].includes(iface)) throw bad('endpointInterface', 'public, internal or admin');
    cfg.openstack = { auth, region: text(f.region) || undefined, interface: iface as EndpointInterface, caFile: text(f.caFile) || undefined, insecure: f.tlsInsecure === true };
  }
  if (store === 'swift') {
    const scope = text(f.tempUrlKeyScope) || 'account';
    if (scope !== 'account' && scope !== 'container') throw bad('tempUrlKeyScope', '"account" or "container"');
    cfg.swift = {
      container: text(f.container) || 'ilo_media',
      tempUrlDigest: (text(f.tempUrlDigest) || 'sha256') as TempUrlDigest,
      tempUrlKeyScope: scope,
      tempUrlKey: c.tempUrlKey || undefined,
      createContainerKey: f.createContainerKey === true,
      publicStorageUrl: text(f.publicStorageUrl) || undefined,
    };
  }
  return cfg;
}

function authFrom(f: MediaStoreFields, c: MediaStoreCredentials): OpenStackAuthConfig | undefined {
  const type = text(f.authType) || 'none';
  const need = (v: string | undefined, field: string, what: string): string => {
    if (!v) throw bad(field, what);
    return v;
  };
  switch (type) {
    case 'none':
      return undefined;
    case 'tempauth':
      return {
        type,
        authUrl: need(text(f.authUrl), 'authUrl', 'the tempauth URL, e.g. http://swift:8080/auth/v1.0'),
        user: need(text(c.username), 'username', '"account:user"'),
        key: need(c.password, 'password', 'the tempauth key'),
      };
    case 'keystone-password':
      return {
        type,
        authUrl: need(text(f.authUrl), 'authUrl', 'the Keystone URL, e.g. https://keystone:5000/v3'),
        username: need(text(c.username), 'username', 'a Keystone user name'),
        password: need(c.password, 'password', "the user's password"),
        userDomainName: text(f.userDomain) || 'Default',
        projectName: need(text(f.projectName), 'projectName', 'the project to work in'),
        projectDomainName: text(f.projectDomain) || text(f.userDomain) || 'Default',
      };
    case 'keystone-application-credential':
      return {
        type,
        authUrl: need(text(f.authUrl), 'authUrl', 'the Keystone URL, e.g. https://keystone:5000/v3'),
        applicationCredentialId: need(text(c.appCredId), 'appCredId', 'the application credential id'),
        applicationCredentialSecret: need(c.appCredSecret, 'appCredSecret', 'the application credential secret'),
      };
    default:
      throw bad('authType', 'none, tempauth, keystone-password or keystone-application-credential');
  }
}
