/**
 * Small helpers shared by the benchmarks: timing, CPU, memory, and a
 * uniform way to print a figure next to its baseline.
 */
import { spawn } from 'node:child_process';
import { cpuUsage, memoryUsage } from 'node:process';

export interface Measurement {
  label: string;
  ops: number;
  wallMs: number;
  /** CPU time of this process (user + system), ms. */
  cpuMs: number;
}

export async function measure(label: string, ops: number, fn: () => Promise<void>): Promise<Measurement> {
  const c0 = cpuUsage();
  const t0 = performance.now();
  await fn();
  const wallMs = performance.now() - t0;
  const c = cpuUsage(c0);
  return { label, ops, wallMs, cpuMs: (c.user + c.system) / 1000 };
}

export const perSecond = (m: Measurement): number => (m.ops / m.wallMs) * 1000;
export const cpuPerOp = (m: Measurement): number => m.cpuMs / m.ops;

export function rssMb(): number {
  // memoryUsage.rss() reads only the RSS: sampling every 20 ms stays cheap.
  return memoryUsage.rss() / (1024 * 1024);
}

/** Track peak RSS while something runs. */
export function peakRss(intervalMs = 20): { stop(): number } {
  let peak = rssMb();
  const t = setInterval(() => {
    peak = Math.max(peak, rssMb());
  }, intervalMs);
  return {
    stop(): number {
      clearInterval(t);
      return Math.max(peak, rssMb());
    },
  };
}

export function heading(title: string): void {
  console.log(`\n=== ${title} ${'='.repeat(Math.max(0, 70 - title.length))}`);
}

/** One line: ours, baseline, ratio, and whether the target holds. */
export function compare(what: string, ours: number, baseline: number, unit: string, target: { atLeast?: number; atMost?: number }): void {
  const ratio = baseline === 0 ? Infinity : ours / baseline;
  const ok = (target.atLeast === undefined || ratio >= target.atLeast) && (target.atMost === undefined || ratio <= target.atMost);
  const goal = target.atLeast !== undefined ? `target >= ${target.atLeast}x` : `target <= ${target.atMost}x`;
  console.log(`${what.padEnd(44)} ours ${fmt(ours)} ${unit}  baseline ${fmt(baseline)} ${unit}  ratio ${fmt(ratio)}x  (${goal}: ${ok ? 'MET' : 'NOT MET'})`);
}

/**
 * One line for a figure with no baseline to compare against: the value and
 * whether it meets an absolute target.
 */
export function absolute(what: string, value: number, unit: string, target: { below?: number; atMost?: number }): boolean {
  const ok = (target.below === undefined || value < target.below) && (target.atMost === undefined || value <= target.atMost);
  const goal = target.below !== undefined ? `target < ${target.below} ${unit}` : `target <= ${target.atMost} ${unit}`;
  console.log(`${what.padEnd(44)} ${fmt(value)} ${unit}  (absolute ${goal}: ${ok ? 'MET' : 'NOT MET'})`);
  return ok;
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(3);
}

/**
 * Run a program, feed `input` on stdin (how baselines get credentials: never
 * in process arguments), resolve with its stdout.
 */
export function runWithInput(cmd: string, args: string[], input: string, timeoutMs = 600_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const t = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(t);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} exited with ${code}: ${err.trim().split('\n').pop() ?? ''}`));
    });
    child.stdin.end(input);
  });
}

/** The p-th percentile (0-100) of a list of numbers. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.round((p / 100) * (sorted.length - 1)))] as number;
}
