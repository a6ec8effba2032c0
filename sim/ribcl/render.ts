/**
 * Renders RIBCL replies the way recorded iLO firmware does (see the replies
 * under test/fixtures/ribcl-recorded): one document per processed element,
 * attributes on their own lines, single-quoted MESSAGE, CRLF only after the XML
 * declaration, and a chunked body whose chunk boundaries fall inside tokens.
 */

export interface RenderNode {
  name: string;
  attrs?: Array<[string, string]>;
  children?: RenderNode[];
  text?: string;
  /** Write nested attributes as `VALUE = "x"`, as firmware does in health and licence data. */
  spaced?: boolean;
}

export interface ReplyDocument {
  status: number;
  message: string;
  payload?: RenderNode;
  inform?: string;
}

const esc = (v: string): string => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

export function hexStatus(status: number): string {
  return `0x${status.toString(16).toUpperCase().padStart(4, '0')}`;
}

function renderPayload(node: RenderNode, depth = 0, spaced = !!node.spaced): string {
  const pad = '    '.repeat(depth);
  const attrs = node.attrs ?? [];
  const kids = node.children ?? [];
  if (depth === 0 && kids.length === 0 && !node.text) {
    // Top-level attribute-only element: one attribute per line, as firmware does.
    return `<${node.name}\n${attrs.map(([k, v]) => `    ${k}="${esc(v)}"\n`).join('')}    />\n`;
  }
  const eq = spaced ? ' = ' : '=';
  const inline = attrs.map(([k, v], i) => ` ${k}${i === 0 ? eq : '='}"${esc(v)}"`).join('');
  if (kids.length === 0 && !node.text) return `${pad}<${node.name}${inline}/>\n`;
  if (kids.length === 0) return `${pad}<${node.name}${inline}>${esc(node.text ?? '')}</${node.name}>\n`;
  return `${pad}<${node.name}${inline}>\n${kids.map((k) => renderPayload(k, depth + 1, spaced)).join('')}${pad}</${node.name}>\n`;
}

export function renderDocument(doc: ReplyDocument, version: string): string {
  // Firmware indents the closing "/>" of an error RESPONSE by one space less.
  const close = doc.status === 0 ? '     />' : '    />';
  let out = `<?xml version="1.0"?>\r\n<RIBCL VERSION="${version}">\n<RESPONSE\n    STATUS="${hexStatus(doc.status)}"\n    MESSAGE='${doc.message.replace(/'/g, '&apos;')}'\n${close}\n`;
  if (doc.payload) out += renderPayload(doc.payload);
  if (doc.inform) out += `<INFORM>${esc(doc.inform)}</INFORM>\n`;
  return `${out}</RIBCL>\n`;
}

export const OK: ReplyDocument = { status: 0, message: 'No error' };

/** Split a body into chunk-sized pieces at positions that ignore token boundaries. */
export function chunkBody(body: string): string[] {
  const sizes = [0xe8, 0x1e2, 0x19, 0x74, 0x2f1, 0x150];
  const out: string[] = [];
  let i = 0;
  let k = 0;
  while (i < body.length) {
    const n = sizes[k++ % sizes.length] as number;
    out.push(body.slice(i, i + n));
    i += n;
  }
  return out;
}
