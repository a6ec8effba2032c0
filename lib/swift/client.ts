/**
 * Swift object storage client: containers, streaming uploads of any size
 * (one PUT up to the cluster's max_file_size, a static large object made of
 * segments beyond it or when the size is unknown), HEAD, GET, DELETE
 * (segments included), expiry, and the temp URL keys.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { EndpointInterface, OpenStackAuthConfig } from './auth';
import { ChunkReader, slice, type SliceCount, type UploadSource } from './chunks';
import { OpenStackError, codeForStatus, invalidOpenStackInput } from './errors';
import { createHttpAgent, drain, errorExcerpt, header, httpRequest, readText, safeUrl, type HttpBody, type HttpOptions } from './http';
import { OpenStackSession } from './session';

/** Swift's own default max_file_size (5 GiB + 2 bytes). */
export const SWIFT_DEFAULT_MAX_FILE_SIZE = 5368709122;
const GIB = 1024 * 1024 * 1024;

export interface SwiftClientOptions extends HttpOptions {
  auth: OpenStackAuthConfig;
  /** Keystone catalog interface and region for the object-store endpoint. */
  interface?: EndpointInterface;
  region?: string;
  /** Talk to this storage URL instead of the one the auth system names. */
  storageUrl?: string;
  /** Retries of requests that can be repeated, after a connection error or a 5xx (default 2). */
  retries?: number;
  /** Share a session (and its agent) with another client. */
  session?: OpenStackSession;
  agent?: Dispatcher;
}

export interface SwiftInfo {
  maxFileSize: number;
  maxManifestSegments: number;
  minSegmentSize: number;
  tempUrlDigests?: string[];
}

export interface ObjectInfo {
  size: number;
  etag?: string;
  contentType?: string;
  /** X-Delete-At, Unix seconds. */
  deleteAt?: number;
  largeObject?: 'slo' | 'dlo';
  headers: Record<string, string>;
}

export interface PutObjectOptions {
  /** Exact length, when known: one PUT with a Content-Length up to max_file_size. */
  size?: number;
  contentType?: string;
  /** X-Delete-After (seconds) on the object and its segments. */
  deleteAfterSeconds?: number;
  /** Extra headers (X-Object-Meta-*, …). */
  headers?: Record<string, string>;
  /** Bytes per segment when segmenting (default: max_file_size, at most 1 GiB for an unknown size). */
  segmentSize?: number;
  /** Called as bytes go out. */
  onBytes?: (n: number) => void;
  signal?: AbortSignal;
}

export interface PutObjectResult {
  /** md5 of the content (single object) or Swift's SLO etag. */
  etag: string;
  size: number;
  /** Names of the segment objects (same container), empty for a single object. */
  segments: string[];
}

interface SendOptions {
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: HttpBody;
  /** Whether the request can be sent again (false for streamed bodies). */
  replayable: boolean;
  /** Statuses handed back to the caller instead of thrown (2xx always are). */
  pass?: number[];
  signal?: AbortSignal;
  /** Use this instead of the storage URL (for /info). */
  absoluteUrl?: string;
}

type Response = Dispatcher.ResponseData;

export function encodeObjectPath(container: string, object?: string): string {
  const c = `/${encodeURIComponent(container)}`;
  return object === undefined ? c : `${c}/${object.split('/').map(encodeURIComponent).join('/')}`;
}

export class SwiftClient {
  readonly session: OpenStackSession;
  private readonly agent: Dispatcher;
  private readonly ownsAgent: boolean;
  private readonly storageUrlOverride?: string;
  private readonly retries: number;
  private infoCache?: Promise<SwiftInfo>;
  private closed = false;

  constructor(opts: SwiftClientOptions) {
    if (opts.storageUrl !== undefined) {
      try {
        new URL(opts.storageUrl);
      } catch {
        throw invalidOpenStackInput('swift', 'storageUrl', 'an absolute http(s) URL', opts.storageUrl);
      }
    }
    this.ownsAgent = !opts.agent && !opts.session;
    this.agent = opts.agent ?? createHttpAgent(opts);
    this.session = opts.session ?? new OpenStackSession({ auth: opts.auth, agent: this.agent, interface: opts.interface, region: opts.region });
    this.storageUrlOverride = opts.storageUrl?.replace(/\/+$/, '');
    this.retries = opts.retries ?? 2;
  }

  /** The storage URL of the account (…/v1/AUTH_<account>). */
  async storageUrl(): Promise<string> {
    return this.storageUrlOverride ?? (await this.session.endpoint('object-store'));
  }

  /** The cluster's limits from GET /info (defaults when /info is disabled). */
  info(): Promise<SwiftInfo> {
    this.infoCache ??= this.fetchInfo().catch((err) => {
      this.infoCache = undefined;
      throw err;
    });
    return this.infoCache;
  }

  async headAccount(): Promise<Record<string, string>> {
    const res = await this.send('HEAD', undefined, undefined, { replayable: true });
    await drain(res.body);
    return flatHeaders(res.headers);
  }

  async postAccount(headers: Record<string, string>): Promise<void> {
    const res = await this.send('POST', undefined, undefined, { headers, replayable: true });
    await drain(res.body);
  }

  /** Creates the container, or updates its headers if it exists. */
  async putContainer(container: string, headers: Record<string, string> = {}): Promise<void> {
    checkName('container', container);
    const res = await this.send('PUT', container, undefined, { headers, replayable: true });
    await drain(res.body);
  }

  async headContainer(container: string): Promise<Record<string, string> | undefined> {
    const res = await this.send('HEAD', container, undefined, { replayable: true, pass: [404] });
    await drain(res.body);
    return res.statusCode === 404 ? undefined : flatHeaders(res.headers);
  }

  async postContainer(container: string, headers: Record<string, string>): Promise<void> {
    const res = await this.send('POST', container, undefined, { headers, replayable: true });
    await drain(res.body);
  }

  /** Names of the objects in a container, optionally under a prefix. */
  async listObjects(container: string, prefix?: string): Promise<string[]> {
    const names: string[] = [];
    let marker = '';
    for (;;) {
      const query: Record<string, string> = { format: 'json', limit: '10000' };
      if (prefix) query.prefix = prefix;
      if (marker) query.marker = marker;
      const res = await this.send('GET', container, undefined, { query, replayable: true });
      const page = res.statusCode === 204 ? [] : (JSON.parse(await readText(res.body, 64 * 1024 * 1024)) as Array<{ name: string }>);
      if (res.statusCode === 204) await drain(res.body);
      names.push(...page.map((o) => o.name));
      if (page.length < 10000) return names;
      marker = page[page.length - 1]?.name ?? '';
    }
  }

  async headObject(container: string, object: string): Promise<ObjectInfo | undefined> {
    const res = await this.send('HEAD', container, object, { replayable: true, pass: [404] });
    await drain(res.body);
    return res.statusCode === 404 ? undefined : objectInfo(res);
  }

  /** Streams an object (or a byte range of it, e.g. `bytes=0-4095`). */
  async getObject(container: string, object: string, opts: { range?: string; signal?: AbortSignal } = {}): Promise<{ body: Readable; info: ObjectInfo; status: number }> {
    const res = await this.send('GET', container, object, {
      headers: opts.range ? { range: opts.range } : {},
      replayable: true,
      signal: opts.signal,
    });
    return { body: res.body, info: objectInfo(res), status: res.statusCode };
  }

  /** Sets X-Delete-At (Unix seconds) on an object without touching its data. */
  async setDeleteAt(container: string, object: string, deleteAt: number): Promise<void> {
    const res = await this.send('POST', container, object, { headers: { 'x-delete-at': String(deleteAt) }, replayable: true });
    await drain(res.body);
  }

  /**
   * Uploads from a stream or a buffer without holding it in memory. Known
   * size up to max_file_size: one PUT with Content-Length. Otherwise a
   * static large object: segments (chunked PUTs when the size is unknown)
   * then a manifest. The md5 of every PUT is checked against Swift's ETag.
   * On any failure nothing new is left behind (segments are deleted).
   */
  async putObject(container: string, object: string, source: UploadSource, opts: PutObjectOptions = {}): Promise<PutObjectResult> {
    checkName('container', container);
    checkName('object', object);
    const size = opts.size ?? (Buffer.isBuffer(source) ? source.length : undefined);
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) throw invalidOpenStackInput('swift', 'size', 'a whole number of bytes >= 0', size);
    const info = await this.info();
    // A streamed body cannot be sent twice: make sure the token works (and the
    // container exists) before the first byte goes out.
    const preflight = await this.send('HEAD', container, undefined, { replayable: true });
    await drain(preflight.body);
    if (Buffer.isBuffer(source) && source.length <= info.maxFileSize) return this.putBuffer(container, object, source, opts);
    const reader = new ChunkReader(source);
    try {
      if (size !== undefined && size <= info.maxFileSize) return await this.putSingle(container, object, reader, size, opts);
      if (size === undefined && (await reader.atEnd())) return await this.putSingle(container, object, reader, 0, opts);
      return await this.putSegmented(container, object, reader, size, info, opts);
    } finally {
      await reader.cancel();
    }
  }

  /** Deletes an object and, for a static large object, its segments. Returns whether it existed. */
  async deleteObject(container: string, object: string): Promise<boolean> {
    const head = await this.headObject(container, object);
    if (!head) return false;
    if (head.largeObject === 'slo') {
      const res = await this.send('DELETE', container, object, {
        query: { 'multipart-manifest': 'delete' },
        headers: { accept: 'application/json' },
        replayable: true,
        pass: [404],
      });
      if (res.statusCode === 404) {
        await drain(res.body);
        return false;
      }
      const report = JSON.parse(await readText(res.body)) as { 'Response Status'?: string; Errors?: unknown[] };
      if (report.Errors && report.Errors.length > 0 && !String(report['Response Status']).startsWith('404')) {
        throw new OpenStackError('swift', 'http', `deleting the large object ${container}/${object} left ${report.Errors.length} segment(s): ${report['Response Status']}`);
      }
      return true;
    }
    const res = await this.send('DELETE', container, object, { replayable: true, pass: [404] });
    await drain(res.body);
    return res.statusCode !== 404;
  }

  /** The temp URL keys set on the account (no container) or on a container. */
  async tempUrlKeys(container?: string): Promise<string[]> {
    const h = container === undefined ? await this.headAccount() : await this.headContainer(container);
    if (!h) return [];
    const prefix = container === undefined ? 'x-account-meta-temp-url-key' : 'x-container-meta-temp-url-key';
    return [h[prefix], h[`${prefix}-2`]].filter((k): k is string => typeof k === 'string' && k !== '');
  }

  /** Sets the (first) temp URL key of the account or of a container. */
  async setTempUrlKey(key: string, container?: string): Promise<void> {
    if (typeof key !== 'string' || key === '') throw invalidOpenStackInput('swift', 'tempUrlKey', 'a non-empty key');
    if (container === undefined) await this.postAccount({ 'x-account-meta-temp-url-key': key });
    else await this.postContainer(container, { 'x-container-meta-temp-url-key': key });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsAgent) await (this.agent as Dispatcher).close().catch(() => undefined);
  }

  private async putBuffer(container: string, object: string, data: Buffer, opts: PutObjectOptions): Promise<PutObjectResult> {
    const etag = createHash('md5').update(data).digest('hex');
    const res = await this.send('PUT', container, object, {
      headers: { ...objectHeaders(opts), 'content-length': String(data.length), etag },
      body: data,
      replayable: true,
      signal: opts.signal,
    });
    await drain(res.body);
    await this.checkEtag(res, etag, container, object);
    opts.onBytes?.(data.length);
    return { etag, size: data.length, segments: [] };
  }

  private async putSingle(container: string, object: string, reader: ChunkReader, size: number, opts: PutObjectOptions): Promise<PutObjectResult> {
    const hash = createHash('md5');
    const count: SliceCount = { bytes: 0 };
    const body = slice(reader, size, { hash, count, exact: true, lastOfDeclared: true, declared: size, onBytes: opts.onBytes });
    const res = await this.send('PUT', container, object, {
      headers: { ...objectHeaders(opts), 'content-length': String(size) },
      body: size === 0 ? '' : body,
      replayable: size === 0,
      signal: opts.signal,
    });
    await drain(res.body);
    const etag = hash.digest('hex');
    await this.checkEtag(res, etag, container, object);
    return { etag, size: count.bytes, segments: [] };
  }

  private async putSegmented(
    container: string,
    object: string,
    reader: ChunkReader,
    size: number | undefined,
    info: SwiftInfo,
    opts: PutObjectOptions,
  ): Promise<PutObjectResult> {
    const segSize = segmentSizeFor(size, info, opts.segmentSize);
    const prefix = `.segments/${object}/${Date.now()}-${randomBytes(4).toString('hex')}/`;
    const manifest: Array<{ path: string; etag: string; size_bytes: number }> = [];
    const names: string[] = [];
    let total = 0;
    try {
      for (let index = 0; ; index++) {
        if (size === undefined ? await reader.atEnd() : total === size) break;
        if (index >= info.maxManifestSegments) {
          throw new OpenStackError('swift', 'too-large', `${container}/${object} needs more than ${info.maxManifestSegments} segments of ${segSize} bytes`);
        }
        const name = `${prefix}${String(index).padStart(8, '0')}`;
        const segLen = size === undefined ? segSize : Math.min(segSize, size - total);
        const hash = createHash('md5');
        const count: SliceCount = { bytes: 0 };
        const body = slice(reader, segLen, {
          hash,
          count,
          exact: size !== undefined,
          lastOfDeclared: size !== undefined && total + segLen === size,
          declared: size,
          onBytes: opts.onBytes,
        });
        names.push(name);
        const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
        if (opts.deleteAfterSeconds !== undefined) headers['x-delete-after'] = String(opts.deleteAfterSeconds);
        if (size !== undefined) headers['content-length'] = String(segLen);
        const res = await this.send('PUT', container, name, { headers, body, replayable: false, signal: opts.signal });
        await drain(res.body);
        const etag = hash.digest('hex');
        await this.checkEtag(res, etag, container, name);
        manifest.push({ path: `/${container}/${name}`, etag, size_bytes: count.bytes });
        total += count.bytes;
      }
      const res = await this.send('PUT', container, object, {
        query: { 'multipart-manifest': 'put' },
        headers: { ...objectHeaders(opts), 'content-type': opts.contentType ?? 'application/octet-stream' },
        body: JSON.stringify(manifest),
        replayable: true,
        signal: opts.signal,
      });
      await drain(res.body);
      return { etag: (header(res.headers, 'etag') ?? '').replace(/"/g, ''), size: total, segments: names };
    } catch (err) {
      await Promise.all(names.map((n) => this.deleteQuietly(container, n)));
      throw err;
    }
  }

  private async checkEtag(res: Response, expected: string, container: string, object: string): Promise<void> {
    const got = (header(res.headers, 'etag') ?? '').replace(/"/g, '');
    if (got && got !== expected) {
      await this.deleteQuietly(container, object);
      throw new OpenStackError('swift', 'checksum', `${container}/${object}: Swift stored md5 ${got}, we sent ${expected}`);
    }
  }

  private async deleteQuietly(container: string, object: string): Promise<void> {
    try {
      const res = await this.send('DELETE', container, object, { replayable: true, pass: [404] });
      await drain(res.body);
    } catch {
      // best effort: the object expires by itself (X-Delete-After)
    }
  }

  private async fetchInfo(): Promise<SwiftInfo> {
    const base = await this.storageUrl();
    const u = new URL(base);
    const at = u.pathname.indexOf('/v1/');
    const infoUrl = `${u.protocol}//${u.host}${at >= 0 ? u.pathname.slice(0, at) : ''}/info`;
    const res = await this.send('GET', undefined, undefined, { absoluteUrl: infoUrl, replayable: true, pass: [401, 403, 404, 405, 501] });
    if (res.statusCode !== 200) {
      await drain(res.body);
      return { maxFileSize: SWIFT_DEFAULT_MAX_FILE_SIZE, maxManifestSegments: 1000, minSegmentSize: 1 };
    }
    const doc = JSON.parse(await readText(res.body)) as {
      swift?: { max_file_size?: number };
      slo?: { max_manifest_segments?: number; min_segment_size?: number };
      tempurl?: { allowed_digests?: string[] };
    };
    return {
      maxFileSize: doc.swift?.max_file_size ?? SWIFT_DEFAULT_MAX_FILE_SIZE,
      maxManifestSegments: doc.slo?.max_manifest_segments ?? 1000,
      minSegmentSize: doc.slo?.min_segment_size ?? 1,
      tempUrlDigests: doc.tempurl?.allowed_digests,
    };
  }

  private async send(method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE', container: string | undefined, object: string | undefined, o: SendOptions): Promise<Response> {
    if (this.closed) throw new OpenStackError('swift', 'connection', 'the Swift client was closed');
    let authRetried = false;
    for (let attempt = 0; ; attempt++) {
      const grant = await this.session.grant();
      const base = o.absoluteUrl ?? `${await this.storageUrl()}${container === undefined ? '' : encodeObjectPath(container, object)}`;
      const url = o.query ? `${base}?${new URLSearchParams(o.query).toString()}` : base;
      const what = `${method} ${safeUrl(base)}`;
      let res: Response;
      try {
        res = await httpRequest(this.agent, 'swift', url, {
          method,
          headers: { ...o.headers, 'x-auth-token': grant.token },
          body: o.body,
          signal: o.signal,
        });
      } catch (err) {
        if (o.replayable && attempt < this.retries && err instanceof OpenStackError && err.retryable) {
          await delay(200 * 2 ** attempt);
          continue;
        }
        throw err;
      }
      if (res.statusCode === 401 && !o.pass?.includes(401)) {
        await drain(res.body);
        this.session.invalidate(grant.token);
        if (o.replayable && !authRetried) {
          authRetried = true;
          continue;
        }
        throw new OpenStackError('swift', 'auth', `${what}: the token was refused (401)${o.replayable ? ' again after logging in anew' : '; try again'}`, { status: 401 });
      }
      if (res.statusCode >= 500 && o.replayable && attempt < this.retries) {
        await drain(res.body);
        await delay(200 * 2 ** attempt);
        continue;
      }
      if ((res.statusCode >= 200 && res.statusCode < 300) || o.pass?.includes(res.statusCode)) return res;
      const why = await errorExcerpt(res.body);
      throw new OpenStackError('swift', codeForStatus(res.statusCode), `${what} answered ${res.statusCode}${why ? `: ${why}` : ''}`, { status: res.statusCode });
    }
  }
}

function segmentSizeFor(size: number | undefined, info: SwiftInfo, wanted: number | undefined): number {
  if (wanted !== undefined) {
    if (!Number.isSafeInteger(wanted) || wanted < Math.max(1, info.minSegmentSize) || wanted > info.maxFileSize) {
      throw invalidOpenStackInput('swift', 'segmentSize', `bytes between ${info.minSegmentSize} and ${info.maxFileSize} (this cluster's limits)`, wanted);
    }
  }
  const base = wanted ?? (size === undefined ? Math.min(info.maxFileSize, GIB) : info.maxFileSize);
  if (size === undefined) return base;
  const fewest = Math.ceil(size / info.maxManifestSegments);
  if (fewest > info.maxFileSize) {
    throw new OpenStackError('swift', 'too-large', `${size} bytes is more than ${info.maxManifestSegments} segments of at most ${info.maxFileSize} bytes`);
  }
  return Math.max(base, fewest);
}

function objectHeaders(opts: PutObjectOptions): Record<string, string> {
  const h: Record<string, string> = { ...opts.headers, 'content-type': opts.contentType ?? 'application/octet-stream' };
  if (opts.deleteAfterSeconds !== undefined) {
    if (!Number.isSafeInteger(opts.deleteAfterSeconds) || opts.deleteAfterSeconds <= 0) {
      throw invalidOpenStackInput('swift', 'deleteAfterSeconds', 'a whole number of seconds > 0', opts.deleteAfterSeconds);
    }
    h['x-delete-after'] = String(opts.deleteAfterSeconds);
  }
  return h;
}

function objectInfo(res: Response): ObjectInfo {
  const h = flatHeaders(res.headers);
  const range = h['content-range'];
  const total = range ? Number(range.split('/')[1]) : Number(h['content-length']);
  const deleteAt = Number(h['x-delete-at']);
  return {
    size: Number.isFinite(total) ? total : NaN,
    etag: h.etag?.replace(/"/g, ''),
    contentType: h['content-type'],
    deleteAt: Number.isFinite(deleteAt) ? deleteAt : undefined,
    largeObject: String(h['x-static-large-object']).toLowerCase() === 'true' ? 'slo' : h['x-object-manifest'] ? 'dlo' : undefined,
    headers: h,
  };
}

function flatHeaders(headers: Response['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function checkName(field: 'container' | 'object', v: string): void {
  if (typeof v !== 'string' || v === '' || v.length > (field === 'container' ? 256 : 1024) || (field === 'container' && v.includes('/')) || v.includes('\0')) {
    throw invalidOpenStackInput('swift', field, field === 'container' ? 'a name of 1-256 characters without "/"' : 'a name of 1-1024 characters', v);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
