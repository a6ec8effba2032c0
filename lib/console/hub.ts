/**
 * One console session per server, shared by everyone who wants it: the
 * editor's viewers, flow nodes, a running deploy. The hub opens the session
 * when the first one attaches, keeps it (reconnecting after a drop) while
 * anyone is attached, and closes it a little after the last one leaves. An
 * iLO allows a single serial-over-LAN session, so sharing is not optional.
 *
 * While a session runs the server's console keeps the last lines (text) and
 * the last bytes (for a new viewer's screen). Among editor viewers one
 * types at a time (the writer); the others watch until they take over.
 * Flows and deploys attached with `canWrite` may always send.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { BmcError } from '../bmc/errors';
import type { ConsoleChannel, ConsoleVia } from './channel';
import { consoleHints } from './hints';
import { ByteHistory, LineBuffer } from './lines';
import type { OpenConsoleOptions } from './open';

/** How the hub reaches one server's console (built from its configuration). */
export interface ConsoleTarget {
  /** Unique per server: the same key is the same session. */
  key: string;
  label: string;
  /** Changes when the configuration behind the key changes (e.g. a redeployed config node). */
  revision?: unknown;
  open(opts: OpenConsoleOptions): Promise<ConsoleChannel>;
}

export type ConsoleState = 'connecting' | 'open' | 'retrying' | 'unavailable' | 'closed';

export interface ConsoleStatus {
  state: ConsoleState;
  via?: ConsoleVia;
  target?: string;
  /** Why it is not open (never a credential: lib errors carry none). */
  error?: { code: string; message: string };
  /** What to enable on the iLO, when that is the likely cause. */
  hints?: string[];
  /** When the next attempt is due (epoch ms), while retrying. */
  retryAt?: number;
}

export type HolderKind = 'viewer' | 'flow' | 'deploy' | 'other';

export interface ConsoleHolder {
  /** Shown to the others, e.g. the editor user's name or "flow: wait for login". */
  name: string;
  kind: HolderKind;
  /** May send keystrokes (viewers: when they hold the writer role). Default false. */
  canWrite?: boolean;
}

export interface WriterInfo {
  id: string;
  name: string;
}

export interface ConsoleHubOptions {
  /** The target for a key, as configured now (undefined: no such server). */
  resolve(key: string): ConsoleTarget | undefined;
  /** Lines kept per server (default 1000). */
  lines?: number;
  /** Bytes of raw output kept per server for a new viewer (default 64 KiB). */
  historyBytes?: number;
  /** How long a session stays open after the last holder left, ms (default 10 000). */
  lingerMs?: number;
  /** Backoff between reconnection attempts, ms (default 1 000 doubling up to 30 000). */
  retryFirstMs?: number;
  retryMaxMs?: number;
}

/** Events: 'data' (Buffer), 'line' (string), 'status' (ConsoleStatus), 'writer' (WriterInfo | undefined). */
export class ServerConsole extends EventEmitter {
  status: ConsoleStatus = { state: 'connecting' };
  writer: WriterInfo | undefined;
  readonly holders = new Map<string, ConsoleHolder>();
  private readonly lineBuffer: LineBuffer;
  private readonly bytes: ByteHistory;
  private channel?: ConsoleChannel;
  private opening = false;
  private generation = 0;
  private attempt = 0;
  private preferred?: ConsoleVia;
  private retryTimer?: NodeJS.Timeout;
  private lingerTimer?: NodeJS.Timeout;
  private disposed = false;
  /** The open in progress (settles to its channel, or undefined when it failed). */
  private inFlight?: Promise<ConsoleChannel | undefined>;
  /** Which revision of the target the session was opened with (see ConsoleTarget.revision). */
  private openedRevision: unknown;

  constructor(
    readonly key: string,
    private readonly hub: ConsoleHub,
    private readonly opts: Required<Omit<ConsoleHubOptions, 'resolve'>>,
  ) {
    super();
    this.setMaxListeners(0);
    this.lineBuffer = new LineBuffer(opts.lines);
    this.bytes = new ByteHistory(opts.historyBytes);
  }

  get label(): string {
    return this.hub.resolveTarget(this.key)?.label ?? this.key;
  }

  lines(n?: number): string[] {
    return this.lineBuffer.lines(n);
  }

  history(): Buffer {
    return this.bytes.bytes();
  }

  get isOpen(): boolean {
    return this.channel !== undefined;
  }

  // ------------------------------------------------------------ holders

  add(id: string, holder: ConsoleHolder): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    this.holders.set(id, holder);
    if (holder.kind === 'viewer' && holder.canWrite && !this.writer) this.setWriter({ id, name: holder.name });
    // A person opening the console tries again after a refusal; flows and deploys do not repeat it.
    if (!this.channel && !this.opening && !this.retryTimer && (this.status.state !== 'unavailable' || holder.kind === 'viewer')) this.connectNow(false);
  }

  remove(id: string): void {
    if (!this.holders.delete(id)) return;
    if (this.writer?.id === id) this.setWriter(undefined);
    if (this.holders.size === 0) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = setTimeout(() => {
        this.dispose().catch(() => undefined); // it closes what it can and reports nothing
      }, this.opts.lingerMs);
      this.lingerTimer.unref();
    }
  }

  takeWriter(id: string): void {
    const h = this.holders.get(id);
    if (!h) throw new BmcError('invalid-input', 'not attached to this console');
    if (!h.canWrite) throw new BmcError('permission', `${h.name} may only watch the console of ${this.label}`);
    if (this.writer?.id !== id) this.setWriter({ id, name: h.name });
  }

  releaseWriter(id: string): void {
    if (this.writer?.id === id) this.setWriter(undefined);
  }

  private setWriter(w: WriterInfo | undefined): void {
    this.writer = w;
    this.emit('writer', w);
  }

  mayWrite(id: string): boolean {
    const h = this.holders.get(id);
    if (!h?.canWrite) return false;
    return h.kind !== 'viewer' || this.writer?.id === id;
  }

  async write(id: string, data: Buffer): Promise<void> {
    if (!this.mayWrite(id)) {
      const h = this.holders.get(id);
      const who = this.writer ? `${this.writer.name} is typing` : 'nobody has taken the keyboard';
      throw new BmcError('permission', h?.canWrite ? `the console of ${this.label} is read-only for you: ${who} (take over to type)` : `${h?.name ?? 'this holder'} may only watch the console of ${this.label}`);
    }
    const ch = this.channel;
    if (!ch) throw new BmcError('connection', `the console of ${this.label} is not open (${this.status.state}${this.status.error ? `: ${this.status.error.message}` : ''})`);
    await new Promise<void>((resolve, reject) => ch.stream.write(data, (err) => (err ? reject(err) : resolve())));
  }

  async sendBreak(id: string): Promise<void> {
    if (!this.mayWrite(id)) throw new BmcError('permission', `only the one typing on the console of ${this.label} may send a break`);
    const ch = this.channel;
    if (!ch) throw new BmcError('connection', `the console of ${this.label} is not open`);
    await ch.sendBreak();
  }

  resize(id: string, cols: number, rows: number): void {
    if (this.writer?.id === id && Number.isInteger(cols) && Number.isInteger(rows) && cols > 0 && rows > 0 && cols < 1000 && rows < 1000) this.channel?.resize(cols, rows);
  }

  // ------------------------------------------------------------ session

  /** Try again now (after a failure, or to take over someone else's session with `force`). */
  reconnect(force = false): void {
    if (this.disposed || (this.channel && !force)) return;
    this.restart(force);
  }

  /**
   * The configuration changed: reopen with the new one while anyone is
   * attached. With `revision`, nothing happens when the session already uses it.
   */
  reset(revision?: unknown): void {
    if (revision !== undefined && revision === this.openedRevision) return;
    if (this.holders.size === 0) return void this.dispose();
    this.attempt = 0;
    this.preferred = undefined;
    this.restart(false);
  }

  private restart(force: boolean): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const gen = ++this.generation;
    const ch = this.channel;
    this.channel = undefined;
    // Our own session must be gone before the next opens: the iLO takes one at a time.
    this.opening = true;
    this.setStatus({ state: 'connecting' });
    const pending = this.inFlight ?? Promise.resolve(undefined);
    const closeAll = Promise.all([ch?.close().catch(() => undefined), pending.then((c) => c?.close().catch(() => undefined))]);
    closeAll
      .then(() => {
        if (gen !== this.generation || this.disposed) return;
        this.opening = false;
        this.connectNow(force);
      })
      .catch((err: unknown) => this.failed(err));
  }

  private setStatus(s: ConsoleStatus): void {
    this.status = s;
    this.emit('status', s);
  }

  private async connect(force: boolean): Promise<void> {
    if (this.disposed || this.opening || this.channel) return;
    const gen = ++this.generation;
    this.opening = true;
    this.setStatus({ state: 'connecting' });
    const target = this.hub.resolveTarget(this.key);
    let ch: ConsoleChannel;
    try {
      if (!target) throw new BmcError('invalid-input', `no server ${this.key} is configured (deployed) for the console`);
      this.openedRevision = target.revision;
      const opening = target.open({ force, ...(this.preferred ? { prefer: this.preferred } : {}) });
      this.inFlight = opening.then(
        (c) => c,
        () => undefined,
      );
      ch = await opening;
    } catch (err) {
      if (gen !== this.generation || this.disposed) return;
      this.opening = false;
      this.failed(err);
      return;
    }
    if (gen !== this.generation || this.disposed) {
      void ch.close().catch(() => undefined);
      return;
    }
    this.opening = false;
    this.channel = ch;
    this.preferred = ch.via;
    this.attempt = 0;
    ch.stream.on('data', (d: Buffer) => this.onData(d));
    ch.stream.on('error', () => undefined);
    this.setStatus({ state: 'open', via: ch.via, target: ch.target });
    ch.ended
      .then((end) => {
        if (this.channel !== ch) return;
        this.channel = undefined;
        if (this.disposed) return;
        this.scheduleRetry(new BmcError('connection', `the console session ended: ${end.reason ?? 'closed'}`, { target: ch.target }), ch.via);
      })
      .catch((err: unknown) => this.failed(err));
  }

  /** Connect, any failure a console failure (retried or shown), never an unhandled rejection. */
  private connectNow(force: boolean): void {
    this.connect(force).catch((err: unknown) => this.failed(err));
  }

  private onData(d: Buffer): void {
    this.bytes.push(d);
    const done = this.lineBuffer.push(d);
    this.emit('data', d);
    for (const l of done) this.emit('line', l);
  }

  private failed(err: unknown): void {
    const e = err instanceof BmcError ? err : new BmcError('other', (err as Error)?.message ?? String(err));
    // Retrying these only repeats the refusal (and login failures lock iLO accounts).
    if (['login', 'not-supported', 'invalid-input', 'permission', 'busy', 'licence'].includes(e.code)) {
      this.setStatus({ state: 'unavailable', error: { code: e.code, message: e.message }, hints: consoleHints(e) });
      return;
    }
    this.scheduleRetry(e);
  }

  private scheduleRetry(e: BmcError, via?: ConsoleVia): void {
    if (this.holders.size === 0) return void this.dispose();
    const wait = Math.min(this.opts.retryFirstMs * 2 ** this.attempt, this.opts.retryMaxMs);
    this.attempt++;
    this.setStatus({ state: 'retrying', error: { code: e.code, message: e.message }, hints: consoleHints(e, via), retryAt: Date.now() + wait });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connectNow(false);
    }, wait);
    this.retryTimer.unref();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.lingerTimer);
    this.generation++;
    const ch = this.channel;
    this.channel = undefined;
    this.hub.forget(this.key, this);
    this.setStatus({ state: 'closed' });
    this.removeAllListeners();
    if (ch) await ch.close().catch(() => undefined);
  }
}

/** What one holder gets: read the console, and (when allowed) type. */
export interface ConsoleAttachment {
  readonly id: string;
  readonly console: ServerConsole;
  status(): ConsoleStatus;
  /** The last `n` lines of output (default 100). */
  lines(n?: number): string[];
  /** The last bytes of output, for a terminal screen. */
  history(): Buffer;
  isWriter(): boolean;
  takeWriter(): void;
  releaseWriter(): void;
  write(data: Buffer | string): Promise<void>;
  sendBreak(): Promise<void>;
  resize(cols: number, rows: number): void;
  /** Try again now; `force` ends a session someone else holds on the BMC (IPMI). */
  reconnect(force?: boolean): void;
  detach(): void;
}

export class ConsoleHub {
  private readonly consoles = new Map<string, ServerConsole>();
  private readonly opts: Required<Omit<ConsoleHubOptions, 'resolve'>>;

  constructor(private readonly options: ConsoleHubOptions) {
    this.opts = {
      lines: options.lines ?? 1000,
      historyBytes: options.historyBytes ?? 64 * 1024,
      lingerMs: options.lingerMs ?? 10_000,
      retryFirstMs: options.retryFirstMs ?? 1000,
      retryMaxMs: options.retryMaxMs ?? 30_000,
    };
  }

  resolveTarget(key: string): ConsoleTarget | undefined {
    return this.options.resolve(key);
  }

  /** The running console of a server, if anyone holds it. */
  get(key: string): ServerConsole | undefined {
    return this.consoles.get(key);
  }

  /**
   * Hold a server's console (opening it when nobody does yet). Throws
   * `invalid-input` when no such server is configured.
   */
  attach(key: string, holder: ConsoleHolder): ConsoleAttachment {
    if (!this.options.resolve(key)) throw new BmcError('invalid-input', `server: no console target "${key}" is configured`, { field: 'server' });
    let sc = this.consoles.get(key);
    if (!sc) {
      sc = new ServerConsole(key, this, this.opts);
      this.consoles.set(key, sc);
    }
    const id = randomUUID();
    const console = sc;
    console.add(id, { ...holder, canWrite: holder.canWrite === true });
    let detached = false;
    return {
      id,
      console,
      status: () => console.status,
      lines: (n = 100) => console.lines(n),
      history: () => console.history(),
      isWriter: () => console.writer?.id === id,
      takeWriter: () => console.takeWriter(id),
      releaseWriter: () => console.releaseWriter(id),
      write: (data) => console.write(id, typeof data === 'string' ? Buffer.from(data, 'utf8') : data),
      sendBreak: () => console.sendBreak(id),
      resize: (cols, rows) => console.resize(id, cols, rows),
      reconnect: (force = false) => console.reconnect(force),
      detach: () => {
        if (detached) return;
        detached = true;
        console.remove(id);
      },
    };
  }

  /**
   * A server's configuration changed (or went away): its session reopens
   * with the new one. `revision`: the new target's, to skip a session that
   * already uses it.
   */
  reset(key: string, revision?: unknown): void {
    this.consoles.get(key)?.reset(revision);
  }

  /** @internal called by a console that closed for good. */
  forget(key: string, sc: ServerConsole): void {
    if (this.consoles.get(key) === sc) this.consoles.delete(key);
  }

  keys(): string[] {
    return [...this.consoles.keys()];
  }

  async close(): Promise<void> {
    await Promise.all([...this.consoles.values()].map((c) => c.dispose()));
  }
}
