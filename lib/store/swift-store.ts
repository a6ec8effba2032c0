/**
 * Media in OpenStack Swift, handed to the iLO as temp URLs, the way Ironic's
 * iLO drivers did: the object expires with
 * X-Delete-At at the same second as its temp URL.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { LibError } from '../errors';
import { SwiftClient, encodeObjectPath, type SwiftClientOptions } from '../swift/client';
import { OpenStackError, isOpenStackError } from '../swift/errors';
import { TEMP_URL_DIGESTS, signTempUrl, type TempUrlDigest } from '../swift/tempurl';
import { StoreError, invalidStoreInput } from './errors';
import { checkContentType, checkObjectName, checkSize, checkTtl } from './names';
import { ProgressMeter } from './progress';
import { NameQueue, forEachLimit } from './queue';
import type { MediaStore, PublishOptions, Published, StoreLogger, StoredObject } from './types';

export interface SwiftMediaStoreOptions {
  /** A client, or how to make one (the store then owns and closes it). */
  client: SwiftClient | SwiftClientOptions;
  /** Container for the media; created if missing. Default `ilo_media`. */
  container?: string;
  tempUrl?: {
    /** Default sha256 (sha1 is what Ironic used; Swift 2.30 marks it deprecated). */
    digest?: TempUrlDigest;
    /** Sign with the account's key (default) or the container's. */
    keyScope?: 'account' | 'container';
    /** The key itself; otherwise it is read from the account / container. */
    key?: string;
    /** With keyScope container: set a random key on the container if it has none. */
    createContainerKey?: boolean;
  };
  /**
   * Base for the temp URLs handed to iLOs when they reach Swift by another
   * address than this process does, e.g. https://swift.example:443/v1/AUTH_x.
   */
  publicStorageUrl?: string;
  /** Segment size for large objects (default: the cluster's max_file_size). */
  segmentSize?: number;
  logger?: StoreLogger;
  now?: () => number;
}

export class SwiftMediaStore implements MediaStore {
  readonly kind = 'swift' as const;
  readonly client: SwiftClient;
  readonly container: string;
  private readonly ownsClient: boolean;
  private readonly digest: TempUrlDigest;
  private readonly keyScope: 'account' | 'container';
  private readonly now: () => number;
  private readonly queue = new NameQueue();
  private containerReady?: Promise<void>;
  private keyCache?: Promise<string>;
  private closed = false;

  constructor(private readonly opts: SwiftMediaStoreOptions) {
    if (typeof opts !== 'object' || opts === null || !opts.client) throw invalidStoreInput('client', 'a SwiftClient or its options');
    this.container = opts.container ?? 'ilo_media';
    if (typeof this.container !== 'string' || !/^[^/]{1,256}$/.test(this.container)) {
      throw invalidStoreInput('container', 'a Swift container name of 1-256 characters without "/"', this.container);
    }
    const digest = opts.tempUrl?.digest ?? 'sha256';
    if (!TEMP_URL_DIGESTS.includes(digest)) throw invalidStoreInput('tempUrl.digest', TEMP_URL_DIGESTS.join(', '), digest);
    const scope = opts.tempUrl?.keyScope ?? 'account';
    if (scope !== 'account' && scope !== 'container') throw invalidStoreInput('tempUrl.keyScope', '"account" or "container"', scope);
    if (opts.tempUrl?.key !== undefined && (typeof opts.tempUrl.key !== 'string' || opts.tempUrl.key === '')) {
      throw invalidStoreInput('tempUrl.key', 'a non-empty key');
    }
    if (opts.publicStorageUrl !== undefined && !/^https?:\/\/[^/?#]+\/[^?#]*$/.test(opts.publicStorageUrl)) {
      throw invalidStoreInput('publicStorageUrl', 'a storage URL such as https://swift.example/v1/AUTH_account', opts.publicStorageUrl);
    }
    this.digest = digest;
    this.keyScope = scope;
    this.ownsClient = !(opts.client instanceof SwiftClient);
    this.client = opts.client instanceof SwiftClient ? opts.client : new SwiftClient(opts.client);
    this.now = opts.now ?? Date.now;
  }

  async publish(name: string, source: Readable | Buffer, opts: PublishOptions): Promise<Published> {
    checkObjectName(name);
    const ttl = checkTtl(opts?.ttlSeconds);
    const declared = checkSize(opts.size);
    const contentType = checkContentType(opts.contentType);
    if (!Buffer.isBuffer(source) && !(source instanceof Readable)) throw invalidStoreInput('source', 'a Buffer or a Readable stream', source);
    this.assertOpen();
    return this.queue.run(name, () => this.publishNow(name, source, ttl, declared, contentType, opts));
  }

  private async publishNow(name: string, source: Readable | Buffer, ttl: number, declared: number | undefined, contentType: string, opts: PublishOptions): Promise<Published> {
    const total = declared ?? (Buffer.isBuffer(source) ? source.length : undefined);
    const meter = new ProgressMeter(total, opts.onProgress);
    this.assertOpen();
    try {
      await this.ready();
      const key = await this.tempUrlKey();
      const before = await this.client.headObject(this.container, name);
      const oldSegments = before?.largeObject === 'slo' ? await this.segmentsOf(name) : [];
      const put = await this.client.putObject(this.container, name, source, {
        size: declared,
        contentType,
        deleteAfterSeconds: ttl,
        segmentSize: this.opts.segmentSize,
        onBytes: (n) => meter.add(n),
      });
      // The TTL counts from now, not from when the upload began.
      const expires = Math.floor(this.now() / 1000) + ttl;
      await forEachLimit([name, ...put.segments], 8, (o) => this.client.setDeleteAt(this.container, o, expires));
      const stale = oldSegments.filter((s) => !put.segments.includes(s));
      await forEachLimit(stale, 8, (s) => this.client.deleteObject(this.container, s).catch(() => false));
      const objectUrl = `${await this.publicBase()}${encodeObjectPath(this.container, name)}`;
      meter.done();
      return { url: signTempUrl({ objectUrl, key, expires, digest: this.digest }), expiresAt: new Date(expires * 1000), name, size: put.size };
    } catch (err) {
      if (source instanceof Readable) source.destroy();
      await this.client.deleteObject(this.container, name).catch(() => false);
      throw asStoreError(err);
    }
  }

  /** A new temp URL, and X-Delete-At moved on the object (and its segments) to the same second. */
  async renew(name: string, opts: { ttlSeconds: number }): Promise<Published> {
    checkObjectName(name);
    const ttl = checkTtl(opts?.ttlSeconds);
    this.assertOpen();
    return this.queue.run(name, async () => {
      try {
        const key = await this.tempUrlKey();
        const info = await this.client.headObject(this.container, name);
        if (!info) throw new StoreError('not-found', `"${name}" is not in container ${this.container} (any more)`, { field: 'name' });
        const segments = info.largeObject === 'slo' ? await this.segmentsOf(name) : [];
        const expires = Math.floor(this.now() / 1000) + ttl;
        // Segments first: the manifest never outlives what it points to.
        await forEachLimit(segments, 8, (o) => this.client.setDeleteAt(this.container, o, expires));
        await this.client.setDeleteAt(this.container, name, expires);
        const objectUrl = `${await this.publicBase()}${encodeObjectPath(this.container, name)}`;
        return { url: signTempUrl({ objectUrl, key, expires, digest: this.digest }), expiresAt: new Date(expires * 1000), name, size: info.size };
      } catch (err) {
        if (isOpenStackError(err, 'not-found')) throw new StoreError('not-found', `"${name}" is not in container ${this.container} (any more)`, { field: 'name', cause: err });
        throw asStoreError(err);
      }
    });
  }

  async unpublish(name: string): Promise<void> {
    checkObjectName(name);
    this.assertOpen();
    await this.queue.run(name, () => this.unpublishNow(name));
  }

  private async unpublishNow(name: string): Promise<void> {
    try {
      await this.client.deleteObject(this.container, name);
    } catch (err) {
      if (!isOpenStackError(err, 'not-found')) throw asStoreError(err);
    }
  }

  async stat(name: string): Promise<StoredObject | undefined> {
    checkObjectName(name);
    this.assertOpen();
    const info = await this.client.headObject(this.container, name).catch((err) => {
      throw asStoreError(err);
    });
    if (!info) return undefined;
    return { name, size: info.size, contentType: info.contentType, expiresAt: info.deleteAt ? new Date(info.deleteAt * 1000) : undefined };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.idle();
    if (this.ownsClient) await this.client.close();
  }

  private ready(): Promise<void> {
    this.containerReady ??= this.client.putContainer(this.container).catch((err) => {
      this.containerReady = undefined;
      throw err;
    });
    return this.containerReady;
  }

  private tempUrlKey(): Promise<string> {
    const explicit = this.opts.tempUrl?.key;
    if (explicit) return Promise.resolve(explicit);
    this.keyCache ??= this.readKey().catch((err) => {
      this.keyCache = undefined;
      throw err;
    });
    return this.keyCache;
  }

  private async readKey(): Promise<string> {
    const container = this.keyScope === 'container' ? this.container : undefined;
    const [key] = await this.client.tempUrlKeys(container);
    if (key) return key;
    if (container !== undefined && this.opts.tempUrl?.createContainerKey) {
      const created = randomBytes(32).toString('hex');
      await this.client.setTempUrlKey(created, container);
      return created;
    }
    const how =
      container === undefined
        ? 'set X-Account-Meta-Temp-URL-Key on the account (swift post -m temp-url-key:KEY), or give the key in the store configuration'
        : `set X-Container-Meta-Temp-URL-Key on container ${container}, or allow the store to create one`;
    throw new OpenStackError('swift', 'config', `Swift temporary URLs require a shared secret: ${how}`, { field: 'tempUrl.key' });
  }

  private async segmentsOf(name: string): Promise<string[]> {
    return this.client.listObjects(this.container, `.segments/${name}/`).catch(() => []);
  }

  private async publicBase(): Promise<string> {
    return (this.opts.publicStorageUrl ?? (await this.client.storageUrl())).replace(/\/+$/, '');
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('closed', 'the media store was closed');
  }
}

function asStoreError(err: unknown): Error {
  // The Swift client's own size and source errors, and its checksum and input errors, keep their code.
  return StoreError.from(err) ?? new StoreError('backend', (err as Error)?.message ?? String(err), { field: err instanceof LibError ? err.field : undefined, cause: err });
}
