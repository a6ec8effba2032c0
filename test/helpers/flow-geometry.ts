/**
 * Where the nodes of a flow sit in the editor, and whether a tab's layout
 * reads: no two nodes overlap, and every node fits a 1600x900 view (a
 * laptop's editor without scrolling). Boxes come either from the editor
 * itself (examples-layout-browser) or, here, from the flow JSON: the node's
 * position is its centre, its height Node-RED's (30 px, 15 px per output
 * beyond two), its width from its label as Node-RED sizes it (at least 100
 * px, label plus icon and ports, in steps of 20), the label estimated a
 * little wide so that the JSON check is never kinder than the editor.
 */

export interface FlowNode {
  id: string;
  type: string;
  z?: string;
  x?: number;
  y?: number;
  name?: string;
  label?: string;
  wires?: unknown[];
  [key: string]: unknown;
}

export interface Box {
  id: string;
  type: string;
  label: string;
  /** Centre, as Node-RED stores it. */
  x: number;
  y: number;
  w: number;
  h: number;
}

export const VIEW = { width: 1600, height: 900 };

/** What the editor shows on a node without a name, for the types the examples use. */
export function labelOf(n: FlowNode): string {
  if (typeof n.name === 'string' && n.name) return n.name;
  if (typeof n.label === 'string' && n.label) return n.label;
  const s = (k: string): string => (typeof n[k] === 'string' ? (n[k] as string) : '');
  switch (n.type) {
    case 'http in':
      return `[${s('method')}] ${s('url')}`;
    case 'http response':
      return s('statusCode') ? `http (${s('statusCode')})` : 'http';
    // This package's nodes, as their editor label functions (nodes/<type>/<type>.html) put it.
    case 'ilo-power':
      return `power ${s('action') === 'msg' ? 'msg.action' : s('action')}`;
    case 'ilo-virtual-media':
      return `vmedia ${s('action') === 'msg' ? 'msg.action' : s('action')} ${s('device') === 'msg' ? 'msg.device' : s('device')}`;
    case 'ilo-boot-mode': {
      const mode = s('mode') === 'msg' ? 'msg.mode' : s('mode');
      const device = s('device') === 'msg' ? 'msg.device' : s('device');
      const byAction: Record<string, string> = { 'set-pending-mode': `boot mode ${mode}`, 'one-time-boot': `boot once ${device}`, 'persistent-order': 'boot order', msg: 'boot msg.action' };
      return byAction[s('action')] ?? 'boot status';
    }
    case 'ilo-health':
      return 'health';
    case 'ilo-deploy-flow': {
      const action = s('action') === 'msg' ? 'msg.action' : s('action');
      return action === 'status' || action === 'undeploy' ? `deploy ${action}` : `${action} ${s('method') === 'msg' ? 'msg.method' : s('method')}`;
    }
    case 'comment':
      return '';
    default:
      // Unknown to this estimate: as wide as a type name with a short description.
      return `${n.type} ${s('action') || s('property') || s('topic') || 'msg.payload'}`;
  }
}

const CHAR_PX = 8;

export function estimatedBox(n: FlowNode): Box {
  const label = labelOf(n);
  const w = Math.max(100, 20 * Math.ceil((label.length * CHAR_PX + 60) / 20));
  const outputs = Array.isArray(n.wires) ? n.wires.length : 0;
  return { id: n.id, type: n.type, label, x: Number(n.x), y: Number(n.y), w, h: Math.max(30, outputs * 15) };
}

/** The boxes of each tab's nodes (config nodes, which have no place on a tab, left out). */
export function boxesByTab(flows: FlowNode[]): Map<string, Box[]> {
  const tabs = new Map<string, Box[]>();
  for (const t of flows) if (t.type === 'tab') tabs.set(t.id, []);
  for (const n of flows) {
    if (n.z && tabs.has(n.z) && typeof n.x === 'number' && typeof n.y === 'number') tabs.get(n.z)!.push(estimatedBox(n));
  }
  return tabs;
}

const describe = (b: Box): string => `${b.type} "${b.label}" (${b.id}) at ${b.x},${b.y} ${b.w}x${b.h}`;

/** What is wrong with one tab's layout: overlapping pairs and nodes outside the view. */
export function layoutProblems(boxes: Box[], view = VIEW): string[] {
  const problems: string[] = [];
  const edges = boxes.map((b) => ({ b, left: b.x - b.w / 2, right: b.x + b.w / 2, top: b.y - b.h / 2, bottom: b.y + b.h / 2 }));
  for (const e of edges) {
    if (e.left < 0 || e.top < 0 || e.right > view.width || e.bottom > view.height) problems.push(`outside ${view.width}x${view.height}: ${describe(e.b)}`);
  }
  for (let i = 0; i < edges.length; i++) {
    for (let j = i + 1; j < edges.length; j++) {
      const a = edges[i]!;
      const c = edges[j]!;
      if (a.left < c.right && c.left < a.right && a.top < c.bottom && c.top < a.bottom) problems.push(`overlap: ${describe(a.b)} and ${describe(c.b)}`);
    }
  }
  return problems;
}
