/**
 * What the Node-RED editor sees of a running runtime: node status changes
 * and debug sidebar messages, read from the editor's own websocket
 * (`/comms`), as a browser would (no admin auth configured).
 */
import { WebSocket } from 'undici';

export interface CommsEvent {
  topic: string;
  data: Record<string, unknown>;
}

export interface NodeStatusEvent {
  text?: string;
  fill?: string;
  shape?: string;
}

export class EditorComms {
  readonly events: CommsEvent[] = [];
  private waiters: Array<() => void> = [];

  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener('message', (e) => {
      for (const m of JSON.parse(String(e.data)) as CommsEvent[]) this.events.push(m);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Connect to `<base>/comms` and subscribe to node status and the debug sidebar. */
  static async open(base: string): Promise<EditorComms> {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/comms`);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error(`cannot open ${base}/comms`)), { once: true });
    });
    for (const topic of ['status/#', 'debug']) ws.send(JSON.stringify({ subscribe: topic }));
    return new EditorComms(ws);
  }

  /** Status changes of a node, oldest first. */
  statuses(nodeId: string): NodeStatusEvent[] {
    return this.events.filter((e) => e.topic === `status/${nodeId}`).map((e) => e.data as NodeStatusEvent);
  }

  /** What a debug node showed in the sidebar (parsed when it was an object). */
  debugOf(nodeId: string): unknown[] {
    return this.events
      .filter((e) => e.topic === 'debug' && e.data.id === nodeId)
      .map((e) => {
        const raw = e.data.msg;
        try {
          return typeof raw === 'string' && e.data.format !== 'string' ? JSON.parse(raw) : raw;
        } catch {
          return raw;
        }
      });
  }

  /** Resolve when `check()` returns a value (not undefined); reject after `ms`. */
  async until<T>(check: () => T | undefined, ms: number, what: string): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = check();
      if (v !== undefined) return v;
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.ws.close();
  }
}
