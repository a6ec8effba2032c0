/**
 * The Redfish implementation of Bmc (iLO 5 and 6), with the same
 * observable results as the RIBCL one. Round trips are kept down: URIs are
 * discovered once, independent calls run in parallel, and a no-op power
 * action costs one call (the iLO refuses it; we read that as "already").
 */
import { resetBiosToDefault, resetSecureBootKeys } from './cleaning';
import { REDFISH_TARGET, classifyBootDescription, deviceFromRedfishTarget, generationOf, notConfigured, orderFor } from '../boot-devices';
import type { IloEndpoint } from '../endpoint';
import { BmcError, isBmcError } from '../errors';
import {
  checkBootOnce,
  checkDeployMedia,
  normaliseMac,
  parseBootDevices,
  parseBootMode,
  parseImageUrl,
  parseOneTimeBoot,
  parseVirtualMediaBootOption,
  parseVirtualMediaDevice,
} from '../management-input';
import { IloHttpClient } from '../transport';
import type {
  Bmc,
  BmcState,
  BmcStateQuery,
  BmcStats,
  BootDevice,
  BootMode,
  BootModeStatus,
  BootOrderEntry,
  DeployMedia,
  DeployMediaResult,
  HealthReport,
  HostInfo,
  InsertMediaOptions,
  LicenceInfo,
  NicInfo,
  PowerResult,
  PowerState,
  VirtualMediaBootOption,
  VirtualMediaDevice,
  VirtualMediaStatus,
  WaitOptions,
  SecureBootKeysReset,
} from '../types';
import { pollPowerState } from '../wait';
import { RedfishClient, type JsonObject, type RedfishAuth } from './client';
import { hasMessage } from './errors';
import { healthFromRedfish } from './health';
import { RedfishLinks, obj, odataId } from './links';
import { RedfishReadScope, type RedfishCalls } from './read-scope';

export interface RedfishOptions {
  /** "session" (default: one session, deleted on close) or "basic" (credentials on every request). */
  auth?: RedfishAuth;
  /** A service root already read (by the protocol probe), to save a round trip. */
  root?: JsonObject;
}

const ON_STATES = new Set(['on', 'poweringon', 'reset']);
const OFF_STATES = new Set(['off', 'poweringoff']);

/** Run independent calls together; the first failure (in order) is thrown once all have settled. */
async function together<T extends unknown[]>(...calls: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(calls);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as T;
}

export class RedfishBmc implements Bmc {
  readonly protocol = 'redfish' as const;
  protected readonly http: IloHttpClient;
  protected readonly client: RedfishClient;
  protected readonly links: RedfishLinks;

  constructor(endpoint: IloEndpoint | IloHttpClient, options: RedfishOptions = {}) {
    this.http = endpoint instanceof IloHttpClient ? endpoint : new IloHttpClient(endpoint);
    this.client = new RedfishClient(this.http, options.auth ?? this.http.endpoint.redfishAuth);
    this.links = new RedfishLinks(this.client, options.root);
  }

  get target(): string {
    return this.http.target;
  }

  get stats(): BmcStats {
    return this.http.stats;
  }

  /** Raw access for operations not wrapped (GET/POST/PATCH with typed errors). */
  get redfish(): RedfishClient {
    return this.client;
  }

  /** The computer system resource (Systems/1), as the iLO gives it now (or through a read scope). */
  async system(r: RedfishCalls = this.client): Promise<JsonObject> {
    return r.get(await this.links.systemUri(), 'read the computer system');
  }

  /**
   * Several reads side by side through one read scope: a resource two of
   * them need (the computer system: power, boot override, boot order, model)
   * is fetched once.
   */
  async readState(query: BmcStateQuery): Promise<BmcState> {
    if (typeof query !== 'object' || query === null) throw new TypeError('readState: expected an object naming what to read');
    const before = this.stats.requests;
    const scope = new RedfishReadScope(this.client);
    const unwatch = this.links.watch((path, doc) => scope.seed(path, doc));
    const devices = [...new Set((query.virtualMedia ?? []).map((d) => parseVirtualMediaDevice(d)))];
    const state: BmcState = { requests: 0 };
    const bootMode = async (): Promise<void> => {
      try {
        if (query.bootMode) {
          state.bootMode = await this.bootModeWith(scope);
          if (query.pendingBootMode) state.pendingBootMode = state.bootMode.pending;
        } else state.pendingBootMode = await this.pendingBootModeWith(scope);
        state.bootModeSupported = true;
      } catch (err) {
        if (!isBmcError(err, 'not-supported')) throw err;
        state.bootModeSupported = false;
      }
    };
    try {
      await together(
        query.power ? this.system(scope).then((s) => void (state.powerState = this.powerOf(s))) : Promise.resolve(),
        query.oneTimeBoot ? this.system(scope).then((s) => void (state.oneTimeBoot = oneTimeBootOf(s))) : Promise.resolve(),
        query.hostInfo ? this.hostInfoWith(scope).then((h) => void (state.hostInfo = h)) : Promise.resolve(),
        query.licence ? this.licenceWith(scope).then((l) => void (state.licence = l)) : Promise.resolve(),
        query.persistentBootOrder ? this.bootOrderWith(scope).then((o) => void (state.persistentBootOrder = o)) : Promise.resolve(),
        query.bootMode || query.pendingBootMode ? bootMode() : Promise.resolve(),
        devices.length
          ? Promise.all(devices.map(async (d) => [d, await this.vmStatusWith(scope, d)] as const)).then((l) => void (state.virtualMedia = Object.fromEntries(l)))
          : Promise.resolve(),
      );
    } finally {
      unwatch();
    }
    state.requests = this.stats.requests - before;
    return state;
  }

  // ------------------------------------------------------------ power

  async getPowerState(): Promise<PowerState> {
    return this.powerOf(await this.system());
  }

  private powerOf(system: JsonObject): PowerState {
    const reported = system.PowerState;
    if (typeof reported !== 'string') {
      throw new BmcError('protocol', `iLO reported a power state that is not a string (${reported === null ? 'null' : typeof reported})`, { target: this.target });
    }
    const s = reported.toLowerCase();
    if (ON_STATES.has(s)) return 'on';
    if (OFF_STATES.has(s)) return 'off';
    throw new BmcError('protocol', `iLO reported an unknown power state ${JSON.stringify(s)}`, { target: this.target, iloMessage: s });
  }

  /**
   * ComputerSystem.Reset; the iLO refuses a no-op with InvalidOperationForSystemState.
   * On and ForceOff (those with an `already` answer) are safe to send again
   * when the answer was lost, as RIBCL's SET_HOST_POWER and HOLD_PWR_BTN are.
   */
  private async resetAction(type: string, already?: string): Promise<PowerResult> {
    try {
      await this.client.post(await this.links.resetTarget(), { ResetType: type }, `power action ${type}`, already !== undefined);
      return { warnings: [] };
    } catch (err) {
      if (already !== undefined && hasMessage(err, 'InvalidOperationForSystemState')) return { warnings: [already] };
      throw err;
    }
  }

  powerOn(): Promise<PowerResult> {
    return this.resetAction('On', 'Host power is already ON.');
  }

  powerOff(): Promise<PowerResult> {
    return this.resetAction('ForceOff', 'Host power is already OFF.');
  }

  /** Like RIBCL PRESS_PWR_BTN: asks a running OS to shut down (powers an off server on). */
  softPowerOff(): Promise<PowerResult> {
    return this.resetAction('PushPowerButton');
  }

  /** Warm restart of a running server; a stopped one is powered on (as Ironic does). */
  async reset(): Promise<PowerResult> {
    try {
      await this.client.post(await this.links.resetTarget(), { ResetType: 'ForceRestart' }, 'power action ForceRestart');
      return { warnings: [] };
    } catch (err) {
      if (!hasMessage(err, 'InvalidOperationForSystemState')) throw err;
      return this.powerOn();
    }
  }

  async coldBoot(): Promise<PowerResult> {
    await this.client.post(await this.links.coldBootTarget(), { ResetType: 'ColdBoot' }, 'cold boot');
    return { warnings: [] };
  }

  waitForPowerState(target: PowerState, options: WaitOptions): Promise<PowerState> {
    return pollPowerState(() => this.getPowerState(), target, options, this.target);
  }

  // ------------------------------------------------------------ virtual media

  async getVirtualMediaStatus(device: VirtualMediaDevice): Promise<VirtualMediaStatus> {
    // Checked inside the promise: bad input is a rejection, as from every other method.
    const d = parseVirtualMediaDevice(device);
    return this.vmStatusWith(this.client, d);
  }

  private async vmStatusWith(r: RedfishCalls, d: VirtualMediaDevice): Promise<VirtualMediaStatus> {
    const links = (await this.links.virtualMedia())[d];
    return vmStatus(d, await r.get(links.member, `read the ${d} drive`));
  }

  /** InsertMedia; an inserted image is ejected first, as the iLO wants. */
  private async insert(d: VirtualMediaDevice, url: string, writeProtect: boolean): Promise<void> {
    const links = (await this.links.virtualMedia())[d];
    const body = { Image: url, Inserted: true, WriteProtected: writeProtect };
    try {
      await this.client.post(links.insert, body, `insert the ${d} image`);
    } catch (err) {
      if (!hasMessage(err, 'UnableToModifyAfterVirtualMediaInsert')) throw err;
      await this.client.post(links.eject, {}, `eject the ${d} image`, true);
      await this.client.post(links.insert, body, `insert the ${d} image`);
    }
  }

  private async bootOnNextReset(d: VirtualMediaDevice, on: boolean): Promise<void> {
    const links = (await this.links.virtualMedia())[d];
    await this.client.patch(links.member, { Oem: { Hpe: { BootOnNextServerReset: on } } }, `set the ${d} boot-once flag`);
  }

  async insertVirtualMedia(device: VirtualMediaDevice, url: string, options: InsertMediaOptions = {}): Promise<void> {
    const d = parseVirtualMediaDevice(device);
    const u = parseImageUrl(url);
    const bootOnce = checkBootOnce(d, options.bootOnce);
    await this.insert(d, u, options.writeProtect ?? true);
    if (bootOnce) await this.bootOnNextReset(d, true);
  }

  async ejectVirtualMedia(device: VirtualMediaDevice): Promise<void> {
    const d = parseVirtualMediaDevice(device);
    const links = (await this.links.virtualMedia())[d];
    try {
      // The iLO refuses an eject without a JSON body: send {}.
      await this.client.post(links.eject, {}, `eject the ${d} image`, true);
    } catch (err) {
      if (!hasMessage(err, 'NoScriptedVirtualMediaConnectionAvailable') && !hasMessage(err, 'NoVirtualMediaConnectionAvailable')) throw err;
    }
  }

  async setVirtualMediaBootOption(device: VirtualMediaDevice, option: VirtualMediaBootOption): Promise<void> {
    const d = parseVirtualMediaDevice(device);
    const o = parseVirtualMediaBootOption(option, 'option');
    checkBootOnce(d, o === 'boot-once', 'option');
    if (o === 'no-boot') {
      throw new BmcError('not-supported', 'option: Redfish cannot keep an image inserted but never boot from it; eject it instead', {
        target: this.target,
        field: 'option',
      });
    }
    if (d === 'floppy') return; // a floppy is never boot-once: "boot-always" is what it already is
    await this.bootOnNextReset(d, o === 'boot-once');
  }

  /**
   * Floppy and CD-ROM inserted side by side (each ejecting first only if the
   * iLO says an image is in) and the one-time boot override to the CD: three
   * calls, one round trip deep. As Ironic attaches them ("CONNECT", which
   * proliantutils sends nothing for over Redfish), the CD's
   * BootOnNextServerReset is left alone: the override boots it once, and the
   * deploy ejects it itself.
   */
  async attachDeployMedia(media: DeployMedia): Promise<DeployMediaResult> {
    const { cdrom, floppy, oneTimeBootCdrom } = checkDeployMedia(media);
    await together(
      floppy ? this.insert('floppy', floppy, true) : Promise.resolve(),
      cdrom ? this.insert('cdrom', cdrom, true) : Promise.resolve(),
      oneTimeBootCdrom ? this.setOneTimeBoot('cdrom') : Promise.resolve(),
    );
    return { warnings: [] };
  }

  async detachDeployMedia(): Promise<void> {
    await together(this.ejectVirtualMedia('floppy'), this.ejectVirtualMedia('cdrom'));
  }

  // ------------------------------------------------------------ cleaning (redfish/cleaning.ts)

  resetBiosToDefault(): Promise<void> {
    return resetBiosToDefault(this.client, this.links);
  }

  resetSecureBootKeys(how: SecureBootKeysReset): Promise<void> {
    return resetSecureBootKeys(this.client, this.links, how);
  }

  // ------------------------------------------------------------ boot

  getBootMode(): Promise<BootModeStatus> {
    return this.bootModeWith(this.client);
  }

  private async bootModeWith(r: RedfishCalls): Promise<BootModeStatus> {
    // UEFI class 3 (iLO 6 on Gen11): UEFI only, and the ROM has no BootMode attribute to read.
    if ((await this.links.uefiClass()) === 3) return { current: 'uefi', pending: 'uefi', supported: 'uefi-only' };
    const bios = await this.links.bios();
    const [current, pending, uefiClass] = await together(
      r.get(bios.current, 'read the BIOS boot mode'),
      r.get(bios.pending, 'read the pending BIOS boot mode'),
      this.links.uefiClass(),
    );
    const cur = biosBootMode(current);
    if (cur === 'unknown') throw new BmcError('protocol', 'the iLO reported no current BIOS boot mode', { target: this.target });
    const supported: BootModeStatus['supported'] = uefiClass === 0 ? 'bios-only' : uefiClass === 3 ? 'uefi-only' : 'bios-and-uefi';
    return { current: cur, pending: biosBootMode(pending), supported };
  }

  /** The pending mode alone: the pending settings object, without the current one (its URI is known from discovery). */
  private async pendingBootModeWith(r: RedfishCalls): Promise<BootMode | 'unknown'> {
    if ((await this.links.uefiClass()) === 3) return 'uefi';
    const { pending } = await this.links.bios();
    return biosBootMode(await r.get(pending, 'read the pending BIOS boot mode'));
  }

  async setPendingBootMode(mode: BootMode): Promise<void> {
    const want = parseBootMode(mode);
    const uefiClass = await this.links.uefiClass();
    if (uefiClass === 0) {
      if (want === 'bios') return;
      throw new BmcError('not-supported', 'this server cannot boot UEFI (its BIOS is legacy only)', { target: this.target });
    }
    if (uefiClass === 3) {
      if (want === 'uefi') return;
      throw new BmcError('not-supported', 'this server cannot boot legacy BIOS (it is UEFI only: UEFI class 3, as every Gen11)', { target: this.target, field: 'mode' });
    }
    const { pending } = await this.links.bios();
    // proliantutils always adds UefiOptimizedBoot when going UEFI.
    const attributes = want === 'uefi' ? { BootMode: 'Uefi', UefiOptimizedBoot: 'Enabled' } : { BootMode: 'LegacyBios' };
    await this.client.patch(pending, { Attributes: attributes }, 'set the pending boot mode');
  }

  async getOneTimeBoot(): Promise<BootDevice | 'normal' | string> {
    return oneTimeBootOf(await this.system());
  }

  async setOneTimeBoot(device: BootDevice | 'normal'): Promise<void> {
    const d = parseOneTimeBoot(device);
    const boot = d === 'normal' ? { BootSourceOverrideEnabled: 'Disabled' } : { BootSourceOverrideTarget: REDFISH_TARGET[d], BootSourceOverrideEnabled: 'Once' };
    await this.client.patch(await this.links.systemUri(), { Boot: boot }, 'set the one-time boot');
  }

  getPersistentBootOrder(): Promise<BootOrderEntry[]> {
    return this.bootOrderWith(this.client);
  }

  private async bootOrderWith(r: RedfishCalls): Promise<BootOrderEntry[]> {
    // The boot-options read is started inside its own async function: were its
    // URI awaited in the argument list, a failure there would leave the
    // system read already started and unhandled.
    const [system, options] = await together(
      this.system(r),
      (async () => r.get(`${await this.links.bootOptions()}?$expand=.`, 'read the boot options'))(),
    );
    const names = new Map<string, string>();
    // An iLO that ignores $expand lists only links: read the members (in parallel), as getHostInfo does.
    const members = await Promise.all(
      (Array.isArray(options.Members) ? options.Members : []).map((m) => {
        const o = obj(m);
        const id = odataId(o);
        return Object.keys(o).length <= 1 && id ? r.get(id, 'read a boot option') : Promise.resolve(o);
      }),
    );
    for (const o of members) {
      if (typeof o.BootOptionReference === 'string') names.set(o.BootOptionReference, String(o.DisplayName ?? ''));
    }
    const order = obj(system.Boot).BootOrder;
    return (Array.isArray(order) ? order : []).map((id) => {
      const description = names.get(String(id));
      return { id: String(id), ...(description ? { description } : {}), device: classifyBootDescription(description ?? String(id)) };
    });
  }

  async setPersistentBootOrder(devices: BootDevice[], current?: BootOrderEntry[]): Promise<void> {
    const wanted = parseBootDevices(devices);
    const entries = current ?? (await this.getPersistentBootOrder());
    const { ids, missing } = orderFor(entries, wanted);
    if (missing.length > 0) throw notConfigured(missing);
    // The whole order: the wanted entries first, the others after, as they were.
    const full = [...ids, ...entries.map((e) => e.id).filter((id) => !ids.includes(id))];
    // Already in that order (a server deployed before): nothing to send.
    if (full.length === entries.length && full.every((id, i) => id === entries[i]!.id)) return;
    await this.client.patch(await this.links.systemUri(), { Boot: { BootOrder: full } }, 'set the persistent boot order');
  }

  // ------------------------------------------------------------ licence, health, host

  getLicence(): Promise<LicenceInfo> {
    return this.licenceWith(this.client);
  }

  private async licenceWith(r: RedfishCalls): Promise<LicenceInfo> {
    const doc = await r.get(await this.links.licence(), 'read the licence');
    const type = String(doc.License ?? doc.LicenseString ?? '').trim();
    const tierCode = String(doc.LicenseTier ?? '').toUpperCase();
    const tier: LicenceInfo['tier'] = /ADV/.test(tierCode) ? 'advanced' : tierCode === 'ESS' ? 'essentials' : /STD/.test(tierCode) ? 'standard' : /advanced/i.test(type) ? 'advanced' : 'other';
    const features = obj(doc.LicenseFeatures);
    const virtualMedia = typeof features.VMScript === 'boolean' ? features.VMScript : tier === 'advanced';
    return { type: type || 'none', tier, virtualMedia };
  }

  async getHealth(): Promise<HealthReport> {
    const [thermalUri, powerUri] = await together(this.links.thermal(), this.links.power());
    const [thermal, power, system] = await together(
      this.client.get(thermalUri, 'read temperatures and fans'),
      this.client.get(powerUri, 'read the power supplies'),
      this.system(),
    );
    return healthFromRedfish(thermal, power, system);
  }

  getHostInfo(): Promise<HostInfo> {
    return this.hostInfoWith(this.client);
  }

  private async hostInfoWith(r: RedfishCalls): Promise<HostInfo> {
    const nicsUri = await this.links.ethernetInterfaces();
    const [system, manager, nicDoc] = await together(
      this.system(r),
      this.links.manager(),
      nicsUri ? r.get(`${nicsUri}?$expand=.`, 'read the host NICs') : Promise.resolve({} as JsonObject),
    );
    const nics: NicInfo[] = [];
    for (const m of Array.isArray(nicDoc.Members) ? nicDoc.Members : []) {
      let n = obj(m);
      if (Object.keys(n).length <= 1 && odataId(n)) n = await r.get(odataId(n) as string, 'read a host NIC');
      const mac = typeof n.MACAddress === 'string' ? normaliseMac(n.MACAddress) : undefined;
      if (mac) nics.push({ port: String(n.Id ?? nics.length + 1), mac });
    }
    const productName = String(system.Model ?? '').trim();
    const info: HostInfo = { productName, nics };
    const generation = generationOf(productName);
    if (generation) info.generation = generation;
    if (typeof system.SerialNumber === 'string' && system.SerialNumber.trim()) info.serialNumber = system.SerialNumber.trim();
    if (typeof system.UUID === 'string' && system.UUID) info.uuid = system.UUID.toUpperCase();
    if (typeof manager.Model === 'string') info.managementProcessor = manager.Model.replace(/\s+/g, '');
    const fw = /(\d+\.\d+)/.exec(String(manager.FirmwareVersion ?? ''));
    if (fw) info.iloFirmware = fw[1];
    if (typeof system.BiosVersion === 'string' && system.BiosVersion) info.biosVersion = system.BiosVersion;
    return info;
  }

  /** Logs out (the session is deleted) and releases connections. */
  async close(): Promise<void> {
    await this.client.close();
    await this.http.close();
  }
}

/** Attributes.BootMode of a BIOS settings object. */
function biosBootMode(doc: JsonObject): BootMode | 'unknown' {
  const m = String(obj(doc.Attributes).BootMode ?? '').toLowerCase();
  return m === 'uefi' ? 'uefi' : m === 'legacybios' || m === 'legacy' ? 'bios' : 'unknown';
}

function oneTimeBootOf(system: JsonObject): BootDevice | 'normal' | string {
  const boot = obj(system.Boot);
  if (boot.BootSourceOverrideEnabled !== 'Once') return 'normal';
  const target = String(boot.BootSourceOverrideTarget ?? 'None');
  if (target === 'None') return 'normal';
  return deviceFromRedfishTarget(target) ?? target.toLowerCase();
}

/** RIBCL-style status from a VirtualMedia member, as proliantutils synthesises it. */
export function vmStatus(device: VirtualMediaDevice, m: JsonObject): VirtualMediaStatus {
  const inserted = m.Inserted === true;
  const image = typeof m.Image === 'string' ? m.Image : '';
  const connected = inserted && typeof m.ConnectedVia === 'string' && m.ConnectedVia !== 'NotConnected';
  const once = obj(obj(m.Oem).Hpe).BootOnNextServerReset === true;
  return {
    device,
    inserted,
    ...(inserted && image ? { imageUrl: image } : {}),
    bootOption: !connected ? 'no-boot' : once ? 'boot-once' : 'boot-always',
    writeProtected: m.WriteProtected === true,
    connected,
  };
}
