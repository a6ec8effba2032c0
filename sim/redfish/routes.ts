/**
 * The Redfish face of a simulated iLO (reference §4): an unauthenticated
 * service root, sessions (X-Auth-Token + Location, DELETE to log out) or
 * basic auth, 401 NoValidSession, 308 for a missing trailing slash and for
 * /rest/v1, chunked JSON replies with ETags, If-Match checked (412), and
 * iLO errors as @Message.ExtendedInfo MessageIds. iLO 4 models answer only
 * the service root (ManagerType "iLO 4"), which is what "auto" probes.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { registerIloRoute, type RouteContext } from '../ilo-endpoint';
import { SimRefusal, type SimOneTimeBoot, type SimServer, type SimSession } from '../server';
import type { FetchOutcome, SimDriveName } from '../vmedia';
import { BASE, ILO, RedfishFailure, etagOf, fail, reply, success, type RedfishReply } from './messages';
import * as R from './resources';

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

const SESSION_LIMIT = 16;
const SESSION_IDLE_MS = 30 * 60 * 1000;

/** Redfish-only state per simulated iLO (pending BIOS attributes other than the boot mode). */
const biosExtra = new WeakMap<SimServer, Record<string, string>>();

const resource = (doc: Record<string, unknown>): RedfishReply => {
  const etag = etagOf(doc);
  return { status: 200, body: { ...doc, '@odata.etag': etag }, headers: { etag, allow: 'GET, HEAD, POST, PATCH' } };
};

function json(c: Call): Record<string, unknown> {
  if (c.body.length === 0) fail(400, `${BASE}.MalformedJSON`);
  try {
    const v: unknown = JSON.parse(c.body.toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  return fail(400, `${BASE}.MalformedJSON`);
}

function expand(c: Call, id: string, type: string, name: string, members: Array<[string, () => Record<string, unknown>]>): RedfishReply {
  const doc = R.collection(id, type, name, members.map(([m]) => m));
  const $expand = c.url.searchParams.get('$expand');
  if ($expand === '.' || $expand === '*') doc.Members = members.map(([, render]) => render());
  return resource(doc);
}

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

const DEVICE_OF_TARGET: Record<string, SimOneTimeBoot> = {
  cd: { device: 'cdrom', value: 'CDROM' },
  hdd: { device: 'hdd', value: 'HDD' },
  pxe: { device: 'network', value: 'NETWORK' },
  usb: { device: 'usb', value: 'USB' },
  floppy: { device: 'floppy', value: 'FLOPPY' },
  biossetup: { device: 'setup', value: 'RBSU' },
  utilities: { device: 'other', value: 'EMB-MENU' },
};

function patchSystem(c: Call): RedfishReply {
  const body = json(c);
  checkIfMatch(c, R.system(c.server));
  for (const k of Object.keys(body)) if (k !== 'Boot') fail(400, `${BASE}.PropertyNotWritable`, [k]);
  const boot = (body.Boot ?? {}) as Record<string, unknown>;
  const server = c.server;
  for (const k of Object.keys(boot)) {
    if (!['BootSourceOverrideTarget', 'BootSourceOverrideEnabled', 'BootOrder'].includes(k)) fail(400, `${BASE}.PropertyNotWritable`, [k]);
  }
  try {
    if (boot.BootOrder !== undefined) {
      if (!Array.isArray(boot.BootOrder) || !boot.BootOrder.every((x) => typeof x === 'string')) fail(400, `${BASE}.PropertyValueTypeError`, ['BootOrder', 'BootOrder']);
      server.setPersistentOrder(boot.BootOrder as string[]);
    }
    const target = boot.BootSourceOverrideTarget;
    const enabled = boot.BootSourceOverrideEnabled;
    if (target !== undefined || enabled !== undefined) {
      if (target !== undefined && (typeof target !== 'string' || !R.TARGETS.includes(target))) fail(400, `${BASE}.PropertyValueNotInList`, [String(target), 'BootSourceOverrideTarget']);
      if (enabled !== undefined && !['Disabled', 'Once', 'Continuous'].includes(String(enabled))) fail(400, `${BASE}.PropertyValueNotInList`, [String(enabled), 'BootSourceOverrideEnabled']);
      const current = server.oneTimeBoot;
      const t = (target as string | undefined) ?? (current ? R.TARGET_OF[current.device] : 'None');
      const e = (enabled as string | undefined) ?? (current ? 'Once' : 'Disabled');
      const what = DEVICE_OF_TARGET[t.toLowerCase()];
      if (e === 'Disabled' || t === 'None') server.setOneTimeBoot(null);
      else if (!what) fail(400, `${BASE}.PropertyValueNotInList`, [t, 'BootSourceOverrideTarget']);
      else if (e === 'Once') server.setOneTimeBoot(what);
      else {
        // Continuous: the device class goes first in the persistent order.
        const ids = server.activeOrder().filter((x) => x.device === what.device).map((x) => x.id);
        if (ids.length === 0) fail(400, `${BASE}.PropertyValueNotInList`, [t, 'BootSourceOverrideTarget']);
        server.setPersistentOrder(ids);
      }
    }
  } catch (err) {
    if (err instanceof RedfishFailure) throw err;
    refusal(err, boot.BootOrder !== undefined ? 'BootOrder' : 'BootSourceOverrideTarget');
  }
  return success();
}

function resetSystem(c: Call): RedfishReply {
  const type = json(c).ResetType;
  const s = c.server;
  const invalid = (): never => fail(400, `${ILO}.InvalidOperationForSystemState`, [s.powerState === 'on' ? 'Power is on' : 'Power is off']);
  switch (type) {
    case 'On':
      if (s.powerState === 'on' || s.poweringOn) invalid();
      s.powerOn();
      break;
    case 'ForceOff':
      if (s.powerState === 'off') invalid();
      s.hardOff();
      break;
    case 'ForceRestart':
      if (s.powerState === 'off') invalid();
      s.warmReset();
      break;
    case 'GracefulShutdown':
      if (s.powerState === 'off') invalid();
      s.pressPowerButton();
      break;
    case 'PushPowerButton':
      s.pressPowerButton();
      break;
    case 'Nmi':
      if (s.powerState === 'off') invalid();
      break;
    default:
      fail(400, `${BASE}.ActionParameterNotSupported`, [String(type), 'ComputerSystem.Reset']);
  }
  return success();
}

function patchBiosSettings(c: Call): RedfishReply {
  const body = json(c);
  checkIfMatch(c, R.bios(c.server, true, biosExtra.get(c.server) ?? {}));
  const attrs = body.Attributes;
  if (!attrs || typeof attrs !== 'object') return fail(400, `${BASE}.PropertyMissing`, ['Attributes']);
  const extra = biosExtra.get(c.server) ?? {};
  for (const [k, v] of Object.entries(attrs as Record<string, unknown>)) {
    if (k === 'BootMode') {
      if (v !== 'Uefi' && v !== 'LegacyBios') fail(400, `${BASE}.PropertyValueNotInList`, [String(v), 'BootMode']);
      try {
        c.server.setPendingBootMode(v === 'Uefi' ? 'uefi' : 'bios');
      } catch (err) {
        refusal(err, 'BootMode');
      }
    } else if (typeof v === 'string') extra[k] = v;
    else fail(400, `${BASE}.PropertyValueTypeError`, [String(v), k]);
  }
  biosExtra.set(c.server, extra);
  return reply(200, `${ILO}.SystemResetRequired`);
}

function login(c: Call): RedfishReply {
  const body = json(c);
  const server = c.server;
  const ok = typeof body.UserName === 'string' && typeof body.Password === 'string' && body.UserName === server.username && same(body.Password, server.password);
  if (!ok) return fail(401, `${ILO}.UnauthorizedLoginAttempt`);
  pruneSessions(server);
  if (server.sessions.size >= SESSION_LIMIT) return fail(503, `${BASE}.SessionLimitExceeded`);
  const token = randomBytes(16).toString('hex');
  const id = `${server.username.toLowerCase().replace(/[^a-z0-9]/g, '')}${randomBytes(8).toString('hex')}`;
  const now = Date.now();
  server.sessions.set(token, { id, token, username: server.username, created: now, lastUsed: now });
  const host = c.req.headers.host ?? '127.0.0.1';
  return {
    status: 201,
    body: R.session(id, server.username),
    headers: { 'x-auth-token': token, location: `https://${host}${R.P.sessions}${id}/` },
  };
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function pruneSessions(server: SimServer): void {
  const now = Date.now();
  for (const [t, s] of server.sessions) if (now - s.lastUsed > SESSION_IDLE_MS) server.sessions.delete(t);
}

function deleteSession(c: Call): RedfishReply {
  const id = c.match[1]!;
  for (const [t, s] of c.server.sessions) {
    if (s.id === id) {
      c.server.sessions.delete(t);
      return success();
    }
  }
  return fail(404, `${BASE}.ResourceMissingAtURI`, [c.path]);
}

// ---------------------------------------------------------------- routing

const VM = '/redfish/v1/managers/1/virtualmedia/([12])/';
const vmDevice = (c: Call): SimDriveName => (c.match[1] === '2' ? 'cdrom' : 'floppy');

const routes: Array<[string, RegExp, Handler]> = [
  ['GET', /^\/redfish\/v1\/$/, (c) => resource(R.serviceRoot(c.server))],
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
  ['GET', /^\/redfish\/v1\/systems\/1\/bios\/$/, (c) => resource(R.bios(c.server, false, {}))],
  ['GET', /^\/redfish\/v1\/systems\/1\/bios\/settings\/$/, (c) => resource(R.bios(c.server, true, biosExtra.get(c.server) ?? {}))],
  ['PATCH', /^\/redfish\/v1\/systems\/1\/bios\/settings\/$/, patchBiosSettings],
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
      return e ? resource(R.bootOption(e, i)) : fail(404, `${BASE}.ResourceMissingAtURI`, [c.path]);
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
      return i >= 0 && i < c.server.macs.host.length ? resource(R.ethernetInterface(c.server, i)) : fail(404, `${BASE}.ResourceMissingAtURI`, [c.path]);
    },
  ],
  ['GET', /^\/redfish\/v1\/managers\/$/, (c) => expand(c, R.P.managers, 'ManagerCollection', 'Managers', [[R.P.manager, () => R.manager(c.server)]])],
  ['GET', /^\/redfish\/v1\/managers\/1\/$/, (c) => resource(R.manager(c.server))],
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
  ['GET', /^\/redfish\/v1\/managers\/1\/licenseservice\/1\/$/, (c) => resource(R.licence(c.server))],
  ['GET', /^\/redfish\/v1\/chassis\/$/, (c) => expand(c, R.P.chassisCollection, 'ChassisCollection', 'Computer System Chassis', [[R.P.chassis, () => chassis()]])],
  ['GET', /^\/redfish\/v1\/chassis\/1\/$/, () => resource(chassis())],
  ['GET', /^\/redfish\/v1\/chassis\/1\/thermal\/$/, (c) => resource(R.thermal(c.server))],
  ['GET', /^\/redfish\/v1\/chassis\/1\/power\/$/, (c) => resource(R.power(c.server))],
  [
    'GET',
    /^\/redfish\/v1\/sessionservice\/$/,
    () =>
      resource({
        '@odata.id': R.P.sessionService,
        '@odata.type': '#SessionService.v1_0_0.SessionService',
        Id: 'SessionService',
        Name: 'Session Service',
        ServiceEnabled: true,
        SessionTimeout: SESSION_IDLE_MS / 1000,
        Sessions: { '@odata.id': R.P.sessions },
      }),
  ],
  [
    'GET',
    /^\/redfish\/v1\/sessionservice\/sessions\/$/,
    (c) => expand(c, R.P.sessions, 'SessionCollection', 'Sessions', [...c.server.sessions.values()].map((s) => [`${R.P.sessions}${s.id}/`, () => R.session(s.id, s.username)])),
  ],
  ['POST', /^\/redfish\/v1\/sessionservice\/sessions\/$/, login],
  [
    'GET',
    /^\/redfish\/v1\/sessionservice\/sessions\/([^/]+)\/$/,
    (c) => {
      const s = [...c.server.sessions.values()].find((x) => x.id === c.match[1]);
      return s ? resource(R.session(s.id, s.username)) : fail(404, `${BASE}.ResourceMissingAtURI`, [c.path]);
    },
  ],
  ['DELETE', /^\/redfish\/v1\/sessionservice\/sessions\/([^/]+)\/$/, deleteSession],
];

function chassis(): Record<string, unknown> {
  return {
    '@odata.id': R.P.chassis,
    '@odata.type': '#Chassis.v1_6_0.Chassis',
    Id: '1',
    Name: 'Computer System Chassis',
    ChassisType: 'RackMount',
    Power: { '@odata.id': R.P.power },
    Thermal: { '@odata.id': R.P.thermal },
  };
}

/** No authentication needed: the service root, and the login itself. */
const OPEN: Array<[string, RegExp]> = [
  ['GET', /^\/redfish\/v1\/$/],
  ['POST', /^\/redfish\/v1\/sessionservice\/sessions\/$/],
];

function authenticate(server: SimServer, req: IncomingMessage): SimSession | 'basic' | undefined {
  const token = req.headers['x-auth-token'];
  if (typeof token === 'string') {
    const s = server.sessions.get(token);
    if (s && Date.now() - s.lastUsed <= SESSION_IDLE_MS) {
      s.lastUsed = Date.now();
      return s;
    }
    if (s) server.sessions.delete(token);
    return undefined;
  }
  const auth = req.headers.authorization;
  if (auth && /^basic /i.test(auth)) {
    const [user, ...rest] = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8').split(':');
    if (user === server.username && same(rest.join(':'), server.password)) return 'basic';
  }
  return undefined;
}

function write(res: ServerResponse, r: RedfishReply): void {
  const text = r.body === undefined ? '' : JSON.stringify(r.body);
  res.writeHead(r.status, {
    'content-type': 'application/json; charset=utf-8',
    'odata-version': '4.0',
    'cache-control': 'no-cache',
    'x-frame-options': 'sameorigin',
    ...r.headers,
  });
  // Chunked, like iLO 5: no content-length, the body in two pieces.
  const half = Math.floor(text.length / 2);
  if (half > 0) res.write(text.slice(0, half));
  res.end(text.slice(half));
}

async function handle(ctx: RouteContext): Promise<void> {
  const { server, req, res, url } = ctx;
  server.requests.redfish++;
  const method = (req.method ?? 'GET').toUpperCase();
  let path = url.pathname;
  const host = req.headers.host ?? '127.0.0.1';
  if (path.toLowerCase().startsWith('/rest/v1')) {
    const rest = path.slice('/rest/v1'.length);
    return write(res, { status: 308, headers: { location: `https://${host}/redfish/v1${rest}${rest.endsWith('/') ? '' : '/'}${url.search}` } });
  }
  if (!path.endsWith('/')) return write(res, { status: 308, headers: { location: `https://${host}${path}/${url.search}` } });
  path = path.toLowerCase();

  const fault = server.faults.take(['redfish', `${method} ${path}`]);
  if (fault?.kind === 'latency') await new Promise((r) => setTimeout(r, fault.ms));
  if (fault?.kind === 'reset') return void req.socket.destroy();
  if (fault?.kind === 'hang') return;
  if (fault?.kind === 'error') return write(res, reply(fault.status >= 400 ? fault.status : 500, fault.message));
  if (fault?.kind === 'malformed') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.end('{"@odata.id": "/redfish/v1/Sys');
  }

  if (!server.model.redfish && !(method === 'GET' && path === '/redfish/v1/')) {
    return write(res, reply(404, `${BASE}.ResourceMissingAtURI`, [path]));
  }
  const candidates = routes.filter(([, re]) => re.test(path));
  const route = candidates.find(([m]) => m === method);
  if (!route) {
    if (candidates.length > 0) return write(res, { ...reply(405, `${BASE}.OperationNotAllowed`), headers: { allow: candidates.map(([m]) => m).join(', ') } });
    return write(res, reply(404, `${BASE}.ResourceMissingAtURI`, [path]));
  }
  let session: SimSession | undefined;
  if (!OPEN.some(([m, re]) => m === method && re.test(path))) {
    const who = authenticate(server, req);
    if (!who) return write(res, { ...reply(401, `${BASE}.NoValidSession`), headers: { 'www-authenticate': 'Basic realm="iLO"' } });
    if (who !== 'basic') session = who;
  }
  const call: Call = { server, method, path, match: path.match(route[1])!, url, req, body: ctx.body, session };
  try {
    write(res, await route[2](call));
  } catch (err) {
    if (err instanceof RedfishFailure) return write(res, err.reply);
    throw err;
  }
}

let registered = false;

/** Add the Redfish routes to every simulated iLO (idempotent). */
export function registerRedfish(): void {
  if (registered) return;
  registered = true;
  for (const method of ['GET', 'POST', 'PATCH', 'DELETE', 'PUT']) {
    registerIloRoute(method, '/redfish', handle);
    registerIloRoute(method, '/rest/v1', handle);
  }
}

registerRedfish();
