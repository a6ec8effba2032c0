/**
 * The simulated server's fixed hardware, as its ROM reports it to the iLO:
 * PCI devices, the Smart Array controller and its drives, processors and
 * DIMMs, and the UEFI "structured boot strings" of its boot entries. Both
 * REST front-ends (iLO 4 and iLO 5/6) render it, each in its own shape.
 */
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

/** Two drives in one RAID 1 logical drive. */
export function disks(model: SimModel): SimDisk[] {
  const ssd = model.name === 'gen11';
  return [1, 2].map((bay) => ({
    location: `1I:1:${bay}`,
    model: ssd ? 'VO000960JWZJF' : 'EG000300JWEBF',
    serial: `S${model.name.toUpperCase()}D${bay}`,
    capacityMiB: ssd ? 915715 : 286102,
    mediaType: ssd ? ('SSD' as const) : ('HDD' as const),
    ...(ssd ? {} : { rpm: 10000 }),
  }));
}

export function logicalDrive(model: SimModel): { capacityMiB: number; raid: '1' } {
  return { capacityMiB: disks(model)[0]!.capacityMiB, raid: '1' };
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
