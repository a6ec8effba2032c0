/**
 * Running the real media tools (mtools, fsck.fat, xorriso, blkid) from tests,
 * and the loud skip reason for tests that need host boot loader files.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool; never throws for a non-zero exit (the test asserts on `code`). */
export function run(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 60_000, env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin`, ...opts.env } },
      (err, stdout, stderr) => {
        if (!err) return resolve({ code: 0, stdout, stderr });
        const e = err as Error & { code?: string | number };
        if (e.code === 'ENOENT') return reject(new Error(`${cmd} not found`));
        resolve({ code: typeof e.code === 'number' ? e.code : -1, stdout, stderr });
      },
    );
  });
}

/** Runs a tool and fails with its output when it exits non-zero. */
export async function runOk(cmd: string, args: readonly string[], opts?: { env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<ToolResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** A fresh temporary directory and its clean-up. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `ilo-media-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Host files the boot ISO builders read, with the Debian package that has each. */
export const HOST_BOOT_FILES: ReadonlyArray<readonly [string, string]> = [
  ['/usr/lib/ISOLINUX/isolinux.bin', 'isolinux'],
  ['/usr/lib/ISOLINUX/isohdpfx.bin', 'isolinux'],
  ['/usr/lib/syslinux/modules/bios/ldlinux.c32', 'syslinux-common'],
  ['/usr/lib/grub/x86_64-efi/monolithic/gcdx64.efi', 'grub-efi-amd64-bin'],
];

/** `false` when every file exists, else the loud reason for `test(..., { skip })`. */
export function needFiles(files: ReadonlyArray<readonly [string, string]>): string | false {
  const missing = files.filter(([p]) => !existsSync(p));
  if (missing.length === 0) return false;
  const reason = `NOT RUN: missing ${missing.map(([p]) => p).join(', ')} (Debian: ${[...new Set(missing.map(([, pkg]) => pkg))].join(' ')})`;
  process.stderr.write(`\n!!! ${reason}\n`);
  return reason;
}

/** Combines skip reasons: the first one that is not `false`. */
export function anySkip(...reasons: Array<string | false>): string | false {
  return reasons.find((r) => r !== false) ?? false;
}
