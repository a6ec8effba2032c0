/**
 * One simulated ProLiant: its host power state machine, identity, and the
 * machine state both iLO front-ends (RIBCL and Redfish) read and change:
 * virtual drives, boot mode, one-time and persistent boot, licence, health.
 * RIBCL and Redfish on the same simulated Gen10 see the same machine.
 *
 * Events:
 *  - 'power' (state: 'on' | 'off'), 'post' (postState);
 *  - 'boot' (SimBootEvent): the host finished POST and boots from the device
 *    named in the event (a simulated ramdisk listens to this);
 *  - 'vmedia' (SimVmediaEvent): an image was inserted, connected (read by the
 *    iLO over HTTP Range requests), failed to connect, or ejected;
 *  - 'shutdown-request' (the OS was asked to shut down).
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { SimBios } from './bios';
import type { SimHostConsole } from './console/host-console';
import { SimSerialPort } from './console/serial-port';
import { FaultQueue } from './faults';
import { SimHealth } from './health';
import { MODELS, type SimBootEntry, type SimModel, type SimModelName } from './models';
import { ImageReader, VirtualDrive, probeImage, type FetchFailureKind, type FetchOutcome, type MediaTrust, type SimDriveName, type SimVmOption } from './vmedia';

export type SimPostState = 'PowerOff' | 'InPost' | 'FinishedPost';
export type SimBootMode = 'bios' | 'uefi';
export type SimBootDevice = SimBootEntry['device'];

export interface SimTimings {
  /** From a power-on request until the host reports power ON. */
  powerOnMs: number;
  /** From power ON until POST is finished and the host boots. */
  postMs: number;
  /** From the power-button press until the OS has shut down (if it agrees). */
  softOffMs: number;
  /** From hold-power-button until the host is off. */
  hardOffMs: number;
}

export const DEFAULT_TIMINGS: SimTimings = { powerOnMs: 1500, postMs: 1500, softOffMs: 2000, hardOffMs: 0 };

export interface SimIdentity {
  productName: string;
  serialNumber: string;
  managementProcessor: string;
  firmwareVersion: string;
  firmwareDate: string;
  licenseType: string;
  ribclVersion: string;
}

export interface SimServerOptions {
  name: string;
  username: string;
  password: string;
  timings?: Partial<SimTimings>;
  identity?: Partial<SimIdentity>;
  /** Which ProLiant (default gen9: iLO 4, RIBCL, UEFI capable). */
  model?: SimModelName;
  /** iLO Advanced (scripted virtual media allowed). Default true. */
  licensed?: boolean;
  /** Whom the iLO trusts when it fetches https image URLs. */
  mediaTrust?: MediaTrust;
  /** Whether the simulated OS shuts down when the power button is pressed. */
  osHonoursShutdown?: boolean;
  initialPower?: 'on' | 'off';
  /** This server's number in its fleet (0 to 2^21 - 1): makes its MACs unique in the fleet. Default: from the name. */
  index?: number;
}

/** Why the simulated iLO refused; each front-end words it its own way. */
export type SimRefusalKind = 'licence' | 'host-in-post' | 'not-supported' | 'no-image' | 'already-inserted' | 'media' | 'invalid';

export class SimRefusal extends Error {
  constructor(
    readonly kind: SimRefusalKind,
    message: string,
    readonly media?: FetchFailureKind,
  ) {
    super(message);
  }
}

/** A one-time boot: the device class, and the value as the caller gave it (RIBCL "CDROM", "RBSU", "Boot000C" …). */
export interface SimOneTimeBoot {
  device: SimBootDevice | 'setup' | 'other';
  value: string;
}

export interface SimBootEvent {
  /** Boot mode in effect for this boot. */
  mode: SimBootMode;
  /** What the host boots from ("none": nothing bootable). */
  device: SimBootDevice | 'setup' | 'other' | 'none';
  /** Why: a one-time boot, a boot-once virtual CD, or the persistent order. */
  source: 'one-time' | 'vmedia-boot-once' | 'persistent' | 'none';
  /** The boot entry id, when the persistent order chose. */
  entryId?: string;
  /** The image booted, when the device is a virtual drive. */
  imageUrl?: string;
  /** Images connected at this boot (a ramdisk reads the floppy from here). */
  media: { cdrom?: string; floppy?: string };
}

export interface SimVmediaEvent {
  device: SimDriveName;
  action: 'inserted' | 'connected' | 'connect-failed' | 'ejected';
  url: string;
  outcome?: FetchOutcome;
}

export interface SimSession {
  id: string;
  token: string;
  username: string;
  created: number;
  lastUsed: number;
}

function seedOf(name: string): number {
  return createHash('sha256').update(name).digest().readUInt32BE(0);
}

export class SimServer extends EventEmitter {
  readonly name: string;
  readonly username: string;
  password: string;
  readonly timings: SimTimings;
  readonly model: SimModel;
  readonly identity: SimIdentity;
  osHonoursShutdown: boolean;
  readonly faults = new FaultQueue();
  /** Requests received by this iLO, by endpoint. */
  readonly requests = { ribcl: 0, redfish: 0, total: 0 };
  /**
   * Who sent each request (the client's IP address), oldest first, the last
   * 10,000: a test gives each controller its own source address and checks
   * that no two drove this server at once.
   */
  readonly clients: Array<{ at: number; from: string; what: string }> = [];

  /** RIBCL can be switched off on iLO 5 ("RIBCLI is disabled"); iLO 6 ships with it off. */
  ribclEnabled: boolean;
  /** Redfish honours `$expand` (false: collections list links only, as a service without it answers). */
  redfishExpand = true;
  /** The local disk holds a bootable OS. */
  diskBootable = true;
  readonly drives: Record<SimDriveName, VirtualDrive> = { cdrom: new VirtualDrive('cdrom'), floppy: new VirtualDrive('floppy') };
  readonly bootMode: { current: SimBootMode; pending: SimBootMode };
  oneTimeBoot: SimOneTimeBoot | null = null;
  legacyOrder: SimBootEntry[];
  uefiOrder: SimBootEntry[];
  readonly health: SimHealth;
  /** ROM settings other than the boot mode, and secure boot (read over REST). */
  readonly bios: SimBios;
  readonly mediaTrust: MediaTrust;
  /** Redfish sessions by token. */
  readonly sessions = new Map<string, SimSession>();
  /** Host NIC MAC addresses (lower-case, colon-separated) and the iLO's own. */
  readonly macs: { host: string[]; ilo: string };
  /** Canonical SMBIOS UUID (upper-case). */
  readonly uuid: string;
  lastBoot?: SimBootEvent;
  /** The host's serial port (the iLO's virtual serial port: SSH `vsp`, IPMI serial-over-LAN). */
  readonly serial = new SimSerialPort();
  /** What the host writes to it over its life, when the fleet runs consoles (a simulated ramdisk reports to it). */
  hostConsole?: SimHostConsole;

  private licensedFlag: boolean;
  private power: 'on' | 'off';
  private post: SimPostState;
  private timers = new Set<NodeJS.Timeout>();
  private pendingShutdown = false;
  private pendingOn = false;

  constructor(opts: SimServerOptions) {
    super();
    this.name = opts.name;
    this.username = opts.username;
    this.password = opts.password;
    this.timings = { ...DEFAULT_TIMINGS, ...opts.timings };
    this.model = MODELS[opts.model ?? 'gen9'];
    this.licensedFlag = opts.licensed ?? true;
    const seed = seedOf(opts.name);
    this.identity = {
      productName: this.model.productName,
      serialNumber: `SIM${createHash('sha256').update(`serial:${opts.name}`).digest('hex').slice(0, 7).toUpperCase()}`,
      managementProcessor: this.model.managementProcessor,
      firmwareVersion: this.model.firmwareVersion,
      firmwareDate: this.model.firmwareDate,
      licenseType: this.licenceName(),
      ribclVersion: this.model.ribclVersion,
      ...opts.identity,
    };
    this.osHonoursShutdown = opts.osHonoursShutdown ?? true;
    this.ribclEnabled = this.model.ribclByDefault;
    this.power = opts.initialPower ?? 'off';
    this.post = this.power === 'on' ? 'FinishedPost' : 'PowerOff';
    this.bootMode = { current: this.model.defaultBootMode, pending: this.model.defaultBootMode };
    this.legacyOrder = [...this.model.legacyOrder];
    this.uefiOrder = [...this.model.uefiOrder];
    this.health = new SimHealth(seed);
    this.bios = new SimBios(this.model);
    this.mediaTrust = opts.mediaTrust ?? { ca: [] };
    // HPE's OUI, then 21 bits for the server and 3 for the port (7: the iLO's own NIC).
    const id = opts.index ?? createHash('sha256').update(`mac:${opts.name}`).digest().readUIntBE(0, 3) >>> 3;
    if (!Number.isInteger(id) || id < 0 || id >= 2 ** 21) throw new RangeError(`index: expected a whole number below 2^21, got ${id}`);
    const mac = (port: number): string => {
      const v = id * 8 + port;
      return `94:18:82:${[v >>> 16, (v >>> 8) & 0xff, v & 0xff].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
    };
    this.macs = { host: Array.from({ length: this.model.nicPorts }, (_, i) => mac(i)), ilo: mac(7) };
    const u = createHash('sha256').update(`uuid:${opts.name}`).digest('hex').toUpperCase();
    this.uuid = `${u.slice(0, 8)}-${u.slice(8, 12)}-${u.slice(12, 16)}-${u.slice(16, 20)}-${u.slice(20, 32)}`;
  }

  get powerState(): 'on' | 'off' {
    return this.power;
  }

  get postState(): SimPostState {
    return this.post;
  }

  /** A power-on was asked for and the host is not on yet. */
  get poweringOn(): boolean {
    return this.pendingOn;
  }

  /** Power transitions queued but not yet complete. */
  get transitioning(): boolean {
    return this.timers.size > 0;
  }

  get licensed(): boolean {
    return this.licensedFlag;
  }

  /** Install or remove the Advanced licence. */
  set licensed(on: boolean) {
    this.licensedFlag = on;
    this.identity.licenseType = this.licenceName();
  }

  /** As GET_FW_VERSION / GET_ALL_LICENSES name it. */
  licenceName(): string {
    const gen = this.model.managementProcessor === 'iLO4' ? 'iLO 4' : 'iLO';
    return `${gen} ${this.licensedFlag ? 'Advanced' : 'Standard'}`;
  }

  // ------------------------------------------------ power (iLO semantics)

  /** SET_HOST_POWER Yes / PRESS when off. Returns an informational message when nothing changes. */
  powerOn(): string | undefined {
    if (this.power === 'on' || this.pendingOn) return 'Host power is already ON.';
    this.startPowerOn();
    return undefined;
  }

  /** HOLD_PWR_BTN (TOGGLE=NO) / SET_HOST_POWER No: hard off. */
  hardOff(): string | undefined {
    if (this.power === 'off' && !this.pendingOn) return 'Host power is already OFF.';
    this.cancelTimers();
    this.after(this.timings.hardOffMs, () => this.setPower('off'));
    return undefined;
  }

  /** PRESS_PWR_BTN: on a running host, asks the OS to shut down; on an off host, powers on. */
  pressPowerButton(): void {
    if (this.power === 'off') {
      if (!this.pendingOn) this.startPowerOn();
      return;
    }
    this.emit('shutdown-request');
    if (!this.osHonoursShutdown || this.pendingShutdown) return;
    this.pendingShutdown = true;
    this.after(this.timings.softOffMs, () => {
      this.pendingShutdown = false;
      this.setPower('off');
    });
  }

  /** RESET_SERVER: warm reset of a running host (POST runs again). */
  warmReset(): void {
    if (this.power !== 'on') return;
    this.cancelTimers();
    this.setPost('InPost');
    this.after(this.timings.postMs, () => this.finishPost());
  }

  /** COLD_BOOT_SERVER: power removed, then on again. */
  coldBoot(): void {
    this.cancelTimers();
    if (this.power === 'on') this.setPower('off');
    this.startPowerOn();
  }

  // ------------------------------------------------ virtual media

  private requireLicence(what: string): void {
    if (!this.licensedFlag) throw new SimRefusal('licence', `${what} requires an iLO Advanced license`);
  }

  /**
   * Record an image URL. `replace`: RIBCL overwrites an inserted image;
   * `refuse`: Redfish wants an eject first.
   */
  insertMedia(device: SimDriveName, url: string, overInserted: 'replace' | 'refuse'): void {
    this.requireLicence('Virtual Media');
    const drive = this.drives[device];
    if (drive.inserted && overInserted === 'refuse') throw new SimRefusal('already-inserted', `an image is already inserted in the ${device} drive`);
    drive.insert(url);
    this.emit('vmedia', { device, action: 'inserted', url } satisfies SimVmediaEvent);
  }

  /**
   * Open the inserted image now: the iLO reads its start and a random range.
   * Leaves the drive inserted but not connected when the image cannot be read.
   */
  async connectMedia(device: SimDriveName): Promise<FetchOutcome> {
    this.requireLicence('Virtual Media');
    const drive = this.drives[device];
    if (!drive.inserted) throw new SimRefusal('no-image', 'No image present in the Virtual Media drive');
    const url = drive.url;
    const outcome = await probeImage(url, this.mediaTrust);
    if (drive.url !== url) return outcome; // ejected or replaced meanwhile
    drive.lastFetch = outcome;
    drive.connected = outcome.ok;
    if (outcome.ok) drive.size = outcome.size;
    this.emit('vmedia', { device, action: outcome.ok ? 'connected' : 'connect-failed', url, outcome } satisfies SimVmediaEvent);
    return outcome;
  }

  /** Eject; `strictEmpty` makes an empty drive an error (older RIBCL firmware). */
  ejectMedia(device: SimDriveName, strictEmpty: boolean): void {
    this.requireLicence('Virtual Media');
    const drive = this.drives[device];
    if (!drive.inserted) {
      if (strictEmpty) throw new SimRefusal('no-image', 'No image present in the Virtual Media drive');
      return;
    }
    const url = drive.url;
    drive.eject();
    this.emit('vmedia', { device, action: 'ejected', url } satisfies SimVmediaEvent);
  }

  setMediaBootOption(device: SimDriveName, option: SimVmOption, writeProtect?: boolean): void {
    this.requireLicence('Virtual Media');
    const drive = this.drives[device];
    drive.bootOption = option;
    if (option === 'BOOT_ONCE') drive.bootOnceUsed = false;
    if (writeProtect !== undefined) drive.writeProtect = writeProtect;
  }

  /**
   * The image as the host reads it through the iLO (Range requests), for
   * simulated ramdisks. The drive must hold an image the iLO can read.
   */
  async openVirtualMedia(device: SimDriveName): Promise<ImageReader> {
    const drive = this.drives[device];
    if (!drive.inserted) throw new SimRefusal('no-image', `no image in the ${device} drive`);
    if (drive.size === undefined || !drive.connected) {
      const outcome = await this.connectMedia(device);
      if (!outcome.ok) throw new SimRefusal('media', `the ${device} image cannot be read: ${outcome.detail}`, outcome.kind);
    }
    return new ImageReader(drive.url, drive.size as number, this.mediaTrust);
  }

  // ------------------------------------------------ boot settings

  private refuseInPost(what: string): void {
    if (this.post === 'InPost') throw new SimRefusal('host-in-post', `${what} cannot be changed while the host is in POST`);
  }

  setOneTimeBoot(boot: SimOneTimeBoot | null): void {
    this.refuseInPost('the one-time boot');
    this.oneTimeBoot = boot;
  }

  /** The persistent order in effect (the current boot mode's). */
  activeOrder(): SimBootEntry[] {
    return this.bootMode.current === 'uefi' ? this.uefiOrder : this.legacyOrder;
  }

  /** Put these entries first, in order; the others keep their order after them. */
  setPersistentOrder(ids: string[]): void {
    this.refuseInPost('the boot order');
    const order = this.activeOrder();
    const picked: SimBootEntry[] = [];
    for (const id of ids) {
      const e = order.find((x) => x.id.toLowerCase() === id.toLowerCase());
      if (!e) throw new SimRefusal('invalid', `${id} is not a boot device of this server`);
      if (!picked.includes(e)) picked.push(e);
    }
    const rest = order.filter((e) => !picked.includes(e));
    if (this.bootMode.current === 'uefi') this.uefiOrder = [...picked, ...rest];
    else this.legacyOrder = [...picked, ...rest];
  }

  setPendingBootMode(mode: SimBootMode): void {
    if (this.model.supportedBootModes === 'bios-only' && mode === 'uefi') throw new SimRefusal('not-supported', 'this platform supports legacy BIOS only');
    if (this.model.supportedBootModes === 'uefi-only' && mode === 'bios') throw new SimRefusal('not-supported', 'this platform supports UEFI only');
    this.bootMode.pending = mode;
  }

  // ------------------------------------------------ POST and boot

  /** A reset begins: pending settings take effect, boot-once images used last time are ejected. */
  private onPostStart(): void {
    this.bootMode.current = this.bootMode.pending;
    this.bios.apply(this.bootMode.current === 'uefi');
    for (const drive of Object.values(this.drives)) {
      if (drive.bootOnceUsed) {
        const url = drive.url;
        drive.eject();
        this.emit('vmedia', { device: drive.name, action: 'ejected', url } satisfies SimVmediaEvent);
      }
    }
    // UEFI lists a virtual CD only once a reset has seen it connected.
    if (this.model.supportedBootModes !== 'bios-only') {
      const cd = this.drives.cdrom;
      const present = cd.inserted && (cd.connected || cd.bootOption !== 'NO_BOOT');
      const entry = this.model.virtualCdEntry;
      const has = this.uefiOrder.some((e) => e.id === entry.id);
      if (present && !has) this.uefiOrder = [...this.uefiOrder, entry];
      if (!present && has) this.uefiOrder = this.uefiOrder.filter((e) => e.id !== entry.id);
    }
  }

  private bootable(device: SimBootDevice): boolean {
    if (device === 'cdrom' || device === 'floppy') return this.drives[device].connected;
    if (device === 'hdd') return this.diskBootable;
    return device === 'network';
  }

  /** POST is over: connect media set to boot, then pick the boot device as firmware does. */
  private async chooseBoot(): Promise<SimBootEvent> {
    for (const drive of Object.values(this.drives)) {
      if (drive.inserted && !drive.connected && drive.bootOption !== 'NO_BOOT' && this.licensedFlag) await this.connectMedia(drive.name);
    }
    const media: SimBootEvent['media'] = {};
    for (const drive of Object.values(this.drives)) if (drive.connected) media[drive.name] = drive.url;
    const mode = this.bootMode.current;
    const cd = this.drives.cdrom;
    let chosen: Omit<SimBootEvent, 'mode' | 'media'> | undefined;
    if (this.oneTimeBoot) {
      const once = this.oneTimeBoot;
      this.oneTimeBoot = null;
      if (once.device === 'setup' || once.device === 'other' || this.bootable(once.device)) chosen = { device: once.device, source: 'one-time' };
    } else if (cd.inserted && cd.bootOption === 'BOOT_ONCE' && !cd.bootOnceUsed && cd.connected) {
      chosen = { device: 'cdrom', source: 'vmedia-boot-once' };
    }
    if (!chosen) {
      const entry = this.activeOrder().find((e) => this.bootable(e.device));
      chosen = entry ? { device: entry.device, source: 'persistent', entryId: entry.id } : { device: 'none', source: 'none' };
    }
    if (chosen.device === 'cdrom' || chosen.device === 'floppy') {
      const drive = this.drives[chosen.device];
      chosen.imageUrl = drive.url;
      if (drive.bootOption === 'BOOT_ONCE') drive.bootOnceUsed = true;
    }
    return { mode, media, ...chosen };
  }

  private startPowerOn(): void {
    this.pendingOn = true;
    this.after(this.timings.powerOnMs, () => {
      this.pendingOn = false;
      this.setPower('on');
      this.setPost('InPost');
      this.after(this.timings.postMs, () => this.finishPost());
    });
  }

  private finishPost(): void {
    this.setPost('FinishedPost');
    void this.chooseBoot().then(
      (event) => {
        if (this.post !== 'FinishedPost') return; // reset or powered off meanwhile
        this.lastBoot = event;
        this.emit('boot', event);
      },
      (err: unknown) => this.emit('error-log', err),
    );
  }

  private setPower(p: 'on' | 'off'): void {
    if (p === 'off') {
      this.cancelTimers();
      this.pendingShutdown = false;
      this.pendingOn = false;
      this.setPost('PowerOff');
    }
    if (this.power !== p) {
      this.power = p;
      this.emit('power', p);
    }
  }

  private setPost(s: SimPostState): void {
    if (this.post !== s) {
      this.post = s;
      if (s === 'InPost') this.onPostStart();
      this.emit('post', s);
    }
  }

  private after(ms: number, fn: () => void): void {
    if (ms <= 0) {
      fn();
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private cancelTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.pendingOn = false;
    this.pendingShutdown = false;
  }

  /**
   * Back to as-delivered: host off, drives empty, no one-time boot, default
   * boot mode and orders, healthy sensors, licence and RIBCL as given.
   */
  resetState(opts: { licensed?: boolean } = {}): void {
    this.cancelTimers();
    this.setPower('off');
    for (const d of Object.values(this.drives)) d.eject();
    this.oneTimeBoot = null;
    this.bootMode.current = this.bootMode.pending = this.model.defaultBootMode;
    this.legacyOrder = [...this.model.legacyOrder];
    this.uefiOrder = [...this.model.uefiOrder];
    this.health.reset();
    this.bios.reset();
    this.diskBootable = true;
    this.ribclEnabled = this.model.ribclByDefault;
    this.redfishExpand = true;
    this.osHonoursShutdown = true;
    if (opts.licensed !== undefined) this.licensed = opts.licensed;
    this.faults.clear();
    this.lastBoot = undefined;
  }

  /** Stop every pending transition (when the fleet stops). */
  dispose(): void {
    this.cancelTimers();
    this.hostConsole?.dispose();
    this.serial.close().catch(() => undefined); // the fleet is stopping: nothing to report to
    this.removeAllListeners();
  }
}
