/**
 * A small, tolerant XML reader and a strict XML writer for RIBCL.
 *
 * The reader exists because real iLO firmware sends XML that is not always
 * well formed: several documents in one body, a
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
  if (Object.hasOwn(el.attrs, name)) return el.attrs[name];
  const lower = name.toLowerCase();
  for (const k in el.attrs) if (k.toLowerCase() === lower) return el.attrs[k];
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

// Character codes, not one-character strings: these run for every byte of a reply.
const isSpace = (k: number): boolean => k === 32 || k === 10 || k === 13 || k === 9;
// A-Z a-z 0-9 _ . : -
const isNameChar = (k: number): boolean => (k >= 65 && k <= 90) || (k >= 97 && k <= 122) || (k >= 48 && k <= 58) || k === 95 || k === 46 || k === 45;
const GT = 62;
const SLASH = 47;
const EQ = 61;
const DQUOTE = 34;
const SQUOTE = 39;

/**
 * How deep elements may nest. RIBCL replies nest five levels at most
 * (RIBCL > GET_EMBEDDED_HEALTH_DATA > FANS > FAN > ZONE); a deeper reply is
 * broken or hostile, and a tree that deep would overflow the stack of any
 * recursive reader of it (JSON.stringify of a message, for one).
 */
export const MAX_XML_DEPTH = 64;

/** Thrown when a document nests deeper than the limit. */
export class XmlDepthError extends RangeError {
  constructor(readonly limit: number) {
    super(`the XML nests elements deeper than ${limit} levels`);
    this.name = 'XmlDepthError';
  }
}

/**
 * What a parse did, counted: tests use it to show the work grows linearly
 * with the input (no wall clock involved).
 */
export interface XmlParseStats {
  /** Characters of input. */
  chars: number;
  /** Markup tokens and text runs read. */
  tokens: number;
  /** Elements created. */
  elements: number;
  /** Open elements looked at or closed while matching closing tags. */
  stackSteps: number;
  /** Deepest nesting seen. */
  maxDepth: number;
}

export interface XmlParseOptions {
  /** Default MAX_XML_DEPTH. */
  maxDepth?: number;
  /** Filled in with the work done. */
  stats?: XmlParseStats;
}

/**
 * Parse one XML document leniently into its top-level elements. Mismatched
 * closing tags close up to the matching open element, or are ignored.
 * Linear in the input whatever it holds; nesting deeper than
 * `options.maxDepth` throws XmlDepthError.
 */
export function parseXmlLenient(input: string, options: XmlParseOptions = {}): XmlElement[] {
  return parseXmlDocuments(input, { ...options, splitOnDeclaration: false })[0] ?? [];
}

/**
 * Parse a body holding one or more XML documents (RIBCL replies concatenate
 * one per command): each `<?xml` declaration starts a new document, and any
 * element left open by the previous one is closed. Returns the top-level
 * elements of each document that has any, in order. One pass, linear time.
 */
export function parseXmlDocuments(input: string, options: XmlParseOptions & { splitOnDeclaration?: boolean } = {}): XmlElement[][] {
  const maxDepth = options.maxDepth ?? MAX_XML_DEPTH;
  const split = options.splitOnDeclaration !== false;
  const stats: XmlParseStats = options.stats ?? { chars: 0, tokens: 0, elements: 0, stackSteps: 0, maxDepth: 0 };
  stats.chars = input.length;
  stats.tokens = stats.elements = stats.stackSteps = stats.maxDepth = 0;
  const documents: XmlElement[][] = [];
  let roots: XmlElement[] | undefined;
  const stack: XmlElement[] = [];
  // How many open elements bear each name: a closing tag that matches none
  // is dropped in constant time instead of by searching the stack.
  const openByName = new Map<string, number>();
  const n = input.length;
  let i = 0;

  // Text runs that are only whitespace (the indentation between elements)
  // are not kept: RIBCL has no mixed content, and a reply's indentation
  // would otherwise be most of its parsed size.
  const appendText = (from: number, to: number): void => {
    const top = stack[stack.length - 1];
    if (!top || to <= from) return;
    let k = from;
    while (k < to && isSpace(input.charCodeAt(k))) k++;
    if (k < to) top.text += decodeEntities(input.slice(from, to));
  };
  const closeTop = (): XmlElement => {
    const el = stack.pop() as XmlElement;
    // Counts drop to zero rather than being deleted: a shrinking map reallocates.
    openByName.set(el.name, (openByName.get(el.name) as number) - 1);
    stats.stackSteps++;
    return el;
  };

  // Text runs from `textStart`; a bare '<' that starts no markup stays in it.
  let textStart = 0;
  while (i < n) {
    const lt = input.indexOf('<', i);
    if (lt < 0) break;
    const next = input.charCodeAt(lt + 1);
    i = lt;
    if (next === 63 /* ? */) {
      appendText(textStart, lt);
      stats.tokens++;
      if (split && input.startsWith('<?xml', lt)) {
        while (stack.length) closeTop();
        roots = undefined;
      }
      const end = input.indexOf('?>', i + 2);
      i = textStart = end < 0 ? n : end + 2;
      continue;
    }
    if (next === 33 /* ! */) {
      appendText(textStart, lt);
      stats.tokens++;
      if (input.startsWith('<!--', i)) {
        const end = input.indexOf('-->', i + 4);
        i = textStart = end < 0 ? n : end + 3;
      } else if (input.startsWith('<![CDATA[', i)) {
        const end = input.indexOf(']]>', i + 9);
        const top = stack[stack.length - 1];
        if (top) top.text += input.slice(i + 9, end < 0 ? n : end);
        i = textStart = end < 0 ? n : end + 3;
      } else {
        const end = input.indexOf('>', i + 2);
        i = textStart = end < 0 ? n : end + 1;
      }
      continue;
    }
    if (next === SLASH) {
      appendText(textStart, lt);
      stats.tokens++;
      const end = input.indexOf('>', i + 2);
      const name = input.slice(i + 2, end < 0 ? n : end).trim();
      i = textStart = end < 0 ? n : end + 1;
      if ((openByName.get(name) ?? 0) > 0) {
        // Close up to and including the innermost element of that name.
        let closed: XmlElement;
        do closed = closeTop();
        while (closed.name !== name);
      }
      continue;
    }
    // Start tag.
    let j = i + 1;
    while (j < n && isNameChar(input.charCodeAt(j))) j++;
    if (j === i + 1) {
      // A bare '<' in text: it stays part of the text run.
      i++;
      continue;
    }
    appendText(textStart, lt);
    stats.tokens++;
    const name = input.slice(i + 1, j);
    const el: XmlElement = { name, attrs: {}, children: [], text: '' };
    stats.elements++;
    let selfClosing = false;
    // Attributes.
    for (;;) {
      while (j < n && isSpace(input.charCodeAt(j))) j++;
      if (j >= n) break;
      const c = input.charCodeAt(j);
      if (c === GT) {
        j++;
        break;
      }
      if (c === SLASH && input.charCodeAt(j + 1) === GT) {
        selfClosing = true;
        j += 2;
        break;
      }
      const ns = j;
      while (j < n && isNameChar(input.charCodeAt(j))) j++;
      if (j === ns) {
        j++; // skip a stray character
        continue;
      }
      const attrName = input.slice(ns, j);
      while (j < n && isSpace(input.charCodeAt(j))) j++;
      if (input.charCodeAt(j) !== EQ) {
        setAttr(el.attrs, attrName, '');
        continue;
      }
      j++;
      while (j < n && isSpace(input.charCodeAt(j))) j++;
      const q = input.charCodeAt(j);
      let value: string;
      if (q === DQUOTE || q === SQUOTE) {
        const quote = q === DQUOTE ? '"' : "'";
        const vs = ++j;
        for (;;) {
          const e = input.indexOf(quote, j);
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
        for (; j < n; j++) {
          const k = input.charCodeAt(j);
          if (isSpace(k) || k === GT || (k === SLASH && input.charCodeAt(j + 1) === GT)) break;
        }
        value = input.slice(vs, j);
      }
      setAttr(el.attrs, attrName, decodeEntities(value));
    }
    i = textStart = j;
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else {
      if (!roots) documents.push((roots = []));
      roots.push(el);
    }
    if (!selfClosing) {
      if (stack.length >= maxDepth) throw new XmlDepthError(maxDepth);
      stack.push(el);
      openByName.set(name, (openByName.get(name) ?? 0) + 1);
      if (stack.length > stats.maxDepth) stats.maxDepth = stack.length;
    }
  }
  appendText(textStart, n);
  return documents;
}

/**
 * Plain objects stay compact (a prototype-less one is a hash table from the
 * start, and a parsed reply holds one per element); the one name that would
 * reach the prototype becomes an own property instead.
 */
function setAttr(attrs: Record<string, string>, name: string, value: string): void {
  if (name === '__proto__') Object.defineProperty(attrs, name, { value, enumerable: true, writable: true, configurable: true });
  else attrs[name] = value;
}

/** After a quote at `pos - 1`: does the attribute end here (whitespace then `>`, `/>`, name=, or end)? */
function closesAttribute(s: string, pos: number): boolean {
  let k = pos;
  while (k < s.length && isSpace(s.charCodeAt(k))) k++;
  if (k >= s.length) return true;
  const c = s.charCodeAt(k);
  if (c === GT || (c === SLASH && s.charCodeAt(k + 1) === GT)) return true;
  if (k === pos) return false; // attributes must be separated by whitespace
  return /^[A-Za-z_][A-Za-z0-9_.:-]*\s*=/.test(s.slice(k, k + 64));
}
