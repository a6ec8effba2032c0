/**
 * The ProLiant models a simulated fleet can mix. Each says which protocols
 * its iLO speaks, what boot modes the platform has, and how its firmware
 * behaves where generations differ.
 */

export type SimModelName = 'gen8' | 'gen9' | 'gen10';

export const SIM_MODELS: readonly SimModelName[] = ['gen8', 'gen9', 'gen10'];

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
  managementProcessor: 'iLO4' | 'iLO5';
  /** Redfish Oem.Hp(e).Manager[0].ManagerType. */
  managerType: 'iLO 4' | 'iLO 5';
  firmwareVersion: string;
  firmwareDate: string;
  ribclVersion: string;
  /** Full Redfish service (iLO 5); iLO 4 answers only the service root, which is enough for "auto" to tell. */
  redfish: boolean;
  supportedBootModes: 'bios-only' | 'bios-and-uefi';
  defaultBootMode: 'bios' | 'uefi';
  /** Older firmware answers 0x0039 to an eject of an empty drive (reference §2.2). */
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
    redfish: false,
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
  },
  gen9: {
    name: 'gen9',
    productName: 'ProLiant DL380 Gen9',
    managementProcessor: 'iLO4',
    managerType: 'iLO 4',
    firmwareVersion: '2.80',
    firmwareDate: 'Jan 25 2022',
    ribclVersion: '2.23',
    redfish: false,
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
  },
  gen10: {
    name: 'gen10',
    productName: 'ProLiant DL380 Gen10',
    managementProcessor: 'iLO5',
    managerType: 'iLO 5',
    firmwareVersion: '2.72',
    firmwareDate: 'Sep 04 2022',
    ribclVersion: '2.23',
    redfish: true,
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
  },
};

export function parseModel(name: string): SimModelName {
  const n = name.trim().toLowerCase().replace(/^proliant\s*/, '');
  if ((SIM_MODELS as readonly string[]).includes(n)) return n as SimModelName;
  throw new Error(`unknown simulated model "${name}": expected one of ${SIM_MODELS.join(', ')}`);
}
