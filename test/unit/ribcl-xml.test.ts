import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { attr, childValue, escapeAttr, parseXmlLenient, writeNode } from '../../lib/bmc/ribcl/xml';

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
