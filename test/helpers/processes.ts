/**
 * The process tree as Linux shows it in /proc: which processes descend from
 * a pid, and whether one still runs (a zombie does not).
 */
import { readdirSync, readFileSync } from 'node:fs';

function stat(pid: number): { ppid: number; state: string } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '?', ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

/** Every process below `pid` (children, grandchildren...). */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const s = stat(Number(e));
    if (s) parentOf.set(Number(e), s.ppid);
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [child, parent] of parentOf) {
      if (parent === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

/**
 * Whether a process still runs. A zombie does not, but a process whose main
 * thread is a zombie while other threads still end (its files, sockets
 * included, are closed only when the last thread ends) still does.
 */
export function running(pid: number): boolean {
  const s = stat(pid);
  if (s === undefined) return false;
  if (s.state !== 'Z' && s.state !== 'X') return true;
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return false;
  }
  return tasks.some((t) => {
    try {
      const state = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const c = state.slice(state.lastIndexOf(')') + 2)[0];
      return c !== 'Z' && c !== 'X';
    } catch {
      return false;
    }
  });
}

/** The command line of a process ("" once it is gone). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Resolves when none of `pids` runs any more; rejects after `ms` naming those still running. */
export async function allGone(pids: number[], ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const left = pids.filter(running);
    if (left.length === 0) return;
    if (Date.now() > end) throw new Error(`still running after ${ms} ms: ${left.map((p) => `${p} ${commandLine(p)}`).join('; ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
