/** What other nodes see of an `ilo-media-store` config node (via RED.nodes.getNode). */
import type { Node } from 'node-red';
import type { PublishedImage } from '../../lib/images/publish';
import type { ImageInput } from '../../lib/images/reference';
import type { MediaService, ServicePublishOptions } from '../../lib/images/service';
import type { MediaStoreCredentials } from './settings';

export interface MediaStoreNode extends Node<MediaStoreCredentials> {
  /** Resolves once the store is open (rejects with the configuration error). */
  ready: Promise<MediaService>;
  /** Resolves an image reference, verifies it, publishes it; the URL is for the iLO. */
  publishImage(image: ImageInput, opts?: ServicePublishOptions): Promise<PublishedImage>;
  /** The auth URL it was deployed with: the only one its stored secrets are sent to by the dialog's test. */
  deployedAuthUrl: string;
}
