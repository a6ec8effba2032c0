/**
 * A media store together with the image sources it may read from, built
 * from one plain configuration: what the `ilo-media-store` config node owns
 * (and what a program without Node-RED can use the same way).
 */
import { createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Agent } from 'undici';
import { BuiltinMediaStore } from '../store/builtin/store';
import { StoreError, invalidStoreInput } from '../store/errors';
import { checkTtl } from '../store/names';
import type { ProgressListener } from '../store/progress';
import { SwiftMediaStore } from '../store/swift-store';
import type { MediaStore, PublishOptions, Published, StoreLogger } from '../store/types';
import { validateAuthConfig, type EndpointInterface, type OpenStackAuthConfig } from '../swift/auth';
import { SwiftClient } from '../swift/client';
import { createHttpAgent } from '../swift/http';
import { OpenStackSession } from '../swift/session';
import { TEMP_URL_DIGESTS, type TempUrlDigest } from '../swift/tempurl';
import { openFileImage } from './file-source';
import { GlanceClient } from './glance';
import { openImage, publishImage, type ImageSources, type PublishedImage } from './publish';
import { VerifyingStream } from './verify';
import { parseImage, type Checksum, type ImageInput } from './reference';

export interface MediaServiceConfig {
  store: 'builtin' | 'swift';
  /** The built-in server (store: builtin). */
  builtin?: {
    stateDir: string;
    host?: string;
    port?: number;
    publicUrl?: string;
    /** PEM files; both or neither. */
    tlsCertFile?: string;
    tlsKeyFile?: string;
  };
  /** OpenStack credentials: needed for store: swift, and for swift: / glance: images. */
  openstack?: {
    auth: OpenStackAuthConfig;
    region?: string;
    interface?: EndpointInterface;
    /** Extra CA (PEM file) for Keystone, Swift, Glance and https image URLs. */
    caFile?: string;
    /** Accept any certificate (labs only). */
    insecure?: boolean;
  };
  swift?: {
    container?: string;
    tempUrlDigest?: TempUrlDigest;
    tempUrlKeyScope?: 'account' | 'container';
    tempUrlKey?: string;
    createContainerKey?: boolean;
    publicStorageUrl?: string;
  };
  images?: {
    /** Directories local image files may be read from. */
    fileRoots?: string[];
    /** Glance's URL when the catalog has none (or no Keystone is used). */
    glanceUrl?: string;
    requireChecksum?: boolean;
  };
  /** TTL when a publish names none (default 900 s, Ironic's swift_object_expiry_timeout). */
  defaultTtlSeconds?: number;
  logger?: StoreLogger;
  /** The stores' clock (ms since the epoch): for tests that move time on. */
  now?: () => number;
}

export interface ServicePublishOptions {
  ttlSeconds?: number;
  name?: string;
  onProgress?: ProgressListener;
  contentType?: string;
}

export class MediaService {
  private closed = false;

  private constructor(
    readonly store: MediaStore,
    private readonly sources: ImageSources,
    private readonly agent: Agent,
    private readonly swift: SwiftClient | undefined,
    readonly defaultTtlSeconds: number,
    private readonly requireChecksum: boolean,
  ) {}

  static async open(cfg: MediaServiceConfig): Promise<MediaService> {
    if (cfg.store !== 'builtin' && cfg.store !== 'swift') throw invalidStoreInput('store', '"builtin" or "swift"', cfg.store);
    const ttl = checkTtl(cfg.defaultTtlSeconds ?? 900, 'defaultTtl');
    const os = cfg.openstack;
    const caPem = os?.caFile ? await readPem(os.caFile, 'caFile') : undefined;
    const agent = createHttpAgent({ tls: { caPem, insecure: os?.insecure === true } });
    if (os?.insecure) cfg.logger?.warn('media store: TLS verification is OFF for OpenStack and image URLs');
    try {
      const session = os ? new OpenStackSession({ auth: validateAuthConfig(os.auth), agent, region: os.region || undefined, interface: os.interface }) : undefined;
      const swift = session ? new SwiftClient({ auth: session.auth, session, agent }) : undefined;
      const glanceUrl = cfg.images?.glanceUrl || undefined;
      const glance = session && (glanceUrl || session.auth.type.startsWith('keystone')) ? new GlanceClient({ session, agent, endpoint: glanceUrl }) : undefined;
      const fileRoots = (cfg.images?.fileRoots ?? []).map((r) => r.trim()).filter(Boolean);
      for (const r of fileRoots) if (!r.startsWith('/')) throw invalidStoreInput('fileRoots', 'absolute directory paths', r);
      let store: MediaStore;
      if (cfg.store === 'builtin') {
        const b = cfg.builtin;
        if (!b) throw invalidStoreInput('stateDir', 'a directory for the built-in server');
        if (Boolean(b.tlsCertFile) !== Boolean(b.tlsKeyFile)) throw invalidStoreInput(b.tlsCertFile ? 'tlsKeyFile' : 'tlsCertFile', 'both a certificate and a key file for HTTPS (or neither)');
        const tls = b.tlsCertFile && b.tlsKeyFile ? { cert: await readPem(b.tlsCertFile, 'tlsCertFile'), key: await readPem(b.tlsKeyFile, 'tlsKeyFile') } : undefined;
        store = await BuiltinMediaStore.open({ stateDir: b.stateDir, host: b.host, port: b.port, publicUrl: b.publicUrl || undefined, tls, logger: cfg.logger, now: cfg.now });
      } else {
        if (!swift) throw invalidStoreInput('authType', 'OpenStack credentials (tempauth or Keystone) for a Swift store');
        const s = cfg.swift ?? {};
        if (s.tempUrlDigest !== undefined && !TEMP_URL_DIGESTS.includes(s.tempUrlDigest)) throw invalidStoreInput('tempUrlDigest', TEMP_URL_DIGESTS.join(', '), s.tempUrlDigest);
        store = new SwiftMediaStore({
          client: swift,
          container: s.container || undefined,
          tempUrl: { digest: s.tempUrlDigest, keyScope: s.tempUrlKeyScope, key: s.tempUrlKey || undefined, createContainerKey: s.createContainerKey },
          publicStorageUrl: s.publicStorageUrl || undefined,
          logger: cfg.logger,
          now: cfg.now,
        });
      }
      return new MediaService(store, { fileRoots, http: agent, swift, glance }, agent, swift, ttl, cfg.images?.requireChecksum === true);
    } catch (err) {
      await agent.close().catch(() => undefined);
      throw err;
    }
  }

  /** Where an instance-local store (the built-in server) serves from; undefined for a store every instance shares (Swift). */
  get localBaseUrl(): string | undefined {
    return this.store instanceof BuiltinMediaStore ? this.store.url : undefined;
  }

  /** Resolves an image reference, verifies it while streaming it into the store, and returns its URL. */
  publishImage(image: ImageInput, opts: ServicePublishOptions = {}): Promise<PublishedImage> {
    this.assertOpen();
    return publishImage(this.store, image, {
      ttlSeconds: opts.ttlSeconds ?? this.defaultTtlSeconds,
      name: opts.name,
      onProgress: opts.onProgress,
      contentType: opts.contentType,
      sources: this.sources,
      requireChecksum: this.requireChecksum,
    });
  }

  /**
   * Copies an image to a local file, verifying its size and checksum on the
   * way (the file is removed when they do not match). For what the
   * controller itself must read: an image written over iSCSI, a kernel.
   */
  async download(image: ImageInput, path: string, opts: { onProgress?: (bytes: number, total?: number) => void; signal?: AbortSignal } = {}): Promise<{ size: number; checksum: Checksum; verified: boolean }> {
    this.assertOpen();
    const spec = parseImage(image);
    const opened = await openImage(spec, this.sources);
    const expected = spec.checksum ?? opened.checksum;
    if (!expected && this.requireChecksum) throw invalidStoreInput('image.checksum', `a checksum for ${opened.what} (requireChecksum is on and the source gives none)`);
    const size = spec.size ?? opened.size;
    const verifier = new VerifyingStream({ size, checksum: expected, what: opened.what });
    let last = 0;
    verifier.on('data', () => {
      if (opts.onProgress && Date.now() - last > 500) {
        last = Date.now();
        opts.onProgress(verifier.bytes, size);
      }
    });
    try {
      await pipeline(opened.stream, verifier, createWriteStream(path, { mode: 0o600 }), { signal: opts.signal });
    } catch (err) {
      await rm(path, { force: true });
      throw err;
    } finally {
      opened.stream.destroy();
    }
    opts.onProgress?.(verifier.bytes, size);
    return { size: verifier.bytes, checksum: { algorithm: verifier.algorithm, value: verifier.digest ?? '' }, verified: expected !== undefined };
  }

  /**
   * Whether `image` can be read, without reading it: its syntax and URL
   * scheme and, for a local file, that it lies inside the allowed
   * directories, exists and can be opened. Errors name `field`.
   */
  async checkImage(image: ImageInput, field = 'image'): Promise<void> {
    this.assertOpen();
    const spec = parseImage(image, field);
    if (spec.source.kind !== 'file') return;
    const opened = await openFileImage(spec.source.path, this.sources.fileRoots, field);
    opened.stream.destroy();
  }

  /** Publishes bytes the caller made (a floppy image, a boot ISO). */
  publish(name: string, source: Readable | Buffer, opts: Partial<PublishOptions> = {}): Promise<Published> {
    this.assertOpen();
    return this.store.publish(name, source, { ...opts, ttlSeconds: opts.ttlSeconds ?? this.defaultTtlSeconds });
  }

  unpublish(name: string): Promise<void> {
    this.assertOpen();
    return this.store.unpublish(name);
  }

  /** Keep a published object for `ttlSeconds` more (see MediaStore.renew). */
  renew(name: string, opts: { ttlSeconds: number }): Promise<Published> {
    this.assertOpen();
    return this.store.renew(name, opts);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.store.close();
    await this.swift?.close();
    await this.agent.close().catch(() => undefined);
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('closed', 'the media store was closed');
  }
}

async function readPem(path: string, field: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new StoreError('invalid-input', `${field}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { field, cause: err });
  }
}
