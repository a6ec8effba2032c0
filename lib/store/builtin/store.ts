/**
 * The built-in media store: objects kept in a state directory and served by
 * an HTTP(S) server inside this process, at
 * `<scheme>://<host>:<port>/<token>/<name>` where the token is 32 random
 * bytes. Objects are removed on unpublish and at expiry (a timer, and a
 * check on every request); they survive a restart only while still valid
 * (see state.ts).
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StoreError, invalidStoreInput } from '../errors';
import { checkContentType, checkObjectName, checkSize, checkTtl } from '../names';
import { ProgressMeter } from '../progress';
import { NameQueue } from '../queue';
import type { MediaStore, PublishOptions, Published, StoreLogger, StoredObject } from '../types';
import { mediaRequestHandler, type ServedObject } from './server';
import { StateDir, expired, type ObjectRecord } from './state';

export interface BuiltinMediaStoreOptions {
  /** Where objects and the manifest live; survives restarts. */
  stateDir: string;
  /** Address to listen on (default 127.0.0.1; 0.0.0.0 for every interface). */
  host?: string;
  /**
   * Port to listen on (default 0: any free port, and then the same one again
   * after a restart while it is free, so URLs handed out before, and still
   * valid, keep working).
   */
  port?: number;
  /**
   * Base of the URLs handed out, e.g. `http://192.0.2.10:8089`, when iLOs
   * reach this host by another address than `host` (NAT, a wildcard bind).
   */
  publicUrl?: string;
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  logger?: StoreLogger;
  /** The clock (ms since the epoch); for tests. */
  now?: () => number;
}

/** setTimeout's longest delay; longer expiries are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class BuiltinMediaStore implements MediaStore {
  readonly kind = 'builtin' as const;
  private readonly byName = new Map<string, ObjectRecord>();
  private readonly byToken = new Map<string, ObjectRecord>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly queue = new NameQueue();
  private saving: Promise<void> = Promise.resolve();
  /** A manifest save queued behind the one being written: later changes join it. */
  private nextSave?: Promise<void>;
  private closed = false;
  private baseUrl = '';

  private constructor(
    private readonly state: StateDir,
    private readonly server: Server,
    private readonly opts: BuiltinMediaStoreOptions,
    private readonly now: () => number,
  ) {}

  /** Opens the state directory, recovers what is still valid, and starts listening. */
  static async open(opts: BuiltinMediaStoreOptions): Promise<BuiltinMediaStore> {
    const o = checkOptions(opts);
    const now = o.now ?? Date.now;
    const { state, records } = await StateDir.open(o.stateDir, now(), o.logger);
    const holder: { store?: BuiltinMediaStore } = {};
    const handler = mediaRequestHandler((token, name) => holder.store?.resolve(token, name));
    const server = o.tls ? createHttpsServer({ cert: o.tls.cert, key: o.tls.key }, handler) : createHttpServer(handler);
    server.keepAliveTimeout = 30_000;
    server.on('clientError', (_err, socket) => socket.destroy());
    const automatic = (o.port ?? 0) === 0;
    const last = automatic ? await state.lastPort() : undefined;
    try {
      try {
        await listen(server, last ?? o.port ?? 0, o.host);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (last === undefined || (code !== 'EADDRINUSE' && code !== 'EACCES')) throw err;
        o.logger?.warn(`media store: port ${last}, which its URLs named before the restart, is taken (${code}); listening on another, so media published before is no longer reachable at its URL`);
        await listen(server, 0, o.host);
      }
      if (automatic) await state.rememberPort((server.address() as AddressInfo).port);
    } catch (err) {
      await state.release();
      const e = err as NodeJS.ErrnoException;
      const field = e.code === 'EADDRINUSE' || e.code === 'EACCES' ? 'port' : 'host';
      throw new StoreError('invalid-input', `${field}: cannot listen on ${o.host ?? '127.0.0.1'}:${o.port ?? 0} (${e.code ?? e.message})`, { field, cause: err });
    }
    const store = new BuiltinMediaStore(state, server, o, now);
    store.baseUrl = store.computeBaseUrl();
    holder.store = store;
    for (const r of records) {
      store.byName.set(r.name, r);
      store.byToken.set(r.token, r);
      store.schedule(r);
    }
    return store;
  }

  /** Where the server listens. */
  get address(): { host: string; port: number } {
    const a = this.server.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  /** The base of every URL handed out. */
  get url(): string {
    return this.baseUrl;
  }

  get stateDir(): string {
    return this.state.dir;
  }

  async publish(name: string, source: Readable | Buffer, opts: PublishOptions): Promise<Published> {
    checkObjectName(name);
    const ttl = checkTtl(opts?.ttlSeconds);
    const declared = checkSize(opts.size);
    const contentType = checkContentType(opts.contentType);
    if (!Buffer.isBuffer(source) && !(source instanceof Readable)) throw invalidStoreInput('source', 'a Buffer or a Readable stream', source);
    if (declared !== undefined && Buffer.isBuffer(source) && source.length !== declared) {
      throw new StoreError('size', `the data is ${source.length} bytes, not the declared ${declared}`, { field: 'size' });
    }
    this.assertOpen();
    return this.serial(name, async () => {
      this.assertOpen();
      const file = this.state.newFileId();
      const part = this.state.partPath(file);
      const meter = new ProgressMeter(declared ?? (Buffer.isBuffer(source) ? source.length : undefined), opts.onProgress);
      try {
        const size = await this.receive(source, part, declared, meter);
        const path = this.state.objectPath(file);
        await rename(part, path);
        const st = await stat(path);
        const createdAt = this.now();
        const record: ObjectRecord = {
          name,
          token: randomBytes(32).toString('base64url'),
          file,
          size,
          contentType,
          createdAt,
          expiresAt: opts.untilUnpublished ? null : createdAt + ttl * 1000,
          ino: st.ino,
          mtimeMs: st.mtimeMs,
        };
        const old = this.byName.get(name);
        if (old) this.forget(old);
        this.byName.set(name, record);
        this.byToken.set(record.token, record);
        await this.persist();
        if (old) await rm(this.state.objectPath(old.file), { force: true });
        this.schedule(record);
        meter.done();
        return this.publishedOf(record);
      } catch (err) {
        if (source instanceof Readable) source.destroy();
        await rm(part, { force: true });
        await this.removeNow(name).catch(() => undefined);
        throw err;
      }
    });
  }

  async unpublish(name: string): Promise<void> {
    checkObjectName(name);
    this.assertOpen();
    await this.serial(name, () => this.removeNow(name));
  }

  async renew(name: string, opts: { ttlSeconds: number }): Promise<Published> {
    checkObjectName(name);
    const ttl = checkTtl(opts?.ttlSeconds);
    this.assertOpen();
    return this.serial(name, async () => {
      const r = this.byName.get(name);
      if (!r || expired(r, this.now())) throw new StoreError('not-found', `"${name}" is not published (any more)`, { field: 'name' });
      if (r.expiresAt !== null) {
        r.expiresAt = Math.max(r.expiresAt, this.now() + ttl * 1000);
        await this.persist();
        this.schedule(r);
      }
      return this.publishedOf(r);
    });
  }

  async stat(name: string): Promise<StoredObject | undefined> {
    checkObjectName(name);
    const r = this.byName.get(name);
    if (!r || expired(r, this.now())) return undefined;
    return { name, size: r.size, contentType: r.contentType, expiresAt: r.expiresAt === null ? undefined : new Date(r.expiresAt) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    const stopped = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeAllConnections();
    await stopped;
    await this.queue.idle();
    await this.saving.catch(() => undefined);
    await this.state.release();
  }

  private resolve(token: string, name: string): ServedObject | undefined {
    const r = this.byToken.get(token);
    if (!r || r.name !== name || this.closed) return undefined;
    if (expired(r, this.now())) {
      this.expire(r).catch(() => undefined); // expire() logs its own failures
      return undefined;
    }
    return {
      path: this.state.objectPath(r.file),
      size: r.size,
      contentType: r.contentType,
      etag: `"${r.file}"`,
      lastModified: new Date(r.createdAt),
    };
  }

  private async receive(source: Readable | Buffer, part: string, declared: number | undefined, meter: ProgressMeter): Promise<number> {
    if (Buffer.isBuffer(source)) {
      await writeFile(part, source, { flag: 'wx', mode: 0o600 }).catch((err) => {
        throw backendError(err);
      });
      meter.add(source.length);
      return source.length;
    }
    let sourceError: unknown;
    const onError = (err: unknown): void => {
      sourceError ??= err;
    };
    source.once('error', onError);
    const counter = new CountingStream(declared, meter);
    try {
      // 256 KiB queued at most: with hundreds of publishes at once (a fleet's deploys), a larger queue per write is memory held, not speed.
      await pipeline(source, counter, createWriteStream(part, { flags: 'wx', mode: 0o600, highWaterMark: 256 * 1024 }));
    } catch (err) {
      if (err instanceof StoreError) throw err;
      if (sourceError !== undefined || !(err as NodeJS.ErrnoException).syscall) {
        const e = sourceError ?? err;
        if (e instanceof StoreError) throw e;
        throw new StoreError('source', `reading the data to publish failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
      }
      throw backendError(err);
    } finally {
      source.off('error', onError);
    }
    if (declared !== undefined && counter.bytes !== declared) {
      throw new StoreError('size', `the data ended after ${counter.bytes} bytes, short of its declared size of ${declared}`, { field: 'size' });
    }
    return counter.bytes;
  }

  private publishedOf(r: ObjectRecord): Published {
    return { url: this.urlOf(r), ...(r.expiresAt === null ? {} : { expiresAt: new Date(r.expiresAt) }), name: r.name, size: r.size };
  }

  private urlOf(r: ObjectRecord): string {
    return `${this.baseUrl}/${r.token}/${encodeURIComponent(r.name)}`;
  }

  private computeBaseUrl(): string {
    if (this.opts.publicUrl) return this.opts.publicUrl.replace(/\/+$/, '');
    const scheme = this.opts.tls ? 'https' : 'http';
    const { host, port } = this.address;
    let shown = host;
    if (host === '0.0.0.0' || host === '::') {
      shown = firstExternalAddress() ?? '127.0.0.1';
      this.opts.logger?.warn(
        `media store: listening on every interface; URLs name ${shown}. Set publicUrl if iLOs reach this host by another address`,
      );
    }
    return `${scheme}://${isIP(shown) === 6 ? `[${shown}]` : shown}:${port}`;
  }

  private schedule(r: ObjectRecord): void {
    const old = this.timers.get(r.name);
    if (old) clearTimeout(old);
    this.timers.delete(r.name);
    const at = r.expiresAt;
    if (at === null) return;
    const t = setTimeout(() => {
      this.timers.delete(r.name);
      if (expired(r, this.now())) this.expire(r).catch(() => undefined); // expire() logs its own failures
      else this.schedule(r);
    }, Math.min(Math.max(0, at - this.now()), MAX_TIMER_MS));
    t.unref();
    this.timers.set(r.name, t);
  }

  private async expire(r: ObjectRecord): Promise<void> {
    if (this.closed) return;
    await this.serial(r.name, async () => {
      if (this.byName.get(r.name) === r) await this.removeNow(r.name);
    }).catch((err) => this.opts.logger?.warn(`media store: removing expired "${r.name}" failed: ${(err as Error).message}`));
  }

  /** Removes `name` now; the caller holds its queue. */
  private async removeNow(name: string): Promise<void> {
    const r = this.byName.get(name);
    if (!r) return;
    this.forget(r);
    this.byName.delete(name);
    await this.persist();
    await rm(this.state.objectPath(r.file), { force: true });
  }

  private forget(r: ObjectRecord): void {
    this.byToken.delete(r.token);
    const t = this.timers.get(r.name);
    if (t) clearTimeout(t);
    this.timers.delete(r.name);
  }

  /**
   * Writes the manifest. Saves are serialised; every change made while one
   * is being written joins the next, which snapshots the records when it
   * starts (so many publishes at once cost a few writes, not one each).
   */
  private persist(): Promise<void> {
    if (!this.nextSave) {
      const next = this.saving.catch(() => undefined).then(() => {
        this.nextSave = undefined;
        return this.state.save([...this.byName.values()]);
      });
      this.nextSave = next;
      this.saving = next;
    }
    return this.nextSave.catch((err) => {
      throw backendError(err);
    });
  }

  private serial<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.queue.run(name, fn);
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('closed', 'the media store was closed');
  }
}

async function listen(server: Server, port: number, host = '127.0.0.1'): Promise<void> {
  server.listen(port, host);
  await once(server, 'listening');
}

/** Counts bytes into the meter and fails as soon as there are more than declared. */
class CountingStream extends Transform {
  bytes = 0;
  constructor(
    private readonly declared: number | undefined,
    private readonly meter: ProgressMeter,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.declared !== undefined && this.bytes > this.declared) {
      cb(new StoreError('size', `the data is longer than its declared size of ${this.declared} bytes`, { field: 'size' }));
      return;
    }
    this.meter.add(chunk.length);
    cb(null, chunk);
  }
}

function backendError(err: unknown): StoreError {
  const e = err as NodeJS.ErrnoException;
  return new StoreError('backend', `writing to the media store's state directory failed: ${e.code ?? ''} ${e.message ?? String(err)}`.trim(), { cause: err });
}

function firstExternalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
  }
  return undefined;
}

function checkOptions(o: BuiltinMediaStoreOptions): BuiltinMediaStoreOptions {
  if (typeof o !== 'object' || o === null) throw invalidStoreInput('options', 'an object');
  if (typeof o.stateDir !== 'string' || o.stateDir.trim() === '') throw invalidStoreInput('stateDir', 'a directory path', o.stateDir);
  if (o.host !== undefined && (typeof o.host !== 'string' || (isIP(o.host) === 0 && !/^[A-Za-z0-9.-]+$/.test(o.host)))) {
    throw invalidStoreInput('host', 'an IP address or host name to listen on', o.host);
  }
  if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535)) throw invalidStoreInput('port', 'a port number 0-65535', o.port);
  if (o.publicUrl !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(o.publicUrl);
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.search || u.hash || u.username) {
      throw invalidStoreInput('publicUrl', 'a base URL such as http://192.0.2.10:8089', o.publicUrl);
    }
  }
  if (o.tls !== undefined && (!o.tls.cert || !o.tls.key)) throw invalidStoreInput('tls', 'both cert and key (PEM)');
  return o;
}
