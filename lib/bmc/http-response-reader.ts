/**
 * Reads one HTTP/1.1 response from the bytes of a connection, fed as they
 * arrive: status line, headers, then a body framed by Transfer-Encoding:
 * chunked, by Content-Length, or by the peer closing the connection (what
 * RIBCL firmware does: Allegro RomPager sends chunked replies and closes).
 * Linear in the bytes read whatever their split; limits on the header
 * section, the chunk-size lines and the body.
 */

export type HeaderMap = Record<string, string | string[] | undefined>;

export interface HttpResponse {
  statusCode: number;
  headers: HeaderMap;
  body: Buffer;
}

/** A response that cannot be read (what the peer sent is not HTTP, or too large). */
export class HttpReadError extends Error {
  constructor(
    readonly code: 'ERR_ILO_BAD_HTTP' | 'ERR_ILO_ANSWER_TOO_LARGE' | 'ERR_ILO_ANSWER_CUT',
    message: string,
  ) {
    super(message);
    this.name = 'HttpReadError';
  }
}

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_CHUNK_LINE = 1024;
const CR = 13;
const LF = 10;

const enum Stage {
  Head,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailer,
  Fixed,
  UntilClose,
  Done,
}

export class HttpResponseReader {
  private stage = Stage.Head;
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  /** Consecutive line-end bytes seen (CRLFCRLF or LFLF ends the head). */
  private lineEnds = 0;
  private line = '';
  private remaining = 0;
  private readonly body: Buffer[] = [];
  private bodyBytes = 0;
  private statusCode = 0;
  private headers: HeaderMap = {};

  constructor(
    private readonly maxBodyBytes: number,
    /** A HEAD request's answer has no body whatever its headers say. */
    private readonly noBody = false,
  ) {}

  get done(): boolean {
    return this.stage === Stage.Done;
  }

  /** Whether any byte of a response has arrived. */
  get started(): boolean {
    return this.headBytes > 0;
  }

  /** Feed bytes; returns true once the response is complete (later bytes are ignored). */
  push(chunk: Buffer): boolean {
    let i = 0;
    while (i < chunk.length && this.stage !== Stage.Done) {
      switch (this.stage) {
        case Stage.Head:
          i = this.readHead(chunk, i);
          break;
        case Stage.ChunkSize:
        case Stage.Trailer:
          i = this.readLine(chunk, i);
          break;
        case Stage.ChunkData:
        case Stage.Fixed: {
          const take = Math.min(this.remaining, chunk.length - i);
          this.addBody(chunk.subarray(i, i + take));
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.stage = this.stage === Stage.Fixed ? Stage.Done : Stage.ChunkDataEnd;
          break;
        }
        case Stage.ChunkDataEnd:
          // The CRLF after a chunk's data.
          if (chunk[i] === LF) this.stage = Stage.ChunkSize;
          else if (chunk[i] !== CR) throw new HttpReadError('ERR_ILO_BAD_HTTP', 'chunked answer: no line end after a chunk');
          i++;
          break;
        case Stage.UntilClose:
          this.addBody(i === 0 ? chunk : chunk.subarray(i));
          i = chunk.length;
          break;
      }
    }
    return this.stage === Stage.Done;
  }

  /** The peer closed the connection: the response, or why it is incomplete. */
  end(): HttpResponse {
    if (this.stage === Stage.UntilClose) this.stage = Stage.Done;
    if (this.stage !== Stage.Done) {
      throw new HttpReadError(
        'ERR_ILO_ANSWER_CUT',
        this.headBytes === 0 ? 'the connection closed without an answer' : 'the connection closed before the answer was complete',
      );
    }
    return this.response();
  }

  response(): HttpResponse {
    return { statusCode: this.statusCode, headers: this.headers, body: this.body.length === 1 ? (this.body[0] as Buffer) : Buffer.concat(this.body, this.bodyBytes) };
  }

  private addBody(b: Buffer): void {
    if (b.length === 0) return;
    this.bodyBytes += b.length;
    if (this.bodyBytes > this.maxBodyBytes) throw new HttpReadError('ERR_ILO_ANSWER_TOO_LARGE', `the answer is larger than ${this.maxBodyBytes} bytes`);
    this.body.push(b);
  }

  private readHead(chunk: Buffer, from: number): number {
    let i = from;
    for (; i < chunk.length; i++) {
      const c = chunk[i];
      if (c === LF) {
        if (++this.lineEnds === 2) {
          i++;
          break;
        }
      } else if (c !== CR) this.lineEnds = 0;
    }
    this.head.push(chunk.subarray(from, i));
    this.headBytes += i - from;
    if (this.headBytes > MAX_HEAD_BYTES) throw new HttpReadError('ERR_ILO_BAD_HTTP', `the answer's header section is longer than ${MAX_HEAD_BYTES} bytes`);
    if (this.lineEnds === 2) this.startBody(Buffer.concat(this.head).toString('latin1'));
    return i;
  }

  private startBody(head: string): void {
    const lines = head.split(/\r?\n/);
    const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0] ?? '');
    if (!status) throw new HttpReadError('ERR_ILO_BAD_HTTP', `the answer does not start with an HTTP/1.x status line (${JSON.stringify((lines[0] ?? '').slice(0, 40))})`);
    const code = Number(status[1]);
    if (code >= 100 && code < 200) {
      // An interim answer (100 Continue): the real one follows.
      this.head.length = 0;
      this.headBytes = 0;
      this.lineEnds = 0;
      return;
    }
    const headers: HeaderMap = {};
    for (const line of lines.slice(1)) {
      if (!line) continue;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new HttpReadError('ERR_ILO_BAD_HTTP', `malformed header line ${JSON.stringify(line.slice(0, 40))}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const prev = headers[name];
      headers[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
    }
    this.statusCode = code;
    this.headers = headers;
    const te = String(headers['transfer-encoding'] ?? '').toLowerCase();
    const cl = headers['content-length'];
    if (this.noBody || code === 204 || code === 304) this.stage = Stage.Done;
    else if (te.includes('chunked')) this.stage = Stage.ChunkSize;
    else if (cl !== undefined) {
      const values = (Array.isArray(cl) ? cl : [cl]).map((v) => v.trim());
      if (!/^\d+$/.test(values[0] as string) || values.some((v) => v !== values[0])) {
        throw new HttpReadError('ERR_ILO_BAD_HTTP', `invalid Content-Length ${JSON.stringify(String(cl))}`);
      }
      this.remaining = Number(values[0]);
      if (this.remaining > this.maxBodyBytes) throw new HttpReadError('ERR_ILO_ANSWER_TOO_LARGE', `the answer is larger than ${this.maxBodyBytes} bytes`);
      this.stage = this.remaining === 0 ? Stage.Done : Stage.Fixed;
    } else this.stage = Stage.UntilClose;
  }

  /** A chunk-size line or a trailer line, up to its LF. */
  private readLine(chunk: Buffer, from: number): number {
    const lf = chunk.indexOf(LF, from);
    const end = lf < 0 ? chunk.length : lf;
    this.line += chunk.toString('latin1', from, end);
    if (this.line.length > MAX_CHUNK_LINE) throw new HttpReadError('ERR_ILO_BAD_HTTP', 'chunked answer: a chunk-size or trailer line is too long');
    if (lf < 0) return chunk.length;
    const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
    this.line = '';
    if (this.stage === Stage.Trailer) {
      if (line === '') this.stage = Stage.Done;
      return lf + 1;
    }
    const hex = /^\s*([0-9a-fA-F]{1,8})\s*(?:;.*)?$/.exec(line);
    if (!hex) throw new HttpReadError('ERR_ILO_BAD_HTTP', `chunked answer: bad chunk size ${JSON.stringify(line.slice(0, 20))}`);
    const size = parseInt(hex[1] as string, 16);
    if (size === 0) this.stage = Stage.Trailer;
    else {
      if (this.bodyBytes + size > this.maxBodyBytes) throw new HttpReadError('ERR_ILO_ANSWER_TOO_LARGE', `the answer is larger than ${this.maxBodyBytes} bytes`);
      this.remaining = size;
      this.stage = Stage.ChunkData;
    }
    return lf + 1;
  }
}
