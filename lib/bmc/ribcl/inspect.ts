/**
 * Inspection over RIBCL (iLO 4, and iLO 5 with RIBCL on), in one request
 * (two on firmware without the boot-mode commands): product name, SMBIOS
 * host data, iLO firmware, embedded health (processors, memory, storage,
 * firmware list), licences and boot modes. Read as proliantutils'
 * get_essential_properties does: CPU threads from EXECUTION_TECHNOLOGY,
 * memory from MEMORY_DETAILS_SUMMARY (per-DIMM MEMORY_COMPONENTS on G7,
 * SMBIOS type 17 as a last resort), disks and logical drives from STORAGE.
 */
import { isBmcError } from '../errors';
import { bytesFromText, type HardwareReading, type InspectedDisk, type InspectedVolume, type InspectionProvider } from '../inspection';
import type { BootMode } from '../types';
import { decodeHostData, type SmbiosRecord } from './health';
import { decodeBootMode, decodeLicences, ribclManagement as m } from './management';
import type { RibclCommand, RibclReply } from './protocol';
import { requirePayload } from './protocol';
import type { RibclBmc } from './provider';
import { decodeHostInfo } from './state';
import { type XmlElement, child, childValue, childrenNamed } from './xml';

const BOOT_MODE_COMMANDS = (): RibclCommand[] => [m.getCurrentBootMode(), m.getPendingBootMode(), m.getSupportedBootMode()];

export class RibclInspection implements InspectionProvider {
  readonly protocol = 'ribcl' as const;

  constructor(private readonly bmc: Pick<RibclBmc, 'send' | 'target'>) {}

  async readHardware(): Promise<HardwareReading> {
    const base = [m.getProductName(), m.getHostData(), m.getFwVersion(), m.getEmbeddedHealth(), m.getAllLicenses()];
    let reply: RibclReply;
    let bootModes = true;
    try {
      // Boot-mode commands last: firmware without them refuses the whole request, and it is asked again without.
      reply = await this.bmc.send([...base, ...BOOT_MODE_COMMANDS()]);
    } catch (err) {
      if (!isBmcError(err, 'not-supported')) throw err;
      bootModes = false;
      reply = await this.bmc.send(base);
    }
    return decodeInspection(reply, bootModes, this.bmc.target);
  }
}

/** The reading from one reply holding the answers to the commands above. */
export function decodeInspection(reply: RibclReply, withBootModes: boolean, target?: string): HardwareReading {
  const warnings: string[] = [];
  const host = decodeHostInfo(reply, target);
  const smbios = decodeHostData(reply, target);
  const health = requirePayload(reply, 'GET_EMBEDDED_HEALTH_DATA', target);
  const firmwareList = firmwareOf(health);
  const storage = storageOf(health);
  let licence;
  try {
    licence = decodeLicences(reply, target);
  } catch (err) {
    warnings.push(`licence: ${(err as Error).message}`);
  }
  let bootMode: HardwareReading['bootMode'] = { supported: ['bios'] };
  if (withBootModes) {
    const b = decodeBootMode(reply, target);
    const supported: BootMode[] = b.supported === 'bios-only' ? ['bios'] : b.supported === 'uefi-only' ? ['uefi'] : ['bios', 'uefi'];
    bootMode = { supported, current: b.current, ...(b.pending !== 'unknown' ? { pending: b.pending } : {}) };
  } else warnings.push('boot modes: this iLO has no boot-mode commands (legacy BIOS only)');
  const memoryMb = memoryOf(health, smbios);
  if (memoryMb === 0) warnings.push('memory: the iLO reported no memory sizes');
  const rom = firmwareList.get('HP ProLiant System ROM') ?? firmwareList.get('System ROM') ?? host.biosVersion;
  return {
    protocol: 'ribcl',
    model: host.productName,
    ...(host.generation ? { generation: host.generation } : {}),
    ...(host.serialNumber ? { serialNumber: host.serialNumber } : {}),
    ...(host.uuid ? { uuid: host.uuid } : {}),
    cpu: cpuOf(health, smbios),
    memoryMb,
    disks: storage.disks,
    volumes: storage.volumes,
    nics: host.nics,
    bootMode,
    // RIBCL cannot read secure boot: a UEFI-capable ProLiant ROM (Gen9 on) has it.
    secureBoot: { capable: bootMode.supported.includes('uefi') },
    ...(licence ? { licence } : {}),
    firmware: { ...(host.iloFirmware ? { ilo: host.iloFirmware } : {}), ...(rom ? { rom } : {}) },
    warnings,
  };
}

/** "8/8 cores; 16 threads" (embedded health) or "8 of 8 cores; 16 threads" (SMBIOS type 4). */
function coresThreads(text: string | undefined): { cores: number; threads: number } {
  const cores = /(\d+)\s*(?:\/|of)\s*\d+\s*cores/i.exec(text ?? '') ?? /(\d+)\s*cores/i.exec(text ?? '');
  const threads = /(\d+)\s*threads/i.exec(text ?? '');
  return { cores: cores ? Number(cores[1]) : 0, threads: threads ? Number(threads[1]) : 0 };
}

function cpuOf(health: XmlElement, smbios: SmbiosRecord[]): HardwareReading['cpu'] {
  const procs = childrenNamed(child(health, 'PROCESSORS'), 'PROCESSOR');
  const texts = procs.length
    ? procs.map((p) => childValue(p, 'EXECUTION_TECHNOLOGY'))
    : smbios.filter((r) => r.type === 4).map((r) => r.fields.find((f) => f.name === 'Execution Technology')?.value);
  let cores = 0;
  let threads = 0;
  for (const t of texts) {
    const ct = coresThreads(t);
    cores += ct.cores;
    threads += ct.threads || ct.cores;
  }
  const model = procs.length ? childValue(procs[0], 'NAME')?.replace(/\s+/g, ' ').trim() : undefined;
  // RIBCL does not say; every ProLiant it runs on is x86-64 (proliantutils hard-codes it too).
  return { sockets: texts.length, cores, threads, arch: 'x86_64', ...(model ? { model } : {}) };
}

function memoryOf(health: XmlElement, smbios: SmbiosRecord[]): number {
  const memory = child(health, 'MEMORY');
  const mb = (text: string | undefined): number => Math.round((bytesFromText(text) ?? 0) / 1024 ** 2);
  const summary = child(memory, 'MEMORY_DETAILS_SUMMARY');
  if (summary?.children.length) return summary.children.reduce((sum, cpu) => sum + mb(childValue(cpu, 'TOTAL_MEMORY_SIZE')), 0);
  const components = childrenNamed(child(memory, 'MEMORY_COMPONENTS'), 'MEMORY_COMPONENT');
  if (components.length) return components.reduce((sum, c) => sum + mb(childValue(c, 'MEMORY_SIZE')), 0);
  return smbios.filter((r) => r.type === 17).reduce((sum, r) => sum + mb(r.fields.find((f) => f.name === 'Size')?.value), 0);
}

function storageOf(health: XmlElement): { disks: InspectedDisk[]; volumes: InspectedVolume[] } {
  const disks: InspectedDisk[] = [];
  const volumes: InspectedVolume[] = [];
  const drive = (d: XmlElement, volume?: string): void => {
    const sizeBytes = bytesFromText(childValue(d, 'CAPACITY'));
    if (sizeBytes === undefined) return;
    const media = childValue(d, 'MEDIA_TYPE')?.toUpperCase();
    const serial = childValue(d, 'SERIAL_NUMBER');
    const model = childValue(d, 'MODEL');
    disks.push({
      location: childValue(d, 'LOCATION') ?? childValue(d, 'LABEL') ?? `drive ${disks.length + 1}`,
      ...(model ? { model } : {}),
      ...(serial ? { serial } : {}),
      sizeBytes,
      ...(media === 'HDD' || media === 'SSD' ? { mediaType: media } : {}),
      ...(volume ? { volume } : {}),
    });
  };
  for (const storage of childrenNamed(health, 'STORAGE')) {
    for (const controller of childrenNamed(storage, 'CONTROLLER')) {
      for (const ld of childrenNamed(controller, 'LOGICAL_DRIVE')) {
        const name = `Logical Drive ${Number(childValue(ld, 'LABEL') ?? volumes.length + 1)}`;
        const sizeBytes = bytesFromText(childValue(ld, 'CAPACITY'));
        const raid = /RAID\s*(\d+)/i.exec(childValue(ld, 'FAULT_TOLERANCE') ?? '')?.[1];
        const members = childrenNamed(ld, 'PHYSICAL_DRIVE');
        const media = members.map((p) => childValue(p, 'MEDIA_TYPE')?.toUpperCase());
        if (sizeBytes !== undefined) {
          volumes.push({
            name,
            sizeBytes,
            ...(raid ? { raid } : {}),
            ...(media.length && media.every((x) => x === 'SSD') ? { mediaType: 'SSD' as const } : media.length && media.every((x) => x === 'HDD') ? { mediaType: 'HDD' as const } : {}),
          });
        }
        for (const p of members) drive(p, name);
      }
      for (const p of childrenNamed(controller, 'PHYSICAL_DRIVE')) drive(p);
    }
  }
  return { disks, volumes };
}

/** FIRMWARE_INFORMATION: INDEX_n elements, each a FIRMWARE_NAME and FIRMWARE_VERSION. */
function firmwareOf(health: XmlElement): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of child(health, 'FIRMWARE_INFORMATION')?.children ?? []) {
    const name = childValue(entry, 'FIRMWARE_NAME');
    const version = childValue(entry, 'FIRMWARE_VERSION');
    if (name && version) out.set(name, version);
  }
  return out;
}
