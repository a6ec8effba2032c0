/**
 * Transfer progress: bytes, total and percent, reported at most every
 * `intervalMs` (and always once at the end), plus a short text for a node
 * status such as "42% 840/2000 MB".
 */

export interface TransferProgress {
  bytes: number;
  /** Total bytes, when known. */
  total?: number;
  /** 0-100, when the total is known. */
  percent?: number;
  done: boolean;
}

export type ProgressListener = (p: TransferProgress) => void;

export class ProgressMeter {
  private bytes = 0;
  private last = 0;
  private finished = false;

  constructor(
    private readonly total: number | undefined,
    private readonly listener: ProgressListener | undefined,
    private readonly intervalMs = 500,
    private readonly now: () => number = Date.now,
  ) {}

  add(n: number): void {
    this.bytes += n;
    if (!this.listener) return;
    const t = this.now();
    if (t - this.last >= this.intervalMs) {
      this.last = t;
      this.emit(false);
    }
  }

  /** The final report (only once). */
  done(): void {
    if (this.finished) return;
    this.finished = true;
    this.emit(true);
  }

  get transferred(): number {
    return this.bytes;
  }

  private emit(done: boolean): void {
    if (!this.listener) return;
    const p: TransferProgress = { bytes: this.bytes, done };
    if (this.total !== undefined) {
      p.total = this.total;
      p.percent = this.total === 0 ? 100 : Math.min(100, Math.floor((this.bytes / this.total) * 100));
    }
    try {
      this.listener(p);
    } catch {
      // a faulty listener must not break the transfer
    }
  }
}

const MB = 1_000_000;

/** "42% 840/2000 MB", or "840 MB" when the total is unknown. */
export function formatProgress(p: Pick<TransferProgress, 'bytes' | 'total' | 'percent'>): string {
  const mb = (n: number): string => (n >= 10 * MB ? String(Math.floor(n / MB)) : (n / MB).toFixed(1));
  if (p.total === undefined) return `${mb(p.bytes)} MB`;
  const pct = p.percent ?? (p.total === 0 ? 100 : Math.floor((p.bytes / p.total) * 100));
  return `${pct}% ${mb(p.bytes)}/${mb(p.total)} MB`;
}
