/**
 * The ProLiant models a simulated fleet can mix. Each says which protocols
 * its iLO speaks, what boot modes the platform has, and how its firmware
 * behaves where generations differ.
 */

export type SimModelName = 'gen8' | 'gen9' | 'gen10' | 'gen11';

export const SIM_MODELS: readonly SimModelName[] = ['gen8', 'gen9', 'gen10', 'gen11'];

export interface SimBootEntry {
  /** UEFI boot option id ("Boot000A") or legacy name ("CDROM"). */
  id: string;
  description: string;
  /** Device class, for the simulator's boot decision. */
  device: 'cdrom' | 'floppy' | 'usb' | 'hdd' | 'network';
}

export interface SimModel {
  name: SimModelName;
  productName: string;
  /** RIBCL GET_FW_VERSION MANAGEMENT_PROCESSOR. */
  managementProcessor: 'iLO4' | 'iLO5' | 'iLO6';
  /** Redfish Oem.Hp(e).Manager[0].ManagerType. */
  managerType: 'iLO 4' | 'iLO 5' | 'iLO 6';
  firmwareVersion: string;
  firmwareDate: string;
  ribclVersion: string;
  /**
   * Which REST service the iLO has: iLO 5/6 Redfish (`/rest/v1` 308s to it),
   * or iLO 4's RESTful API, one resource tree answered at both `/rest/v1`
   * and `/redfish/v1` with its pre-Redfish and its Redfish 1.0 properties.
   */
  rest: 'redfish' | 'ilo4';
  /** RIBCL answers as delivered (iLO 6 ships with it switched off: "RIBCLI is disabled" until an admin enables it). */
  ribclByDefault: boolean;
  /**
   * The system ROM publishes its settings (BIOS, boot order, secure boot)
   * to iLO's REST service. A Gen8 ROM predates that: its iLO 4 serves power,
   * boot override and virtual media, but no BIOS resources.
   */
  romOverRest: boolean;
  /** UEFI class 0, 2 or 3 (Oem.Hp(e).Bios.UefiClass). Gen11 is UEFI only: no BootMode BIOS attribute at all. */
  supportedBootModes: 'bios-only' | 'bios-and-uefi' | 'uefi-only';
  defaultBootMode: 'bios' | 'uefi';
  /** Older firmware answers 0x0039 to an eject of an empty drive. */
  ejectEmptyIsError: boolean;
  biosFamily: string;
  biosVersion: string;
  biosDate: string;
  /** How many host NIC ports SMBIOS and Redfish list. */
  nicPorts: number;
  legacyOrder: SimBootEntry[];
  uefiOrder: SimBootEntry[];
  /** The UEFI entry a connected virtual CD gets after the next reset. */
  virtualCdEntry: SimBootEntry;
  /** What Processors/Memory (Redfish) and SMBIOS report. */
  cpu: { model: string; count: number; cores: number; threads: number; mhz: number };
  dimm: { count: number; mib: number; mhz: number; type: 'DDR3' | 'DDR4' | 'DDR5' };
}

/** Oem.Hp(e).Bios.UefiClass for a model. */
export function uefiClassOf(model: SimModel): 0 | 2 | 3 {
  return model.supportedBootModes === 'bios-only' ? 0 : model.supportedBootModes === 'uefi-only' ? 3 : 2;
}

const LEGACY_ORDER: SimBootEntry[] = [
  { id: 'CDROM', description: 'CD-ROM', device: 'cdrom' },
  { id: 'FLOPPY', description: 'Floppy Drive (A:)', device: 'floppy' },
  { id: 'USB', description: 'USB DriveKey (C:)', device: 'usb' },
  { id: 'HDD', description: 'Hard Drive C:', device: 'hdd' },
  { id: 'NETWORK', description: 'Network (PXE)', device: 'network' },
];

export const MODELS: Record<SimModelName, SimModel> = {
  gen8: {
    name: 'gen8',
    productName: 'ProLiant DL360p Gen8',
    managementProcessor: 'iLO4',
    managerType: 'iLO 4',
    firmwareVersion: '2.82',
    firmwareDate: 'Feb 06 2023',
    ribclVersion: '2.23',
    rest: 'ilo4',
    ribclByDefault: true,
    romOverRest: false,
    supportedBootModes: 'bios-only',
    defaultBootMode: 'bios',
    ejectEmptyIsError: true,
    biosFamily: 'P71',
    biosVersion: 'P71 05/24/2019',
    biosDate: '05/24/2019',
    nicPorts: 4,
    legacyOrder: LEGACY_ORDER,
    uefiOrder: [],
    virtualCdEntry: { id: 'CDROM', description: 'CD-ROM', device: 'cdrom' },
    cpu: { model: 'Intel(R) Xeon(R) CPU E5-2650 v2 @ 2.60GHz', count: 2, cores: 8, threads: 16, mhz: 2600 },
    dimm: { count: 8, mib: 16384, mhz: 1600, type: 'DDR3' },
  },
  gen9: {
    name: 'gen9',
    productName: 'ProLiant DL380 Gen9',
    managementProcessor: 'iLO4',
    managerType: 'iLO 4',
    firmwareVersion: '2.80',
    firmwareDate: 'Jan 25 2022',
    ribclVersion: '2.23',
    rest: 'ilo4',
    ribclByDefault: true,
    romOverRest: true,
    supportedBootModes: 'bios-and-uefi',
    defaultBootMode: 'uefi',
    ejectEmptyIsError: false,
    biosFamily: 'P89',
    biosVersion: 'P89 v2.90 (04/29/2021)',
    biosDate: '04/29/2021',
    nicPorts: 4,
    legacyOrder: LEGACY_ORDER,
    uefiOrder: [
      { id: 'Boot000A', description: 'Embedded RAID 1 : Smart Array P440ar Controller - 279.37 GiB, RAID 1 Logical Drive 1(Target:0, Lun:0)', device: 'hdd' },
      { id: 'Boot0009', description: 'Embedded LOM 1 Port 1 : HP Ethernet 1Gb 4-port 331i Adapter - NIC (PXE IPv4)', device: 'network' },
      { id: 'Boot000B', description: 'Generic USB Boot', device: 'usb' },
    ],
    virtualCdEntry: { id: 'Boot000C', description: 'HP iLO Virtual USB CD : HP iLO Virtual USB CD', device: 'cdrom' },
    cpu: { model: 'Intel(R) Xeon(R) CPU E5-2650 v4 @ 2.20GHz', count: 2, cores: 12, threads: 24, mhz: 2200 },
    dimm: { count: 8, mib: 16384, mhz: 2400, type: 'DDR4' },
  },
  gen10: {
    name: 'gen10',
    productName: 'ProLiant DL380 Gen10',
    managementProcessor: 'iLO5',
    managerType: 'iLO 5',
    firmwareVersion: '2.72',
    firmwareDate: 'Sep 04 2022',
    ribclVersion: '2.23',
    rest: 'redfish',
    ribclByDefault: true,
    romOverRest: true,
    supportedBootModes: 'bios-and-uefi',
    defaultBootMode: 'uefi',
    ejectEmptyIsError: false,
    biosFamily: 'U30',
    biosVersion: 'U30 v2.76 (02/09/2023)',
    biosDate: '02/09/2023',
    nicPorts: 4,
    legacyOrder: LEGACY_ORDER,
    uefiOrder: [
      { id: 'Boot000A', description: 'Embedded RAID 1 : HPE Smart Array P408i-a SR Gen10 - 447.10 GiB, RAID1 Logical Drive 1(Target:0, Lun:0)', device: 'hdd' },
      { id: 'Boot0009', description: 'Embedded LOM 1 Port 1 : HPE Ethernet 1Gb 4-port 331i Adapter - NIC (PXE IPv4)', device: 'network' },
      { id: 'Boot000B', description: 'Generic USB Boot', device: 'usb' },
    ],
    virtualCdEntry: { id: 'Boot000C', description: 'iLO Virtual USB 3 : HPE iLO Virtual USB CD-ROM', device: 'cdrom' },
    cpu: { model: 'Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz', count: 2, cores: 16, threads: 32, mhz: 2100 },
    dimm: { count: 8, mib: 16384, mhz: 2666, type: 'DDR4' },
  },
  gen11: {
    name: 'gen11',
    productName: 'ProLiant DL380a Gen11',
    managementProcessor: 'iLO6',
    managerType: 'iLO 6',
    firmwareVersion: '1.59',
    firmwareDate: 'Apr 03 2024',
    ribclVersion: '2.23',
    rest: 'redfish',
    ribclByDefault: false,
    romOverRest: true,
    supportedBootModes: 'uefi-only',
    defaultBootMode: 'uefi',
    ejectEmptyIsError: false,
    biosFamily: 'U58',
    biosVersion: 'U58 v2.16 (03/01/2024)',
    biosDate: '03/01/2024',
    nicPorts: 4,
    legacyOrder: [],
    uefiOrder: [
      { id: 'Boot0010', description: 'Slot 3 : HPE MR408i-o Gen11 - 893.75 GiB, RAID1 Logical Drive 1(Target:0, Lun:0)', device: 'hdd' },
      { id: 'Boot000E', description: 'Embedded OCP 1 Port 1 : Broadcom NetXtreme E-Series Quad-port 10GBASE-T OCP3 Adapter - NIC (PXE IPv4)', device: 'network' },
      { id: 'Boot000F', description: 'Generic USB Boot', device: 'usb' },
    ],
    virtualCdEntry: { id: 'Boot0011', description: 'iLO Virtual USB 3 : iLO Virtual CD-ROM', device: 'cdrom' },
    cpu: { model: 'Intel(R) Xeon(R) Gold 6430', count: 2, cores: 32, threads: 64, mhz: 2100 },
    dimm: { count: 16, mib: 32768, mhz: 4800, type: 'DDR5' },
  },
};

export function parseModel(name: string): SimModelName {
  const n = name.trim().toLowerCase().replace(/^proliant\s*/, '');
  if ((SIM_MODELS as readonly string[]).includes(n)) return n as SimModelName;
  throw new Error(`unknown simulated model "${name}": expected one of ${SIM_MODELS.join(', ')}`);
}
