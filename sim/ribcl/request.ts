/**
 * Strict parsing of RIBCL requests, the way an iLO reads them: a request
 * that is not well-formed XML is refused with a syntax error. Written with
 * fast-xml-parser, independently of the client's own XML code, so that the
 * simulator does not share the client's mistakes.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface ReqNode {
  name: string;
  /** Attribute values as sent, entities NOT decoded (see `decoded`). */
  raw: Record<string, string>;
  children: ReqNode[];
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  preserveOrder: true,
  processEntities: false,
  parseAttributeValue: false,
  parseTagValue: false,
  allowBooleanAttributes: false,
  trimValues: true,
});

type Ordered = Record<string, unknown> & { ':@'?: Record<string, string> };

function convert(items: Ordered[]): ReqNode[] {
  const out: ReqNode[] = [];
  for (const item of items) {
    for (const key of Object.keys(item)) {
      if (key === ':@' || key === '#text' || key.startsWith('?')) continue;
      out.push({ name: key, raw: { ...(item[':@'] ?? {}) }, children: convert((item[key] as Ordered[]) ?? []) });
    }
  }
  return out;
}

export type ParsedRequest = { ok: true; roots: ReqNode[] } | { ok: false; line: number; near: string };

export function parseRibclRequest(xml: string): ParsedRequest {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    return { ok: false, line: valid.err.line, near: valid.err.msg.slice(0, 60) };
  }
  return { ok: true, roots: convert(parser.parse(xml) as Ordered[]) };
}

const ENT: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Attribute value with XML entities decoded, looked up case-insensitively. */
export function decoded(node: ReqNode, name: string): string | undefined {
  const key = Object.keys(node.raw).find((k) => k.toLowerCase() === name.toLowerCase());
  if (key === undefined) return undefined;
  return (node.raw[key] as string).replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (w, e: string) =>
    e[0] === '#' ? String.fromCodePoint(e[1]?.toLowerCase() === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : (ENT[e] ?? w),
  );
}
