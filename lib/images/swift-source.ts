/**
 * An object in Swift as an image. A plain object's ETag is the md5 of its
 * content and is checked while streaming; a large object's ETag is not, so
 * it is only checked against a checksum given with the reference.
 */
import type { SwiftClient } from '../swift/client';
import { isOpenStackError } from '../swift/errors';
import { StoreError } from '../store/errors';
import type { OpenedImage } from './source';

export async function openSwiftImage(client: SwiftClient, container: string, object: string): Promise<OpenedImage> {
  const what = `swift:${container}/${object}`;
  try {
    const { body, info } = await client.getObject(container, object);
    return {
      stream: body,
      size: Number.isSafeInteger(info.size) ? info.size : undefined,
      checksum: !info.largeObject && info.etag && /^[0-9a-f]{32}$/.test(info.etag) ? { algorithm: 'md5', value: info.etag } : undefined,
      contentType: info.contentType,
      suggestedName: object.split('/').pop() || object,
      what,
    };
  } catch (err) {
    if (isOpenStackError(err, 'not-found')) throw new StoreError('source', `${what}: no such object`, { cause: err });
    throw err;
  }
}
