/**
 * One entry point for either store, from plain configuration.
 */
import { BuiltinMediaStore, type BuiltinMediaStoreOptions } from './builtin/store';
import { invalidStoreInput } from './errors';
import { SwiftMediaStore, type SwiftMediaStoreOptions } from './swift-store';

export type MediaStoreConfig = ({ type: 'builtin' } & BuiltinMediaStoreOptions) | ({ type: 'swift' } & SwiftMediaStoreOptions);

export async function createMediaStore(cfg: MediaStoreConfig): Promise<BuiltinMediaStore | SwiftMediaStore> {
  switch (cfg?.type) {
    case 'builtin':
      return BuiltinMediaStore.open(cfg);
    case 'swift':
      return new SwiftMediaStore(cfg);
    default:
      throw invalidStoreInput('type', '"builtin" or "swift"', (cfg as { type?: unknown } | undefined)?.type);
  }
}
