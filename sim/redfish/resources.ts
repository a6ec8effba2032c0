/**
 * The simulated iLO 5/6 Redfish resources, rendered from the SimServer state
 * in iLO 5 shapes. Written from HPE's documented properties,
 * not copied from any sample.
 */
import type { SimComponentStatus } from '../health';
import { disks, logicalDrives, pciDevices, storageController, structuredBootString } from '../inventory';
import { uefiClassOf, type SimBootEntry } from '../models';
import type { SimOneTimeBoot, SimServer, SimSession } from '../server';
import type { SimDriveName } from '../vmedia';
import { SESSION_LIMIT, sessionTimeout as sessionTimeoutOf } from './service';

export const P = {
  root: '/redfish/v1/',
  systems: '/redfish/v1/Systems/',
  system: '/redfish/v1/Systems/1/',
  bios: '/redfish/v1/systems/1/bios/',
  biosSettings: '/redfish/v1/systems/1/bios/settings/',
  bootSettings: '/redfish/v1/systems/1/bios/boot/',
  bootSettingsPending: '/redfish/v1/systems/1/bios/boot/settings/',
  iscsi: '/redfish/v1/systems/1/bios/iscsi/',
  iscsiSettings: '/redfish/v1/systems/1/bios/iscsi/settings/',
  secureBoot: '/redfish/v1/Systems/1/SecureBoot/',
  processors: '/redfish/v1/Systems/1/Processors/',
  memory: '/redfish/v1/Systems/1/Memory/',
  pci: '/redfish/v1/Systems/1/PCIDevices/',
  smartStorage: '/redfish/v1/Systems/1/SmartStorage/',
  arrayControllers: '/redfish/v1/Systems/1/SmartStorage/ArrayControllers/',
  managerNics: '/redfish/v1/Managers/1/EthernetInterfaces/',
  securityService: '/redfish/v1/Managers/1/SecurityService/',
  securityDashboard: '/redfish/v1/Managers/1/SecurityService/SecurityDashboard/',
  securityParams: '/redfish/v1/Managers/1/SecurityService/SecurityDashboard/SecurityParams/',
  bootOptions: '/redfish/v1/Systems/1/BootOptions/',
  nics: '/redfish/v1/Systems/1/EthernetInterfaces/',
  managers: '/redfish/v1/Managers/',
  manager: '/redfish/v1/Managers/1/',
  vmedia: '/redfish/v1/Managers/1/VirtualMedia/',
  licences: '/redfish/v1/Managers/1/LicenseService/',
  licence: '/redfish/v1/Managers/1/LicenseService/1/',
  chassisCollection: '/redfish/v1/Chassis/',
  chassis: '/redfish/v1/Chassis/1/',
  thermal: '/redfish/v1/Chassis/1/Thermal/',
  power: '/redfish/v1/Chassis/1/Power/',
  sessionService: '/redfish/v1/SessionService/',
  sessions: '/redfish/v1/SessionService/Sessions/',
};

/** Virtual media member ids, by device (picked by MediaTypes by a client). */
export const VM_MEMBER: Record<SimDriveName, string> = { floppy: '1', cdrom: '2' };

const link = (id: string): { '@odata.id': string } => ({ '@odata.id': id });

export function collection(id: string, type: string, name: string, members: string[]): Record<string, unknown> {
  return {
    '@odata.context': `/redfish/v1/$metadata#${type}.${type}`,
    '@odata.id': id,
    '@odata.type': `#${type}.${type}`,
    Description: `${name} view`,
    Name: name,
    Members: members.map(link),
    'Members@odata.count': members.length,
  };
}

export const redfishHealth = (s: SimComponentStatus): 'OK' | 'Warning' | 'Critical' | null =>
  s === 'OK' ? 'OK' : s === 'Degraded' ? 'Warning' : s === 'Failed' ? 'Critical' : null;

const status = (s: SimComponentStatus): Record<string, unknown> =>
  s === 'Not Installed' ? { State: 'Absent' } : { Health: redfishHealth(s), State: 'Enabled' };

export function serviceRoot(server: SimServer): Record<string, unknown> {
  const oem = 'Hpe';
  return {
    '@odata.context': '/redfish/v1/$metadata#ServiceRoot.ServiceRoot',
    '@odata.id': P.root,
    '@odata.type': '#ServiceRoot.v1_5_1.ServiceRoot',
    Id: 'RootService',
    Name: 'HPE RESTful Root Service',
    RedfishVersion: server.model.managerType === 'iLO 6' ? '1.13.0' : '1.6.0',
    UUID: server.uuid,
    Product: server.identity.productName,
    AccountService: link('/redfish/v1/AccountService/'),
    Chassis: link(P.chassisCollection),
    Managers: link(P.managers),
    SessionService: link(P.sessionService),
    Systems: link(P.systems),
    Links: { Sessions: link(P.sessions) },
    ProtocolFeaturesSupported: {
      ...(server.redfishExpand ? { ExpandQuery: { ExpandAll: false, Levels: true, Links: false, MaxLevels: 1, NoLinks: true } } : {}),
      FilterQuery: true,
      SelectQuery: false,
    },
    Oem: {
      [oem]: {
        '@odata.type': `#${oem}iLOServiceExt.v2_3_0.${oem}iLOServiceExt`,
        Manager: [
          {
            DefaultLanguage: 'en',
            FQDN: `${server.name}-ilo.sim`,
            HostName: `${server.name}-ilo`,
            ManagerFirmwareVersion: server.identity.firmwareVersion,
            ManagerType: server.model.managerType,
            Status: { Health: 'OK' },
          },
        ],
        Sessions: { LoginHint: { Hint: 'POST to /Sessions to login using the following JSON object:', HintPOSTData: { UserName: 'username', Password: 'password' } } },
      },
    },
  };
}

/** Redfish override targets for the simulator's one-time boot devices. */
export const TARGET_OF: Record<SimOneTimeBoot['device'], string> = {
  cdrom: 'Cd',
  floppy: 'Floppy',
  usb: 'Usb',
  hdd: 'Hdd',
  network: 'Pxe',
  setup: 'BiosSetup',
  other: 'Utilities',
};

export const TARGETS = ['None', 'Cd', 'Hdd', 'Usb', 'SDCard', 'Utilities', 'Diags', 'BiosSetup', 'Pxe', 'UefiShell', 'UefiHttp', 'UefiTarget', 'Floppy'];

/** Override targets this server takes (no legacy floppy on a UEFI-only platform). */
export function targetsOf(server: SimServer): string[] {
  return server.model.supportedBootModes === 'uefi-only' ? TARGETS.filter((t) => t !== 'Floppy') : TARGETS;
}

function aggregateHealth(server: SimServer): Record<string, unknown> {
  const s = server.health.summary();
  const st = (k: string): Record<string, unknown> => ({ Status: { Health: redfishHealth(s[k] as SimComponentStatus) } });
  const redundant = (list: Array<{ status: SimComponentStatus }>): string => (list.filter((x) => x.status === 'OK').length >= 2 ? 'Redundant' : 'NonRedundant');
  return {
    AgentlessManagementService: 'Unavailable',
    BiosOrHardwareHealth: st('bios_hardware'),
    FanRedundancy: redundant(server.health.fans),
    Fans: st('fans'),
    Memory: st('memory'),
    Network: st('network'),
    PowerSupplies: { PowerSuppliesMismatch: false, ...st('power_supplies') },
    PowerSupplyRedundancy: redundant(server.health.powerSupplies),
    Processors: st('processor'),
    Storage: st('storage'),
    Temperatures: st('temperature'),
  };
}

function worstRollup(server: SimServer): string {
  const all = Object.values(server.health.summary());
  return all.includes('Failed') ? 'Critical' : all.includes('Degraded') ? 'Warning' : 'OK';
}

export function system(server: SimServer): Record<string, unknown> {
  const once = server.oneTimeBoot;
  const uefi = server.bootMode.current === 'uefi';
  return {
    '@odata.context': '/redfish/v1/$metadata#ComputerSystem.ComputerSystem',
    '@odata.id': P.system,
    '@odata.type': '#ComputerSystem.v1_10_0.ComputerSystem',
    Id: '1',
    Name: 'Computer System',
    Actions: {
      '#ComputerSystem.Reset': {
        'ResetType@Redfish.AllowableValues': ['On', 'ForceOff', 'GracefulShutdown', 'ForceRestart', 'Nmi', 'PushPowerButton'],
        target: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset/',
      },
    },
    Bios: link(P.bios),
    BiosVersion: server.model.biosVersion,
    Boot: {
      BootOptions: link(P.bootOptions),
      BootOrder: server.activeOrder().map((e) => e.id),
      BootSourceOverrideEnabled: once ? 'Once' : 'Disabled',
      BootSourceOverrideMode: uefi ? 'UEFI' : 'Legacy',
      BootSourceOverrideTarget: once ? TARGET_OF[once.device] : 'None',
      'BootSourceOverrideTarget@Redfish.AllowableValues': targetsOf(server),
      UefiTargetBootSourceOverride: 'None',
      'UefiTargetBootSourceOverride@Redfish.AllowableValues': uefi ? server.activeOrder().map((e) => uefiDevicePath(e, server.activeOrder().indexOf(e))) : [],
    },
    EthernetInterfaces: link(P.nics),
    HostName: '',
    IndicatorLED: 'Off',
    Manufacturer: 'HPE',
    Memory: link(P.memory),
    Model: server.identity.productName,
    MemorySummary: {
      TotalSystemMemoryGiB: (server.model.dimm.count * server.model.dimm.mib) / 1024,
      Status: { HealthRollup: redfishHealth(server.health.subsystems.memory) },
    },
    Processors: link(P.processors),
    ProcessorSummary: { Count: server.model.cpu.count, Model: server.model.cpu.model, Status: { HealthRollup: redfishHealth(server.health.subsystems.processor) } },
    PowerState: server.powerState === 'on' ? 'On' : 'Off',
    SecureBoot: link(P.secureBoot),
    SimpleStorage: link(`${P.system}SimpleStorage/`),
    Storage: link(`${P.system}Storage/`),
    SerialNumber: server.identity.serialNumber,
    SKU: '868703-B21',
    Status: { Health: worstRollup(server), HealthRollup: worstRollup(server), State: 'Enabled' },
    SystemType: 'Physical',
    UUID: server.uuid,
    Oem: {
      Hpe: {
        '@odata.type': '#HpeComputerSystemExt.v2_9_0.HpeComputerSystemExt',
        Actions: {
          '#HpeComputerSystemExt.PowerButton': {
            'PushType@Redfish.AllowableValues': ['Press', 'PressAndHold'],
            target: '/redfish/v1/Systems/1/Actions/Oem/Hpe/HpeComputerSystemExt.PowerButton/',
          },
          '#HpeComputerSystemExt.SystemReset': {
            'ResetType@Redfish.AllowableValues': ['ColdBoot', 'AuxCycle'],
            target: '/redfish/v1/Systems/1/Actions/Oem/Hpe/HpeComputerSystemExt.SystemReset/',
          },
        },
        AggregateHealthStatus: aggregateHealth(server),
        Bios: { Backup: { Family: server.model.biosFamily }, Current: { Family: server.model.biosFamily, VersionString: server.model.biosVersion }, UefiClass: uefiClassOf(server.model) },
        Links: {
          EthernetInterfaces: link(P.nics),
          NetworkAdapters: link(`${P.system}BaseNetworkAdapters/`),
          PCIDevices: link(P.pci),
          SmartStorage: link(P.smartStorage),
        },
        PostState: server.postState,
        PowerAllocationLimit: 500,
        VirtualProfile: 'Inactive',
      },
    },
  };
}

/** BIOS current (`pending` false) or pending settings object. */
export function bios(server: SimServer, pending: boolean): Record<string, unknown> {
  const mode = pending ? server.bootMode.pending : server.bootMode.current;
  // A UEFI-only ROM has no BootMode attribute (there is nothing to choose).
  const bootMode = server.model.supportedBootModes === 'uefi-only' ? {} : { BootMode: mode === 'uefi' ? 'Uefi' : 'LegacyBios' };
  return {
    '@odata.context': '/redfish/v1/$metadata#Bios.Bios',
    '@odata.id': pending ? P.biosSettings : P.bios,
    '@odata.type': '#Bios.v1_0_0.Bios',
    Id: pending ? 'settings' : 'bios',
    Name: pending ? 'BIOS Pending Settings' : 'BIOS Current Settings',
    AttributeRegistry: `BiosAttributeRegistry${server.model.biosFamily}.v1_2_68`,
    Attributes: { ...bootMode, ...(pending ? server.bios.pending : server.bios.current) },
    ...(pending
      ? {}
      : {
          '@Redfish.Settings': {
            '@odata.type': '#Settings.v1_0_0.Settings',
            Messages: [{ MessageId: 'Base.1.4.Success' }],
            SettingsObject: link(P.biosSettings),
          },
          Actions: { '#Bios.ResetBios': { target: `${P.biosSettings}Actions/Bios.ResetBios/` } },
          Oem: {
            Hpe: {
              '@odata.type': '#HpeBiosExt.v2_0_0.HpeBiosExt',
              Links: { Boot: link(P.bootSettings), iScsi: link(P.iscsi), BaseConfigs: link(`${P.bios}baseconfigs/`), Mappings: link(`${P.bios}mappings/`) },
            },
          },
        }),
  };
}

/** The UEFI device path of a boot entry (stable per position). */
export function uefiDevicePath(entry: SimBootEntry, index: number): string {
  return entry.device === 'network'
    ? `PciRoot(0x0)/Pci(0x1C,0x0)/Pci(0x0,0x0)/MAC(9418820000${index.toString(16).padStart(2, '0')},0x1)/IPv4(0.0.0.0)`
    : `PciRoot(0x0)/Pci(0x1C,0x${index.toString(16)})`;
}

/** HpeServerBootSettings: the UEFI boot sources and the persistent order, by structured boot string. */
export function bootSettings(server: SimServer, pending: boolean): Record<string, unknown> {
  const uefi = server.bootMode.current === 'uefi';
  const order = uefi ? server.uefiOrder : [];
  const sources = order.map((e, i) => ({
    BootString: e.description,
    CorrelatableID: uefiDevicePath(e, i),
    StructuredBootString: structuredBootString(e, server.model),
    UEFIDevicePath: uefiDevicePath(e, i),
  }));
  const persistent = order.map((e) => structuredBootString(e, server.model));
  return {
    '@odata.context': '/redfish/v1/$metadata#HpeServerBootSettings.HpeServerBootSettings',
    '@odata.id': pending ? P.bootSettingsPending : P.bootSettings,
    '@odata.type': '#HpeServerBootSettings.v2_0_0.HpeServerBootSettings',
    Id: pending ? 'settings' : 'boot',
    Name: pending ? 'Boot Order Pending Settings' : 'Boot Order Current Settings',
    BootSources: sources,
    DefaultBootOrder: ['Floppy', 'Cd', 'Usb', 'EmbeddedStorage', 'PcieSlotStorage', 'EmbeddedFlexLOM', 'PcieSlotNic', 'UefiShell'],
    DesiredBootDevices: [],
    PersistentBootConfigOrder: persistent,
    ...(pending ? {} : { '@Redfish.Settings': { '@odata.type': '#Settings.v1_0_0.Settings', SettingsObject: link(P.bootSettingsPending) } }),
  };
}

/** The boot entry a structured boot string names in the current order. */
export function entryOfStructured(server: SimServer, structured: string): SimBootEntry | undefined {
  return server.activeOrder().find((e) => structuredBootString(e, server.model).toLowerCase() === structured.toLowerCase());
}

/** The iSCSI software initiator settings (proliantutils reads whether PATCH is allowed on them). */
export function iscsi(server: SimServer, pending: boolean): Record<string, unknown> {
  return {
    '@odata.id': pending ? P.iscsiSettings : P.iscsi,
    '@odata.type': '#HpeiSCSISoftwareInitiator.v2_0_0.HpeiSCSISoftwareInitiator',
    Id: pending ? 'settings' : 'iscsi',
    Name: 'iSCSI Software Initiator',
    iSCSIInitiatorName: `iqn.1986-03.com.hpe:uefi-${server.model.biosFamily.toLowerCase()}-${server.identity.serialNumber.toLowerCase()}`,
    iSCSISources: [],
    ...(pending ? {} : { '@Redfish.Settings': { '@odata.type': '#Settings.v1_0_0.Settings', SettingsObject: link(P.iscsiSettings) } }),
  };
}

export function secureBoot(server: SimServer): Record<string, unknown> {
  const sb = server.bios.secureBoot;
  return {
    '@odata.context': '/redfish/v1/$metadata#SecureBoot.SecureBoot',
    '@odata.id': P.secureBoot,
    '@odata.type': '#SecureBoot.v1_0_0.SecureBoot',
    Id: 'SecureBoot',
    Name: 'UEFI Secure Boot',
    Actions: {
      '#SecureBoot.ResetKeys': {
        'ResetKeysType@Redfish.AllowableValues': ['ResetAllKeysToDefault', 'DeleteAllKeys', 'DeletePK'],
        target: `${P.secureBoot}Actions/SecureBoot.ResetKeys/`,
      },
    },
    SecureBootCurrentBoot: sb.current ? 'Enabled' : 'Disabled',
    SecureBootEnable: sb.pending,
    // Without a platform key the firmware is in setup mode.
    SecureBootMode: sb.keys === 'deleted' ? 'SetupMode' : 'UserMode',
  };
}

export function processorIds(server: SimServer): string[] {
  return Array.from({ length: server.model.cpu.count }, (_, i) => String(i + 1));
}

export function processor(server: SimServer, id: string): Record<string, unknown> {
  const cpu = server.model.cpu;
  return {
    '@odata.context': '/redfish/v1/$metadata#Processor.Processor',
    '@odata.id': `${P.processors}${id}/`,
    '@odata.type': '#Processor.v1_0_0.Processor',
    Id: id,
    Name: 'Processors',
    InstructionSet: 'x86-64',
    Manufacturer: 'Intel(R) Corporation',
    MaxSpeedMHz: 4000,
    Model: cpu.model,
    ProcessorArchitecture: 'x86',
    ProcessorType: 'CPU',
    Socket: `Proc ${id}`,
    Status: { Health: redfishHealth(server.health.subsystems.processor), State: 'Enabled' },
    TotalCores: cpu.cores,
    TotalThreads: cpu.threads,
    Oem: { Hpe: { '@odata.type': '#HpeProcessorExt.v2_0_0.HpeProcessorExt', RatedSpeedMHz: cpu.mhz, CoresEnabled: cpu.cores } },
  };
}

/** DIMM ids as iLO 5 names them: proc1dimm1, proc1dimm2, … */
export function dimmIds(server: SimServer): string[] {
  const { count } = server.model.dimm;
  const perCpu = Math.ceil(count / server.model.cpu.count);
  return Array.from({ length: count }, (_, i) => `proc${Math.floor(i / perCpu) + 1}dimm${(i % perCpu) + 1}`);
}

export function dimm(server: SimServer, id: string): Record<string, unknown> {
  const d = server.model.dimm;
  return {
    '@odata.context': '/redfish/v1/$metadata#Memory.Memory',
    '@odata.id': `${P.memory}${id}/`,
    '@odata.type': '#Memory.v1_7_1.Memory',
    Id: id,
    Name: id.replace(/^proc(\d+)dimm(\d+)$/, 'proc$1dimm$2'),
    CapacityMiB: d.mib,
    DeviceLocator: id.replace(/^proc(\d+)dimm(\d+)$/, 'PROC $1 DIMM $2'),
    ErrorCorrection: 'MultiBitECC',
    MemoryDeviceType: d.type,
    MemoryType: 'DRAM',
    OperatingSpeedMhz: d.mhz,
    Status: { Health: redfishHealth(server.health.subsystems.memory), State: 'Enabled' },
    Oem: { Hpe: { '@odata.type': '#HpeMemoryExt.v2_5_0.HpeMemoryExt', BaseModuleType: 'RDIMM', DIMMStatus: 'GoodInUse', MinimumVoltageVoltsX10: 12 } },
  };
}

export function pciDevice(server: SimServer, index: number): Record<string, unknown> {
  const d = pciDevices(server.model)[index]!;
  return {
    '@odata.context': '/redfish/v1/$metadata#HpeServerPciDevice.HpeServerPciDevice',
    '@odata.id': `${P.pci}${index + 1}/`,
    '@odata.type': '#HpeServerPciDevice.v2_0_0.HpeServerPciDevice',
    Id: String(index + 1),
    Name: d.name,
    BusNumber: 2 + index,
    ClassCode: d.classCode,
    DeviceID: d.deviceId,
    DeviceInstance: 1,
    DeviceLocation: d.location,
    DeviceType: d.deviceType,
    FunctionNumber: 0,
    LocationString: d.location,
    StructuredName: d.structuredName,
    SubclassCode: d.subclassCode,
    VendorID: d.vendorId,
  };
}

export function smartStorage(server: SimServer): Record<string, unknown> {
  return {
    '@odata.id': P.smartStorage,
    '@odata.type': '#HpeSmartStorage.v2_0_0.HpeSmartStorage',
    Id: 'SmartStorage',
    Name: 'HpeSmartStorage',
    Description: 'HPE Smart Storage',
    Links: { ArrayControllers: link(P.arrayControllers) },
    Status: { Health: redfishHealth(server.health.subsystems.storage) },
  };
}

export function arrayController(server: SimServer): Record<string, unknown> {
  const c = storageController(server.model);
  const base = `${P.arrayControllers}0/`;
  return {
    '@odata.id': base,
    '@odata.type': '#HpeSmartStorageArrayController.v2_2_0.HpeSmartStorageArrayController',
    Id: '0',
    Name: 'HpeSmartStorageArrayController',
    Description: 'HPE Smart Storage Array Controller View',
    FirmwareVersion: { Current: { VersionString: c.firmware } },
    Links: { LogicalDrives: link(`${base}LogicalDrives/`), PhysicalDrives: link(`${base}DiskDrives/`), UnconfiguredDrives: link(`${base}UnconfiguredDrives/`) },
    Location: c.location,
    LocationFormat: 'PCISlot',
    Model: c.model,
    SerialNumber: `PEYHB0${server.identity.serialNumber.slice(-6)}`,
    Status: { Health: redfishHealth(server.health.subsystems.storage), State: 'Enabled' },
  };
}

export function logicalDrive(server: SimServer, number: number): Record<string, unknown> | undefined {
  const ld = logicalDrives(server.model).find((l) => l.number === number);
  if (!ld) return undefined;
  return {
    '@odata.id': `${P.arrayControllers}0/LogicalDrives/${number}/`,
    '@odata.type': '#HpeSmartStorageLogicalDrive.v2_3_0.HpeSmartStorageLogicalDrive',
    Id: String(number),
    Name: 'HpeSmartStorageLogicalDrive',
    CapacityMiB: ld.capacityMiB,
    LogicalDriveName: `Logical Drive ${number}`,
    LogicalDriveNumber: number,
    MediaType: ld.mediaType,
    Raid: ld.raid,
    Status: { Health: 'OK', State: 'Enabled' },
  };
}

/** Drives in a logical drive are "DiskDrives"; the others also appear under "UnconfiguredDrives". */
export function configuredDiskIndexes(server: SimServer): number[] {
  return disks(server.model).flatMap((d, i) => (d.logicalDrive ? [i] : []));
}

export function unconfiguredDiskIndexes(server: SimServer): number[] {
  return disks(server.model).flatMap((d, i) => (d.logicalDrive ? [] : [i]));
}

export function diskDrive(server: SimServer, index: number): Record<string, unknown> | undefined {
  const d = disks(server.model)[index];
  if (!d) return undefined;
  return {
    '@odata.id': `${P.arrayControllers}0/DiskDrives/${index}/`,
    '@odata.type': '#HpeSmartStorageDiskDrive.v2_1_0.HpeSmartStorageDiskDrive',
    Id: String(index),
    Name: 'HpeSmartStorageDiskDrive',
    CapacityGB: Math.round((d.capacityMiB * 1.048576) / 1000),
    CapacityMiB: d.capacityMiB,
    InterfaceType: 'SAS',
    Location: d.location,
    LocationFormat: 'ControllerPort:Box:Bay',
    MediaType: d.mediaType,
    Model: d.model,
    ...(d.rpm ? { RotationalSpeedRpm: d.rpm } : {}),
    SerialNumber: d.serial,
    Status: { Health: 'OK', State: 'Enabled' },
  };
}

export function bootOption(entry: SimBootEntry, index: number): Record<string, unknown> {
  return {
    '@odata.id': `${P.bootOptions}${index + 1}/`,
    '@odata.type': '#BootOption.v1_0_1.BootOption',
    Id: String(index + 1),
    Name: 'Boot Option',
    BootOptionEnabled: true,
    BootOptionReference: entry.id,
    DisplayName: entry.description,
    ...(entry.id.startsWith('Boot') ? { UefiDevicePath: `PciRoot(0x0)/Pci(0x1C,0x${index.toString(16)})` } : {}),
  };
}

export function ethernetInterface(server: SimServer, index: number): Record<string, unknown> {
  return {
    '@odata.id': `${P.nics}${index + 1}/`,
    '@odata.type': '#EthernetInterface.v1_4_1.EthernetInterface',
    Id: String(index + 1),
    Name: '',
    MACAddress: server.macs.host[index],
    LinkStatus: index === 0 && server.powerState === 'on' ? 'LinkUp' : null,
    Status: { Health: 'OK', State: 'Enabled' },
  };
}

export function manager(server: SimServer): Record<string, unknown> {
  return {
    '@odata.context': '/redfish/v1/$metadata#Manager.Manager',
    '@odata.id': P.manager,
    '@odata.type': '#Manager.v1_5_1.Manager',
    Id: '1',
    Name: 'Manager',
    Actions: {
      '#Manager.Reset': { 'ResetType@Redfish.AllowableValues': ['ForceRestart', 'GracefulRestart'], target: `${P.manager}Actions/Manager.Reset/` },
    },
    EthernetInterfaces: link(P.managerNics),
    FirmwareVersion: `${server.model.managerType} v${server.identity.firmwareVersion}`,
    GraphicalConsole: { ConnectTypesSupported: ['KVMIP'], MaxConcurrentSessions: 10, ServiceEnabled: true },
    Links: { ManagerForServers: [link(P.system)], ManagerForChassis: [link(P.chassis)], ManagerInChassis: link(P.chassis) },
    ManagerType: 'BMC',
    Model: server.model.managerType,
    UUID: server.uuid,
    Status: { Health: 'OK', State: 'Enabled' },
    VirtualMedia: link(P.vmedia),
    Oem: {
      Hpe: {
        '@odata.type': '#HpeiLO.v2_7_0.HpeiLO',
        Firmware: { Current: { Date: server.identity.firmwareDate, VersionString: `${server.model.managerType} v${server.identity.firmwareVersion}` } },
        License: { LicenseKey: 'XXXXX-XXXXX-XXXXX-XXXXX-XXXXX', LicenseString: server.licenceName(), LicenseType: server.licensed ? 'Perpetual' : 'Unlicensed' },
        Links: { LicenseService: link(P.licences), SecurityService: link(P.securityService) },
        RequireHostAuthentication: false,
        RequiredLoginForiLORBSU: false,
      },
    },
  };
}

/** The iLO's own network port. */
export function managerNic(server: SimServer): Record<string, unknown> {
  return {
    '@odata.id': `${P.managerNics}1/`,
    '@odata.type': '#EthernetInterface.v1_4_1.EthernetInterface',
    Id: '1',
    Name: 'Manager Dedicated Network Interface',
    FullDuplex: true,
    HostName: `${server.name}-ilo`,
    IPv4Addresses: [{ Address: '127.0.0.1', AddressOrigin: 'Static', Gateway: '0.0.0.0', SubnetMask: '255.0.0.0' }],
    InterfaceEnabled: true,
    LinkStatus: 'LinkUp',
    MACAddress: server.macs.ilo,
    PermanentMACAddress: server.macs.ilo,
    SpeedMbps: 1000,
    Status: { Health: 'OK', State: 'Enabled' },
  };
}

export function securityService(server: SimServer): Record<string, unknown> {
  return {
    '@odata.id': P.securityService,
    '@odata.type': '#HpeSecurityService.v2_3_1.HpeSecurityService',
    Id: 'SecurityService',
    Name: 'Security Service',
    CurrentCipher: 'ECDHE-RSA-AES256-GCM-SHA384',
    Links: { SecurityDashboard: link(P.securityDashboard), HttpsCert: link(`${P.securityService}HttpsCert/`) },
    SecurityState: 'Production',
    ...(server.model.managerType === 'iLO 6' ? { ServerConfigurationLockStatus: 'Disabled' } : {}),
  };
}

/** What the dashboard lists: [name, security status, state]. */
export const SECURITY_PARAMS: Array<[string, 'Ok' | 'Risk', string]> = [
  ['Security Override Switch', 'Ok', 'Off'],
  ['IPMI/DCMI Over LAN', 'Ok', 'Disabled'],
  ['Minimum Password Length', 'Ok', 'Ok'],
  ['Require Login for iLO RBSU', 'Risk', 'Disabled'],
  ['Authentication Failure Logging', 'Ok', 'Enabled'],
  ['Secure Boot', 'Risk', 'Disabled'],
  ['Password Complexity', 'Risk', 'Disabled'],
  ['Require Host Authentication', 'Risk', 'Disabled'],
  ['Last Firmware Scan Result', 'Ok', 'Ok'],
];

export function securityDashboard(server: SimServer): Record<string, unknown> {
  return {
    '@odata.id': P.securityDashboard,
    '@odata.type': '#HpeiLOSecurityDashboard.v1_0_0.HpeiLOSecurityDashboard',
    Id: 'SecurityDashboard',
    Name: 'iLO Security Dashboard',
    OverallSecurityStatus: 'Risk',
    SecurityParameters: link(P.securityParams),
    ...(server.model.managerType === 'iLO 6' ? { ServerConfigurationLockStatus: 'Disabled' } : {}),
  };
}

export function securityParam(index: number): Record<string, unknown> {
  const [name, status, state] = SECURITY_PARAMS[index]!;
  return {
    '@odata.id': `${P.securityParams}${index}/`,
    '@odata.type': '#HpeiLOSecurityParam.v1_1_0.HpeiLOSecurityParam',
    Id: String(index),
    Name: name,
    Ignore: false,
    SecurityStatus: status,
    State: state,
    ...(status === 'Risk' ? { RecommendedAction: `Review the ${name} setting.` } : {}),
  };
}

export function virtualMedia(server: SimServer, device: SimDriveName): Record<string, unknown> {
  const d = server.drives[device];
  const id = VM_MEMBER[device];
  const base = `${P.vmedia}${id}/`;
  return {
    '@odata.context': '/redfish/v1/$metadata#VirtualMedia.VirtualMedia',
    '@odata.id': base,
    '@odata.type': '#VirtualMedia.v1_3_0.VirtualMedia',
    Id: id,
    Name: 'VirtualMedia',
    Description: 'Virtual Removable Media',
    Actions: {
      '#VirtualMedia.EjectMedia': { target: `${base}Actions/VirtualMedia.EjectMedia/` },
      '#VirtualMedia.InsertMedia': { target: `${base}Actions/VirtualMedia.InsertMedia/` },
    },
    ConnectedVia: d.connected ? 'URI' : 'NotConnected',
    Image: d.inserted ? d.url : '',
    ImageName: d.inserted ? (d.url.split('/').pop() ?? '').split('?')[0] : '',
    Inserted: d.inserted,
    MediaTypes: device === 'cdrom' ? ['CD', 'DVD'] : ['Floppy', 'USBStick'],
    WriteProtected: d.writeProtect,
    Oem: {
      Hpe: {
        '@odata.type': '#HpeiLOVirtualMedia.v2_2_0.HpeiLOVirtualMedia',
        Actions: {
          '#HpeiLOVirtualMedia.EjectVirtualMedia': { target: `${base}Actions/Oem/Hpe/HpeiLOVirtualMedia.EjectVirtualMedia/` },
          '#HpeiLOVirtualMedia.InsertVirtualMedia': { target: `${base}Actions/Oem/Hpe/HpeiLOVirtualMedia.InsertVirtualMedia/` },
        },
        // Only the CD-ROM can boot on the next reset (a floppy never can).
        ...(device === 'cdrom' ? { BootOnNextServerReset: d.bootOption === 'BOOT_ONCE' && !d.bootOnceUsed } : {}),
      },
    },
  };
}

export function licence(server: SimServer): Record<string, unknown> {
  const adv = server.licensed;
  return {
    '@odata.context': '/redfish/v1/$metadata#HpeiLOLicense.HpeiLOLicense',
    '@odata.id': P.licence,
    '@odata.type': '#HpeiLOLicense.v2_3_0.HpeiLOLicense',
    Id: '1',
    Name: 'iLO License',
    License: server.licenceName(),
    LicenseClass: adv ? 'FQL' : '',
    LicenseInstallDate: adv ? '2019-03-05T09:42:28Z' : '',
    LicenseKey: adv ? 'XXXXX-XXXXX-XXXXX-XXXXX-XXXXX' : '',
    LicenseTier: adv ? 'ADV' : 'STD',
    LicenseType: adv ? 'Perpetual' : 'Unlicensed',
    LicenseFeatures: { Federation: adv, KVMIP: true, RemoteConsole: adv, VM: adv, VMScript: adv, VirtualSerialPortRecord: adv },
  };
}

export function thermal(server: SimServer): Record<string, unknown> {
  const h = server.health;
  return {
    '@odata.context': '/redfish/v1/$metadata#Thermal.Thermal',
    '@odata.id': P.thermal,
    '@odata.type': '#Thermal.v1_1_0.Thermal',
    Id: 'Thermal',
    Name: 'Thermal',
    Fans: h.fans.map((f, i) => ({
      '@odata.id': `${P.thermal}#Fans/${i}`,
      MemberId: String(i),
      Name: f.label,
      Oem: { Hpe: { '@odata.type': '#HpeServerFan.v2_0_0.HpeServerFan', Location: f.zone, Redundant: true } },
      Reading: f.status === 'Not Installed' ? 0 : f.speed,
      ReadingUnits: 'Percent',
      Status: status(f.status),
    })),
    Temperatures: h.temperatures.map((t, i) => ({
      '@odata.id': `${P.thermal}#Temperatures/${i}`,
      MemberId: String(i),
      Name: t.label,
      Oem: { Hpe: { '@odata.type': '#HpeSeaOfSensors.v2_0_0.HpeSeaOfSensors', LocationXmm: 15, LocationYmm: 0 } },
      PhysicalContext: t.location === 'Ambient' ? 'Intake' : t.location === 'CPU' ? 'CPU' : t.location === 'Memory' ? 'SystemBoard' : t.location,
      ReadingCelsius: t.status === 'Not Installed' ? 0 : t.reading,
      SensorNumber: i + 1,
      Status: status(t.status),
      ...(t.caution > 0 ? { UpperThresholdCritical: t.caution } : {}),
      ...(t.critical > 0 ? { UpperThresholdFatal: t.critical } : {}),
    })),
  };
}

export function power(server: SimServer): Record<string, unknown> {
  return {
    '@odata.context': '/redfish/v1/$metadata#Power.Power',
    '@odata.id': P.power,
    '@odata.type': '#Power.v1_3_0.Power',
    Id: 'Power',
    Name: 'PowerMetrics',
    PowerControl: [{ '@odata.id': `${P.power}#PowerControl/0`, MemberId: '0', PowerCapacityWatts: 1000, PowerConsumedWatts: server.powerState === 'on' ? 162 : 0 }],
    PowerSupplies: server.health.powerSupplies.map((p, i) => ({
      '@odata.id': `${P.power}#PowerSupplies/${i}`,
      FirmwareVersion: p.firmware,
      LastPowerOutputWatts: server.powerState === 'on' ? 81 : 0,
      LineInputVoltage: 230,
      MemberId: String(i),
      Model: p.model,
      Name: 'HpeServerPowerSupply',
      Oem: { Hpe: { '@odata.type': '#HpeServerPowerSupply.v2_0_0.HpeServerPowerSupply', BayNumber: p.bay, HotplugCapable: true } },
      PowerCapacityWatts: p.capacityWatts,
      PowerSupplyType: 'AC',
      SerialNumber: p.serial,
      SparePartNumber: '754377-001',
      Status: status(p.status),
    })),
  };
}

/** A session: who, since when, last used, and when it expires if left idle (iLO's UserExpires). */
export function session(server: SimServer, s: SimSession, mine: boolean, timeoutS = sessionTimeoutOf(server)): Record<string, unknown> {
  return {
    '@odata.context': '/redfish/v1/$metadata#Session.Session',
    '@odata.id': `${P.sessions}${s.id}/`,
    '@odata.type': '#Session.v1_0_0.Session',
    Id: s.id,
    Name: 'User Session',
    UserName: s.username,
    Oem: {
      Hpe: {
        '@odata.type': '#HpeiLOSession.v2_1_0.HpeiLOSession',
        AccessTime: new Date(s.lastUsed).toISOString().replace(/\.\d+Z$/, 'Z'),
        LoginTime: new Date(s.created).toISOString().replace(/\.\d+Z$/, 'Z'),
        MySession: mine,
        UserAccount: s.username,
        UserExpires: new Date(s.lastUsed + timeoutS * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
        UserTag: 'REST',
        UserType: 'Local',
      },
    },
  };
}

export function sessionService(timeoutS: number): Record<string, unknown> {
  return {
    '@odata.id': P.sessionService,
    '@odata.type': '#SessionService.v1_0_0.SessionService',
    Id: 'SessionService',
    Name: 'Session Service',
    ServiceEnabled: true,
    SessionTimeout: timeoutS,
    Sessions: { '@odata.id': P.sessions },
    Oem: { Hpe: { '@odata.type': '#HpeiLOSessionService.v1_0_0.HpeiLOSessionService', MaxSessions: SESSION_LIMIT } },
  };
}

export function chassis(server: SimServer): Record<string, unknown> {
  return {
    '@odata.id': P.chassis,
    '@odata.type': '#Chassis.v1_6_0.Chassis',
    Id: '1',
    Name: 'Computer System Chassis',
    ChassisType: 'RackMount',
    Manufacturer: 'HPE',
    Model: server.identity.productName,
    SerialNumber: server.identity.serialNumber,
    Power: { '@odata.id': P.power },
    Thermal: { '@odata.id': P.thermal },
    Links: { ComputerSystems: [link(P.system)], ManagedBy: [link(P.manager)] },
    Oem: { Hpe: { '@odata.type': '#HpeServerChassis.v2_3_1.HpeServerChassis', Links: { Devices: link(`${P.chassis}Devices/`) } } },
  };
}
