/**
 * publishImage: resolve an image reference, stream it into a media store
 * while checking its size and checksum, and return the URL for the iLO.
 * A mismatch fails the publish and leaves nothing published.
 */
import type { Dispatcher } from 'undici';
import type { SwiftClient } from '../swift/client';
import { createHttpAgent } from '../swift/http';
import { StoreError, invalidStoreInput } from '../store/errors';
import { checkObjectName, sanitiseObjectName } from '../store/names';
import type { ProgressListener } from '../store/progress';
import type { MediaStore, Published } from '../store/types';
import { openFileImage } from './file-source';
import { openGlanceImage, type GlanceClient } from './glance';
import { openUrlImage } from './http-source';
import { parseImage, type Checksum, type ImageInput, type ImageSpec } from './reference';
import type { OpenedImage } from './source';
import { openSwiftImage } from './swift-source';
import { VerifyingStream } from './verify';

export interface ImageSources {
  /** Directories local image files may be read from. None: no local files. */
  fileRoots?: readonly string[];
  /** Agent for http(s) images (its TLS trust). Default: one that verifies TLS. */
  http?: Dispatcher;
  /** For swift:container/object images. */
  swift?: SwiftClient;
  /** For glance:<id> images. */
  glance?: GlanceClient;
}

export interface PublishImageOptions {
  ttlSeconds: number;
  /** Object name; default: the reference's `name`, else one made from the source's file name. */
  name?: string;
  onProgress?: ProgressListener;
  sources?: ImageSources;
  /** Refuse images with no checksum to check (given, or vouched for by Glance/Swift). */
  requireChecksum?: boolean;
  contentType?: string;
}

export interface PublishedImage extends Published {
  /** The checksum of what was published (verified when one was expected). */
  checksum: Checksum;
  verified: boolean;
  /** Where it came from (no secrets). */
  source: string;
}

export async function openImage(spec: ImageSpec, sources: ImageSources = {}, field = 'image'): Promise<OpenedImage> {
  const s = spec.source;
  switch (s.kind) {
    case 'file':
      return openFileImage(s.path, sources.fileRoots, `${field}.file`);
    case 'url': {
      const agent = sources.http ?? createHttpAgent();
      try {
        const opened = await openUrlImage(s.url, agent);
        if (!sources.http) opened.stream.once('close', () => void (agent as Dispatcher).close().catch(() => undefined));
        return opened;
      } catch (err) {
        if (!sources.http) await agent.close().catch(() => undefined);
        throw err;
      }
    }
    case 'swift':
      if (!sources.swift) throw new StoreError('not-allowed', `${field}: swift: images need Swift credentials in the store configuration`, { field });
      return openSwiftImage(sources.swift, s.container, s.object);
    case 'glance':
      if (!sources.glance) throw new StoreError('not-allowed', `${field}: glance: images need Keystone credentials in the store configuration`, { field });
      return openGlanceImage(sources.glance, s.id);
  }
}

export async function publishImage(store: MediaStore, image: ImageInput, opts: PublishImageOptions): Promise<PublishedImage> {
  const spec = parseImage(image);
  const name = opts.name ?? spec.name;
  if (name !== undefined) checkObjectName(name, opts.name !== undefined ? 'name' : 'image.name');
  const opened = await openImage(spec, opts.sources);
  try {
    if (spec.size !== undefined && opened.size !== undefined && spec.size !== opened.size) {
      throw new StoreError('size', `${opened.what} is ${opened.size} bytes, the reference says ${spec.size}`, { field: 'image.size' });
    }
    const expected = spec.checksum ?? opened.checksum;
    if (!expected && opts.requireChecksum) {
      throw invalidStoreInput('image.checksum', `a checksum for ${opened.what} (requireChecksum is on and the source gives none)`);
    }
    const size = spec.size ?? opened.size;
    const verifier = new VerifyingStream({ size, checksum: expected, what: opened.what });
    const src = opened.stream;
    src.once('error', (err) => verifier.destroy(err instanceof StoreError ? err : new StoreError('source', `reading ${opened.what} failed: ${err.message}`, { cause: err })));
    verifier.once('close', () => src.destroy());
    src.pipe(verifier);
    const published = await store.publish(name ?? sanitiseObjectName(opened.suggestedName), verifier, {
      ttlSeconds: opts.ttlSeconds,
      size,
      contentType: opts.contentType ?? 'application/octet-stream',
      onProgress: opts.onProgress,
    });
    return {
      ...published,
      checksum: { algorithm: verifier.algorithm, value: verifier.digest ?? '' },
      verified: expected !== undefined,
      source: opened.what,
    };
  } finally {
    opened.stream.destroy();
  }
}
