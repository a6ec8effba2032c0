/**
 * The Redfish face of a simulated iLO 5 or 6: an
 * unauthenticated service root, sessions (X-Auth-Token + Location, DELETE
 * to log out) or basic auth, 401 NoValidSession, every path answered with
 * or without its trailing slash, 308 from /rest/v1 (as iLO 5 documents),
 * chunked JSON replies with ETags, If-Match checked (412), and iLO errors as
 * @Message.ExtendedInfo MessageIds. iLO 4 models are answered by ./ilo4.
 */
import type { IncomingMessage } from 'node:http';
import { registerIloRoute, type RouteContext } from '../ilo-endpoint';
import { logicalDrives, pciDevices } from '../inventory';
import { SimRefusal, type SimServer, type SimSession } from '../server';
import type { FetchOutcome, SimDriveName } from '../vmedia';
import { applyBootPatch, systemReset } from './actions';
import { handleIlo4 } from './ilo4/routes';
import { BASE, ILO, RedfishFailure, etagOf, fail, reply, success, type RedfishReply } from './messages';
import * as R from './resources';
import { authenticate, closeSession, jsonObject, openSession, routePath, sessionTimeout, setSessionTimeout, takeFault, writeJson } from './service';

interface Call {
  server: SimServer;
  method: string;
  /** Lower-case path, with trailing slash. */
  path: string;
  match: RegExpMatchArray;
  url: URL;
  req: IncomingMessage;
  body: Buffer;
  session?: SimSession;
}

type Handler = (c: Call) => RedfishReply | Promise<RedfishReply>;

const resource = (doc: Record<string, unknown>, allow = 'GET, HEAD, POST, PATCH'): RedfishReply => {
  const etag = etagOf(doc);
  return { status: 200, body: { ...doc, '@odata.etag': etag }, headers: { etag, allow } };
};

function json(c: Call): Record<string, unknown> {
  return jsonObject(c.body) ?? fail(400, `${BASE}.MalformedJSON`);
}

function expand(c: Call, id: string, type: string, name: string, members: Array<[string, () => Record<string, unknown>]>): RedfishReply {
  const doc = R.collection(id, type, name, members.map(([m]) => m));
  const $expand = c.url.searchParams.get('$expand');
  if (c.server.redfishExpand && ($expand === '.' || $expand === '*')) doc.Members = members.map(([, render]) => render());
  return resource(doc, 'GET, HEAD');
}

const missing = (c: Call): never => fail(404, `${BASE}.ResourceMissingAtURI`, [c.path]);
/** A member that may not exist. */
const found = (c: Call, doc: Record<string, unknown> | undefined): RedfishReply => (doc ? resource(doc, 'GET, HEAD') : missing(c));

/** The current ETag of a resource a PATCH targets; refuse a stale If-Match with 412. */
function checkIfMatch(c: Call, current: Record<string, unknown>): void {
  const want = c.req.headers['if-match'];
  if (!want || want === '*') return;
  const strip = (t: string): string => t.trim().replace(/^W\//, '');
  if (!want.split(',').some((t) => strip(t) === strip(etagOf(current)))) fail(412, `${BASE}.PreconditionFailed`);
}

function refusal(err: unknown, fallback: string): never {
  if (!(err instanceof SimRefusal)) throw err;
  switch (err.kind) {
    case 'licence':
      return fail(400, `${ILO}.LicenseKeyRequired`);
    case 'host-in-post':
      return fail(400, `${ILO}.UnableToModifyDuringSystemPOST`, [fallback]);
    case 'already-inserted':
      return fail(400, `${ILO}.UnableToModifyAfterVirtualMediaInsert`, ['Image']);
    case 'no-image':
      return fail(400, `${ILO}.NoScriptedVirtualMediaConnectionAvailable`);
    case 'not-supported':
      return fail(400, `${ILO}.UnsupportedOperation`);
    default:
      return fail(400, `${BASE}.PropertyValueNotInList`, [fallback]);
  }
}

function mediaFailure(outcome: FetchOutcome & { ok: false }): never {
  if (outcome.kind === 'not-found') return fail(400, `${BASE}.ResourceMissingAtURI`, [outcome.url]);
  if (outcome.kind === 'refused') return fail(400, `${BASE}.ResourceAtUriUnauthorized`, [outcome.url, outcome.detail]);
  return fail(400, `${BASE}.CouldNotEstablishConnection`, [outcome.url]);
}

// ---------------------------------------------------------------- handlers

async function insertMedia(c: Call, device: SimDriveName): Promise<RedfishReply> {
  const body = json(c);
  const image = body.Image;
  if (typeof image !== 'string' || image === '') return fail(400, `${BASE}.ActionParameterMissing`, ['InsertMedia', 'Image']);
  if (!/^https?:\/\/[^\s]+$/i.test(image)) return fail(400, `${BASE}.ActionParameterValueFormatError`, [image, 'Image', 'InsertMedia']);
  for (const k of Object.keys(body)) {
    if (!['Image', 'Inserted', 'WriteProtected', 'TransferProtocolType', 'UserName', 'Password', 'TransferMethod'].includes(k)) fail(400, `${BASE}.ActionParameterNotSupported`, [k, 'InsertMedia']);
  }
  try {
    c.server.insertMedia(device, image, 'refuse');
  } catch (err) {
    refusal(err, 'Image');
  }
  c.server.drives[device].writeProtect = body.WriteProtected === undefined ? true : body.WriteProtected === true;
  if (body.Inserted !== false) {
    const outcome = await c.server.connectMedia(device);
    if (!outcome.ok) mediaFailure(outcome);
    c.server.setMediaBootOption(device, 'BOOT_ALWAYS');
  }
  return success();
}

function ejectMedia(c: Call, device: SimDriveName): RedfishReply {
  json(c); // iLO refuses a POST without a JSON body
  try {
    c.server.ejectMedia(device, false);
  } catch (err) {
    refusal(err, 'Image');
  }
  return success();
}

function patchVirtualMedia(c: Call, device: SimDriveName): RedfishReply {
  const body = json(c);
  checkIfMatch(c, R.virtualMedia(c.server, device));
  for (const k of Object.keys(body)) if (k !== 'Oem') fail(400, `${BASE}.PropertyNotWritable`, [k]);
  const hpe = (body.Oem as { Hpe?: Record<string, unknown> } | undefined)?.Hpe ?? {};
  for (const k of Object.keys(hpe)) {
    if (k !== 'BootOnNextServerReset' || device !== 'cdrom') fail(400, `${BASE}.PropertyUnknown`, [k]);
  }
  const boot = hpe.BootOnNextServerReset;
  if (boot === undefined) return fail(400, `${BASE}.NoOperation`);
  if (typeof boot !== 'boolean') return fail(400, `${BASE}.PropertyValueTypeError`, [String(boot), 'BootOnNextServerReset']);
  const drive = c.server.drives[device];
  try {
    if (boot && !drive.inserted) throw new SimRefusal('no-image', 'no image');
    c.server.setMediaBootOption(device, boot ? 'BOOT_ONCE' : drive.connected ? 'BOOT_ALWAYS' : 'NO_BOOT');
  } catch (err) {
    refusal(err, 'BootOnNextServerReset');
  }
  return success();
}

function patchSystem(c: Call): RedfishReply {
  const body = json(c);
  checkIfMatch(c, R.system(c.server));
  for (const k of Object.keys(body)) if (k !== 'Boot') fail(400, `${BASE}.PropertyNotWritable`, [k]);
  const boot = (body.Boot ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(boot)) {
    if (!['BootSourceOverrideTarget', 'BootSourceOverrideEnabled', 'BootOrder'].includes(k)) fail(400, `${BASE}.PropertyNotWritable`, [k]);
  }
  try {
    applyBootPatch(c.server, boot, R.targetsOf(c.server), (status, id, args) => fail(status, `${BASE}.${id}`, args));
  } catch (err) {
    if (err instanceof RedfishFailure) throw err;
    refusal(err, boot.BootOrder !== undefined ? 'BootOrder' : 'BootSourceOverrideTarget');
  }
  return success();
}

function resetSystem(c: Call): RedfishReply {
  const type = json(c).ResetType;
  const s = c.server;
  systemReset(
    s,
    type,
    () => fail(400, `${ILO}.InvalidOperationForSystemState`, [s.powerState === 'on' ? 'Power is on' : 'Power is off']),
    () => fail(400, `${BASE}.ActionParameterNotSupported`, [String(type), 'ComputerSystem.Reset']),
  );
  return success();
}

function patchBiosSettings(c: Call): RedfishReply {
  const body = json(c);
  checkIfMatch(c, R.bios(c.server, true));
  const attrs = body.Attributes;
  if (!attrs || typeof attrs !== 'object') return fail(400, `${BASE}.PropertyMissing`, ['Attributes']);
  const entries = Object.entries(attrs as Record<string, unknown>);
  const uefiOnly = c.server.model.supportedBootModes === 'uefi-only';
  // Checked before anything changes: the iLO takes all of a PATCH or none of it.
  for (const [k, v] of entries) {
    const bootMode = k === 'BootMode' || k === 'UefiOptimizedBoot';
    // A UEFI-only ROM has no BootMode (nor UefiOptimizedBoot) attribute at all.
    if (bootMode && uefiOnly) fail(400, `${BASE}.PropertyUnknown`, [k]);
    if (k === 'BootMode' && v !== 'Uefi' && v !== 'LegacyBios') fail(400, `${BASE}.PropertyValueNotInList`, [String(v), 'BootMode']);
    if (!bootMode && !c.server.bios.knows(k)) fail(400, `${BASE}.PropertyUnknown`, [k]);
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') fail(400, `${BASE}.PropertyValueTypeError`, [String(v), k]);
  }
  for (const [k, v] of entries) {
    if (k === 'BootMode') {
      try {
        c.server.setPendingBootMode(v === 'Uefi' ? 'uefi' : 'bios');
      } catch (err) {
        refusal(err, 'BootMode');
      }
    } else if (k !== 'UefiOptimizedBoot') c.server.bios.pending[k] = v as string | number | boolean;
  }
  return reply(200, `${ILO}.SystemResetRequired`);
}

function patchBootSettings(c: Call): RedfishReply {
  const body = json(c);
  checkIfMatch(c, R.bootSettings(c.server, true));
  for (const k of Object.keys(body)) if (k !== 'PersistentBootConfigOrder') fail(400, `${BASE}.PropertyNotWritable`, [k]);
  const order = body.PersistentBootConfigOrder;
  if (!Array.isArray(order) || !order.every((x) => typeof x === 'string')) return fail(400, `${BASE}.PropertyValueTypeError`, ['PersistentBootConfigOrder', 'PersistentBootConfigOrder']);
  if (c.server.bootMode.current !== 'uefi') return fail(400, `${ILO}.UnsupportedOperationInLegacyBootMode`);
  const ids = (order as string[]).map((s) => R.entryOfStructured(c.server, s)?.id ?? fail(400, `${BASE}.PropertyValueNotInList`, [s, 'PersistentBootConfigOrder']));
  try {
    c.server.setPersistentOrder(ids);
  } catch (err) {
    refusal(err, 'PersistentBootConfigOrder');
  }
  return reply(200, `${ILO}.SystemResetRequired`);
}

function patchSecureBoot(c: Call): RedfishReply {
  const body = json(c);
  checkIfMatch(c, R.secureBoot(c.server));
  for (const k of Object.keys(body)) if (k !== 'SecureBootEnable') fail(400, `${BASE}.PropertyNotWritable`, [k]);
  const v = body.SecureBootEnable;
  if (typeof v !== 'boolean') return fail(400, `${BASE}.PropertyValueTypeError`, [String(v), 'SecureBootEnable']);
  if (c.server.bootMode.current !== 'uefi') return fail(400, `${ILO}.UnsupportedOperationInLegacyBootMode`);
  c.server.bios.secureBoot.pending = v;
  return reply(200, `${ILO}.SystemResetRequired`);
}

function resetSecureBootKeys(c: Call): RedfishReply {
  const t = json(c).ResetKeysType;
  if (t !== 'ResetAllKeysToDefault' && t !== 'DeleteAllKeys' && t !== 'DeletePK') return fail(400, `${BASE}.ActionParameterNotSupported`, [String(t), 'ResetKeys']);
  if (c.server.bootMode.current !== 'uefi') return fail(400, `${ILO}.UnsupportedOperationInLegacyBootMode`);
  // Without a platform key, secure boot cannot be in force.
  if (t !== 'ResetAllKeysToDefault') c.server.bios.secureBoot.pending = false;
  c.server.bios.secureBoot.keys = t === 'ResetAllKeysToDefault' ? 'default' : 'deleted';
  return reply(200, `${ILO}.SystemResetRequired`);
}

/** #Bios.ResetBios: the iLO 5 REST API takes ResetType "default" (or "default.user", the user defaults; the same here). */
function resetBios(c: Call): RedfishReply {
  const t = (jsonObject(c.body) ?? {}).ResetType;
  if (t !== 'default' && t !== 'default.user') return fail(400, `${BASE}.ActionParameterNotSupported`, [String(t), 'ResetType']);
  c.server.bios.resetToDefaults();
  return reply(200, `${ILO}.SystemResetRequired`);
}

function resetManager(c: Call): RedfishReply {
  const body = jsonObject(c.body) ?? {};
  if (body.ResetType !== undefined && body.ResetType !== 'GracefulRestart' && body.ResetType !== 'ForceRestart') {
    return fail(400, `${BASE}.ActionParameterNotSupported`, [String(body.ResetType), 'Manager.Reset']);
  }
  // An iLO reset ends every session; the host keeps running.
  c.server.sessions.clear();
  return reply(200, `${ILO}.ResetInProgress`);
}

function patchSessionService(c: Call): RedfishReply {
  const body = json(c);
  for (const k of Object.keys(body)) if (k !== 'SessionTimeout') fail(400, `${BASE}.PropertyNotWritable`, [k]);
  if (!setSessionTimeout(c.server, body.SessionTimeout)) return fail(400, `${BASE}.PropertyValueNotInList`, [String(body.SessionTimeout), 'SessionTimeout']);
  return success();
}

function login(c: Call): RedfishReply {
  const out = openSession(c.server, json(c));
  if (!out.ok) return out.why === 'limit' ? fail(503, `${BASE}.SessionLimitExceeded`) : fail(401, `${ILO}.UnauthorizedLoginAttempt`);
  const { id, token } = out.session;
  const host = c.req.headers.host ?? '127.0.0.1';
  return {
    status: 201,
    body: R.session(c.server, out.session, true),
    headers: { 'x-auth-token': token, location: `https://${host}${R.P.sessions}${id}/` },
  };
}

function deleteSession(c: Call): RedfishReply {
  return closeSession(c.server, c.match[1]!) ? success() : missing(c);
}

// ---------------------------------------------------------------- routing

const VM = '/redfish/v1/managers/1/virtualmedia/([12])/';
const vmDevice = (c: Call): SimDriveName => (c.match[1] === '2' ? 'cdrom' : 'floppy');
const S = '/redfish/v1/systems/1/';

const routes: Array<[string, RegExp, Handler]> = [
  ['GET', /^\/redfish\/v1\/$/, (c) => resource(R.serviceRoot(c.server), 'GET, HEAD')],
  ['GET', /^\/redfish\/v1\/systems\/$/, (c) => expand(c, R.P.systems, 'ComputerSystemCollection', 'Computer Systems', [[R.P.system, () => R.system(c.server)]])],
  ['GET', /^\/redfish\/v1\/systems\/1\/$/, (c) => resource(R.system(c.server))],
  ['PATCH', /^\/redfish\/v1\/systems\/1\/$/, patchSystem],
  ['POST', /^\/redfish\/v1\/systems\/1\/actions\/computersystem\.reset\/$/, resetSystem],
  [
    'POST',
    /^\/redfish\/v1\/systems\/1\/actions\/oem\/hpe\/hpecomputersystemext\.powerbutton\/$/,
    (c) => {
      const push = json(c).PushType;
      if (push === 'Press') c.server.pressPowerButton();
      else if (push === 'PressAndHold') c.server.hardOff();
      else fail(400, `${BASE}.ActionParameterNotSupported`, [String(push), 'PowerButton']);
      return success();
    },
  ],
  [
    'POST',
    /^\/redfish\/v1\/systems\/1\/actions\/oem\/hpe\/hpecomputersystemext\.systemreset\/$/,
    (c) => {
      const t = json(c).ResetType;
      if (t !== 'ColdBoot' && t !== 'AuxCycle') fail(400, `${BASE}.ActionParameterNotSupported`, [String(t), 'SystemReset']);
      c.server.coldBoot();
      return success();
    },
  ],
  ['GET', /^\/redfish\/v1\/systems\/1\/bios\/$/, (c) => resource(R.bios(c.server, false), 'GET, HEAD')],
  ['GET', /^\/redfish\/v1\/systems\/1\/bios\/settings\/$/, (c) => resource(R.bios(c.server, true))],
  ['PATCH', /^\/redfish\/v1\/systems\/1\/bios\/settings\/$/, patchBiosSettings],
  ['POST', /^\/redfish\/v1\/systems\/1\/bios\/settings\/actions\/bios\.resetbios\/$/, resetBios],
  ['GET', /^\/redfish\/v1\/systems\/1\/bios\/boot\/$/, (c) => resource(R.bootSettings(c.server, false), 'GET, HEAD')],
  ['GET', /^\/redfish\/v1\/systems\/1\/bios\/boot\/settings\/$/, (c) => resource(R.bootSettings(c.server, true))],
  ['PATCH', /^\/redfish\/v1\/systems\/1\/bios\/boot\/settings\/$/, patchBootSettings],
  ['GET', /^\/redfish\/v1\/systems\/1\/bios\/iscsi\/$/, (c) => resource(R.iscsi(c.server, false), 'GET, HEAD')],
  ['GET', /^\/redfish\/v1\/systems\/1\/bios\/iscsi\/settings\/$/, (c) => resource(R.iscsi(c.server, true))],
  ['GET', /^\/redfish\/v1\/systems\/1\/secureboot\/$/, (c) => resource(R.secureBoot(c.server))],
  ['PATCH', /^\/redfish\/v1\/systems\/1\/secureboot\/$/, patchSecureBoot],
  ['POST', /^\/redfish\/v1\/systems\/1\/secureboot\/actions\/secureboot\.resetkeys\/$/, resetSecureBootKeys],
  [
    'GET',
    /^\/redfish\/v1\/systems\/1\/bootoptions\/$/,
    (c) => {
      const order = c.server.activeOrder();
      return expand(c, R.P.bootOptions, 'BootOptionCollection', 'Boot Options', order.map((e, i) => [`${R.P.bootOptions}${i + 1}/`, () => R.bootOption(e, i)]));
    },
  ],
  [
    'GET',
    /^\/redfish\/v1\/systems\/1\/bootoptions\/(\d+)\/$/,
    (c) => {
      const i = Number(c.match[1]) - 1;
      const e = c.server.activeOrder()[i];
      return e ? resource(R.bootOption(e, i), 'GET, HEAD') : missing(c);
    },
  ],
  [
    'GET',
    /^\/redfish\/v1\/systems\/1\/ethernetinterfaces\/$/,
    (c) =>
      expand(
        c,
        R.P.nics,
        'EthernetInterfaceCollection',
        'System Ethernet Interfaces',
        c.server.macs.host.map((_, i) => [`${R.P.nics}${i + 1}/`, () => R.ethernetInterface(c.server, i)]),
      ),
  ],
  [
    'GET',
    /^\/redfish\/v1\/systems\/1\/ethernetinterfaces\/(\d+)\/$/,
    (c) => {
      const i = Number(c.match[1]) - 1;
      return i >= 0 && i < c.server.macs.host.length ? resource(R.ethernetInterface(c.server, i), 'GET, HEAD') : missing(c);
    },
  ],
  ['GET', /^\/redfish\/v1\/systems\/1\/processors\/$/, (c) => expand(c, R.P.processors, 'ProcessorCollection', 'Processors Collection', R.processorIds(c.server).map((id) => [`${R.P.processors}${id}/`, () => R.processor(c.server, id)]))],
  [
    'GET',
    /^\/redfish\/v1\/systems\/1\/processors\/(\d+)\/$/,
    (c) => (R.processorIds(c.server).includes(c.match[1]!) ? resource(R.processor(c.server, c.match[1]!), 'GET, HEAD') : missing(c)),
  ],
  ['GET', /^\/redfish\/v1\/systems\/1\/memory\/$/, (c) => expand(c, R.P.memory, 'MemoryCollection', 'Memory DIMM Collection', R.dimmIds(c.server).map((id) => [`${R.P.memory}${id}/`, () => R.dimm(c.server, id)]))],
  ['GET', /^\/redfish\/v1\/systems\/1\/memory\/([a-z0-9]+)\/$/, (c) => (R.dimmIds(c.server).includes(c.match[1]!) ? resource(R.dimm(c.server, c.match[1]!), 'GET, HEAD') : missing(c))],
  ['GET', /^\/redfish\/v1\/systems\/1\/pcidevices\/$/, (c) => expand(c, R.P.pci, 'HpeServerPciDeviceCollection', 'PCI Devices', pciDevices(c.server.model).map((_, i) => [`${R.P.pci}${i + 1}/`, () => R.pciDevice(c.server, i)]))],
  [
    'GET',
    /^\/redfish\/v1\/systems\/1\/pcidevices\/(\d+)\/$/,
    (c) => {
      const i = Number(c.match[1]) - 1;
      return i >= 0 && i < pciDevices(c.server.model).length ? resource(R.pciDevice(c.server, i), 'GET, HEAD') : missing(c);
    },
  ],
  ['GET', new RegExp(`^${S}smartstorage/$`), (c) => resource(R.smartStorage(c.server), 'GET, HEAD')],
  ['GET', new RegExp(`^${S}smartstorage/arraycontrollers/$`), (c) => expand(c, R.P.arrayControllers, 'HpeSmartStorageArrayControllerCollection', 'HpeSmartStorageArrayControllers', [[`${R.P.arrayControllers}0/`, () => R.arrayController(c.server)]])],
  ['GET', new RegExp(`^${S}smartstorage/arraycontrollers/0/$`), (c) => resource(R.arrayController(c.server), 'GET, HEAD')],
  [
    'GET',
    new RegExp(`^${S}smartstorage/arraycontrollers/0/logicaldrives/$`),
    (c) =>
      expand(c, `${R.P.arrayControllers}0/LogicalDrives/`, 'HpeSmartStorageLogicalDriveCollection', 'HpeSmartStorageLogicalDrives', logicalDrives(c.server.model).map((l) => [`${R.P.arrayControllers}0/LogicalDrives/${l.number}/`, () => R.logicalDrive(c.server, l.number)!])),
  ],
  ['GET', new RegExp(`^${S}smartstorage/arraycontrollers/0/logicaldrives/(\\d+)/$`), (c) => found(c, R.logicalDrive(c.server, Number(c.match[1])))],
  [
    'GET',
    new RegExp(`^${S}smartstorage/arraycontrollers/0/diskdrives/$`),
    (c) => expand(c, `${R.P.arrayControllers}0/DiskDrives/`, 'HpeSmartStorageDiskDriveCollection', 'HpeSmartStorageDiskDrives', R.configuredDiskIndexes(c.server).map((i) => [`${R.P.arrayControllers}0/DiskDrives/${i}/`, () => R.diskDrive(c.server, i)!])),
  ],
  ['GET', new RegExp(`^${S}smartstorage/arraycontrollers/0/diskdrives/(\\d+)/$`), (c) => found(c, R.diskDrive(c.server, Number(c.match[1])))],
  [
    'GET',
    new RegExp(`^${S}smartstorage/arraycontrollers/0/unconfigureddrives/$`),
    (c) => expand(c, `${R.P.arrayControllers}0/UnconfiguredDrives/`, 'HpeSmartStorageDiskDriveCollection', 'HpeSmartStorageDiskDrives', R.unconfiguredDiskIndexes(c.server).map((i) => [`${R.P.arrayControllers}0/DiskDrives/${i}/`, () => R.diskDrive(c.server, i)!])),
  ],
  ['GET', new RegExp(`^${S}storage/$`), (c) => expand(c, `${R.P.system}Storage/`, 'StorageCollection', 'Storage', [])],
  ['GET', new RegExp(`^${S}simplestorage/$`), (c) => expand(c, `${R.P.system}SimpleStorage/`, 'SimpleStorageCollection', 'Simple Storage', [])],
  ['GET', /^\/redfish\/v1\/managers\/$/, (c) => expand(c, R.P.managers, 'ManagerCollection', 'Managers', [[R.P.manager, () => R.manager(c.server)]])],
  ['GET', /^\/redfish\/v1\/managers\/1\/$/, (c) => resource(R.manager(c.server))],
  ['POST', /^\/redfish\/v1\/managers\/1\/actions\/manager\.reset\/$/, resetManager],
  ['GET', /^\/redfish\/v1\/managers\/1\/ethernetinterfaces\/$/, (c) => expand(c, R.P.managerNics, 'EthernetInterfaceCollection', 'Manager Network Interfaces', [[`${R.P.managerNics}1/`, () => R.managerNic(c.server)]])],
  ['GET', /^\/redfish\/v1\/managers\/1\/ethernetinterfaces\/1\/$/, (c) => resource(R.managerNic(c.server))],
  ['GET', /^\/redfish\/v1\/managers\/1\/securityservice\/$/, (c) => resource(R.securityService(c.server), 'GET, HEAD')],
  ['GET', /^\/redfish\/v1\/managers\/1\/securityservice\/securitydashboard\/$/, (c) => resource(R.securityDashboard(c.server), 'GET, HEAD')],
  [
    'GET',
    /^\/redfish\/v1\/managers\/1\/securityservice\/securitydashboard\/securityparams\/$/,
    (c) => expand(c, R.P.securityParams, 'HpeiLOSecurityParamCollection', 'Security Parameter Collection', R.SECURITY_PARAMS.map((_, i) => [`${R.P.securityParams}${i}/`, () => R.securityParam(i)])),
  ],
  [
    'GET',
    /^\/redfish\/v1\/managers\/1\/securityservice\/securitydashboard\/securityparams\/(\d+)\/$/,
    (c) => {
      const i = Number(c.match[1]);
      return i < R.SECURITY_PARAMS.length ? resource(R.securityParam(i), 'GET, HEAD') : missing(c);
    },
  ],
  [
    'GET',
    /^\/redfish\/v1\/managers\/1\/virtualmedia\/$/,
    (c) =>
      expand(c, R.P.vmedia, 'VirtualMediaCollection', 'Virtual Media Services', [
        [`${R.P.vmedia}1/`, () => R.virtualMedia(c.server, 'floppy')],
        [`${R.P.vmedia}2/`, () => R.virtualMedia(c.server, 'cdrom')],
      ]),
  ],
  ['GET', new RegExp(`^${VM}$`), (c) => resource(R.virtualMedia(c.server, vmDevice(c)))],
  ['PATCH', new RegExp(`^${VM}$`), (c) => patchVirtualMedia(c, vmDevice(c))],
  ['POST', new RegExp(`^${VM}actions/virtualmedia\\.insertmedia/$`), (c) => insertMedia(c, vmDevice(c))],
  ['POST', new RegExp(`^${VM}actions/oem/hpe/hpeilovirtualmedia\\.insertvirtualmedia/$`), (c) => insertMedia(c, vmDevice(c))],
  ['POST', new RegExp(`^${VM}actions/virtualmedia\\.ejectmedia/$`), (c) => ejectMedia(c, vmDevice(c))],
  ['POST', new RegExp(`^${VM}actions/oem/hpe/hpeilovirtualmedia\\.ejectvirtualmedia/$`), (c) => ejectMedia(c, vmDevice(c))],
  ['GET', /^\/redfish\/v1\/managers\/1\/licenseservice\/$/, (c) => expand(c, R.P.licences, 'HpeiLOLicenseCollection', 'iLO Licenses', [[R.P.licence, () => R.licence(c.server)]])],
  ['GET', /^\/redfish\/v1\/managers\/1\/licenseservice\/1\/$/, (c) => resource(R.licence(c.server), 'GET, HEAD')],
  ['GET', /^\/redfish\/v1\/chassis\/$/, (c) => expand(c, R.P.chassisCollection, 'ChassisCollection', 'Computer System Chassis', [[R.P.chassis, () => R.chassis(c.server)]])],
  ['GET', /^\/redfish\/v1\/chassis\/1\/$/, (c) => resource(R.chassis(c.server))],
  ['GET', /^\/redfish\/v1\/chassis\/1\/thermal\/$/, (c) => resource(R.thermal(c.server), 'GET, HEAD')],
  ['GET', /^\/redfish\/v1\/chassis\/1\/power\/$/, (c) => resource(R.power(c.server), 'GET, HEAD')],
  ['GET', /^\/redfish\/v1\/chassis\/1\/devices\/$/, (c) => expand(c, `${R.P.chassis}Devices/`, 'HpeServerDeviceCollection', 'Devices', [])],
  ['GET', /^\/redfish\/v1\/sessionservice\/$/, (c) => resource(R.sessionService(sessionTimeout(c.server)))],
  ['PATCH', /^\/redfish\/v1\/sessionservice\/$/, patchSessionService],
  [
    'GET',
    /^\/redfish\/v1\/sessionservice\/sessions\/$/,
    (c) => expand(c, R.P.sessions, 'SessionCollection', 'Sessions', [...c.server.sessions.values()].map((s) => [`${R.P.sessions}${s.id}/`, () => R.session(c.server, s, s === c.session)])),
  ],
  ['POST', /^\/redfish\/v1\/sessionservice\/sessions\/$/, login],
  [
    'GET',
    /^\/redfish\/v1\/sessionservice\/sessions\/([^/]+)\/$/,
    (c) => {
      const s = [...c.server.sessions.values()].find((x) => x.id === c.match[1]);
      return s ? resource(R.session(c.server, s, s === c.session), 'GET, HEAD, DELETE') : missing(c);
    },
  ],
  ['DELETE', /^\/redfish\/v1\/sessionservice\/sessions\/([^/]+)\/$/, deleteSession],
];

/** No authentication needed: the service root, and the login itself. */
const OPEN: Array<[string, RegExp]> = [
  ['GET', /^\/redfish\/v1\/$/],
  ['POST', /^\/redfish\/v1\/sessionservice\/sessions\/$/],
];

async function handle(ctx: RouteContext): Promise<void> {
  const { server, req, res, url } = ctx;
  server.requests.redfish++;
  if (server.model.rest === 'ilo4') return handleIlo4(ctx);
  const write = (r: RedfishReply): void => writeJson(res, r, 'chunked');
  const method = (req.method ?? 'GET').toUpperCase();
  const host = req.headers.host ?? '127.0.0.1';
  if (url.pathname.toLowerCase().startsWith('/rest/v1')) {
    // iLO 5 and later keep /rest/v1 only as a redirect to the same resource under /redfish/v1.
    const rest = url.pathname.slice('/rest/v1'.length);
    return write({ status: 308, headers: { location: `https://${host}/redfish/v1${rest}${rest.endsWith('/') ? '' : '/'}${url.search}` } });
  }
  const path = routePath(url.pathname);

  const fault = await takeFault(ctx, method, path);
  if (fault.done) return;
  if (fault.error) return write(reply(fault.error.status, fault.error.message));

  const candidates = routes.filter(([, re]) => re.test(path));
  const route = candidates.find(([m]) => m === method) ?? (method === 'HEAD' ? candidates.find(([m]) => m === 'GET') : undefined);
  if (!route) {
    if (candidates.length > 0) return write({ ...reply(405, `${BASE}.OperationNotAllowed`), headers: { allow: candidates.map(([m]) => m).join(', ') } });
    return write(reply(404, `${BASE}.ResourceMissingAtURI`, [path]));
  }
  let session: SimSession | undefined;
  let release = (): void => undefined;
  if (!OPEN.some(([m, re]) => m === method && re.test(path))) {
    const who = authenticate(server, req);
    if (!who.ok) {
      if (who.why === 'limit') return write(reply(503, `${BASE}.SessionLimitExceeded`));
      return write({ ...reply(401, `${BASE}.NoValidSession`), headers: { 'www-authenticate': 'Basic realm="iLO"' } });
    }
    if (who.caller.kind === 'session') session = who.caller.session;
    else release = who.caller.release;
  }
  const call: Call = { server, method, path, match: path.match(route[1])!, url, req, body: ctx.body, session };
  try {
    const r = await route[2](call);
    write(method === 'HEAD' ? { ...r, body: undefined } : r);
  } catch (err) {
    if (err instanceof RedfishFailure) return write(err.reply);
    throw err;
  } finally {
    release();
  }
}

let registered = false;

/** Add the Redfish routes to every simulated iLO (idempotent). */
export function registerRedfish(): void {
  if (registered) return;
  registered = true;
  for (const method of ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'PUT']) {
    registerIloRoute(method, '/redfish', handle);
    registerIloRoute(method, '/rest/v1', handle);
  }
}

registerRedfish();
