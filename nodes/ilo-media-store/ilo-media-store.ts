/**
 * Config node `ilo-media-store`: where deploy media lives for the iLOs.
 * It owns one media store (the built-in HTTP(S) server, or Swift with temp
 * URLs) and the image sources it may read, and closes them on redeploy.
 * Other nodes call `publishImage()` / `publish()` / `unpublish()` on it.
 * The module also serves the dialog's "test" button (admin.ts).
 */
import type { NodeAPI, NodeDef } from 'node-red';
import { MediaService } from '../../lib/images/service';
import { registerMediaStoreAdmin } from './admin';
import { serviceConfigFromFields, type MediaStoreCredentials, type MediaStoreFields } from './settings';
import type { MediaStoreNode } from './types';

type MediaStoreDef = NodeDef & MediaStoreFields;

export = function register(RED: NodeAPI): void {
  function IloMediaStore(this: MediaStoreNode, def: MediaStoreDef): void {
    RED.nodes.createNode(this, def);
    // Where the stored secrets may be sent by the dialog's test button (see admin.ts).
    this.deployedAuthUrl = String(def.authUrl ?? '').trim();
    const logger = { warn: (m: string) => this.warn(m), info: (m: string) => this.log(m) };
    this.ready = (async () => {
      const cfg = serviceConfigFromFields(def, this.credentials ?? {}, { nodeId: this.id, userDir: RED.settings.userDir ?? process.cwd() });
      return MediaService.open({ ...cfg, logger });
    })();
    this.ready.then(
      (svc) => this.log(`media store ready: ${svc.store.kind}${svc.store.kind === 'builtin' ? ` at ${(svc.store as { url?: string }).url}` : ''}`),
      (err: Error) => this.error(`media store not started: ${err.message}`),
    );
    this.publishImage = async (image, opts) => (await this.ready).publishImage(image, opts);

    // Redeploy or removal: stop serving and release the port and the state directory.
    this.on('close', (_removed: boolean, done: () => void) => {
      this.ready
        .then((svc) => svc.close())
        .catch(() => undefined)
        .finally(done);
    });
  }

  RED.nodes.registerType<MediaStoreNode, MediaStoreDef, unknown, MediaStoreCredentials>('ilo-media-store', IloMediaStore, {
    credentials: {
      username: { type: 'text' },
      password: { type: 'password' },
      appCredId: { type: 'text' },
      appCredSecret: { type: 'password' },
      tempUrlKey: { type: 'password' },
    },
  });
  registerMediaStoreAdmin(RED);
};
