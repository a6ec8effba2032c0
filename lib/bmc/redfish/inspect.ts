/**
 * Inspection over Redfish (iLO 5/6), read as Ironic's ilo5/redfish
 * inspection and sushy read it: Systems/1 (Model, SerialNumber,
 * MemorySummary, ProcessorSummary), the Processors members (cores,
 * threads, architecture), the host EthernetInterfaces, HPE SmartStorage
 * (array controllers, logical drives, disk drives, unconfigured drives) or
 * else DMTF Storage (drives and volumes), SecureBoot (present means
 * capable), boot modes, licence and firmware. Independent reads go
 * together; a part that cannot be read is reported in `warnings`.
 */
import { ironicArch, type HardwareReading, type InspectedDisk, type InspectedVolume, type InspectionProvider } from '../inspection';
import type { BootMode, BootModeStatus, HostInfo, LicenceInfo } from '../types';
import type { JsonObject } from './client';
import { obj, odataId } from './links';
import type { RedfishBmc } from './provider';

type Bmc = Pick<RedfishBmc, 'redfish' | 'system' | 'getHostInfo' | 'getBootMode' | 'getLicence'>;

const MiB = 1024 ** 2;

export class RedfishInspection implements InspectionProvider {
  readonly protocol = 'redfish' as const;

  constructor(private readonly bmc: Bmc) {}

  private get(uri: string, what: string): Promise<JsonObject> {
    return this.bmc.redfish.get(uri, what);
  }

  /** A collection's members, read from `$expand` when the iLO honours it, else one by one. */
  private async members(uri: string | undefined, what: string): Promise<JsonObject[]> {
    if (!uri) return [];
    const doc = await this.get(`${uri}${uri.includes('?') ? '&' : '?'}$expand=.`, what);
    return Promise.all(
      (Array.isArray(doc.Members) ? doc.Members : []).map(async (m) => {
        const o = obj(m);
        const id = odataId(o);
        return Object.keys(o).length <= 1 && id ? this.get(id, what) : o;
      }),
    );
  }

  async readHardware(): Promise<HardwareReading> {
    const warnings: string[] = [];
    const soft = <T>(what: string, p: Promise<T>): Promise<T | undefined> =>
      p.catch((err: unknown) => {
        warnings.push(`${what}: ${(err as Error).message}`);
        return undefined;
      });
    const [system, host] = await Promise.all([this.bmc.system(), this.bmc.getHostInfo()]);
    const hpe = obj(obj(system.Oem).Hpe ?? obj(system.Oem).Hp);
    const [processors, storage, secureBoot, bootMode, licence] = await Promise.all([
      soft('processors', this.members(odataId(system.Processors), 'read the processors')),
      soft('storage', this.storage(system, hpe)),
      this.secureBoot(system, warnings),
      soft<BootModeStatus>('boot modes', this.bmc.getBootMode()),
      soft<LicenceInfo>('licence', this.bmc.getLicence()),
    ]);
    const memGiB = Number(obj(system.MemorySummary).TotalSystemMemoryGiB);
    const rom = String(obj(obj(hpe.Bios).Current).VersionString ?? system.BiosVersion ?? '').trim() || undefined;
    return {
      protocol: 'redfish',
      model: host.productName,
      ...identity(host),
      cpu: cpuOf(system, processors ?? []),
      memoryMb: Number.isFinite(memGiB) ? Math.round(memGiB * 1024) : 0,
      disks: storage?.disks ?? [],
      volumes: storage?.volumes ?? [],
      nics: host.nics,
      bootMode: bootModeOf(bootMode),
      secureBoot,
      ...(licence ? { licence } : {}),
      firmware: { ...(host.iloFirmware ? { ilo: host.iloFirmware } : {}), ...(rom ? { rom } : {}) },
      warnings,
    };
  }

  /** Ironic: the SecureBoot resource exists = capable; SecureBootEnable says whether it is on. */
  private async secureBoot(system: JsonObject, warnings: string[]): Promise<HardwareReading['secureBoot']> {
    const uri = odataId(system.SecureBoot);
    if (!uri) return { capable: false };
    try {
      const sb = await this.get(uri, 'read secure boot');
      return { capable: true, ...(typeof sb.SecureBootEnable === 'boolean' ? { enabled: sb.SecureBootEnable } : {}) };
    } catch (err) {
      warnings.push(`secure boot: ${(err as Error).message}`);
      return { capable: true };
    }
  }

  private async storage(system: JsonObject, hpe: JsonObject): Promise<{ disks: InspectedDisk[]; volumes: InspectedVolume[] }> {
    const smart = odataId(obj(hpe.Links).SmartStorage);
    if (smart) {
      const found = await this.smartStorage(smart);
      if (found.disks.length || found.volumes.length) return found;
    }
    return this.dmtfStorage(odataId(system.Storage));
  }

  private async smartStorage(uri: string): Promise<{ disks: InspectedDisk[]; volumes: InspectedVolume[] }> {
    const root = await this.get(uri, 'read smart storage');
    const controllers = await this.members(odataId(obj(root.Links).ArrayControllers), 'read the array controllers');
    const disks: InspectedDisk[] = [];
    const volumes: InspectedVolume[] = [];
    for (const c of controllers) {
      const links = obj(c.Links);
      const [lds, configured, unconfigured] = await Promise.all([
        this.members(odataId(links.LogicalDrives), 'read the logical drives'),
        this.members(odataId(links.PhysicalDrives), 'read the disk drives'),
        this.members(odataId(links.UnconfiguredDrives), 'read the unconfigured drives'),
      ]);
      for (const ld of lds) {
        const mib = Number(ld.CapacityMiB);
        if (!Number.isFinite(mib)) continue;
        const media = String(ld.MediaType ?? '').toUpperCase();
        volumes.push({
          name: String(ld.LogicalDriveName ?? `Logical Drive ${String(ld.LogicalDriveNumber ?? ld.Id ?? volumes.length + 1)}`),
          sizeBytes: mib * MiB,
          ...(ld.Raid !== undefined ? { raid: String(ld.Raid) } : {}),
          ...(media === 'HDD' || media === 'SSD' ? { mediaType: media } : {}),
        });
      }
      const seen = new Set<string>();
      for (const [list, inVolume] of [
        [configured, true],
        [unconfigured, false],
      ] as const) {
        for (const d of list) {
          const key = String(d.SerialNumber ?? d.Location ?? odataId(d));
          if (seen.has(key)) continue;
          seen.add(key);
          const mib = Number(d.CapacityMiB);
          if (!Number.isFinite(mib)) continue;
          const media = String(d.MediaType ?? '').toUpperCase();
          disks.push({
            location: String(d.Location ?? d.Id ?? ''),
            ...(typeof d.Model === 'string' ? { model: d.Model.trim() } : {}),
            ...(typeof d.SerialNumber === 'string' ? { serial: d.SerialNumber.trim() } : {}),
            sizeBytes: mib * MiB,
            ...(media === 'HDD' || media === 'SSD' ? { mediaType: media } : {}),
            ...(typeof d.RotationalSpeedRpm === 'number' && d.RotationalSpeedRpm > 0 ? { rpm: d.RotationalSpeedRpm } : {}),
            // SmartStorage does not say which logical drive a disk serves; "configured" is what it tells.
            ...(inVolume && lds.length ? { volume: 'configured' } : {}),
          });
        }
      }
    }
    return { disks, volumes };
  }

  /** DMTF Storage: each member's Drives (links) and Volumes collection. */
  private async dmtfStorage(uri: string | undefined): Promise<{ disks: InspectedDisk[]; volumes: InspectedVolume[] }> {
    const disks: InspectedDisk[] = [];
    const volumes: InspectedVolume[] = [];
    for (const s of await this.members(uri, 'read the storage')) {
      const drives = await Promise.all((Array.isArray(s.Drives) ? s.Drives : []).map((d) => odataId(d)).filter((x): x is string => !!x).map((id) => this.get(id, 'read a drive')));
      for (const d of drives) {
        const bytes = Number(d.CapacityBytes);
        if (!Number.isFinite(bytes)) continue;
        const media = String(d.MediaType ?? '').toUpperCase();
        disks.push({
          location: String(obj(d.PhysicalLocation).PartLocation ? JSON.stringify(obj(d.PhysicalLocation).PartLocation) : (d.Name ?? d.Id ?? '')),
          ...(typeof d.Model === 'string' ? { model: d.Model.trim() } : {}),
          ...(typeof d.SerialNumber === 'string' ? { serial: d.SerialNumber.trim() } : {}),
          sizeBytes: bytes,
          ...(media === 'HDD' || media === 'SSD' ? { mediaType: media } : {}),
          ...(typeof d.RotationSpeedRPM === 'number' && d.RotationSpeedRPM > 0 ? { rpm: d.RotationSpeedRPM } : {}),
        });
      }
      for (const v of await this.members(odataId(s.Volumes), 'read the volumes')) {
        const bytes = Number(v.CapacityBytes);
        if (!Number.isFinite(bytes)) continue;
        const raid = /(\d+)/.exec(String(v.RAIDType ?? ''))?.[1];
        volumes.push({ name: String(v.Name ?? v.Id ?? `Volume ${volumes.length + 1}`), sizeBytes: bytes, ...(raid ? { raid } : {}) });
      }
    }
    return { disks, volumes };
  }
}

function identity(host: HostInfo): Partial<HardwareReading> {
  return {
    ...(host.generation ? { generation: host.generation } : {}),
    ...(host.serialNumber ? { serialNumber: host.serialNumber } : {}),
    ...(host.uuid ? { uuid: host.uuid } : {}),
  };
}

function cpuOf(system: JsonObject, processors: JsonObject[]): HardwareReading['cpu'] {
  const cpus = processors.filter((p) => (p.ProcessorType ?? 'CPU') === 'CPU' && obj(p.Status).State !== 'Absent');
  const sum = (k: string): number => cpus.reduce((n, p) => n + (Number(p[k]) || 0), 0);
  const summary = obj(system.ProcessorSummary);
  const first = cpus[0];
  const model = String(first?.Model ?? summary.Model ?? '').trim();
  return {
    sockets: cpus.length || Number(summary.Count) || 0,
    cores: sum('TotalCores'),
    threads: sum('TotalThreads') || sum('TotalCores'),
    arch: ironicArch(first ? String(first.ProcessorArchitecture ?? '') : undefined, first ? String(first.InstructionSet ?? '') : undefined),
    ...(model ? { model } : {}),
  };
}

function bootModeOf(status: BootModeStatus | undefined): HardwareReading['bootMode'] {
  if (!status) return { supported: [] };
  const supported: BootMode[] = status.supported === 'bios-only' ? ['bios'] : status.supported === 'uefi-only' ? ['uefi'] : ['bios', 'uefi'];
  return { supported, current: status.current, ...(status.pending !== 'unknown' ? { pending: status.pending } : {}) };
}
