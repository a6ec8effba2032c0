/**
 * The RIBCL implementation of Bmc (iLO 2 to 5). Every operation is one
 * HTTPS request unless stated: commands are batched wherever the iLO runs
 * them in order, because each request costs a TLS handshake and hundreds of
 * milliseconds on a real iLO.
 */
import { RIBCL_DEVICE, notConfigured, orderFor } from '../boot-devices';
import type { IloEndpoint } from '../endpoint';
import { BmcError, isBmcError } from '../errors';
import {
  checkBootOnce,
  checkDeployMedia,
  parseBootDevices,
  parseBootMode,
  parseOneTimeBoot,
  parseVirtualMediaBootOption,
  parseVirtualMediaDevice,
  parseImageUrl,
} from '../management-input';
import { IloHttpClient } from '../transport';
import type {
  Bmc,
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
  PowerResult,
  PowerState,
  VirtualMediaBootOption,
  VirtualMediaDevice,
  VirtualMediaStatus,
  WaitOptions,
  SecureBootKeysReset,
} from '../types';
import { pollPowerState } from '../wait';
import { RibclClient } from './client';
import { decodePowerState, ribcl } from './commands';
import { decodeEmbeddedHealth } from './health';
import * as ilo4Rest from './ilo4-rest';
import {
  VM_OPTION,
  decodeBootMode,
  decodeLicences,
  decodeOneTimeBoot,
  decodePersistentBoot,
  decodeVmStatus,
  ribclManagement as m,
} from './management';
import type { RibclCommand, RibclReply } from './protocol';
import { checkRibclPassword } from './protocol';
import { decodeHostInfo, readRibclState, type RibclState, type RibclStateQuery } from './state';

/** Older firmware refuses to eject an empty drive with this status. */
const NO_IMAGE_PRESENT = 0x39;

function isNoImagePresent(err: unknown): boolean {
  return isBmcError(err) && (parseInt(err.status ?? '', 16) === NO_IMAGE_PRESENT || /no image present/i.test(err.iloMessage ?? ''));
}

export class RibclBmc implements Bmc {
  readonly protocol = 'ribcl' as const;
  protected readonly http: IloHttpClient;
  protected readonly client: RibclClient;

  constructor(endpoint: IloEndpoint | IloHttpClient) {
    this.http = endpoint instanceof IloHttpClient ? endpoint : new IloHttpClient(endpoint);
    checkRibclPassword(this.http.endpoint.password);
    this.client = new RibclClient(this.http);
  }

  get target(): string {
    return this.http.target;
  }

  get stats(): BmcStats {
    return this.http.stats;
  }

  /** Send raw RIBCL commands in one request (for operations not wrapped yet). */
  send(commands: RibclCommand[]): Promise<RibclReply> {
    return this.client.send(commands);
  }

  // ------------------------------------------------------------ power

  async getPowerState(): Promise<PowerState> {
    return decodePowerState(await this.client.send([ribcl.getHostPowerStatus()]), this.target);
  }

  /** One request: the action, then the power state read back. */
  private async actAndRead(action: RibclCommand): Promise<PowerResult> {
    const reply = await this.client.send([action, ribcl.getHostPowerStatus()]);
    return { powerState: decodePowerState(reply, this.target), warnings: reply.warnings };
  }

  powerOn(): Promise<PowerResult> {
    return this.actAndRead(ribcl.setHostPowerOn());
  }

  powerOff(): Promise<PowerResult> {
    return this.actAndRead(ribcl.holdPowerButton());
  }

  softPowerOff(): Promise<PowerResult> {
    return this.actAndRead(ribcl.pressPowerButton());
  }

  async reset(): Promise<PowerResult> {
    // RESET_SERVER only makes sense for a running server; Ironic powers an
    // off server on instead, and so do we.
    const state = await this.getPowerState();
    return this.actAndRead(state === 'on' ? ribcl.resetServer() : ribcl.setHostPowerOn());
  }

  coldBoot(): Promise<PowerResult> {
    return this.actAndRead(ribcl.coldBootServer());
  }

  waitForPowerState(target: PowerState, options: WaitOptions): Promise<PowerState> {
    return pollPowerState(() => this.getPowerState(), target, options, this.target);
  }

  // ------------------------------------------------------------ virtual media

  async getVirtualMediaStatus(device: VirtualMediaDevice): Promise<VirtualMediaStatus> {
    const d = parseVirtualMediaDevice(device);
    return decodeVmStatus(await this.client.send([m.getVmStatus(d)]), d, this.target);
  }

  /** One request: insert (RIBCL takes an insert over an inserted image), connect, and boot-once if asked. */
  async insertVirtualMedia(device: VirtualMediaDevice, url: string, options: InsertMediaOptions = {}): Promise<void> {
    const d = parseVirtualMediaDevice(device);
    const u = parseImageUrl(url);
    const bootOnce = checkBootOnce(d, options.bootOnce);
    const commands = [m.insertVirtualMedia(d, u), m.setVmStatus(d, 'CONNECT', options.writeProtect ?? true)];
    if (bootOnce) commands.push(m.setVmStatus(d, 'BOOT_ONCE'));
    await this.client.send(commands);
  }

  async ejectVirtualMedia(device: VirtualMediaDevice): Promise<void> {
    const d = parseVirtualMediaDevice(device);
    try {
      await this.client.send([m.ejectVirtualMedia(d)]);
    } catch (err) {
      if (!isNoImagePresent(err)) throw err;
    }
  }

  async setVirtualMediaBootOption(device: VirtualMediaDevice, option: VirtualMediaBootOption): Promise<void> {
    const d = parseVirtualMediaDevice(device);
    const o = parseVirtualMediaBootOption(option, 'option');
    checkBootOnce(d, o === 'boot-once', 'option');
    await this.client.send([m.setVmStatus(d, VM_OPTION[o])]);
  }

  /**
   * One request: every insert and connect (the CD-ROM boot-once when a
   * one-time CD boot is asked), then the one-time boot last, so a
   * refusal while the host is in POST leaves the media attached (repeating
   * the call is harmless). No eject first: RIBCL takes an insert over an
   * inserted image, and an eject of an empty drive fails on older firmware
   * and would stop the rest of the script.
   */
  async attachDeployMedia(media: DeployMedia): Promise<DeployMediaResult> {
    const commands = deployMediaCommands(media);
    const reply = await this.client.send(commands);
    return { warnings: reply.warnings };
  }

  /** One request (two on firmware that refuses to eject an empty drive). */
  // ------------------------------------------------------------ cleaning

  /** RIBCL has no command for BIOS defaults: through iLO 4's RESTful API, as proliantutils on a Gen9 (not-supported where the ROM publishes none, as on a Gen8). */
  resetBiosToDefault(): Promise<void> {
    return ilo4Rest.resetBiosToDefault(this.http);
  }

  /** Nor for secure boot keys: the same API, UEFI boot mode only. */
  resetSecureBootKeys(how: SecureBootKeysReset): Promise<void> {
    return ilo4Rest.resetSecureBootKeys(this.http, how);
  }

  async detachDeployMedia(): Promise<void> {
    try {
      await this.client.send([m.ejectVirtualMedia('floppy'), m.ejectVirtualMedia('cdrom')]);
    } catch (err) {
      if (!isNoImagePresent(err)) throw err;
      // Commands after a failing one do not run: the CD-ROM may still be in.
      await this.ejectVirtualMedia('cdrom');
    }
  }

  // ------------------------------------------------------------ boot

  async getBootMode(): Promise<BootModeStatus> {
    try {
      const reply = await this.client.send([m.getCurrentBootMode(), m.getPendingBootMode(), m.getSupportedBootMode()]);
      return decodeBootMode(reply, this.target);
    } catch (err) {
      if (isBmcError(err, 'not-supported')) {
        throw new BmcError('not-supported', `this iLO cannot report boot modes (iLO 3 and older: legacy BIOS only): ${err.iloMessage ?? err.message}`, {
          target: this.target,
          iloMessage: err.iloMessage,
          status: err.status,
          cause: err,
        });
      }
      throw err;
    }
  }

  async setPendingBootMode(mode: BootMode): Promise<void> {
    const want = parseBootMode(mode);
    try {
      await this.client.send([m.setPendingBootMode(want)]);
    } catch (err) {
      if (!isBmcError(err, 'not-supported')) throw err;
      if (want === 'bios') {
        // A platform without boot-mode control boots legacy BIOS (asking for it is a no-op), unless it is UEFI only (Gen11).
        const supported = await this.getBootMode().then((s) => s.supported, () => 'bios-only' as const);
        if (supported !== 'uefi-only') return;
        throw new BmcError('not-supported', `this server cannot boot legacy BIOS (it is UEFI only, as every Gen11): ${err.iloMessage ?? err.message}`, {
          target: this.target,
          field: 'mode',
          iloMessage: err.iloMessage,
          status: err.status,
          cause: err,
        });
      }
      throw new BmcError('not-supported', `this server cannot boot UEFI (a BIOS-only platform such as Gen8): ${err.iloMessage ?? err.message}`, {
        target: this.target,
        iloMessage: err.iloMessage,
        status: err.status,
        cause: err,
      });
    }
  }

  async getOneTimeBoot(): Promise<BootDevice | 'normal' | string> {
    return decodeOneTimeBoot(await this.client.send([m.getOneTimeBoot()]), this.target);
  }

  async setOneTimeBoot(device: BootDevice | 'normal'): Promise<void> {
    const d = parseOneTimeBoot(device);
    await this.client.send([m.setOneTimeBoot(d === 'normal' ? 'NORMAL' : RIBCL_DEVICE[d])]);
  }

  async getPersistentBootOrder(): Promise<BootOrderEntry[]> {
    return decodePersistentBoot(await this.client.send([m.getPersistentBoot()]), this.target);
  }

  /** Two requests: the current entries (UEFI ids differ per server; none when given), then the new order. */
  async setPersistentBootOrder(devices: BootDevice[], current?: BootOrderEntry[]): Promise<void> {
    const wanted = parseBootDevices(devices);
    const entries = current ?? (await this.getPersistentBootOrder());
    const { ids, missing } = orderFor(entries, wanted);
    if (missing.length > 0) throw notConfigured(missing);
    await this.client.send([m.setPersistentBoot(ids)]);
  }

  // ------------------------------------------------------------ licence, health, host

  async getLicence(): Promise<LicenceInfo> {
    return decodeLicences(await this.client.send([m.getAllLicenses()]), this.target);
  }

  async getHealth(): Promise<HealthReport> {
    return decodeEmbeddedHealth(await this.client.send([m.getEmbeddedHealth()]), this.target);
  }

  /** One request: product name, SMBIOS host data and iLO firmware. */
  async getHostInfo(): Promise<HostInfo> {
    return decodeHostInfo(await this.client.send([m.getProductName(), m.getHostData(), m.getFwVersion()]), this.target);
  }

  /**
   * Several reads in one request (power, boot mode, host data, virtual
   * media, one-time boot, licence: whichever `query` names); see readRibclState.
   */
  readState(query: RibclStateQuery): Promise<RibclState> {
    return readRibclState(this.client, query, this.target);
  }

  close(): Promise<void> {
    return this.http.close();
  }
}

function deployMediaCommands(media: DeployMedia): RibclCommand[] {
  const { cdrom, floppy, oneTimeBootCdrom } = checkDeployMedia(media);
  const commands: RibclCommand[] = [];
  // Floppy first, as Ironic does: the parameters are in place before the CD that reads them.
  if (floppy) commands.push(m.insertVirtualMedia('floppy', floppy), m.setVmStatus('floppy', 'CONNECT', true));
  if (cdrom) commands.push(m.insertVirtualMedia('cdrom', cdrom), m.setVmStatus('cdrom', 'CONNECT', true));
  if (oneTimeBootCdrom) {
    // Both, for determinism: the CD boots at the next reset
    // and is ejected at the one after, as Redfish's BootOnNextServerReset does.
    if (cdrom) commands.push(m.setVmStatus('cdrom', 'BOOT_ONCE'));
    commands.push(m.setOneTimeBoot(RIBCL_DEVICE.cdrom));
  }
  return commands;
}
