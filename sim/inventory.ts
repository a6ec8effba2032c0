/**
 * The simulated server's fixed hardware, as its ROM reports it to the iLO:
 * PCI devices, the Smart Array controller and its drives, processors and
 * DIMMs, and the UEFI "structured boot strings" of its boot entries. Both
 * REST front-ends (iLO 4 and iLO 5/6) render it, each in its own shape.
 */
import { createHash } from 'node:crypto';
import type { SimBootEntry, SimModel } from './models';

export interface SimPciDevice {
  name: string;
  structuredName: string;
  classCode: number;
  subclassCode: number;
  vendorId: number;
  deviceId: number;
  deviceType: string;
  location: string;
}

/** One embedded NIC and the storage controller (no GPU: clients count display-class devices as GPUs). */
export function pciDevices(model: SimModel): SimPciDevice[] {
  const nic = model.name === 'gen11' ? 'Broadcom NetXtreme E-Series Quad-port 10GBASE-T OCP3 Adapter' : model.name === 'gen8' ? 'HP Ethernet 1Gb 4-port 331FLR Adapter' : 'HPE Ethernet 1Gb 4-port 331i Adapter';
  return [
    { name: nic, structuredName: model.name === 'gen11' ? 'NIC.OCP.1.1' : 'NIC.LOM.1.1', classCode: 2, subclassCode: 0, vendorId: 0x14e4, deviceId: 0x1657, deviceType: 'Embedded LOM', location: 'Embedded' },
    { name: storageController(model).model, structuredName: 'RAID.Emb.1.1', classCode: 1, subclassCode: 4, vendorId: 0x9005, deviceId: 0x028f, deviceType: 'Embedded RAID', location: 'Embedded' },
  ];
}

export interface SimDisk {
  /** "1I:1:1" */
  location: string;
  model: string;
  serial: string;
  capacityMiB: number;
  mediaType: 'HDD' | 'SSD';
  rpm?: number;
  /** The logical drive it is part of (1-based); absent: unconfigured (not seen by the host OS). */
  logicalDrive?: number;
}

export interface SimLogicalDrive {
  /** 1-based, as the array controller numbers them. */
  number: number;
  capacityMiB: number;
  raid: '0' | '1';
  mediaType: 'HDD' | 'SSD';
}

export function storageController(model: SimModel): { model: string; location: string; firmware: string } {
  switch (model.name) {
    case 'gen8':
      return { model: 'Smart Array P420i Controller', location: 'Slot 0', firmware: '8.32' };
    case 'gen9':
      return { model: 'Smart Array P440ar Controller', location: 'Slot 0', firmware: '7.00' };
    case 'gen10':
      return { model: 'HPE Smart Array P408i-a SR Gen10', location: 'Slot 0', firmware: '5.61' };
    case 'gen11':
      return { model: 'HPE MR408i-o Gen11', location: 'Slot 3', firmware: '52.24.3' };
  }
}

type DriveSpec = Omit<SimDisk, 'location' | 'serial' | 'logicalDrive'>;

/** Per model: the mirrored boot pair (bays 1-2), a second drive as a RAID 0 volume (bay 3), a spare left unconfigured (bay 4). */
const DRIVES: Record<SimModel['name'], [DriveSpec, DriveSpec, DriveSpec]> = {
  gen8: [
    { model: 'EG000300JWEBF', capacityMiB: 286102, mediaType: 'HDD', rpm: 10000 },
    { model: 'EG0600FBDSR', capacityMiB: 572325, mediaType: 'HDD', rpm: 10000 },
    { model: 'MB2000GCWDA', capacityMiB: 1907729, mediaType: 'HDD', rpm: 7200 },
  ],
  gen9: [
    { model: 'EG000300JWEBF', capacityMiB: 286102, mediaType: 'HDD', rpm: 10000 },
    { model: 'MK000480GWEZH', capacityMiB: 457862, mediaType: 'SSD' },
    { model: 'EG001200JWJNQ', capacityMiB: 1144641, mediaType: 'HDD', rpm: 10000 },
  ],
  gen10: [
    { model: 'EG000300JWEBF', capacityMiB: 286102, mediaType: 'HDD', rpm: 10000 },
    { model: 'VK001920GWTTC', capacityMiB: 1831420, mediaType: 'SSD' },
    { model: 'EG002400JWJNT', capacityMiB: 2289152, mediaType: 'HDD', rpm: 10000 },
  ],
  gen11: [
    { model: 'VO000960JWZJF', capacityMiB: 915715, mediaType: 'SSD' },
    { model: 'VO003840JWZJT', capacityMiB: 3662830, mediaType: 'SSD' },
    { model: 'MB004000JWJVE', capacityMiB: 3815447, mediaType: 'HDD', rpm: 7200 },
  ],
};

/** Four drives: bays 1-2 in logical drive 1 (RAID 1), bay 3 alone in logical drive 2 (RAID 0), bay 4 unconfigured. */
export function disks(model: SimModel): SimDisk[] {
  const [boot, second, spare] = DRIVES[model.name];
  const drive = (bay: number, spec: DriveSpec, logicalDrive?: number): SimDisk => ({
    location: `1I:1:${bay}`,
    serial: `S${model.name.toUpperCase()}D${bay}`,
    ...spec,
    ...(logicalDrive ? { logicalDrive } : {}),
  });
  return [drive(1, boot, 1), drive(2, boot, 1), drive(3, second, 2), drive(4, spare)];
}

export function logicalDrives(model: SimModel): SimLogicalDrive[] {
  const [boot, second] = DRIVES[model.name];
  return [
    { number: 1, capacityMiB: boot.capacityMiB, raid: '1', mediaType: boot.mediaType },
    { number: 2, capacityMiB: second.capacityMiB, raid: '0', mediaType: second.mediaType },
  ];
}

/** The boot volume (logical drive 1). */
export function logicalDrive(model: SimModel): SimLogicalDrive {
  return logicalDrives(model)[0]!;
}

/**
 * A logical drive as the host's OS sees it (a SCSI disk of the array
 * controller, as lsblk and udev name it): what root device hints match.
 */
export interface SimBlockDevice {
  name: string;
  sizeBytes: number;
  model: string;
  vendor: string;
  serial: string;
  wwn: string;
  wwnWithExtension: string;
  wwnVendorExtension: string;
  rotational: boolean;
  hctl: string;
  byPath: string;
}

/** /dev/sda, /dev/sdb… for the logical drives, in order; `controllerSerial` makes the ids unique per server. */
export function blockDevices(model: SimModel, controllerSerial: string): SimBlockDevice[] {
  const hp = model.name === 'gen8' || model.name === 'gen9' ? 'HP' : 'HPE';
  return logicalDrives(model).map((ld, i) => {
    const id = `600508b1001c${createHash('sha256').update(`${controllerSerial}:${ld.number}`).digest('hex').slice(0, 20)}`;
    return {
      name: `/dev/sd${String.fromCharCode(97 + i)}`,
      sizeBytes: ld.capacityMiB * 1024 * 1024,
      model: 'LOGICAL VOLUME',
      vendor: hp,
      serial: id,
      wwn: `0x${id.slice(0, 16)}`,
      wwnWithExtension: `0x${id}`,
      wwnVendorExtension: `0x${id.slice(16)}`,
      rotational: ld.mediaType === 'HDD',
      hctl: `0:1:0:${i}`,
      byPath: `/dev/disk/by-path/pci-0000:03:00.0-scsi-0:1:0:${i}`,
    };
  });
}

/**
 * The UEFI structured boot string of a boot entry, as HpServerBootSettings
 * lists it (virtual CD "CD.Virtual.2.1", virtual USB floppy "HD.Virtual.1.1").
 */
export function structuredBootString(entry: SimBootEntry, model: SimModel): string {
  switch (entry.device) {
    case 'cdrom':
      return 'CD.Virtual.2.1';
    case 'floppy':
      return 'HD.Virtual.1.1';
    case 'hdd':
      return model.name === 'gen11' ? 'HD.Slot.3.1' : 'HD.Emb.1.1';
    case 'network':
      return model.name === 'gen11' ? 'NIC.OCP.1.1.IPv4' : 'NIC.LOM.1.1.IPv4';
    case 'usb':
      return 'Generic.USB.1.1';
  }
}
