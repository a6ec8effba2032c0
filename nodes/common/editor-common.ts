/**
 * An editor plugin holding the scripts the package's node dialogs share
 * (editor-common.html): the editor loads plugins before any node's
 * definition, so each node's inline definition can use them.
 */
import type { NodeAPI } from 'node-red';

export = function register(RED: NodeAPI): void {
  (RED as unknown as { plugins: { registerPlugin(id: string, def: Record<string, unknown>): void } }).plugins.registerPlugin('ilo-editor-common', {
    type: 'ilo-editor-common',
  });
};
