/**
 * The simulated iLO 5 Redfish resources, rendered from the SimServer state
 * in iLO 5 shapes (reference §4). Written from the documented properties,
 * not copied from any sample.
 */
import type { SimComponentStatus } from '../health';
import type { SimBootEntry } from '../models';
import type { SimOneTimeBoot, SimServer } from '../server';
import type { SimDriveName } from '../vmedia';

export const P = {
  root: '/redfish/v1/',
  systems: '/redfish/v1/Systems/',
  system: '/redfish/v1/Systems/1/',
  bios: '/redfish/v1/systems/1/bios/',
  biosSettings: '/redfish/v1/systems/1/bios/settings/',
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
  const oem = server.model.managerType === 'iLO 4' ? 'Hp' : 'Hpe';
  return {
    '@odata.context': '/redfish/v1/$metadata#ServiceRoot.ServiceRoot',
    '@odata.id': P.root,
    '@odata.type': '#ServiceRoot.v1_5_1.ServiceRoot',
    Id: 'RootService',
    Name: 'HPE RESTful Root Service',
    RedfishVersion: server.model.redfish ? '1.6.0' : '1.0.0',
    UUID: server.uuid,
    Product: server.identity.productName,
    AccountService: link('/redfish/v1/AccountService/'),
    Chassis: link(P.chassisCollection),
    Managers: link(P.managers),
    SessionService: link(P.sessionService),
    Systems: link(P.systems),
    Links: { Sessions: link(P.sessions) },
    ProtocolFeaturesSupported: { ExpandQuery: { ExpandAll: false, Levels: true, Links: false, MaxLevels: 1, NoLinks: true }, FilterQuery: true, SelectQuery: false },
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
      'BootSourceOverrideTarget@Redfish.AllowableValues': TARGETS,
      UefiTargetBootSourceOverride: 'None',
    },
    EthernetInterfaces: link(P.nics),
    HostName: '',
    IndicatorLED: 'Off',
    Manufacturer: 'HPE',
    Model: server.identity.productName,
    MemorySummary: { TotalSystemMemoryGiB: 128, Status: { HealthRollup: redfishHealth(server.health.subsystems.memory) } },
    ProcessorSummary: { Count: 2, Model: 'Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz', Status: { HealthRollup: redfishHealth(server.health.subsystems.processor) } },
    PowerState: server.powerState === 'on' ? 'On' : 'Off',
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
        Bios: { Backup: { Family: server.model.biosFamily }, Current: { Family: server.model.biosFamily, VersionString: server.model.biosVersion }, UefiClass: server.model.supportedBootModes === 'bios-only' ? 0 : 2 },
        PostState: server.postState,
        PowerAllocationLimit: 500,
        VirtualProfile: 'Inactive',
      },
    },
  };
}

/** BIOS current (`pending` false) or pending settings object. */
export function bios(server: SimServer, pending: boolean, extra: Record<string, string>): Record<string, unknown> {
  const mode = pending ? server.bootMode.pending : server.bootMode.current;
  return {
    '@odata.context': '/redfish/v1/$metadata#Bios.Bios',
    '@odata.id': pending ? P.biosSettings : P.bios,
    '@odata.type': '#Bios.v1_0_0.Bios',
    Id: pending ? 'settings' : 'bios',
    Name: pending ? 'BIOS Pending Settings' : 'BIOS Current Settings',
    AttributeRegistry: `BiosAttributeRegistry${server.model.biosFamily}.v1_2_68`,
    Attributes: {
      AdminName: '',
      BootMode: mode === 'uefi' ? 'Uefi' : 'LegacyBios',
      UefiOptimizedBoot: mode === 'uefi' ? 'Enabled' : 'Disabled',
      WorkloadProfile: 'GeneralPowerEfficientCompute',
      ...(pending ? extra : {}),
    },
    ...(pending
      ? {}
      : {
          '@Redfish.Settings': {
            '@odata.type': '#Settings.v1_0_0.Settings',
            Messages: [{ MessageId: `${'Base.1.4'}.Success` }],
            SettingsObject: link(P.biosSettings),
          },
        }),
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
    Status: { Health: null, State: null },
  };
}

export function manager(server: SimServer): Record<string, unknown> {
  return {
    '@odata.context': '/redfish/v1/$metadata#Manager.Manager',
    '@odata.id': P.manager,
    '@odata.type': '#Manager.v1_5_1.Manager',
    Id: '1',
    Name: 'Manager',
    FirmwareVersion: `${server.model.managerType} v${server.identity.firmwareVersion}`,
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
        Links: { LicenseService: link(P.licences) },
      },
    },
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

export function session(id: string, user: string): Record<string, unknown> {
  return {
    '@odata.context': '/redfish/v1/$metadata#Session.Session',
    '@odata.id': `${P.sessions}${id}/`,
    '@odata.type': '#Session.v1_0_0.Session',
    Id: id,
    Name: 'User Session',
    UserName: user,
    Oem: { Hpe: { '@odata.type': '#HpeiLOSession.v2_1_0.HpeiLOSession', MySession: true, UserTag: 'REST', UserType: 'Local', UserAccount: user } },
  };
}
