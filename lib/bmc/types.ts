/**
 * The one interface every iLO client implements, whatever the protocol.
 */

export type PowerState = 'on' | 'off';

/** Power actions an operator asks for. */
export type PowerAction = 'on' | 'off' | 'soft-off' | 'reset' | 'cold-boot';

export const POWER_ACTIONS: readonly PowerAction[] = ['on', 'off', 'soft-off', 'reset', 'cold-boot'];

export type BmcProtocol = 'ribcl' | 'redfish';

export interface WaitOptions {
  /** Give up after this long (ms). */
  timeoutMs: number;
  /** Time between polls (ms). */
  intervalMs?: number;
  /** Abort the wait early. */
  signal?: AbortSignal;
  /** Wait one interval before the first read (the caller has just asked for the change: the first read would only see the old state). */
  delayFirstRead?: boolean;
}

export interface BmcStats {
  /** HTTPS requests sent to the iLO since the client was created. */
  requests: number;
  /** Requests repeated after a retryable failure. */
  retries: number;
  /**
   * When (Date.now()) a request that reached the iLO last went unanswered
   * (timed out, or the connection dropped after sending): the iLO may still
   * carry that command out later.
   */
  unansweredAt?: number;
  /** TLS connections opened to the iLO (RIBCL opens one per request). */
  tlsConnections?: number;
  /** Of those, how many resumed an earlier TLS session instead of a full handshake. */
  tlsResumed?: number;
}

export interface PowerResult {
  /** Power state read back after the action, when the protocol gives it for free. */
  powerState?: PowerState;
  /** Informational messages from the iLO (e.g. "Host power is already ON."). */
  warnings: string[];
}

// ------------------------------------------------------------ management
// (names follow Ironic where it has one)

export type VirtualMediaDevice = 'cdrom' | 'floppy';

export const VIRTUAL_MEDIA_DEVICES: readonly VirtualMediaDevice[] = ['cdrom', 'floppy'];

/** RIBCL VM_BOOT_OPTION / Redfish BootOnNextServerReset, normalised. */
export type VirtualMediaBootOption = 'boot-once' | 'boot-always' | 'no-boot';

export const VIRTUAL_MEDIA_BOOT_OPTIONS: readonly VirtualMediaBootOption[] = ['boot-once', 'boot-always', 'no-boot'];

export interface VirtualMediaStatus {
  device: VirtualMediaDevice;
  inserted: boolean;
  /** The URL the iLO was given, when inserted. */
  imageUrl?: string;
  bootOption: VirtualMediaBootOption;
  writeProtected: boolean;
  /**
   * The iLO has the image connected (RIBCL VM_APPLET CONNECTED / Redfish
   * ConnectedVia other than NotConnected). Inserted but not connected means
   * the iLO could not read it, or it connects at the next boot.
   */
  connected: boolean;
}

export interface InsertMediaOptions {
  /** Boot from it at the next server reset only (default false). CD-ROM only. */
  bootOnce?: boolean;
  /** Default true (Ironic always write-protects). */
  writeProtect?: boolean;
}

/** Ironic's names: bios = RIBCL LEGACY / Redfish LegacyBios, uefi = UEFI / Uefi. */
export type BootMode = 'bios' | 'uefi';

export const BOOT_MODES: readonly BootMode[] = ['bios', 'uefi'];

export interface BootModeStatus {
  current: BootMode;
  /** What the next boot uses; "unknown" happens on some UEFI-capable iLO 4s. */
  pending: BootMode | 'unknown';
  supported: 'bios-only' | 'uefi-only' | 'bios-and-uefi';
}

/** Boot devices by class; UEFI entries map onto them. */
export type BootDevice = 'cdrom' | 'hdd' | 'network' | 'usb' | 'floppy';

export const BOOT_DEVICES: readonly BootDevice[] = ['cdrom', 'hdd', 'network', 'usb', 'floppy'];

export interface BootOrderEntry {
  device: BootDevice | 'other';
  /** UEFI boot option id (e.g. "Boot000B") or the legacy device name (e.g. "CDROM"). */
  id: string;
  description?: string;
}

export interface LicenceInfo {
  /** As the iLO names it, e.g. "iLO 4 Advanced". */
  type: string;
  tier: 'advanced' | 'essentials' | 'standard' | 'other';
  /** Scripted virtual media (what a vmedia deploy needs) is licensed. */
  virtualMedia: boolean;
}

export type HealthStatus = 'ok' | 'degraded' | 'critical' | 'absent' | 'unknown';

export interface HealthReading {
  name: string;
  status: HealthStatus;
  /** e.g. { value: 21, unit: 'Celsius' } or { value: 35, unit: 'Percent' }. */
  reading?: { value: number; unit: string };
  /** Thresholds for temperatures. */
  caution?: number;
  critical?: number;
  location?: string;
}

export interface HealthReport {
  /** Worst of the components and subsystem summaries (ok when all are ok or absent). */
  overall: HealthStatus;
  temperatures: HealthReading[];
  fans: HealthReading[];
  powerSupplies: HealthReading[];
  /**
   * Subsystem summaries as the iLO gives them, under canonical keys:
   * bios_hardware, fans, temperature, memory, network, power_supplies,
   * processor, storage, vrm, drive (whichever the iLO reports).
   */
  summary: Record<string, HealthStatus>;
}

export interface NicInfo {
  port: string;
  /** Lower-case, colon-separated. */
  mac: string;
}

export interface HostInfo {
  productName: string;
  /** "G7" | "Gen8" | "Gen9" | "Gen10" | "Gen10 Plus" | "Gen11" … when it can be told. */
  generation?: string;
  serialNumber?: string;
  uuid?: string;
  managementProcessor?: string;
  iloFirmware?: string;
  /** System ROM family and version/date, e.g. "P89 v2.80 (10/16/2020)" or "I31 08/02/2014". */
  biosVersion?: string;
  /** Host NICs (the iLO's own port excluded). */
  nics: NicInfo[];
}

/** What a virtual-media deploy attaches (Ironic's setup_vmedia_for_boot + one-time boot). */
export interface DeployMedia {
  /** The boot ISO (deploy ramdisk or instance boot ISO). */
  cdrom?: string;
  /** The parameters floppy image. */
  floppy?: string;
  /** Also set a one-time boot from the virtual CD-ROM (Ironic does, for UEFI's sake). */
  oneTimeBootCdrom: boolean;
}

export interface DeployMediaResult {
  /** Informational messages from the iLO. */
  warnings: string[];
}

/**
 * Management operations (virtual media, boot, licence, health, host data).
 * Both providers implement them with the same observable results.
 */
export interface BmcManagement {
  /** Drive status; an empty drive is `inserted: false`, not an error. */
  getVirtualMediaStatus(device: VirtualMediaDevice): Promise<VirtualMediaStatus>;
  /**
   * Insert an image by URL and connect it (ejecting first where the iLO needs
   * it). A floppy can never be boot-once. A URL the iLO cannot read is a
   * `media` error naming the reason.
   */
  insertVirtualMedia(device: VirtualMediaDevice, url: string, options?: InsertMediaOptions): Promise<void>;
  /** Eject; ejecting an empty drive is not an error. */
  ejectVirtualMedia(device: VirtualMediaDevice): Promise<void>;
  setVirtualMediaBootOption(device: VirtualMediaDevice, option: VirtualMediaBootOption): Promise<void>;

  /** Rejects with `not-supported` where the iLO cannot tell (iLO 3). */
  getBootMode(): Promise<BootModeStatus>;
  /**
   * Takes effect at the next boot. `not-supported` where the platform cannot
   * switch to UEFI (Gen8 BIOS-only); asking a BIOS-only platform for "bios" succeeds.
   */
  setPendingBootMode(mode: BootMode): Promise<void>;

  /** The one-time boot device, or "normal" when none is set (other iLO values verbatim, lower-cased). */
  getOneTimeBoot(): Promise<BootDevice | 'normal' | string>;
  /** "normal" clears it. Refused while the host is in POST: a `busy` error with reason `host-in-post` (retryable). */
  setOneTimeBoot(device: BootDevice | 'normal'): Promise<void>;
  getPersistentBootOrder(): Promise<BootOrderEntry[]>;
  /**
   * Put these device classes first, in this order (UEFI: the matching entries). Refused in POST like one-time boot.
   * `current`: the entries as just read (readState), to save reading them again.
   */
  setPersistentBootOrder(devices: BootDevice[], current?: BootOrderEntry[]): Promise<void>;

  getLicence(): Promise<LicenceInfo>;
  getHealth(): Promise<HealthReport>;
  getHostInfo(): Promise<HostInfo>;

  /**
   * Attach deploy media in as few round trips as the protocol allows:
   * floppy and CD-ROM inserted, connected and write-protected, then (if asked)
   * a one-time boot from the CD-ROM. RIBCL: one request. Redfish: eject where
   * needed, InsertMedia, BootOnNextServerReset and the boot override.
   */
  attachDeployMedia(media: DeployMedia): Promise<DeployMediaResult>;
  /** Eject both drives; empty drives are fine. */
  detachDeployMedia(): Promise<void>;
}

/** What readState reads: each flag (or drive) named is read, in as few requests as the protocol allows. */
export interface BmcStateQuery {
  power?: boolean;
  bootMode?: boolean;
  /**
   * Only the pending boot mode (what the next POST applies), in `pendingBootMode`:
   * Redfish reads it without the current BIOS settings (one request fewer
   * than `bootMode`); RIBCL reads both in its one request anyway.
   */
  pendingBootMode?: boolean;
  hostInfo?: boolean;
  /** The drives whose virtual-media status to read. */
  virtualMedia?: VirtualMediaDevice[];
  oneTimeBoot?: boolean;
  persistentBootOrder?: boolean;
  licence?: boolean;
}

export interface BmcState {
  powerState?: PowerState;
  /** Absent when the firmware has no boot-mode control (then `bootModeSupported` is false). */
  bootMode?: BootModeStatus;
  bootModeSupported?: boolean;
  /** With `pendingBootMode` (or `bootMode`): the mode the next POST applies. */
  pendingBootMode?: BootMode | 'unknown';
  hostInfo?: HostInfo;
  virtualMedia?: Partial<Record<VirtualMediaDevice, VirtualMediaStatus>>;
  oneTimeBoot?: BootDevice | 'normal' | string;
  persistentBootOrder?: BootOrderEntry[];
  licence?: LicenceInfo;
  /** Requests it took. */
  requests: number;
}

/** How secure boot keys are reset: to the platform's defaults (Redfish ResetAllKeysToDefault), or all deleted (DeleteAllKeys: setup mode). */
export type SecureBootKeysReset = 'default' | 'delete';

/**
 * Out-of-band clean operations (Ironic's iLO management clean steps). Both
 * take effect at the next POST. Where the protocol or generation has no
 * such operation (RIBCL, a Gen8 ROM), or the host boots legacy BIOS
 * (secure boot needs UEFI), they reject with `not-supported`: a cleaning
 * skips the step with a note, as Ironic does.
 */
export interface BmcCleaning {
  /** The BIOS settings back to the platform's defaults (Redfish `#Bios.ResetBios`). */
  resetBiosToDefault(): Promise<void>;
  /** Redfish `#SecureBoot.ResetKeys`. */
  resetSecureBootKeys(how: SecureBootKeysReset): Promise<void>;
}

export interface Bmc extends BmcManagement, BmcCleaning {
  readonly protocol: BmcProtocol;
  /** `host:port` of the iLO. */
  readonly target: string;

  getPowerState(): Promise<PowerState>;
  /** Power on (no-op when already on). */
  powerOn(): Promise<PowerResult>;
  /** Hard power off: hold the power button (no-op when already off). */
  powerOff(): Promise<PowerResult>;
  /** Press the power button once: asks the OS to shut down. Completion is up to the OS. */
  softPowerOff(): Promise<PowerResult>;
  /** Reboot: a warm reset when on; when off, power on (as Ironic does). */
  reset(): Promise<PowerResult>;
  /** Cold boot: remove power and power on again. */
  coldBoot(): Promise<PowerResult>;
  /** Poll until the power state equals `target`; rejects with a `timeout` BmcError. */
  waitForPowerState(target: PowerState, options: WaitOptions): Promise<PowerState>;

  /**
   * Several reads at once (RIBCL: one request, two on firmware without
   * boot-mode commands; Redfish: each resource read once, side by side).
   * Optional: a Bmc without it is read call by call (see lib/bmc/state.ts).
   */
  readState?(query: BmcStateQuery): Promise<BmcState>;

  readonly stats: BmcStats;
  /** Release connections (and sessions). The client cannot be used afterwards. */
  close(): Promise<void>;
}
