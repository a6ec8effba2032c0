import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BmcError } from '../../lib/bmc/errors';
import { analyzeRibclReply } from '../../lib/bmc/ribcl/protocol';
import { MAX_XML_DEPTH, XmlDepthError, attr, childValue, escapeAttr, parseXmlDocuments, parseXmlLenient, writeNode, type XmlParseStats } from '../../lib/bmc/ribcl/xml';

describe('tolerant XML reader', () => {
  test('reads attributes on separate lines, spaces around "=", single quotes', () => {
    const [el] = parseXmlLenient(`<GET_FW_VERSION\n   FIRMWARE_VERSION = "1.82"\n   MESSAGE='No error'\n    />`);
    assert.equal(el?.name, 'GET_FW_VERSION');
    assert.equal(attr(el, 'FIRMWARE_VERSION'), '1.82');
    assert.equal(attr(el, 'message'), 'No error');
  });

  test('VALUE and value are the same attribute to a reader', () => {
    const [el] = parseXmlLenient('<PERSISTENT_BOOT><DEVICE value="CDROM"/><DEVICE VALUE="HDD"/></PERSISTENT_BOOT>');
    assert.deepEqual(
      el?.children.map((c) => attr(c, 'VALUE')),
      ['CDROM', 'HDD'],
    );
    const [p] = parseXmlLenient('<GET_PRODUCT_NAME><PRODUCT_NAME VALUE ="ProLiant BL460c G7 "/></GET_PRODUCT_NAME>');
    assert.equal(childValue(p, 'PRODUCT_NAME'), 'ProLiant BL460c G7');
  });

  test('recovers from an unescaped quote inside an attribute value', () => {
    const [el] = parseXmlLenient('<SERVER_NAME VALUE="rack "A" node" OTHER="x"/>');
    assert.equal(attr(el, 'VALUE'), 'rack "A" node');
    assert.equal(attr(el, 'OTHER'), 'x');
  });

  test('decodes entities, keeps unknown ones', () => {
    const [el] = parseXmlLenient('<X A="a&amp;b&lt;&#65;&#x42;&nbsp;"/>');
    assert.equal(attr(el, 'A'), 'a&b<AB&nbsp;');
  });

  test('mismatched closing tags do not lose elements', () => {
    const roots = parseXmlLenient('<A><B><C/></A><D/>');
    assert.deepEqual(
      roots.map((r) => r.name),
      ['A', 'D'],
    );
    assert.equal(roots[0]?.children[0]?.children[0]?.name, 'C');
  });
});

describe('XML writer', () => {
  test('escapes every special character in attribute values', () => {
    assert.equal(escapeAttr(`a&b<c>d"e'f`), 'a&amp;b&lt;c&gt;d&quot;e&apos;f');
    assert.equal(writeNode({ name: 'X', attrs: { V: '"/><RESET_SERVER/><Y a="' } }), '<X V="&quot;/&gt;&lt;RESET_SERVER/&gt;&lt;Y a=&quot;"/>');
  });

  test('refuses control characters and line breaks, naming the field', () => {
    assert.throws(() => escapeAttr('a\nb', 'IMAGE_URL'), /IMAGE_URL: control characters/);
    assert.throws(() => escapeAttr('a\u0000b'), /control characters/);
  });

  test('refuses element and attribute names that are not XML names', () => {
    assert.throws(() => writeNode({ name: 'X><Y' }), /invalid XML element name/);
    assert.throws(() => writeNode({ name: 'X', attrs: { 'a="1"': 'v' } }), /invalid XML attribute name/);
  });
});

/**
 * Shapes a broken or hostile iLO could send. Each is built at two sizes; the
 * parser's own work counters must grow in proportion (no wall clock).
 */
const HOSTILE: Record<string, (n: number) => string> = {
  // Many open elements, then many closing tags that match none of them.
  'unmatched closing tags': (n) => `<RIBCL>${'<A>'.repeat(60)}${'</B>'.repeat(n)}</RIBCL>`,
  // Closing tags that each match an element deep in the stack.
  'closing tags matching deep elements': (n) => `<RIBCL>${'<A><B><C>'.repeat(20)}${'</A><A>'.repeat(n)}</RIBCL>`,
  'many attributes': (n) => `<RIBCL><X${' a="1" B=\'2\' c=3'.repeat(n)}/></RIBCL>`,
  'one huge text node': (n) => `<RIBCL><INFORM>${'x &amp; y '.repeat(n)}</INFORM></RIBCL>`,
  'bare < in text': (n) => `<RIBCL><INFORM>${'< '.repeat(n)}</INFORM></RIBCL>`,
  'unescaped quotes in a value': (n) => `<RIBCL><X V="${'" '.repeat(n)}"/></RIBCL>`,
  'many documents': (n) => '<?xml version="1.0"?><RIBCL VERSION="2.23"><RESPONSE STATUS="0x0000" MESSAGE=\'No error\'/></RIBCL>'.repeat(Math.ceil(n / 20)),
};

describe('tolerant XML reader on hostile input: linear work, bounded depth', () => {
  for (const [shape, make] of Object.entries(HOSTILE)) {
    test(`${shape}: work doubles when the input doubles`, () => {
      const small: XmlParseStats = { chars: 0, tokens: 0, elements: 0, stackSteps: 0, maxDepth: 0 };
      const large: XmlParseStats = { ...small };
      parseXmlDocuments(make(20_000), { stats: small });
      parseXmlDocuments(make(40_000), { stats: large });
      assert.ok(large.chars > 1.9 * small.chars && large.chars < 2.1 * small.chars, 'the input doubled');
      // Every element is closed at most once: matching closing tags costs no
      // more than the elements opened, whatever the closers are.
      assert.ok(small.stackSteps <= small.elements, `stack work ${small.stackSteps} > elements ${small.elements}`);
      assert.ok(large.stackSteps <= large.elements, `stack work ${large.stackSteps} > elements ${large.elements}`);
      for (const k of ['tokens', 'elements', 'stackSteps'] as const) {
        assert.ok(large[k] <= 2.1 * small[k] + 2, `${k}: ${small[k]} at ${small.chars} chars, ${large[k]} at ${large.chars} chars`);
      }
      assert.ok(large.tokens <= large.chars, 'at most one token per character');
    });
  }

  test('unmatched closing tags are dropped, matched ones close what they match', () => {
    const [root] = parseXmlLenient(`<RIBCL><A><B></C></D><E/></B><F/></RIBCL>`);
    assert.deepEqual(root?.children[0]?.children.map((c) => c.name), ['B', 'F']);
    assert.deepEqual(root?.children[0]?.children[0]?.children.map((c) => c.name), ['E']);
  });

  test('nesting deeper than the limit is refused, by the reader and by the RIBCL reply check', () => {
    assert.throws(() => parseXmlLenient('<A>'.repeat(MAX_XML_DEPTH + 1)), XmlDepthError);
    assert.equal(parseXmlLenient('<A>'.repeat(MAX_XML_DEPTH)).length, 1);
    assert.throws(
      () => analyzeRibclReply(`<?xml version="1.0"?><RIBCL VERSION="2.23">${'<A>'.repeat(100_000)}`, 'ilo:443'),
      (err: unknown) => err instanceof BmcError && err.code === 'protocol' && /deeper than 64/.test(err.message) && err.target === 'ilo:443',
    );
  });

  test('several documents in one body: an element left open does not swallow the next document', () => {
    const docs = parseXmlDocuments('<?xml version="1.0"?><RIBCL><A><B>text<?xml version="1.0"?><RIBCL><C/></RIBCL>');
    assert.equal(docs.length, 2);
    assert.deepEqual(docs.map((d) => d.map((r) => r.name)), [['RIBCL'], ['RIBCL']]);
    assert.equal(docs[0]?.[0]?.children[0]?.children[0]?.text, 'text');
    assert.equal(docs[1]?.[0]?.children[0]?.name, 'C');
  });

  test('a bare "<" stays in the text, and attribute names cannot reach the prototype', () => {
    const [el] = parseXmlLenient('<X __proto__="p" constructor="c">a < b <= c</X>');
    assert.equal(el?.text, 'a < b <= c');
    assert.equal(attr(el, '__proto__'), 'p');
    assert.equal(attr(el, 'constructor'), 'c');
    assert.equal(attr(el, 'toString'), undefined);
    assert.equal(Object.getPrototypeOf(el?.attrs), Object.prototype, 'the prototype is untouched');
  });

  test('indentation between elements is not kept as text; text with words is', () => {
    const [root] = parseXmlLenient('<RIBCL>\r\n  <INFORM>\r\n  Scripting utility  \r\n</INFORM>\r\n  <X/>\r\n</RIBCL>');
    assert.equal(root?.text, '');
    assert.equal(root?.children[0]?.text, '\r\n  Scripting utility  \r\n');
  });
});
