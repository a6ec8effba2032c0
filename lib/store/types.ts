/**
 * The one interface the deploy engine uses to put media where an iLO can
 * fetch it: Swift (temp URLs) or the built-in HTTP(S) media server.
 */
import type { Readable } from 'node:stream';
import type { ProgressListener } from './progress';

export interface PublishOptions {
  /** How long the URL works, in seconds; the object is removed after it. */
  ttlSeconds: number;
  /**
   * Serve it until it is unpublished, without expiry, where the store's URLs
   * can be (the built-in store: its URL holds a 256-bit secret). A store
   * whose URLs always expire (Swift temp URLs) still uses `ttlSeconds`, and
   * says so with `expiresAt`: the caller renews it in time (`renew`).
   */
  untilUnpublished?: boolean;
  /** Exact length in bytes, when known; a source of another length fails the publish. */
  size?: number;
  /** Default application/octet-stream. */
  contentType?: string;
  /** Progress of the upload (throttled; the last report has all the bytes). */
  onProgress?: ProgressListener;
}

export interface Published {
  /** What to give the iLO: unguessable, and valid until `expiresAt`. */
  url: string;
  /** Absent: served until unpublished (`untilUnpublished` on a store that can). */
  expiresAt?: Date;
  name: string;
  size: number;
}

export interface StoredObject {
  name: string;
  size: number;
  contentType?: string;
  expiresAt?: Date;
}

export interface StoreLogger {
  warn(message: string): void;
  info?(message: string): void;
}

export interface MediaStore {
  readonly kind: 'builtin' | 'swift';
  /**
   * Stores `source` under `name` and returns a URL for it. Publishing a
   * name again replaces the object. If the source fails, is aborted, or is
   * not the declared size, the promise rejects and nothing is published
   * under `name` (an earlier version of it is removed too).
   */
  publish(name: string, source: Readable | Buffer, opts: PublishOptions): Promise<Published>;
  /** Removes the object; no error if it is not there. */
  unpublish(name: string): Promise<void>;
  /**
   * Keep a published object for `ttlSeconds` more, counted from now, and
   * return the URL that works until then: Swift signs a new temp URL (and
   * moves the object's X-Delete-At), the built-in store keeps its URL and
   * moves its expiry (an object published until unpublished stays so). A
   * StoreError 'not-found' when the object is gone (expired, unpublished).
   */
  renew(name: string, opts: { ttlSeconds: number }): Promise<Published>;
  /** The object, if it is published and not expired. */
  stat(name: string): Promise<StoredObject | undefined>;
  /** Stops serving / releases connections. Published objects expire by themselves. */
  close(): Promise<void>;
}
