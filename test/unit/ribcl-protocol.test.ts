import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { XMLValidator } from 'fast-xml-parser';
import { BmcError } from '../../lib/bmc/errors';
import { decodePowerState, ribcl } from '../../lib/bmc/ribcl/commands';
import { analyzeRibclReply, buildRibclRequest, ribclStatusError } from '../../lib/bmc/ribcl/protocol';
import { RibclBmc } from '../../lib/bmc/ribcl/provider';
import { attr, parseXmlLenient } from '../../lib/bmc/ribcl/xml';
import { ribclFixtureDir } from '../helpers/env';
import { recordedBody, startReplayIlo, type ReplayIlo } from '../helpers/replay-ilo';

const fixtures = readdirSync(ribclFixtureDir).filter((f) => f.endsWith('.raw') && f !== 'xmldata.raw');
const raw = (name: string): Buffer => readFileSync(join(ribclFixtureDir, name));

describe('RIBCL replies recorded from a real iLO 3', () => {
  test('there are recorded replies to test against', () => {
    assert.ok(fixtures.length >= 50, `found ${fixtures.length} fixtures in ${ribclFixtureDir}`);
  });

  for (const file of fixtures) {
    test(`${file}: every document read, errors typed with the iLO's message`, () => {
      const body = recordedBody(raw(file));
      const expectedDocs = body.split('<?xml').length - 1;
      const statuses = [...body.matchAll(/STATUS="(0x[0-9A-F]+)"\s*MESSAGE='([^']*)'/g)].filter((m) => m[1] !== '0x0000');
      if (statuses.length === 0) {
        const reply = analyzeRibclReply(body);
        assert.equal(reply.documents, expectedDocs);
        assert.equal(reply.version, '2.23');
        if (file === 'get_asset_tag.raw') assert.deepEqual(reply.warnings, ['No Asset Tag Information.']);
        else assert.ok(reply.payload.length >= 1, 'a successful query carries a payload');
      } else {
        const [, status, message] = statuses[0] as RegExpMatchArray;
        assert.throws(
          () => analyzeRibclReply(body, 'ilo3:443'),
          (err: unknown) =>
            err instanceof BmcError && err.code === 'not-supported' && err.iloMessage === message && err.status === status && err.target === 'ilo3:443',
        );
      }
    });
  }

  test('get_host_power_status.raw: the power state is ON', () => {
    assert.equal(decodePowerState(analyzeRibclReply(recordedBody(raw('get_host_power_status.raw')))), 'on');
  });
});

describe('RIBCL over HTTPS against replayed recorded bytes (chunk boundaries inside tokens)', () => {
  let replay: ReplayIlo;
  let bmc: RibclBmc;
  before(async () => {
    replay = await startReplayIlo();
    bmc = new RibclBmc({ host: '127.0.0.1', port: replay.port, username: 'Administrator', password: 'pw', tls: { mode: 'pinned', fingerprint: replay.fingerprint } });
  });
  after(async () => {
    await bmc.close();
    await replay.close();
  });

  test('reads the power state from the recorded chunked reply', async () => {
    replay.answer = raw('get_host_power_status.raw');
    assert.equal(await bmc.getPowerState(), 'on');
    const sent = replay.requests.at(-1) ?? '';
    assert.match(sent, /<SERVER_INFO MODE="read">\s*<GET_HOST_POWER_STATUS\/>/);
  });

  test('a recorded "Feature not supported" arrives as a not-supported error', async () => {
    replay.answer = raw('get_current_boot_mode.raw');
    await assert.rejects(bmc.send([{ section: 'SERVER_INFO', mode: 'read', name: 'GET_CURRENT_BOOT_MODE', idempotent: true }]), {
      code: 'not-supported',
      iloMessage: 'Feature not supported - GET_CURRENT_BOOT_MODE',
    });
  });
});

describe('RIBCL request building', () => {
  const creds = { username: 'admin', password: 'secret' };

  test('groups commands by section and mode, in order', () => {
    const xml = buildRibclRequest(creds, [ribcl.holdPowerButton(), ribcl.getHostPowerStatus()]);
    assert.equal(XMLValidator.validate(xml), true);
    const [root] = parseXmlLenient(xml);
    const sections = root?.children[0]?.children ?? [];
    assert.deepEqual(
      sections.map((s) => `${s.name}/${attr(s, 'MODE')}:${s.children.map((c) => c.name).join(',')}`),
      ['SERVER_INFO/write:HOLD_PWR_BTN', 'SERVER_INFO/read:GET_HOST_POWER_STATUS'],
    );
  });

  test('a hostile user name or value cannot add a command', () => {
    const evil = 'admin"/><SERVER_INFO MODE="write"><RESET_SERVER/></SERVER_INFO><X a="';
    const xml = buildRibclRequest({ username: evil, password: 'pw' }, [
      { section: 'RIB_INFO', mode: 'write', name: 'INSERT_VIRTUAL_MEDIA', attrs: { DEVICE: 'CDROM', IMAGE_URL: 'http://h/x.iso?a=1&b=2]]><RESET_SERVER/>' }, idempotent: true },
    ]);
    assert.equal(XMLValidator.validate(xml), true, 'still well-formed XML');
    const [root] = parseXmlLenient(xml);
    const login = root?.children[0];
    assert.equal(attr(login, 'USER_LOGIN'), evil, 'the name arrives intact as data');
    const commands = login?.children.flatMap((s) => s.children.map((c) => c.name));
    assert.deepEqual(commands, ['INSERT_VIRTUAL_MEDIA']);
    assert.equal(attr(login?.children[0]?.children[0], 'IMAGE_URL'), 'http://h/x.iso?a=1&b=2]]><RESET_SERVER/>');
  });

  test('PASSWORD: characters the firmware cannot un-escape are refused, naming the field', () => {
    for (const pw of ['a"b', 'a<b', 'a&amp;b', 'x"/><RESET_SERVER/>']) {
      assert.throws(() => buildRibclRequest({ username: 'admin', password: pw }, [ribcl.getHostPowerStatus()]), (err: unknown) => {
        assert.ok(err instanceof BmcError);
        assert.equal(err.code, 'invalid-input');
        assert.equal(err.field, 'password');
        assert.match(err.message, /Redfish/);
        assert.ok(!err.message.includes(pw), 'the error does not echo the password');
        return true;
      });
    }
  });

  test("PASSWORD: other characters (', >, ]]>, spaces) are sent exactly as typed", () => {
    const pw = `it's > ]]> fine`;
    const xml = buildRibclRequest({ username: 'admin', password: pw }, [ribcl.getHostPowerStatus()]);
    assert.equal(XMLValidator.validate(xml), true);
    assert.ok(xml.includes(`PASSWORD="${pw}"`), 'raw, because the firmware compares it raw');
  });
});

describe('RIBCL status to typed error', () => {
  const cases: Array<[string, string, string, string?]> = [
    ['0x005F', 'Login failed.', 'login'],
    ['0x000A', 'User login name was not found.', 'login'],
    ['0x003C', 'Feature not supported - GET_PENDING_BOOT_MODE', 'not-supported'],
    ['0x0001', 'Error: Line #11: syntax error near "GET_FEDERATION_GROUP".', 'not-supported'],
    ['0x0023', 'User does NOT have correct privilege for action.', 'permission'],
    ['0x0088', 'The iLO subsystem is currently generating a Certificate Signing Request(CSR)', 'busy', 'generating-csr'],
    ['0x0004', 'Problem manipulating EV', 'busy', 'host-in-post'],
    ['0x0004', 'Error reading configuration', 'busy', 'ilo-resetting'],
    ['0x0001', 'Error: RIBCLI is disabled.', 'not-supported'],
    ['0x0039', 'No image present in the Virtual Media drive', 'other'],
  ];
  for (const [status, message, code, reason] of cases) {
    test(`${status} "${message}" -> ${code}${reason ? ` (${reason})` : ''}`, () => {
      const err = ribclStatusError(status, message, 'ilo:443');
      assert.equal(err.code, code);
      assert.equal(err.iloMessage, message);
      assert.equal(err.status, status);
      if (reason) assert.equal(err.reason, reason);
      assert.equal(err.retryable, code === 'busy');
    });
  }

  test('the first failing RESPONSE wins; informational 0x0000 messages are warnings', () => {
    const doc = (s: string, m: string): string => `<?xml version="1.0"?>\r\n<RIBCL VERSION="2.23">\n<RESPONSE STATUS="${s}" MESSAGE='${m}'/>\n</RIBCL>\n`;
    const ok = analyzeRibclReply(doc('0x0000', 'Host power is already ON.') + doc('0x0000', 'No error'));
    assert.deepEqual(ok.warnings, ['Host power is already ON.']);
    assert.throws(() => analyzeRibclReply(doc('0x005F', 'Login failed.') + doc('0x003C', 'Feature not supported - X')), { code: 'login' });
  });

  test('a body that holds no RIBCL document is a protocol error', () => {
    assert.throws(() => analyzeRibclReply('<html><body>Bad gateway</body></html>'), { code: 'protocol', message: /no RIBCL document/ });
  });

  test('a self-closed opening RIBCL tag (first-generation firmware) still yields the payload', () => {
    const body = `<?xml version="1.0"?>\r\n<RIBCL VERSION="2.22"/>\n<RESPONSE STATUS="0x0000" MESSAGE='No error'/>\n<GET_HOST_POWER HOST_POWER="OFF"/>\n</RIBCL>\n`;
    assert.equal(decodePowerState(analyzeRibclReply(body)), 'off');
  });
});
