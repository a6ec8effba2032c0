/**
 * A small, tolerant XML reader and a strict XML writer for RIBCL.
 *
 * The reader exists because real iLO firmware sends XML that is not always
 * well formed (see reference §1.4): several documents in one body, a
 * self-closed opening RIBCL tag, unescaped quotes inside attribute values,
 * stray control bytes. A standard parser rejects those; this one recovers.
 */

export interface XmlElement {
  name: string;
  /** Attribute names exactly as sent (RIBCL uses both VALUE and value). */
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** Attribute lookup ignoring the name's case (VALUE / value). */
export function attr(el: XmlElement | undefined, name: string): string | undefined {
  if (!el) return undefined;
  const direct = el.attrs[name];
  if (direct !== undefined) return direct;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(el.attrs)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

export function childrenNamed(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : [];
}

/** `<NAME VALUE="x"/>` leaves: the VALUE (any case), trimmed. */
export function childValue(el: XmlElement | undefined, name: string): string | undefined {
  return attr(child(el, name), 'VALUE')?.trim();
}

// ---------------------------------------------------------------- writing

// Characters XML 1.0 cannot carry at all, and line breaks/tabs, which an XML
// parser silently turns into spaces inside attribute values.
// eslint-disable-next-line no-control-regex
const UNSENDABLE = /[\u0000-\u001f\u007f\ufffe\uffff]/;

/** Escape a value for a double-quoted XML attribute; refuses what XML cannot carry. */
export function escapeAttr(value: string, field = 'value'): string {
  if (UNSENDABLE.test(value)) {
    throw new TypeError(`${field}: control characters (including line breaks and tabs) cannot be sent to an iLO`);
  }
  return value.replace(/[&<>"']/g, (c) => ENTITY_FOR[c] ?? c);
}

const ENTITY_FOR: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

export interface XmlNode {
  name: string;
  attrs?: Record<string, string>;
  children?: XmlNode[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Serialise a node; element and attribute names are checked, values escaped. */
export function writeNode(node: XmlNode, indent = ''): string {
  if (!NAME.test(node.name)) throw new TypeError(`invalid XML element name: ${node.name}`);
  let out = `${indent}<${node.name}`;
  for (const [k, v] of Object.entries(node.attrs ?? {})) {
    if (!NAME.test(k)) throw new TypeError(`invalid XML attribute name: ${k}`);
    out += ` ${k}="${escapeAttr(v, k)}"`;
  }
  const kids = node.children ?? [];
  if (kids.length === 0) return `${out}/>`;
  out += '>\r\n';
  for (const c of kids) out += writeNode(c, `${indent}  `) + '\r\n';
  return `${out}${indent}</${node.name}>`;
}

// ---------------------------------------------------------------- reading

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, ent: string) => {
    if (ent[0] === '#') {
      const code = ent[1] === 'x' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[ent] ?? whole;
  });
}

const isSpace = (c: string): boolean => c === ' ' || c === '\n' || c === '\r' || c === '\t';
const isNameChar = (c: string): boolean => {
  const k = c.charCodeAt(0);
  // A-Z a-z 0-9 _ . : -  (char codes, not a regex: this runs for every name character)
  return (k >= 65 && k <= 90) || (k >= 97 && k <= 122) || (k >= 48 && k <= 58) || k === 95 || k === 46 || k === 45;
};

/**
 * Parse one XML document leniently into its top-level elements. Mismatched
 * closing tags close up to the matching open element, or are ignored.
 */
export function parseXmlLenient(input: string): XmlElement[] {
  const roots: XmlElement[] = [];
  const stack: XmlElement[] = [];
  const n = input.length;
  let i = 0;

  const appendText = (t: string): void => {
    const top = stack[stack.length - 1];
    if (top) top.text += decodeEntities(t);
  };

  while (i < n) {
    const lt = input.indexOf('<', i);
    if (lt < 0) {
      appendText(input.slice(i));
      break;
    }
    if (lt > i) appendText(input.slice(i, lt));
    i = lt;
    if (input.startsWith('<?', i)) {
      const end = input.indexOf('?>', i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (input.startsWith('<!--', i)) {
      const end = input.indexOf('-->', i + 4);
      i = end < 0 ? n : end + 3;
      continue;
    }
    if (input.startsWith('<![CDATA[', i)) {
      const end = input.indexOf(']]>', i + 9);
      const top = stack[stack.length - 1];
      if (top) top.text += input.slice(i + 9, end < 0 ? n : end);
      i = end < 0 ? n : end + 3;
      continue;
    }
    if (input.startsWith('<!', i)) {
      const end = input.indexOf('>', i + 2);
      i = end < 0 ? n : end + 1;
      continue;
    }
    if (input[i + 1] === '/') {
      const end = input.indexOf('>', i + 2);
      const name = input.slice(i + 2, end < 0 ? n : end).trim();
      i = end < 0 ? n : end + 1;
      const at = stack.map((e) => e.name).lastIndexOf(name);
      if (at >= 0) stack.length = at;
      continue;
    }
    // Start tag.
    let j = i + 1;
    while (j < n && isNameChar(input[j] as string)) j++;
    const name = input.slice(i + 1, j);
    if (!name) {
      // A bare '<' in text: keep it as text.
      appendText('<');
      i++;
      continue;
    }
    const el: XmlElement = { name, attrs: {}, children: [], text: '' };
    let selfClosing = false;
    // Attributes.
    for (;;) {
      while (j < n && isSpace(input[j] as string)) j++;
      if (j >= n) break;
      const c = input[j] as string;
      if (c === '>') {
        j++;
        break;
      }
      if (c === '/' && input[j + 1] === '>') {
        selfClosing = true;
        j += 2;
        break;
      }
      const ns = j;
      while (j < n && isNameChar(input[j] as string)) j++;
      const attrName = input.slice(ns, j);
      if (!attrName) {
        j++; // skip a stray character
        continue;
      }
      while (j < n && isSpace(input[j] as string)) j++;
      if (input[j] !== '=') {
        el.attrs[attrName] = '';
        continue;
      }
      j++;
      while (j < n && isSpace(input[j] as string)) j++;
      const q = input[j];
      let value: string;
      if (q === '"' || q === "'") {
        const vs = ++j;
        for (;;) {
          const e = input.indexOf(q, j);
          if (e < 0) {
            j = n;
            value = input.slice(vs);
            break;
          }
          if (closesAttribute(input, e + 1)) {
            value = input.slice(vs, e);
            j = e + 1;
            break;
          }
          j = e + 1; // an unescaped quote inside the value
        }
      } else {
        const vs = j;
        while (j < n && !isSpace(input[j] as string) && input[j] !== '>' && !(input[j] === '/' && input[j + 1] === '>')) j++;
        value = input.slice(vs, j);
      }
      el.attrs[attrName] = decodeEntities(value);
    }
    i = j;
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else roots.push(el);
    if (!selfClosing) stack.push(el);
  }
  return roots;
}

/** After a quote at `pos - 1`: does the attribute end here (whitespace then `>`, `/>`, name=, or end)? */
function closesAttribute(s: string, pos: number): boolean {
  let k = pos;
  while (k < s.length && isSpace(s[k] as string)) k++;
  if (k >= s.length) return true;
  const c = s[k];
  if (c === '>' || (c === '/' && s[k + 1] === '>')) return true;
  if (k === pos) return false; // attributes must be separated by whitespace
  return /^[A-Za-z_][A-Za-z0-9_.:-]*\s*=/.test(s.slice(k, k + 64));
}
