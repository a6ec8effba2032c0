/**
 * RIBCL management decoding against replies recorded from a real iLO 3
 * (test/fixtures/ribcl-recorded), request batching, and the protocol-neutral helpers.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { XMLValidator } from 'fast-xml-parser';
import { classifyBootDescription, generationOf, orderFor } from '../../lib/bmc/boot-devices';
import { healthFromText, worst } from '../../lib/bmc/health';
import { normaliseMac, parseBootDevices, parseImageUrl, parseOneTimeBoot, parseVirtualMediaDevice, redactUrl } from '../../lib/bmc/management-input';
import { decodeEmbeddedHealth, decodeHostData, nicsFromSmbios, smbiosField } from '../../lib/bmc/ribcl/health';
import {
  classifyLicence,
  decodeFwVersion,
  decodeLicences,
  decodeOneTimeBoot,
  decodePersistentBoot,
  decodeProductName,
  decodeVmStatus,
} from '../../lib/bmc/ribcl/management';
import { analyzeRibclReply, ribclStatusError } from '../../lib/bmc/ribcl/protocol';
import { RibclBmc } from '../../lib/bmc/ribcl/provider';
import { attr, parseXmlLenient } from '../../lib/bmc/ribcl/xml';
import { ribclFixtureDir } from '../helpers/env';
import { recordedBody, startReplayIlo, type ReplayIlo } from '../helpers/replay-ilo';

const raw = (name: string): Buffer => readFileSync(join(ribclFixtureDir, name));
const reply = (name: string): ReturnType<typeof analyzeRibclReply> => analyzeRibclReply(recordedBody(raw(name)));

describe('RIBCL management replies recorded from a real iLO 3 (BL460c G7)', () => {
  test('GET_EMBEDDED_HEALTH: temperatures, fans, summary normalised; the iLO 3 layout (no supply list, NIC_INFOMATION) is fine', () => {
    const h = decodeEmbeddedHealth(reply('get_embedded_health.raw'));
    assert.equal(h.overall, 'ok');
    assert.equal(h.temperatures.length, 13);
    assert.deepEqual(h.temperatures[0], { name: '01-Inlet Ambient', status: 'ok', reading: { value: 20, unit: 'Celsius' }, caution: 42, critical: 46, location: 'Ambient' });
    assert.deepEqual(h.fans, [{ name: 'Virtual Fan', status: 'ok', reading: { value: 29, unit: 'Percent' }, location: 'Virtual' }]);
    assert.deepEqual(h.powerSupplies, [], 'an iLO 3 blade lists only the power summary');
    assert.deepEqual(h.summary, { fans: 'ok', temperature: 'ok', vrm: 'ok', drive: 'ok' });
  });

  test('GET_HOST_DATA: SMBIOS fields, host MACs from the type 209 record (the iLO port left out), canonical UUID', () => {
    const records = decodeHostData(reply('get_host_data.raw'));
    assert.deepEqual(nicsFromSmbios(records), [
      { port: '1', mac: 'e4:11:5b:e0:14:58' },
      { port: '2', mac: 'e4:11:5b:e0:14:5c' },
      { port: '3', mac: 'e4:11:5b:e0:14:59' },
      { port: '4', mac: 'e4:11:5b:e0:14:5d' },
    ]);
    assert.equal(smbiosField(records, 1, 'Product Name'), 'ProLiant BL460c G7');
    assert.equal(smbiosField(records, 1, 'Serial Number'), 'CZ320580J3', 'trailing blanks trimmed');
    assert.equal(smbiosField(records, 1, 'cUUID'), '37333036-3831-5A43-3332-303538304A33');
    assert.equal(smbiosField(records, 0, 'Family'), 'I27');
  });

  test('GET_VM_STATUS, GET_ONE_TIME_BOOT, GET_PERSISTENT_BOOT (legacy names, lower-case "value")', () => {
    assert.deepEqual(decodeVmStatus(reply('get_vm_status.raw'), 'cdrom'), { device: 'cdrom', inserted: false, bootOption: 'no-boot', writeProtected: false, connected: false });
    assert.equal(decodeOneTimeBoot(reply('get_one_time_boot.raw')), 'normal');
    assert.deepEqual(
      decodePersistentBoot(reply('get_persistent_boot.raw')).map((e) => `${e.id}:${e.device}`),
      ['CDROM:cdrom', 'FLOPPY:floppy', 'USB:usb', 'HDD:hdd', 'NETWORK:network'],
    );
  });

  test('GET_ALL_LICENSES, GET_FW_VERSION, GET_PRODUCT_NAME (spaces around "=" in attributes)', () => {
    assert.deepEqual(decodeLicences(reply('get_all_licenses.raw')), { type: 'iLO 3 Advanced', tier: 'advanced', virtualMedia: true });
    assert.deepEqual(decodeFwVersion(reply('get_fw_version.raw')), { firmware: '1.82', date: 'Jan 15 2015', processor: 'iLO3', licenceType: 'iLO 3 Advanced' });
    assert.equal(decodeProductName(reply('get_product_name.raw')), 'ProLiant BL460c G7');
  });

  test('boot-mode commands on an iLO 3: "Feature not supported", typed not-supported', () => {
    for (const f of ['get_current_boot_mode.raw', 'get_pending_boot_mode.raw', 'get_supported_boot_mode.raw']) {
      assert.throws(() => reply(f), { code: 'not-supported', status: '0x003C' });
    }
  });
});

describe('RIBCL management over the wire (recorded replies replayed)', () => {
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

  test('getBootMode on an iLO 3: not-supported, saying it is legacy BIOS only; three reads went in one request', async () => {
    replay.answer = raw('get_current_boot_mode.raw');
    await assert.rejects(bmc.getBootMode(), (err: unknown) => {
      const e = err as { code: string; message: string };
      return e.code === 'not-supported' && /legacy BIOS only/.test(e.message);
    });
    const sent = replay.requests.at(-1) ?? '';
    assert.match(sent, /<GET_CURRENT_BOOT_MODE\/>\s*<GET_PENDING_BOOT_MODE\/>\s*<GET_SUPPORTED_BOOT_MODE\/>/);
  });

  test('getHealth and getHostInfo read the recorded iLO 3 replies', async () => {
    replay.answer = raw('get_embedded_health.raw');
    assert.equal((await bmc.getHealth()).temperatures.length, 13);
    replay.answer = raw('get_host_data.raw');
    // The recorded reply answers one command; a batched request expects three answers and says which is missing.
    await assert.rejects(bmc.getHostInfo(), { code: 'protocol', message: /expected GET_FW_VERSION in the iLO's answer, got GET_HOST_DATA/ });
  });

  test('attachDeployMedia: one request, floppy first, the CD boot-once, the one-time boot last; URLs escaped', async () => {
    replay.answer = raw('get_asset_tag.raw'); // any successful reply
    const cd = 'https://media.example/deploy.iso?temp_url_sig=ab&temp_url_expires=1"><RESET_SERVER/>';
    await bmc.attachDeployMedia({ cdrom: cd, floppy: 'http://media.example/p.img', oneTimeBootCdrom: true });
    const sent = replay.requests.at(-1) ?? '';
    assert.equal(XMLValidator.validate(sent), true);
    const commands = parseXmlLenient(sent)[0]!.children[0]!.children.flatMap((sec) => sec.children.map((c) => `${sec.name}:${c.name}:${attr(c, 'DEVICE') ?? attr(c, 'VALUE') ?? ''}`));
    assert.deepEqual(commands, [
      'RIB_INFO:INSERT_VIRTUAL_MEDIA:FLOPPY',
      'RIB_INFO:SET_VM_STATUS:FLOPPY',
      'RIB_INFO:INSERT_VIRTUAL_MEDIA:CDROM',
      'RIB_INFO:SET_VM_STATUS:CDROM',
      'RIB_INFO:SET_VM_STATUS:CDROM',
      'SERVER_INFO:SET_ONE_TIME_BOOT:CDROM',
    ]);
    const cdInsert = parseXmlLenient(sent)[0]!.children[0]!.children[0]!.children[2]!;
    assert.equal(attr(cdInsert, 'IMAGE_URL'), cd, 'the URL arrives intact as data');
    assert.ok(!/<RESET_SERVER/.test(sent.replace(/&lt;RESET_SERVER/g, '')), 'no command injected');
  });
});

describe('status words and boot entries', () => {
  test('health words from both protocols onto one scale', () => {
    const cases: Array<[string, string]> = [
      ['OK', 'ok'],
      ['Ok', 'ok'],
      ['Good, In Use', 'ok'],
      ['Redundant', 'ok'],
      ['Not Installed', 'absent'],
      ['Not Present/Not Installed', 'absent'],
      ['N/A', 'absent'],
      ['Degraded', 'degraded'],
      ['Caution', 'degraded'],
      ['Warning', 'degraded'],
      ['Not Redundant', 'degraded'],
      ['Failed', 'critical'],
      ['Critical', 'critical'],
      ['Unknown', 'unknown'],
    ];
    for (const [text, want] of cases) assert.equal(healthFromText(text), want, text);
    assert.equal(worst(['ok', 'absent', 'degraded']), 'degraded');
    assert.equal(worst(['absent']), 'ok');
  });

  test('UEFI boot entries classified as proliantutils does (iLO 4 and iLO 5 wording)', () => {
    const cases: Array<[string, string]> = [
      ['HP iLO Virtual USB CD : HP iLO Virtual USB CD', 'cdrom'],
      ['iLO Virtual USB 3 : HPE iLO Virtual USB CD-ROM', 'cdrom'],
      ['Embedded FlexibleLOM 1 Port 1 : HP Ethernet 1Gb 4-port 331FLR Adapter - NIC (IPv4) ', 'network'],
      ['Embedded LOM 1 Port 1 : HPE Ethernet 1Gb 4-port 331i Adapter - NIC (PXE IPv4)', 'network'],
      ['Embedded RAID 1 : Smart Array P440ar Controller - 279.37 GiB, RAID 1 Logical Drive 1(Target:0, Lun:0)', 'hdd'],
      ['Generic USB Boot', 'usb'],
      ['Windows Boot Manager', 'other'],
    ];
    for (const [d, want] of cases) assert.equal(classifyBootDescription(d), want, d);
  });

  test('a UEFI persistent boot reply (iLO 4 Gen9 shape) decodes to ids, descriptions and classes', () => {
    const body = `<?xml version="1.0"?>\r\n<RIBCL VERSION="2.23">\n<RESPONSE STATUS="0x0000" MESSAGE='No error'/>\n<PERSISTENT_BOOT>\n<DEVICE value="Boot000A" DESCRIPTION="Embedded RAID 1 : Smart Array P440ar Controller - Logical Drive 1"/>\n<DEVICE value="Boot0009" DESCRIPTION="Embedded FlexibleLOM 1 Port 1 : HP Ethernet 1Gb 4-port 331FLR Adapter - NIC (IPv4) "/>\n</PERSISTENT_BOOT>\n</RIBCL>\n`;
    const entries = decodePersistentBoot(analyzeRibclReply(body));
    assert.deepEqual(entries.map((e) => [e.id, e.device]), [['Boot000A', 'hdd'], ['Boot0009', 'network']]);
    assert.deepEqual(orderFor(entries, ['network', 'cdrom']), { ids: ['Boot0009'], missing: ['cdrom'] });
  });

  test('licences classified by their name, as Ironic does', () => {
    assert.equal(classifyLicence('iLO 4 Advanced').virtualMedia, true);
    assert.equal(classifyLicence('iLO Advanced for BladeSystem').tier, 'advanced');
    assert.equal(classifyLicence('iLO Essentials').tier, 'essentials');
    assert.deepEqual(classifyLicence('iLO 4 Standard'), { type: 'iLO 4 Standard', tier: 'standard', virtualMedia: false });
  });

  test('RIBCL refusals for a licence and for an unreadable image are typed', () => {
    assert.equal(ribclStatusError('0x003C', 'Feature not supported - INSERT_VIRTUAL_MEDIA requires an iLO Advanced license.').code, 'licence');
    assert.equal(ribclStatusError('0x002E', 'License key error').code, 'other', 'a bad key on activation is not "unlicensed"');
    const e = ribclStatusError('0x0004', 'Virtual Media image not found at the URL (HTTP 404).');
    assert.deepEqual([e.code, e.reason], ['media', 'media-not-found']);
    assert.equal(ribclStatusError('0x0004', 'Unable to establish a secure connection to the Virtual Media URL.').reason, 'media-tls');
  });

  test('generation from a product name; MACs normalised', () => {
    assert.equal(generationOf('ProLiant DL380 Gen10 Plus'), 'Gen10 Plus');
    assert.equal(generationOf('ProLiant BL460c G7'), 'G7');
    assert.equal(generationOf('ProLiant DL360p Gen8'), 'Gen8');
    assert.equal(normaliseMac('E4-11-5B-E0-14-58'), 'e4:11:5b:e0:14:58');
    assert.equal(normaliseMac('not a mac'), undefined);
  });
});

describe('management input', () => {
  test('image URLs: http(s) only, credentials never echoed', () => {
    assert.equal(parseImageUrl(' https://h/x.iso?a=1&b=2 '), 'https://h/x.iso?a=1&b=2');
    assert.throws(() => parseImageUrl('file:///etc/passwd'), { code: 'invalid-input', field: 'url' });
    assert.throws(() => parseImageUrl(''), { field: 'url' });
    assert.throws(() => parseImageUrl('http://h/a\nb'), { field: 'url' });
    assert.throws(() => parseImageUrl('ftp://user:hunter2@h/x', 'msg.url'), (err: unknown) => {
      const e = err as { field: string; message: string };
      return e.field === 'msg.url' && !e.message.includes('hunter2') && e.message.includes('***');
    });
    assert.equal(redactUrl('https://u:p@h/x'), 'https://***@h/x');
  });

  test('devices, boot targets and orders name the field at fault', () => {
    assert.equal(parseVirtualMediaDevice('CD'), 'cdrom');
    assert.throws(() => parseVirtualMediaDevice('tape', 'msg.device'), { field: 'msg.device' });
    assert.equal(parseOneTimeBoot('PXE'), 'network');
    assert.equal(parseOneTimeBoot('Normal'), 'normal');
    assert.deepEqual(parseBootDevices('network, hdd'), ['network', 'hdd']);
    assert.throws(() => parseBootDevices(['hdd', 'floppyx']), { field: 'devices[1]' });
    assert.throws(() => parseBootDevices([]), { field: 'devices' });
  });
});
