/**
 * A local file as an image, only from inside the directories the operator
 * allowed (a flow must not be able to publish /etc/shadow to the network).
 */
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { basename, isAbsolute, sep } from 'node:path';
import { StoreError, invalidStoreInput } from '../store/errors';
import type { OpenedImage } from './source';

export async function openFileImage(path: string, roots: readonly string[] | undefined, field = 'image.file'): Promise<OpenedImage> {
  if (!isAbsolute(path)) throw invalidStoreInput(field, 'an absolute path', path);
  if (!roots || roots.length === 0) {
    throw new StoreError('not-allowed', `${field}: local files are not allowed: configure the directories images may be read from (fileRoots)`, { field });
  }
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    throw new StoreError('source', `${field}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { field, cause: err });
  }
  let allowed = false;
  for (const root of roots) {
    const r = await realpath(root).catch(() => undefined);
    if (r && (real === r || real.startsWith(r.endsWith(sep) ? r : r + sep))) allowed = true;
  }
  if (!allowed) throw new StoreError('not-allowed', `${field}: ${path} is outside the directories images may be read from`, { field });
  const fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW).catch((err: NodeJS.ErrnoException) => {
    throw new StoreError('source', `${field}: cannot open ${path} (${err.code ?? 'error'})`, { field, cause: err });
  });
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw invalidStoreInput(field, 'a regular file', path);
  }
  return {
    // 64 KiB reads (Node's default): a deploy holds a few chunks in flight, and a fleet publishes hundreds at once.
    stream: fh.createReadStream({ highWaterMark: 64 * 1024 }),
    size: st.size,
    suggestedName: basename(real),
    what: path,
  };
}
