/**
 * What the ilo-power, ilo-virtual-media and ilo-boot-mode nodes accept from a
 * message: a yes/no must be a JSON boolean, and a string with a lone UTF-16
 * surrogate is refused naming the field (encoding it would silently turn it
 * into U+FFFD, e.g. in an image URL sent to the iLO).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkBootRequest, checkVirtualMediaRequest, parseBoolean, parseImageUrl, parsePowerRequest } from '../../lib/bmc';

const refused = (field: string, what: RegExp) => (err: unknown) => {
  const e = err as { code?: string; field?: string; message?: string };
  assert.equal(e.code, 'invalid-input');
  assert.equal(e.field, field);
  assert.match(String(e.message), what);
  return true;
};

test('a yes/no is a boolean or absent; "yes", 1, "true" and null are refused naming the field', () => {
  assert.equal(parseBoolean(true, 'msg.wait'), true);
  assert.equal(parseBoolean(false, 'msg.wait'), false);
  assert.equal(parseBoolean(undefined, 'msg.wait'), undefined);
  for (const v of ['yes', 'true', 1, 0, null, {}]) assert.throws(() => parseBoolean(v, 'msg.wait'), refused('msg.wait', /^msg\.wait: expected true or false/));
});

test('virtual media: bootOnce and writeProtect must be booleans', () => {
  const fields = { action: 'action', device: 'device', url: 'url', bootOnce: 'msg.bootOnce' };
  const ok = checkVirtualMediaRequest({ action: 'insert', device: 'cdrom', url: 'http://h/a.iso', bootOnce: true }, fields);
  assert.equal(ok.bootOnce, true);
  assert.throws(() => checkVirtualMediaRequest({ action: 'insert', device: 'cdrom', url: 'http://h/a.iso', bootOnce: 'yes' }, fields), refused('msg.bootOnce', /true or false/));
  assert.throws(() => checkVirtualMediaRequest({ action: 'insert', device: 'cdrom', url: 'http://h/a.iso', writeProtect: 'no' }, fields), refused('writeProtect', /true or false/));
});

test('a lone surrogate in any string the nodes take is refused, naming the field', () => {
  const lone = '\ud800';
  assert.throws(() => parseImageUrl(`http://images.example/deploy${lone}.iso`, 'msg.url'), refused('msg.url', /lone UTF-16 surrogate/));
  // `new URL` would have accepted it, turned into %EF%BF%BD (U+FFFD): what the iLO would have fetched.
  assert.equal(new URL(`http://h/a${lone}`).pathname, '/a%EF%BF%BD');
  assert.throws(() => parsePowerRequest(`on${lone}`, 'msg.action'), refused('msg.action', /lone UTF-16 surrogate/));
  assert.throws(() => checkVirtualMediaRequest({ action: 'insert', device: `cdrom${lone}`, url: 'http://h/a.iso' }, { action: 'action', device: 'msg.device', url: 'url' }), refused('msg.device', /lone/));
  assert.throws(() => checkBootRequest({ action: 'one-time-boot', device: `${lone}cdrom` }, { action: 'action', mode: 'mode', device: 'msg.device', devices: 'devices' }), refused('msg.device', /lone/));
  assert.throws(() => checkBootRequest({ action: 'persistent-order', devices: `cdrom,hdd${lone}` }, { action: 'action', mode: 'mode', device: 'device', devices: 'msg.devices' }), refused('msg.devices', /lone/));
  // A well-formed pair (an emoji) is text like any other: refused only for not being a device.
  assert.throws(() => parsePowerRequest('on\ud83d\ude00', 'msg.action'), refused('msg.action', /expected one of/));
});
