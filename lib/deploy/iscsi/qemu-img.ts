/**
 * The qemu-img calls an iSCSI deploy needs: what an image is, how big a
 * target is, copying an image (raw or qcow2) into a window of the target, and
 * reading a few bytes back. qemu-img streams; nothing here holds an image in
 * memory.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunResult, ToolRunner } from '../../exec/run';
import { DeployError } from '../errors';

export interface QemuImgContext {
  qemuImg: string;
  run: ToolRunner;
  /** `--object` definitions (e.g. the CHAP secret); given to every call that accepts them. */
  objects: string[];
  signal?: AbortSignal;
  /** Where scratch files go. */
  workDir: string;
}

export type ImageFormat = 'raw' | 'qcow2';

export interface ImageInfo {
  format: ImageFormat;
  virtualSize: number;
}

/** A source for a copy: an image file in a known format, or image-opts (already raw). */
export type CopySource = { file: string; format: ImageFormat } | { imageOpts: string };

/**
 * Format and virtual size of an image file. A qcow2 that points at a backing
 * file or an external data file is refused: following it would read files the
 * caller never named (the image-probing hole Ironic had to close).
 */
export async function inspectImage(ctx: QemuImgContext, file: string, format?: ImageFormat): Promise<ImageInfo> {
  const r = await call(ctx, 'read the image', ['info', '--output=json', ...(format ? ['-f', format] : []), file]);
  let info: Record<string, unknown>;
  try {
    info = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    throw new DeployError('image', `qemu-img info gave no JSON for ${file}`);
  }
  const fmt = info['format'];
  if (fmt !== 'raw' && fmt !== 'qcow2') throw new DeployError('image', `${file} is a ${String(fmt)} image; raw or qcow2 expected`, { field: 'image' });
  const specific = (info['format-specific'] as { data?: Record<string, unknown> } | undefined)?.data;
  if (info['backing-filename'] !== undefined || info['full-backing-filename'] !== undefined || specific?.['data-file'] !== undefined) {
    throw new DeployError('image', `${file} refers to another file (backing or data file); a self-contained image is expected`, { field: 'image' });
  }
  const size = info['virtual-size'];
  if (typeof size !== 'number' || size <= 0) throw new DeployError('image', `qemu-img info reported no size for ${file}`);
  return { format: fmt, virtualSize: size };
}

/** Size in bytes of a target given as image-opts. */
export async function targetSize(ctx: QemuImgContext, opts: string): Promise<number> {
  const r = await call(ctx, 'open the iSCSI LUN', ['info', ...objectArgs(ctx), '--output=json', '--image-opts', opts]);
  const size = (JSON.parse(r.stdout) as { 'virtual-size'?: unknown })['virtual-size'];
  if (typeof size !== 'number') throw new DeployError('tool-failed', 'qemu-img info reported no size for the iSCSI LUN');
  return size;
}

export interface CopyProgress {
  /** 0 to 100, as qemu-img reports it. */
  percent: number;
}

/** Copy `source` into the target (image-opts), writing raw; `-n`: the target exists. */
export async function copyInto(ctx: QemuImgContext, what: string, source: CopySource, targetOpts: string, onProgress?: (p: CopyProgress) => void): Promise<void> {
  const src = 'file' in source ? ['-f', source.format, source.file] : ['--image-opts', source.imageOpts];
  // The target's format is in its image-opts (driver=raw); qemu-img refuses -O with --target-image-opts.
  const args = ['convert', ...objectArgs(ctx), '-n', ...(onProgress ? ['-p'] : []), ...src, '--target-image-opts', targetOpts];
  let pending = '';
  await call(ctx, what, args, (chunk) => {
    pending += chunk;
    const parts = pending.split(/[\r\n]/);
    pending = parts.pop() ?? '';
    for (const p of parts) {
      const m = /\((\d+(?:\.\d+)?)\/100%\)/.exec(p);
      if (m && onProgress) onProgress({ percent: Number(m[1]) });
    }
  });
}

/** The bytes of a window, read through whatever the image-opts describe. */
export async function readBytes(ctx: QemuImgContext, what: string, source: CopySource): Promise<Buffer> {
  const dir = await mkdtemp(join(ctx.workDir, 'read-'));
  try {
    const out = join(dir, 'bytes');
    const src = 'file' in source ? ['-f', source.format, source.file] : ['--image-opts', source.imageOpts];
    await call(ctx, what, ['convert', ...objectArgs(ctx), ...src, '-O', 'raw', out]);
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function objectArgs(ctx: QemuImgContext): string[] {
  return ctx.objects.flatMap((o) => ['--object', o]);
}

async function call(ctx: QemuImgContext, what: string, args: string[], onStdout?: (s: string) => void): Promise<RunResult> {
  if (ctx.signal?.aborted) throw new DeployError('aborted', `cancelled before: ${what}`);
  const r = await ctx.run(ctx.qemuImg, args, { signal: ctx.signal, onStdout });
  if (r.exitCode === 0 && !r.failure) return r;
  throw qemuImgFailure(r, what);
}

export function qemuImgFailure(r: RunResult, what: string): DeployError {
  if (r.notFound) {
    return new DeployError('not-supported', `${what}: ${r.file} is not installed (Debian: qemu-utils, and qemu-block-extra for iSCSI)`);
  }
  if (r.canceled) return new DeployError('aborted', `${what}: cancelled`);
  if (r.timedOut) return new DeployError('timeout', `${what}: ${r.failure}`);
  // "Could not open '<the whole image-opts>': " says nothing the rest does not.
  const said = r.stderr
    .split('\n')
    .map((l) => l.replace(/^qemu-img: /, '').replace(/^Could not open '[^']*': /, '').trim())
    .filter(Boolean)
    .join('; ') || r.failure || `exit code ${r.exitCode}`;
  let code: DeployError['code'] = 'tool-failed';
  if (/Unknown (driver|protocol) '(iscsi|host_device)'/.test(said)) code = 'not-supported';
  else if (/output file is smaller than input file/.test(said)) code = 'too-small';
  else if (/iSCSI: Failed to connect|Failed to log ?in|Authentication failure|Connection refused|LOGICAL_UNIT_NOT_SUPPORTED|Target not found/i.test(said)) code = 'connection';
  else if (/Image is not in (qcow2|raw) format|not in qcow2 format|Unknown file format|Could not read image|bad magic/i.test(said)) code = 'image';
  return new DeployError(code, `${what} failed: ${said}`, { toolMessage: said });
}
