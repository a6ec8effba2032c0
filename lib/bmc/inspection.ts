/**
 * Out-of-band inspection: what a server is made of, read through its iLO
 * (RIBCL on iLO 4, Redfish on iLO 5/6), and the same facts under the keys
 * Ironic's iLO inspection stores (`memory_mb`, `cpus`, `cpu_arch`,
 * `local_gb` as properties; `server_model`, `boot_mode`, `secure_boot`,
 * firmware versions, disk and RAID facts as capabilities).
 */
import type { BmcProtocol, BootMode, LicenceInfo, NicInfo } from './types';

export interface InspectedDisk {
  /** Where the iLO says it is ("Port 1I Box 1 Bay 1", "1I:1:1"). */
  location: string;
  model?: string;
  serial?: string;
  sizeBytes: number;
  mediaType?: 'HDD' | 'SSD';
  rpm?: number;
  /** The logical drive it belongs to; absent when it is in none (unconfigured, or no RAID controller). */
  volume?: string;
}

/** A logical drive (RAID volume): what the host's OS sees as one disk. */
export interface InspectedVolume {
  name: string;
  sizeBytes: number;
  /** RAID level as a number string ("0", "1", "10"…). */
  raid?: string;
  mediaType?: 'HDD' | 'SSD';
}

/** What a provider reads; `inspect` adds the Ironic view. */
export interface HardwareReading {
  protocol: BmcProtocol;
  model: string;
  generation?: string;
  serialNumber?: string;
  uuid?: string;
  cpu: { sockets: number; cores: number; threads: number; arch: string; model?: string };
  memoryMb: number;
  disks: InspectedDisk[];
  volumes: InspectedVolume[];
  nics: NicInfo[];
  bootMode: { supported: BootMode[]; current?: BootMode; pending?: BootMode };
  secureBoot: { capable: boolean; enabled?: boolean };
  licence?: LicenceInfo;
  firmware: { ilo?: string; rom?: string };
  /** Parts that could not be read, and why (the rest is still reported). */
  warnings: string[];
}

/** Ironic's node properties as its iLO inspection sets them. */
export interface IronicProperties {
  memory_mb: number;
  cpus: number;
  cpu_arch: string;
  local_gb: number;
}

export interface ServerInspection extends HardwareReading {
  inspectedAt: string;
  properties: IronicProperties;
  /** Ironic capability keys, values as strings (a flavor's `capabilities:boot_mode="uefi"` matches them). */
  capabilities: Record<string, string>;
}

/** One provider per protocol (see ribcl/inspect.ts and redfish/inspect.ts). */
export interface InspectionProvider {
  readonly protocol: BmcProtocol;
  readHardware(): Promise<HardwareReading>;
}

const GiB = 1024 ** 3;

/**
 * Ironic's local_gb: the smallest logical drive, else the largest disk, in
 * whole GiB, minus one (proliantutils leaves that margin so an instance whose
 * root_gb equals local_gb still fits; a `size` root device hint wants the
 * real size, local_gb + 1). 0 when nothing is known.
 */
export function localGb(reading: Pick<HardwareReading, 'disks' | 'volumes'>): number {
  const sizes = reading.volumes.length ? reading.volumes.map((v) => v.sizeBytes) : reading.disks.map((d) => d.sizeBytes);
  if (!sizes.length) return 0;
  const pick = reading.volumes.length ? Math.min(...sizes) : Math.max(...sizes);
  return Math.max(0, Math.floor(pick / GiB) - 1);
}

/** Capabilities under Ironic's names (ironic.drivers.modules.ilo.inspect CAPABILITIES_KEYS) plus boot_mode. */
export function capabilitiesOf(r: HardwareReading): Record<string, string> {
  const c: Record<string, string> = {};
  if (r.model) c.server_model = r.model;
  if (r.bootMode.current) c.boot_mode = r.bootMode.current;
  c.boot_mode_bios = String(r.bootMode.supported.includes('bios'));
  c.boot_mode_uefi = String(r.bootMode.supported.includes('uefi'));
  if (r.secureBoot.capable) c.secure_boot = 'true';
  if (r.firmware.rom) c.rom_firmware_version = r.firmware.rom;
  if (r.firmware.ilo) c.ilo_firmware_version = r.firmware.ilo;
  if (r.disks.some((d) => d.mediaType === 'SSD')) c.has_ssd = 'true';
  if (r.disks.some((d) => d.mediaType === 'HDD')) c.has_rotational = 'true';
  for (const rpm of new Set(r.disks.map((d) => d.rpm).filter((x): x is number => !!x))) c[`rotational_drive_${rpm}_rpm`] = 'true';
  for (const level of new Set(r.volumes.map((v) => v.raid).filter((x): x is string => !!x))) c[`logical_raid_level_${level}`] = 'true';
  if (r.volumes.length) c.hardware_supports_raid = 'true';
  return c;
}

/** A reading completed with Ironic's properties and capabilities. */
export function completeInspection(r: HardwareReading, now = new Date()): ServerInspection {
  return {
    ...r,
    inspectedAt: now.toISOString(),
    properties: { memory_mb: r.memoryMb, cpus: r.cpu.threads, cpu_arch: r.cpu.arch, local_gb: localGb(r) },
    capabilities: capabilitiesOf(r),
  };
}

/** Ironic's `properties.capabilities` string form: "k1:v1,k2:v2". */
export function capabilitiesString(c: Record<string, string>): string {
  return Object.entries(c)
    .map(([k, v]) => `${k}:${v}`)
    .join(',');
}

/** A size the iLO writes as text ("558 GB", "2097152 KB", "16384 MB"): binary units, as firmware means them. */
export function bytesFromText(text: string | undefined): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT])i?B?\s*$/i.exec(text ?? '');
  if (!m) return undefined;
  const exp = 'KMGT'.indexOf((m[2] as string).toUpperCase()) + 1;
  return Math.round(Number(m[1]) * 1024 ** exp);
}

/** Redfish ProcessorArchitecture / InstructionSet onto Ironic's cpu_arch names. */
export function ironicArch(arch: string | undefined, instructionSet?: string): string {
  const a = `${instructionSet ?? ''} ${arch ?? ''}`.toLowerCase();
  if (/arm-a64|aarch64|arm64/.test(a)) return 'aarch64';
  if (/power|ppc/.test(a)) return 'ppc64le';
  if (/x86-64|x86_64|x86|ia-64/.test(a)) return 'x86_64';
  return 'x86_64';
}

/**
 * An Ironic capabilities string ("k:v,k:v") with inspected values merged in:
 * inspected keys replace the same keys, the operator's other keys stay, in order.
 */
export function mergeCapabilities(existing: string | undefined, inspected: Record<string, string>): string {
  const merged = new Map<string, string>();
  for (const part of (existing ?? '').split(',')) {
    const i = part.indexOf(':');
    if (i > 0) merged.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  for (const [k, v] of Object.entries(inspected)) merged.set(k, v);
  return capabilitiesString(Object.fromEntries(merged));
}
