/**
 * The ilo-media-store dialog's "test" button, as an admin endpoint
 * (registered once per runtime, guarded by `ilo-media-store.write`):
 *
 *   POST ilo-media-store/test  { ok, kind, url, usedRunningStore, checks, warnings }
 *                              or { ok: false, code, error, field? }
 *
 * A probe object is published, read back through its URL and removed
 * (lib/images/check.ts). Secrets left as the editor's placeholder are the
 * stored ones of the deployed node `id`, used only with the auth URL that
 * node was deployed with.
 */
import type { NodeAPI } from 'node-red';
import { checkStoreConfig } from '../../lib/images/check';
import type { MediaService } from '../../lib/images/service';
import { AdminError, PASSWORD_PLACEHOLDER, failure, postRoute, text, typedSecret, type AdminReply } from '../common/admin';
import { serviceConfigFromFields, type MediaStoreCredentials, type MediaStoreFields } from './settings';

export const PERMISSION = 'ilo-media-store.write';

const TEXT_FIELDS = [
  'storeType',
  'host',
  'port',
  'publicUrl',
  'tlsCertFile',
  'tlsKeyFile',
  'stateDir',
  'authType',
  'authUrl',
  'userDomain',
  'projectName',
  'projectDomain',
  'region',
  'endpointInterface',
  'caFile',
  'container',
  'tempUrlDigest',
  'tempUrlKeyScope',
  'publicStorageUrl',
  'fileRoots',
  'glanceUrl',
  'defaultTtl',
] as const;
const FLAG_FIELDS = ['tlsInsecure', 'createContainerKey', 'requireChecksum'] as const;
const SECRET_FIELDS = ['password', 'appCredSecret', 'tempUrlKey'] as const;

/** What a deployed ilo-media-store exposes for this check (see ilo-media-store.ts). */
interface DeployedStore {
  type: string;
  credentials?: MediaStoreCredentials;
  ready?: Promise<MediaService>;
  deployedAuthUrl?: string;
}

function fieldsOf(f: Record<string, unknown>): MediaStoreFields {
  const out: Record<string, unknown> = {};
  for (const k of TEXT_FIELDS) out[k] = text(f[k]);
  for (const k of FLAG_FIELDS) out[k] = f[k] === true || f[k] === 'true';
  return out as MediaStoreFields;
}

function deployed(RED: NodeAPI, id: string): DeployedStore | undefined {
  const n = id ? (RED.nodes.getNode(id) as unknown as DeployedStore | null) : null;
  return n && n.type === 'ilo-media-store' ? n : undefined;
}

/**
 * Typed secrets win. A placeholder (or, for the password and application
 * credential secret, an empty field) means "the stored one", which must
 * exist and may only go to the deployed auth URL.
 */
function credentialsFor(f: Record<string, unknown>, fields: MediaStoreFields, node: DeployedStore | undefined, id: string): MediaStoreCredentials {
  const stored = node?.credentials ?? {};
  const out: MediaStoreCredentials = { username: text(f.username) || undefined, appCredId: text(f.appCredId) || undefined };
  for (const k of SECRET_FIELDS) {
    const typed = typedSecret(f[k]);
    if (typed !== undefined) {
      out[k] = typed;
      continue;
    }
    const wantsStored = f[k] === PASSWORD_PLACEHOLDER || neededBy(fields.authType, k);
    if (!wantsStored || !stored[k]) {
      if (f[k] === PASSWORD_PLACEHOLDER) {
        if (!node) throw new AdminError('not-found', `${k}: no deployed media store ${id || '(new)'} holds a stored value; type it, or deploy first`, k);
        throw new AdminError('invalid-input', `${k}: nothing is stored for this media store; type it`, k);
      }
      continue;
    }
    if ((node?.deployedAuthUrl ?? '') !== (fields.authUrl ?? '')) {
      throw new AdminError('invalid-input', `${k}: type it again: the stored one is only used with the deployed auth URL${node?.deployedAuthUrl ? ` ${node.deployedAuthUrl}` : ''}`, k);
    }
    out[k] = stored[k];
  }
  out.username ??= stored.username;
  out.appCredId ??= stored.appCredId;
  return out;
}

/** Whether the auth type sends this secret (so an empty field means "the stored one"). */
function neededBy(authType: string | undefined, k: (typeof SECRET_FIELDS)[number]): boolean {
  if (k === 'password') return authType === 'tempauth' || authType === 'keystone-password';
  if (k === 'appCredSecret') return authType === 'keystone-application-credential';
  return false;
}

export function registerMediaStoreAdmin(RED: NodeAPI): void {
  postRoute(RED, '/ilo-media-store/test', PERMISSION, SECRET_FIELDS, async (f, secret): Promise<AdminReply> => {
    const id = text(f.id);
    const node = deployed(RED, id);
    const fields = fieldsOf(f);
    let running: MediaService | undefined;
    try {
      const creds = credentialsFor(f, fields, node, id);
      for (const k of SECRET_FIELDS) secret(creds[k]);
      const cfg = serviceConfigFromFields(fields, creds, { nodeId: id || 'check', userDir: RED.settings.userDir ?? process.cwd() });
      running = node?.ready ? await node.ready.catch(() => undefined) : undefined;
      const report = await checkStoreConfig(cfg, running);
      return { status: 200, body: { ok: true, ...report } };
    } catch (err) {
      return failure(err);
    }
  });
}
