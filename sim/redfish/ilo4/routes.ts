/**
 * The REST face of a simulated iLO 4 (2.30 and later): the RESTful API that
 * proliantutils drives a Gen9 with (`/rest/v1`: Basic auth, actions POSTed
 * to the resource itself as {"Action": …}, virtual media by PATCHing
 * `Image`, BIOS as flat settings with a PATCHable pending object), mirrored
 * at `/redfish/v1` for Redfish 1.0 clients (sessions, `Actions` targets,
 * `Members`). Replies carry a Content-Length (iLO 4 does not chunk), errors
 * an ExtendedError with `Messages[].MessageID`. A request that says
 * `OData-Version` gets the Redfish properties only, as iLO 4 answers it.
 * A Gen8's ROM publishes no BIOS, boot order or secure boot resources.
 */
import type { RouteContext } from '../../ilo-endpoint';
import { SimRefusal, type SimServer, type SimSession } from '../../server';
import type { SimDriveName } from '../../vmedia';
import { etagOf } from '../messages';
import { applyBootPatch, systemReset } from '../actions';
import { authenticate, closeSession, jsonObject, openSession, sessionTimeout, setSessionTimeout, takeFault, writeJson, type JsonReply } from '../service';
import * as R from './resources';
import { BASE0, ILO4 } from './resources';
import { disks, logicalDrives, pciDevices, structuredBootString } from '../../inventory';

interface Call {
  server: SimServer;
  method: string;
  /** Below the prefix, lower case, no trailing slash ("/systems/1"). */
  path: string;
  match: RegExpMatchArray;
  body: Buffer;
  host: string;
  session?: SimSession;
}

class Ilo4Failure extends Error {
  constructor(readonly reply: JsonReply) {
    super('iLO 4 refusal');
  }
}

const fail = (status: number, messageId: string, args?: string[]): never => {
  throw new Ilo4Failure({ status, body: R.extendedError(messageId, args) });
};
const ok = (): JsonReply => ({ status: 200, body: R.extendedError(`${BASE0}.Success`) });
const resetRequired = (): JsonReply => ({ status: 200, body: R.extendedError(`${ILO4}.SystemResetRequired`) });

function get(doc: Record<string, unknown>, allow = 'GET, HEAD'): JsonReply {
  const etag = etagOf(doc);
  return { status: 200, body: doc, headers: { etag, allow } };
}

function body(c: Call): Record<string, unknown> {
  return jsonObject(c.body) ?? fail(400, `${BASE0}.MalformedJSON`);
}

function refusal(err: unknown, property: string): never {
  if (!(err instanceof SimRefusal)) throw err;
  switch (err.kind) {
    case 'licence':
      return fail(400, `${ILO4}.LicenseKeyRequired`);
    case 'host-in-post':
      return fail(400, `${ILO4}.UnableToModifyDuringSystemPOST`, [property]);
    case 'no-image':
      return fail(400, `${ILO4}.NoVirtualMediaConnectionAvailable`);
    case 'not-supported':
      return fail(400, `${ILO4}.UnsupportedOperation`);
    case 'media':
      return fail(400, `${ILO4}.VirtualMediaConnectionError`, [err.message]);
    default:
      return fail(400, `${BASE0}.PropertyValueNotInList`, [property]);
  }
}

/** POST {"Action": "Reset" | "PowerButton", …} to the system itself (the pre-Redfish way). */
function systemAction(c: Call): JsonReply {
  const b = body(c);
  const s = c.server;
  if (b.Action === 'Reset') return reset(c, b.ResetType);
  if (b.Action === 'PowerButton') return powerButton(s, b.PushType);
  if (b.Action === 'SystemReset') {
    if (b.ResetType !== 'ColdBoot') return fail(400, `${BASE0}.ActionParameterNotSupported`, [String(b.ResetType), 'SystemReset']);
    s.coldBoot();
    return ok();
  }
  return fail(400, `${BASE0}.ActionNotSupported`, [String(b.Action)]);
}

function reset(c: Call, type: unknown): JsonReply {
  const s = c.server;
  systemReset(
    s,
    type,
    () => fail(400, `${ILO4}.InvalidOperationForSystemState`, [s.powerState === 'on' ? 'Power is on' : 'Power is off']),
    () => fail(400, `${BASE0}.ActionParameterNotSupported`, [String(type), 'Reset']),
  );
  return ok();
}

function powerButton(s: SimServer, push: unknown): JsonReply {
  if (push === 'Press') s.pressPowerButton();
  else if (push === 'PressAndHold') s.hardOff();
  else fail(400, `${BASE0}.ActionParameterNotSupported`, [String(push), 'PowerButton']);
  return ok();
}

function patchSystem(c: Call): JsonReply {
  const b = body(c);
  for (const k of Object.keys(b)) if (k !== 'Boot') fail(400, `${BASE0}.PropertyNotWritable`, [k]);
  const boot = (b.Boot ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(boot)) {
    if (!['BootSourceOverrideTarget', 'BootSourceOverrideEnabled', 'UefiTargetBootSourceOverride'].includes(k)) fail(400, `${BASE0}.PropertyNotWritable`, [k]);
  }
  try {
    applyBootPatch(c.server, boot, R.ILO4_TARGETS, (status, id, args) => fail(status, `${BASE0}.${id}`, args));
  } catch (err) {
    if (err instanceof Ilo4Failure) throw err;
    refusal(err, 'BootSourceOverrideTarget');
  }
  return ok();
}

/** PATCH of the pending BIOS settings: flat attributes, enumerations matched without regard to case. */
function patchBios(c: Call): JsonReply {
  const b = body(c);
  const s = c.server;
  for (const [k, v] of Object.entries(b)) {
    if (k === 'BootMode') {
      const mode = String(v).toLowerCase();
      if (mode !== 'uefi' && mode !== 'legacybios') fail(400, `${BASE0}.PropertyValueNotInList`, [String(v), 'BootMode']);
    } else if (k !== 'UefiOptimizedBoot' && !s.bios.knows(k)) fail(400, `${BASE0}.PropertyUnknown`, [k]);
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') fail(400, `${BASE0}.PropertyValueTypeError`, [String(v), k]);
  }
  for (const [k, v] of Object.entries(b)) {
    if (k === 'BootMode') {
      try {
        s.setPendingBootMode(String(v).toLowerCase() === 'uefi' ? 'uefi' : 'bios');
      } catch (err) {
        refusal(err, 'BootMode');
      }
    } else if (k !== 'UefiOptimizedBoot') s.bios.pending[k] = v as string | number | boolean;
  }
  return resetRequired();
}

function patchBootOrder(c: Call): JsonReply {
  const b = body(c);
  const order = b.PersistentBootConfigOrder;
  if (!Array.isArray(order) || !order.every((x) => typeof x === 'string')) return fail(400, `${BASE0}.PropertyValueTypeError`, ['PersistentBootConfigOrder', 'PersistentBootConfigOrder']);
  if (c.server.bootMode.current !== 'uefi') return fail(400, `${ILO4}.UnsupportedOperationInLegacyBootMode`);
  const ids = (order as string[]).map(
    (x) => c.server.activeOrder().find((e) => structuredBootString(e, c.server.model).toLowerCase() === x.toLowerCase())?.id ?? fail(400, `${BASE0}.PropertyValueNotInList`, [x, 'PersistentBootConfigOrder']),
  );
  try {
    c.server.setPersistentOrder(ids);
  } catch (err) {
    refusal(err, 'PersistentBootConfigOrder');
  }
  return resetRequired();
}

function patchSecureBoot(c: Call): JsonReply {
  const b = body(c);
  const s = c.server;
  for (const [k, v] of Object.entries(b)) {
    if (!['SecureBootEnable', 'ResetToDefaultKeys', 'ResetAllKeys'].includes(k)) fail(400, `${BASE0}.PropertyNotWritable`, [k]);
    if (typeof v !== 'boolean') fail(400, `${BASE0}.PropertyValueTypeError`, [String(v), k]);
  }
  if (s.bootMode.current !== 'uefi') return fail(400, `${ILO4}.UnsupportedOperationInLegacyBootMode`);
  if (typeof b.SecureBootEnable === 'boolean') s.bios.secureBoot.pending = b.SecureBootEnable;
  if (b.ResetToDefaultKeys === true) s.bios.secureBoot.keys = 'default';
  if (b.ResetAllKeys === true) {
    // Every key database emptied, the platform key too: secure boot cannot be in force.
    s.bios.secureBoot.keys = 'deleted';
    s.bios.secureBoot.pending = false;
  }
  return resetRequired();
}

/**
 * PATCH a virtual media member: `Image` inserts (the iLO connects it at
 * once) or, null, ejects; `Inserted: false` ejects; Oem.Hp.BootOnNextServerReset.
 */
async function patchVirtualMedia(c: Call, device: SimDriveName): Promise<JsonReply> {
  const b = body(c);
  const s = c.server;
  for (const k of Object.keys(b)) if (!['Image', 'Inserted', 'WriteProtected', 'Oem'].includes(k)) fail(400, `${BASE0}.PropertyNotWritable`, [k]);
  const hp = (b.Oem as { Hp?: Record<string, unknown> } | undefined)?.Hp ?? {};
  for (const k of Object.keys(hp)) if (k !== 'BootOnNextServerReset' || device !== 'cdrom') fail(400, `${BASE0}.PropertyUnknown`, [k]);
  const image = b.Image;
  try {
    if (image === null || image === '' || b.Inserted === false) s.ejectMedia(device, false);
    else if (image !== undefined) {
      if (typeof image !== 'string' || !/^https?:\/\/\S+$/i.test(image)) return fail(400, `${BASE0}.PropertyValueFormatError`, [String(image), 'Image']);
      if (s.drives[device].inserted) return fail(400, `${ILO4}.UnableToModifyAfterVirtualMediaInsert`, ['Image']);
      s.insertMedia(device, image, 'refuse');
      s.drives[device].writeProtect = b.WriteProtected !== false;
      const outcome = await s.connectMedia(device);
      if (!outcome.ok) throw new SimRefusal('media', outcome.detail, outcome.kind);
      s.setMediaBootOption(device, 'BOOT_ALWAYS');
    }
    const once = hp.BootOnNextServerReset;
    if (once !== undefined) {
      if (typeof once !== 'boolean') return fail(400, `${BASE0}.PropertyValueTypeError`, [String(once), 'BootOnNextServerReset']);
      const drive = s.drives[device];
      if (once && !drive.inserted) throw new SimRefusal('no-image', 'no image');
      s.setMediaBootOption(device, once ? 'BOOT_ONCE' : drive.connected ? 'BOOT_ALWAYS' : 'NO_BOOT');
    }
  } catch (err) {
    if (err instanceof Ilo4Failure) throw err;
    refusal(err, 'Image');
  }
  return ok();
}

function login(c: Call): JsonReply {
  const out = openSession(c.server, body(c));
  if (!out.ok) return out.why === 'limit' ? fail(503, `${BASE0}.SessionLimitExceeded`) : fail(401, `${BASE0}.NoValidSession`);
  const { id, token } = out.session;
  return {
    status: 201,
    body: R.session(out.session, true, sessionTimeout(c.server)),
    headers: { 'x-auth-token': token, location: `https://${c.host}/rest/v1/SessionService/Sessions/${id}` },
  };
}

const vm = (c: Call): SimDriveName => (c.match[1] === '2' ? 'cdrom' : 'floppy');
const missing = (c: Call): never => fail(404, `${BASE0}.ResourceMissingAtURI`, [c.path]);
const getOr404 = (c: Call, doc: Record<string, unknown> | undefined): JsonReply => (doc ? get(doc) : missing(c));
/** Resources only a ROM that publishes its settings has (not a Gen8's). */
const rom = (c: Call, render: () => JsonReply): JsonReply => (c.server.model.romOverRest ? render() : missing(c));

type Handler = (c: Call) => JsonReply | Promise<JsonReply>;

const ARRAY = '/systems/1/smartstorage/arraycontrollers';

const routes: Array<[string, RegExp, Handler]> = [
  ['GET', /^$/, (c) => get(R.serviceRoot(c.server))],
  ['GET', /^\/systems$/, () => get(R.collection('/Systems', 'Computer Systems', 'ComputerSystem.1', ['/Systems/1']))],
  ['GET', /^\/systems\/1$/, (c) => get(R.system(c.server), 'GET, HEAD, POST, PATCH')],
  ['PATCH', /^\/systems\/1$/, patchSystem],
  ['POST', /^\/systems\/1$/, systemAction],
  ['POST', /^\/systems\/1\/actions\/computersystem\.reset$/, (c) => reset(c, body(c).ResetType)],
  ['POST', /^\/systems\/1\/actions\/oem\/hp\/computersystemext\.powerbutton$/, (c) => powerButton(c.server, body(c).PushType)],
  [
    'POST',
    /^\/systems\/1\/actions\/oem\/hp\/computersystemext\.systemreset$/,
    (c) => {
      if (body(c).ResetType !== 'ColdBoot') return fail(400, `${BASE0}.ActionParameterNotSupported`, ['ResetType', 'SystemReset']);
      c.server.coldBoot();
      return ok();
    },
  ],
  ['GET', /^\/systems\/1\/bios$/, (c) => rom(c, () => get(R.bios(c.server, false)))],
  ['GET', /^\/systems\/1\/bios\/baseconfigs$/, (c) => rom(c, () => get(R.baseConfigs(c.server)))],
  ['GET', /^\/systems\/1\/bios\/settings$/, (c) => rom(c, () => get(R.bios(c.server, true), 'GET, HEAD, PATCH'))],
  ['PATCH', /^\/systems\/1\/bios\/settings$/, (c) => rom(c, () => patchBios(c))],
  ['GET', /^\/systems\/1\/bios\/boot$/, (c) => rom(c, () => get(R.bootSettings(c.server, false)))],
  ['GET', /^\/systems\/1\/bios\/boot\/settings$/, (c) => rom(c, () => get(R.bootSettings(c.server, true), 'GET, HEAD, PATCH'))],
  ['PATCH', /^\/systems\/1\/bios\/boot\/settings$/, (c) => rom(c, () => patchBootOrder(c))],
  ['GET', /^\/systems\/1\/bios\/iscsi$/, (c) => rom(c, () => get(R.iscsi(c.server, false)))],
  ['GET', /^\/systems\/1\/bios\/iscsi\/settings$/, (c) => rom(c, () => get(R.iscsi(c.server, true), 'GET, HEAD, PATCH'))],
  ['GET', /^\/systems\/1\/secureboot$/, (c) => rom(c, () => get(R.secureBoot(c.server), 'GET, HEAD, PATCH'))],
  ['PATCH', /^\/systems\/1\/secureboot$/, (c) => rom(c, () => patchSecureBoot(c))],
  ['GET', /^\/systems\/1\/processors$/, (c) => get(R.collection('/Systems/1/Processors', 'Processors Collection', 'Processor.1', Array.from({ length: c.server.model.cpu.count }, (_, i) => `/Systems/1/Processors/${i + 1}`)))],
  ['GET', /^\/systems\/1\/processors\/(\d+)$/, (c) => (Number(c.match[1]) >= 1 && Number(c.match[1]) <= c.server.model.cpu.count ? get(R.processor(c.server, Number(c.match[1]))) : missing(c))],
  [
    'GET',
    /^\/systems\/1\/memory$/,
    (c) => {
      const dimms = Array.from({ length: c.server.model.dimm.count }, (_, i) => R.dimm(c.server, i));
      return get(R.collection('/Systems/1/Memory', 'Memory', 'HpMemory.1', dimms.map((d) => `/Systems/1/Memory/${String(d.Id)}`), dimms));
    },
  ],
  [
    'GET',
    /^\/systems\/1\/memory\/([a-z0-9]+)$/,
    (c) => {
      const i = R.dimmPaths(c.server).indexOf(c.match[1]!);
      return i >= 0 ? get(R.dimm(c.server, i)) : missing(c);
    },
  ],
  [
    'GET',
    /^\/systems\/1\/pcidevices$/,
    (c) => {
      const items = pciDevices(c.server.model).map((_, i) => R.pciDevice(c.server, i));
      return get(R.collection('/Systems/1/PCIDevices', 'PCI Devices', 'HpServerPciDevice.1', items.map((_, i) => `/Systems/1/PCIDevices/${i + 1}`), items));
    },
  ],
  ['GET', /^\/systems\/1\/pcidevices\/(\d+)$/, (c) => (Number(c.match[1]) >= 1 && Number(c.match[1]) <= pciDevices(c.server.model).length ? get(R.pciDevice(c.server, Number(c.match[1]) - 1)) : missing(c))],
  ['GET', /^\/systems\/1\/smartstorage$/, (c) => get(R.smartStorage(c.server))],
  ['GET', new RegExp(`^${ARRAY}$`), () => get(R.collection('/Systems/1/SmartStorage/ArrayControllers', 'HpSmartStorageArrayControllers', 'HpSmartStorageArrayController.1', ['/Systems/1/SmartStorage/ArrayControllers/0']))],
  ['GET', new RegExp(`^${ARRAY}/0$`), (c) => get(R.arrayController(c.server))],
  [
    'GET',
    new RegExp(`^${ARRAY}/0/logicaldrives$`),
    (c) => get(R.collection('/Systems/1/SmartStorage/ArrayControllers/0/LogicalDrives', 'HpSmartStorageLogicalDrives', 'HpSmartStorageLogicalDrive.1', logicalDrives(c.server.model).map((l) => `/Systems/1/SmartStorage/ArrayControllers/0/LogicalDrives/${l.number}`))),
  ],
  ['GET', new RegExp(`^${ARRAY}/0/logicaldrives/(\\d+)$`), (c) => getOr404(c, R.logicalDriveDoc(c.server, Number(c.match[1])))],
  [
    'GET',
    new RegExp(`^${ARRAY}/0/diskdrives$`),
    (c) =>
      get(
        R.collection(
          '/Systems/1/SmartStorage/ArrayControllers/0/DiskDrives',
          'HpSmartStorageDiskDrives',
          'HpSmartStorageDiskDrive.1',
          disks(c.server.model).map((_, i) => `/Systems/1/SmartStorage/ArrayControllers/0/DiskDrives/${i}`),
        ),
      ),
  ],
  ['GET', new RegExp(`^${ARRAY}/0/diskdrives/(\\d+)$`), (c) => getOr404(c, R.diskDrive(c.server, Number(c.match[1])))],
  ['GET', /^\/systems\/1\/ethernetinterfaces$/, (c) => get(R.collection('/Systems/1/EthernetInterfaces', 'System Ethernet Interfaces', 'EthernetInterface.1', c.server.macs.host.map((_, i) => `/Systems/1/EthernetInterfaces/${i + 1}`)))],
  ['GET', /^\/systems\/1\/ethernetinterfaces\/(\d+)$/, (c) => (Number(c.match[1]) >= 1 && Number(c.match[1]) <= c.server.macs.host.length ? get(R.ethernetInterface(c.server, Number(c.match[1]) - 1)) : missing(c))],
  ['GET', /^\/managers$/, () => get(R.collection('/Managers', 'Managers', 'Manager.1', ['/Managers/1']))],
  ['GET', /^\/managers\/1$/, (c) => get(R.manager(c.server), 'GET, HEAD, POST, PATCH')],
  ['POST', /^\/managers\/1$/, (c) => (body(c).Action === 'Reset' ? resetIlo(c) : fail(400, `${BASE0}.ActionNotSupported`, [String(body(c).Action)]))],
  ['POST', /^\/managers\/1\/actions\/manager\.reset$/, resetIlo],
  ['GET', /^\/managers\/1\/ethernetinterfaces$/, () => get(R.collection('/Managers/1/EthernetInterfaces', 'Manager Network Interfaces', 'EthernetInterface.1', ['/Managers/1/EthernetInterfaces/1']))],
  ['GET', /^\/managers\/1\/ethernetinterfaces\/1$/, (c) => get(R.managerNic(c.server))],
  ['GET', /^\/managers\/1\/virtualmedia$/, () => get(R.collection('/Managers/1/VirtualMedia', 'Virtual Media Services', 'VirtualMedia.1', ['/Managers/1/VirtualMedia/1', '/Managers/1/VirtualMedia/2']))],
  ['GET', /^\/managers\/1\/virtualmedia\/([12])$/, (c) => get(R.virtualMedia(c.server, vm(c)), 'GET, HEAD, PATCH')],
  ['PATCH', /^\/managers\/1\/virtualmedia\/([12])$/, (c) => patchVirtualMedia(c, vm(c))],
  ['GET', /^\/managers\/1\/licenseservice$/, () => get(R.collection('/Managers/1/LicenseService', 'iLO Licenses', 'HpiLOLicense.1', ['/Managers/1/LicenseService/1']), 'GET, HEAD, POST')],
  ['GET', /^\/managers\/1\/licenseservice\/1$/, (c) => get(R.licence(c.server))],
  ['GET', /^\/chassis$/, () => get(R.collection('/Chassis', 'Computer System Chassis', 'Chassis.1', ['/Chassis/1']))],
  ['GET', /^\/chassis\/1$/, (c) => get(R.chassis(c.server))],
  ['GET', /^\/sessionservice$/, (c) => get(R.sessionService(sessionTimeout(c.server)), 'GET, HEAD, PATCH')],
  [
    'PATCH',
    /^\/sessionservice$/,
    (c) => (setSessionTimeout(c.server, body(c).SessionTimeout) ? ok() : fail(400, `${BASE0}.PropertyValueNotInList`, [String(body(c).SessionTimeout), 'SessionTimeout'])),
  ],
  ['GET', /^\/(?:sessionservice\/)?sessions$/, (c) => get(R.collection('/SessionService/Sessions', 'Sessions', 'Session.1', [...c.server.sessions.values()].map((s) => `/SessionService/Sessions/${s.id}`)), 'GET, HEAD, POST')],
  ['POST', /^\/(?:sessionservice\/)?sessions$/, login],
  [
    'GET',
    /^\/(?:sessionservice\/)?sessions\/([^/]+)$/,
    (c) => {
      const s = [...c.server.sessions.values()].find((x) => x.id === c.match[1]);
      return s ? get(R.session(s, s === c.session, sessionTimeout(c.server)), 'GET, HEAD, DELETE') : missing(c);
    },
  ],
  ['DELETE', /^\/(?:sessionservice\/)?sessions\/([^/]+)$/, (c) => (closeSession(c.server, c.match[1]!) ? ok() : missing(c))],
];

function resetIlo(c: Call): JsonReply {
  c.server.sessions.clear();
  return { status: 200, body: R.extendedError(`${ILO4}.ResetInProgress`) };
}

const OPEN: Array<[string, RegExp]> = [
  ['GET', /^$/],
  ['POST', /^\/(?:sessionservice\/)?sessions$/],
];

/** Leave out iLO 4's pre-Redfish properties (a client that sent OData-Version asked for Redfish). */
function redfishOnly(v: unknown): unknown {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([k]) => !R.COMPAT_ONLY.includes(k)));
}

export async function handleIlo4(ctx: RouteContext): Promise<void> {
  const { server, req, res, url } = ctx;
  const write = (r: JsonReply): void => writeJson(res, r, 'length');
  const method = (req.method ?? 'GET').toUpperCase();
  const lower = url.pathname.toLowerCase().replace(/\/{2,}/g, '/');
  const prefix = lower.startsWith('/rest/v1') ? '/rest/v1' : '/redfish/v1';
  if (!lower.startsWith(prefix)) return write({ status: 404, body: R.extendedError(`${BASE0}.ResourceMissingAtURI`, [url.pathname]) });
  const path = lower.slice(prefix.length).replace(/\/$/, '');

  const fault = await takeFault(ctx, method, `${prefix}${path}/`);
  if (fault.done) return;
  if (fault.error) return write({ status: fault.error.status, body: R.extendedError(fault.error.message) });

  const candidates = routes.filter(([, re]) => re.test(path));
  const route = candidates.find(([m]) => m === method) ?? (method === 'HEAD' ? candidates.find(([m]) => m === 'GET') : undefined);
  if (!route) {
    if (candidates.length > 0) return write({ status: 405, body: R.extendedError(`${BASE0}.OperationNotAllowed`), headers: { allow: candidates.map(([m]) => m).join(', ') } });
    return write({ status: 404, body: R.extendedError(`${BASE0}.ResourceMissingAtURI`, [url.pathname]) });
  }
  let session: SimSession | undefined;
  let release = (): void => undefined;
  if (!OPEN.some(([m, re]) => m === method && re.test(path))) {
    const who = authenticate(server, req);
    if (!who.ok) {
      if (who.why === 'limit') return write({ status: 503, body: R.extendedError(`${BASE0}.SessionLimitExceeded`) });
      return write({ status: 401, body: R.extendedError(`${BASE0}.NoValidSession`), headers: { 'www-authenticate': 'Basic realm="iLO"' } });
    }
    if (who.caller.kind === 'session') session = who.caller.session;
    else release = who.caller.release;
  }
  const call: Call = { server, method, path, match: path.match(route[1])!, body: ctx.body, host: req.headers.host ?? '127.0.0.1', session };
  try {
    const r = await route[2](call);
    const shaped = req.headers['odata-version'] && r.status < 300 && method !== 'POST' ? { ...r, body: redfishOnly(r.body) } : r;
    write(method === 'HEAD' ? { ...shaped, body: undefined } : shaped);
  } catch (err) {
    if (err instanceof Ilo4Failure) return write(err.reply);
    throw err;
  } finally {
    release();
  }
}
