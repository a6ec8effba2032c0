/**
 * The editor plugin behind the "iLO console" sidebar tab: its admin routes
 * and websocket (console-admin.ts); the tab itself is ilo-console-sidebar.html.
 */
import type { NodeAPI } from 'node-red';
import { registerConsoleAdmin } from './console-admin';

export = function register(RED: NodeAPI): void {
  (RED as unknown as { plugins: { registerPlugin(id: string, def: Record<string, unknown>): void } }).plugins.registerPlugin('ilo-console-sidebar', {
    type: 'ilo-console-sidebar',
  });
  registerConsoleAdmin(RED);
};
