/**
 * The simulated iLO's virtual drives, and how it reads an image: like a
 * real iLO, with small HTTP Range requests carrying only `Host` (without
 * the port) and `Range`, never the whole image.
 */
import { randomInt } from 'node:crypto';
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';

export type SimDriveName = 'cdrom' | 'floppy';
export type SimVmOption = 'BOOT_ONCE' | 'BOOT_ALWAYS' | 'NO_BOOT';

export type FetchFailureKind = 'unreachable' | 'not-found' | 'tls' | 'refused' | 'bad-reply';

export type FetchOutcome =
  | { ok: true; url: string; size: number; bytesRead: number; ranges: Array<[number, number]> }
  | { ok: false; url: string; kind: FetchFailureKind; detail: string };

export class VirtualDrive {
  url = '';
  inserted = false;
  /** The iLO has the image open (scripted connection). */
  connected = false;
  bootOption: SimVmOption = 'NO_BOOT';
  writeProtect = false;
  /** Booted once from a BOOT_ONCE image: the next reset ejects it. */
  bootOnceUsed = false;
  /** Size learned from Content-Range, once read. */
  size?: number;
  lastFetch?: FetchOutcome;

  constructor(readonly name: SimDriveName) {}

  insert(url: string): void {
    this.url = url;
    this.inserted = true;
    this.connected = false;
    this.bootOnceUsed = false;
    this.size = undefined;
    this.lastFetch = undefined;
  }

  /** Back to defaults, as an eject (or the auto-eject after a boot-once) leaves it. */
  eject(): void {
    this.url = '';
    this.inserted = false;
    this.connected = false;
    this.bootOption = 'NO_BOOT';
    this.writeProtect = false;
    this.bootOnceUsed = false;
    this.size = undefined;
  }
}

export interface MediaTrust {
  /** PEM CAs the simulated iLO trusts for https image URLs (the fleet CA by default). */
  ca: string[];
  /** Accept any certificate (an iLO set not to validate). Default false. */
  insecure?: boolean;
}

const READ_FIRST = 32 * 1024;
const RANDOM_READ = 4 * 1024;
const agents = new WeakMap<MediaTrust, Agent>();

function agentFor(trust: MediaTrust): Agent {
  let a = agents.get(trust);
  if (!a) {
    a = new Agent({
      connect: { ca: trust.ca.length ? trust.ca : undefined, rejectUnauthorized: !trust.insecure, timeout: 5000 },
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
      keepAliveTimeout: 2000,
      connections: 4,
    });
    agents.set(trust, a);
  }
  return a;
}

function classify(err: unknown): { kind: FetchFailureKind; detail: string } {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e?.code ?? e?.cause?.code ?? '';
  const msg = e?.message ?? String(err);
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|SSL|EPROTO|TLS/i.test(code) || /certificate|ssl|tls/i.test(msg)) {
    return { kind: 'tls', detail: `${code || 'TLS'}: ${msg}` };
  }
  return { kind: 'unreachable', detail: `${code ? `${code} ` : ''}${msg}` };
}

/** One ranged GET. Resolves with the bytes and the total size the server reports. */
async function rangeGet(url: string, trust: MediaTrust, start: number, end: number): Promise<{ status: number; body: Buffer; total?: number }> {
  const u = new URL(url);
  const res = await request(url, {
    method: 'GET',
    // What an iLO sends: the host without the port, and the range.
    headers: { host: u.hostname, range: `bytes=${start}-${end}` },
    dispatcher: agentFor(trust),
  });
  const chunks: Buffer[] = [];
  const want = end - start + 1;
  // A server ignoring Range answers 200 with the whole image: skip to `start`
  // and stop reading once the asked range is in.
  let skip = res.statusCode === 200 ? start : 0;
  let got = 0;
  for await (const c of res.body) {
    let buf = c as Buffer;
    if (skip > 0) {
      const n = Math.min(skip, buf.length);
      skip -= n;
      buf = buf.subarray(n);
    }
    if (buf.length === 0) continue;
    chunks.push(buf);
    got += buf.length;
    if (got >= want) break;
  }
  const cr = /\/(\d+)\s*$/.exec(String(res.headers['content-range'] ?? ''));
  const len = Number(res.headers['content-length']);
  const total = cr ? Number(cr[1]) : res.statusCode === 200 && Number.isFinite(len) ? len : undefined;
  return { status: res.statusCode, body: Buffer.concat(chunks).subarray(0, want), total };
}

/**
 * Read the start of the image and one random range, as firmware does when
 * it connects an image. Never throws: the outcome says what went wrong.
 */
export async function probeImage(url: string, trust: MediaTrust): Promise<FetchOutcome> {
  try {
    const first = await rangeGet(url, trust, 0, READ_FIRST - 1);
    if (first.status === 404) return { ok: false, url, kind: 'not-found', detail: 'HTTP 404' };
    if (first.status === 401 || first.status === 403) return { ok: false, url, kind: 'refused', detail: `HTTP ${first.status}` };
    if (first.status !== 206 && first.status !== 200) return { ok: false, url, kind: 'bad-reply', detail: `HTTP ${first.status}` };
    const size = first.total ?? first.body.length;
    const ranges: Array<[number, number]> = [[0, first.body.length - 1]];
    let bytesRead = first.body.length;
    if (size > READ_FIRST + RANDOM_READ) {
      const at = randomInt(READ_FIRST, size - RANDOM_READ);
      const more = await rangeGet(url, trust, at, at + RANDOM_READ - 1);
      if (more.status !== 206 && more.status !== 200) return { ok: false, url, kind: 'bad-reply', detail: `HTTP ${more.status} to a Range request` };
      ranges.push([at, at + more.body.length - 1]);
      bytesRead += more.body.length;
    }
    return { ok: true, url, size, bytesRead, ranges };
  } catch (err) {
    return { ok: false, url, ...classify(err) };
  }
}

/**
 * The image as the host sees it through the iLO: every read is a Range
 * request, so memory stays flat whatever the image size. For simulated
 * ramdisks that read parameters from the virtual floppy.
 */
export class ImageReader {
  constructor(
    readonly url: string,
    readonly size: number,
    private readonly trust: MediaTrust,
  ) {}

  async read(offset: number, length: number): Promise<Buffer> {
    if (offset < 0 || length < 0 || offset >= this.size) return Buffer.alloc(0);
    const end = Math.min(this.size, offset + length) - 1;
    const r = await rangeGet(this.url, this.trust, offset, end);
    if (r.status !== 206 && r.status !== 200) throw new Error(`image read failed: HTTP ${r.status}`);
    return r.body;
  }

  /** The whole image (or a slice) as a stream of 64 KiB Range reads. */
  stream(start = 0, end = this.size - 1): Readable {
    const chunks = async function* (reader: ImageReader): AsyncGenerator<Buffer> {
      for (let pos = start; pos <= end; ) {
        const buf = await reader.read(pos, Math.min(64 * 1024, end - pos + 1));
        if (buf.length === 0) return;
        pos += buf.length;
        yield buf;
      }
    };
    return Readable.from(chunks(this), { objectMode: false });
  }
}
