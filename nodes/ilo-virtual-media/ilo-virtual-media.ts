/**
 * ilo-virtual-media: read, insert or eject the image in a server's virtual
 * CD-ROM or floppy. The image comes from the node or the message; with an
 * ilo-media-store selected it may also be a local file, swift: or glance:
 * image, published through the store first (progress on output 2). The
 * server is fixed (an ilo-config) or taken from msg.server in a fleet.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { checkVirtualMediaRequest, describeDrive, invalidInput, runVirtualMediaAction, type VirtualMediaAction, type VirtualMediaDevice } from '../../lib/bmc';
import type { ImageInput } from '../../lib/images/reference';
import { STATUS, evaluateProperty, pick } from '../common/node-red';
import { handleServerInput, selectionOf, type ServerSelection } from '../common/servers';
import { progressReporter } from '../ilo-media-store/progress';
import type { MediaStoreNode } from '../ilo-media-store/types';
import { needsPublishing, stableObjectName, storeNeeded, ttlOf } from './image-source';

interface IloVirtualMediaDef extends NodeDef, ServerSelection {
  /** An action, or "msg" to take it from msg.action. */
  action: VirtualMediaAction | 'msg';
  /** A device, or "msg" to take it from msg.device. */
  device: VirtualMediaDevice | 'msg';
  url: string;
  urlType: string;
  bootOnce: boolean;
  /** Optional ilo-media-store config node. */
  store?: string;
  /** Publish http(s) URLs through the store too (the iLO then reads from the store). */
  publish?: boolean;
  /** Seconds the published image stays available; empty: the store's default. */
  ttl?: string | number;
}

interface VirtualMediaMessage extends NodeMessageInFlow {
  action?: unknown;
  device?: unknown;
  url?: unknown;
  bootOnce?: unknown;
  server?: unknown;
}

/** Stands in for the image URL while the rest of a request is checked. */
const URL_NOT_YET_KNOWN = 'http://image.invalid/';

export = function register(RED: NodeAPI): void {
  function IloVirtualMedia(this: Node, def: IloVirtualMediaDef): void {
    RED.nodes.createNode(this, def);
    const urlType = def.urlType || 'str';
    const urlField = urlType === 'str' ? 'url' : `${urlType}.${def.url}`;
    const prepare = (msg: VirtualMediaMessage) => {
      const action = pick(def.action, msg.action, 'msg.action', 'action');
      const device = pick(def.device, msg.device, 'msg.device', 'device');
      // Everything but the image is checked before anything is published or any iLO contacted (the URL comes after).
      const request = checkVirtualMediaRequest(
        { action: action.value, device: device.value, url: URL_NOT_YET_KNOWN, bootOnce: msg.bootOnce === undefined ? !!def.bootOnce : msg.bootOnce },
        { action: action.field, device: device.field, url: urlField, bootOnce: msg.bootOnce === undefined ? 'bootOnce' : 'msg.bootOnce' },
      );
      return { action, device, request };
    };
    handleServerInput<VirtualMediaMessage, ReturnType<typeof prepare>>(RED, this, selectionOf(def), prepare, async ({ target, input, msg, send, status }) => {
      const { action, device } = input;
      let request = input.request;
      const store = def.store ? ((RED.nodes.getNode(def.store) as MediaStoreNode | null) ?? undefined) : undefined;
      if (def.store && !store) throw invalidInput('store', 'an ilo-media-store configuration that exists (it was deleted or is disabled)');
      let image = request.action === 'insert' ? await evaluateProperty(RED, def.url ?? '', urlType, this, msg) : undefined;
      let published: Record<string, unknown> | undefined;
      if (request.action === 'insert' && needsPublishing(image, !!def.publish)) {
        if (!store) throw storeNeeded(urlField, image);
        const p = await store.publishImage(image as ImageInput, {
          name: stableObjectName(target.key, request.device),
          ttlSeconds: ttlOf(def.ttl),
          onProgress: progressReporter(this, { topic: target.name, onMessage: (m) => send([null, m]) }),
        });
        published = { name: p.name, expiresAt: p.expiresAt.toISOString(), size: p.size, checksum: p.checksum, verified: p.verified, source: p.source };
        image = p.url;
      }
      request = checkVirtualMediaRequest(
        { action: request.action, device: request.device, url: image, bootOnce: request.bootOnce },
        { action: action.field, device: device.field, url: urlField, bootOnce: msg.bootOnce === undefined ? 'bootOnce' : 'msg.bootOnce' },
      );
      const bmc = await target.getBmc();
      status(STATUS.busy(request.action === 'status' ? 'reading…' : `${request.action} ${request.device}…`));
      const outcome = await runVirtualMediaAction(bmc, request);
      // An ejected drive no longer needs what this node published for it.
      if (request.action === 'eject' && store) {
        const name = stableObjectName(target.key, request.device);
        await store.ready.then((svc) => svc.unpublish(name)).catch((err: Error) => this.warn(`ejected, but removing the published ${name} failed: ${err.message}`));
      }
      const text = describeDrive(outcome.status);
      status(outcome.status.inserted ? (outcome.status.connected ? STATUS.ok(text) : STATUS.busy(text)) : STATUS.idle(text));
      msg.payload = { server: target.name, protocol: bmc.protocol, ...outcome, ...(published ? { published } : {}) };
      if (msg.topic === undefined || msg.topic === '') msg.topic = target.name;
    });
  }

  RED.nodes.registerType('ilo-virtual-media', IloVirtualMedia);
};
