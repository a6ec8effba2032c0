/**
 * The console's output as text lines: terminal escapes and control
 * characters removed, a carriage return starting the line over (as on the
 * screen), the last `max` lines kept. Linear in its input; a line longer
 * than `maxLineChars` is cut into several.
 */
import { StringDecoder } from 'node:string_decoder';

// eslint-disable-next-line no-control-regex -- terminal escape sequences are control characters
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()*+][0-~]|\x1b[@-_]/g;
// eslint-disable-next-line no-control-regex -- as above
const CONTROLS = /[\x00-\x07\x0b-\x0c\x0e-\x1f\x7f]/g;

/** One line as a person reads it on the screen. */
export function cleanLine(raw: string): string {
  let s = raw.replace(ESCAPES, '');
  if (s.includes('\b')) {
    const out: string[] = [];
    for (const ch of s) {
      if (ch === '\b') out.pop();
      else out.push(ch);
    }
    s = out.join('');
  }
  if (s.includes('\r')) {
    const parts = s.split('\r');
    // "text\r" (a CR before the LF) keeps the text; "old\rnew" shows "new" over "old".
    let shown = '';
    for (const p of parts) if (p !== '') shown = p + shown.slice(p.length);
    s = shown;
  }
  return s.replace(CONTROLS, '').replace(/\s+$/, '');
}

export class LineBuffer {
  private readonly kept: string[] = [];
  private partial = '';
  private readonly decoder = new StringDecoder('utf8');

  constructor(
    readonly max = 1000,
    private readonly maxLineChars = 4096,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('max: expected a whole number of at least 1');
  }

  /** Add output; returns the lines it completed. */
  push(chunk: Buffer): string[] {
    const text = this.partial + this.decoder.write(chunk);
    const done: string[] = [];
    let start = 0;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', start)) {
      this.cutLong(text.slice(start, i), done, true);
      start = i + 1;
    }
    this.partial = '';
    this.cutLong(text.slice(start), done, false);
    for (const l of done) this.keep(l);
    return done;
  }

  private cutLong(raw: string, done: string[], complete: boolean): void {
    let rest = raw;
    while (rest.length > this.maxLineChars) {
      done.push(cleanLine(rest.slice(0, this.maxLineChars)));
      rest = rest.slice(this.maxLineChars);
    }
    if (complete) done.push(cleanLine(rest));
    else this.partial = rest;
  }

  private keep(line: string): void {
    this.kept.push(line);
    if (this.kept.length > this.max * 2) this.kept.splice(0, this.kept.length - this.max);
  }

  /** The last `n` lines (default all kept, at most `max`), with the line being written last when it has text. */
  lines(n = this.max): string[] {
    const current = cleanLine(this.partial);
    const all = current ? [...this.kept.slice(-this.max), current] : this.kept.slice(-this.max);
    return all.slice(-Math.max(0, Math.min(n, this.max)));
  }

  clear(): void {
    this.kept.length = 0;
    this.partial = '';
  }
}

/** The last `max` bytes of output, for a new viewer's screen. */
export class ByteHistory {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(readonly max = 64 * 1024) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.max && this.chunks.length > 1) {
      this.size -= (this.chunks.shift() as Buffer).length;
    }
  }

  bytes(): Buffer {
    const all = Buffer.concat(this.chunks);
    return all.length > this.max ? all.subarray(all.length - this.max) : all;
  }

  clear(): void {
    this.chunks = [];
    this.size = 0;
  }
}
