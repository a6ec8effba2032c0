/**
 * The simulated iLO 4's RESTful API resources (iLO 4 2.30 and later): one
 * resource tree, answered at /rest/v1 and at /redfish/v1, each document
 * carrying both its pre-Redfish properties (`Type`, `links.*.href`,
 * `Items`, `Power`, `Oem.Hp.links`) and its Redfish 1.0 ones (`@odata.id`,
 * `Members`, `PowerState`, `Actions`), as HPE's iLO 4 data model reference
 * describes it. Written from the documented properties.
 */
import type { SimComponentStatus } from '../../health';
import { disks, logicalDrives, pciDevices, storageController, structuredBootString } from '../../inventory';
import { uefiClassOf, type SimBootEntry } from '../../models';
import type { SimServer, SimSession } from '../../server';
import type { SimDriveName } from '../../vmedia';
import { TARGET_OF, uefiDevicePath } from '../resources';

type Doc = Record<string, unknown>;

/** iLO 4 2.x message registries. */
export const ILO4 = 'iLO.0.10';
export const BASE0 = 'Base.0.10';

/** A resource at `rest` (its /rest/v1 href, canonical case) with its Redfish twin. */
export function at(rest: string): { href: string; id: string } {
  return { href: `/rest/v1${rest}`, id: `/redfish/v1${rest}${rest.endsWith('/') || rest === '' ? '' : '/'}` };
}

const href = (rest: string): { href: string } => ({ href: at(rest).href });
const odata = (rest: string): { '@odata.id': string } => ({ '@odata.id': at(rest).id });

/** A resource of this `Type` ("ComputerSystem.1.0.1"): its properties, then its `links`. */
function doc(rest: string, type: string, props: Doc, links: Record<string, unknown> = {}): Doc {
  const name = type.split('.')[0]!;
  return {
    '@odata.context': `/redfish/v1/$metadata#${name}`,
    '@odata.id': at(rest).id,
    '@odata.type': `#${type}.${name}`,
    Type: type,
    ...props,
    links: { self: href(rest), ...links },
  };
}

/** A collection, with member links (and, for read-only ones, the members inline as `Items`). */
export function collection(rest: string, name: string, memberType: string, members: string[], items?: Doc[]): Doc {
  return {
    '@odata.context': `/redfish/v1/$metadata#${name.replace(/\s/g, '')}Collection`,
    '@odata.id': at(rest).id,
    '@odata.type': `#${memberType.split('.')[0]}Collection.${memberType.split('.')[0]}Collection`,
    Description: `${name} view`,
    MemberType: memberType,
    Members: members.map(odata),
    'Members@odata.count': members.length,
    Name: name,
    Total: members.length,
    Type: 'Collection.1.0.0',
    ...(items ? { Items: items } : {}),
    links: { Member: members.map(href), self: href(rest) },
  };
}

const health = (s: SimComponentStatus): string => (s === 'OK' ? 'OK' : s === 'Degraded' ? 'Warning' : 'Critical');

export function serviceRoot(server: SimServer): Doc {
  return {
    ...doc('', 'ServiceRoot.1.0.0', {
      AccountService: odata('/AccountService'),
      Chassis: odata('/Chassis'),
      Id: 'v1',
      Managers: odata('/Managers'),
      Name: 'HP RESTful Root Service',
      RedfishVersion: '1.0.0',
      ServiceVersion: '1.0.0',
      SessionService: odata('/SessionService'),
      Systems: odata('/Systems'),
      UUID: server.uuid,
      Links: { Sessions: odata('/SessionService/Sessions') },
      Oem: {
        Hp: {
          Type: 'HpiLOServiceExt.0.0.1',
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
    }, {
      AccountService: href('/AccountService'),
      Chassis: href('/Chassis'),
      Managers: href('/Managers'),
      Sessions: href('/SessionService/Sessions'),
      Systems: href('/Systems'),
    }),
  };
}

/** Override targets iLO 4 takes. */
export const ILO4_TARGETS = ['None', 'Floppy', 'Cd', 'Hdd', 'Usb', 'Utilities', 'Diags', 'BiosSetup', 'Pxe', 'UefiShell', 'UefiTarget'];

export function system(server: SimServer): Doc {
  const m = server.model;
  const once = server.oneTimeBoot;
  const power = server.powerState === 'on' ? 'On' : 'Off';
  const rom = m.romOverRest;
  const uefi = server.bootMode.current === 'uefi';
  const hpLinks: Record<string, unknown> = {
    EthernetInterfaces: href('/Systems/1/EthernetInterfaces'),
    Memory: href('/Systems/1/Memory'),
    PCIDevices: href('/Systems/1/PCIDevices'),
    SmartStorage: href('/Systems/1/SmartStorage'),
    ...(rom ? { BIOS: href('/systems/1/bios'), SecureBoot: href('/Systems/1/SecureBoot') } : {}),
  };
  const summary = server.health.summary();
  const worst = Object.values(summary).includes('Failed') ? 'Critical' : Object.values(summary).includes('Degraded') ? 'Warning' : 'OK';
  return doc(
    '/Systems/1',
    'ComputerSystem.1.0.1',
    {
      Actions: {
        '#ComputerSystem.Reset': {
          'ResetType@DMTF.AllowableValues': ['On', 'ForceOff', 'ForceRestart', 'Nmi', 'PushPowerButton'],
          'ResetType@Redfish.AllowableValues': ['On', 'ForceOff', 'ForceRestart', 'Nmi', 'PushPowerButton'],
          target: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset/',
        },
      },
      AssetTag: '',
      AvailableActions: [{ Action: 'Reset', Capabilities: [{ AllowableValues: ['On', 'ForceOff', 'ForceRestart', 'Nmi', 'PushPowerButton'], PropertyName: 'ResetType' }] }],
      Bios: { Current: { VersionString: m.biosVersion } },
      BiosVersion: m.biosVersion,
      Boot: {
        BootSourceOverrideEnabled: once ? 'Once' : 'Disabled',
        BootSourceOverrideSupported: ILO4_TARGETS,
        'BootSourceOverrideTarget@Redfish.AllowableValues': ILO4_TARGETS,
        BootSourceOverrideTarget: once ? TARGET_OF[once.device] : 'None',
        UefiTargetBootSourceOverride: 'None',
        UefiTargetBootSourceOverrideSupported: uefi ? server.uefiOrder.map((e, i) => uefiDevicePath(e, i)) : [],
      },
      Description: 'Computer System View',
      EthernetInterfaces: odata('/Systems/1/EthernetInterfaces'),
      HostCorrelation: { HostMACAddress: server.macs.host, HostName: '' },
      Id: '1',
      IndicatorLED: 'Off',
      Manufacturer: 'HP',
      Memory: { '@odata.id': at('/Systems/1/Memory').id, Status: { HealthRollUp: health(server.health.subsystems.memory) }, TotalSystemMemoryGB: (m.dimm.count * m.dimm.mib) / 1024 },
      MemorySummary: { Status: { HealthRollup: health(server.health.subsystems.memory) }, TotalSystemMemoryGiB: (m.dimm.count * m.dimm.mib) / 1024 },
      Model: server.identity.productName,
      Name: 'Computer System',
      Oem: {
        Hp: {
          '@odata.type': '#HpComputerSystemExt.1.2.2.HpComputerSystemExt',
          Actions: {
            '#HpComputerSystemExt.PowerButton': { 'PushType@Redfish.AllowableValues': ['Press', 'PressAndHold'], target: '/redfish/v1/Systems/1/Actions/Oem/Hp/ComputerSystemExt.PowerButton/' },
            '#HpComputerSystemExt.SystemReset': { 'ResetType@Redfish.AllowableValues': ['ColdBoot'], target: '/redfish/v1/Systems/1/Actions/Oem/Hp/ComputerSystemExt.SystemReset/' },
          },
          AvailableActions: [
            { Action: 'PowerButton', Capabilities: [{ AllowableValues: ['Press', 'PressAndHold'], PropertyName: 'PushType' }, { AllowableValues: ['/Oem/Hp'], PropertyName: 'Target' }] },
            { Action: 'SystemReset', Capabilities: [{ AllowableValues: ['ColdBoot'], PropertyName: 'ResetType' }, { AllowableValues: ['/Oem/Hp'], PropertyName: 'Target' }] },
          ],
          Bios: { Backup: { Family: m.biosFamily }, Current: { Family: m.biosFamily, VersionString: m.biosVersion }, UefiClass: uefiClassOf(m) },
          PostState: server.postState,
          PowerAllocationLimit: 500,
          PowerRegulatorMode: 'Dynamic',
          Type: 'HpComputerSystemExt.1.2.2',
          VirtualProfile: 'Inactive',
          links: hpLinks,
        },
      },
      Power: power,
      PowerState: power,
      ProcessorSummary: { Count: m.cpu.count, Model: m.cpu.model, Status: { HealthRollup: health(server.health.subsystems.processor) } },
      Processors: { '@odata.id': at('/Systems/1/Processors').id, Count: m.cpu.count, ProcessorFamily: m.cpu.model, Status: { HealthRollUp: health(server.health.subsystems.processor) } },
      SKU: '719064-B21',
      SerialNumber: server.identity.serialNumber,
      Status: { Health: worst, State: 'Enabled' },
      SystemType: 'Physical',
      UUID: server.uuid,
    },
    { Chassis: [href('/Chassis/1')], ManagedBy: [href('/Managers/1')], Processors: href('/Systems/1/Processors') },
  );
}

/** The BIOS settings, flat (iLO 4 has no `Attributes` object): current or pending. */
export function bios(server: SimServer, pending: boolean): Doc {
  const mode = pending ? server.bootMode.pending : server.bootMode.current;
  const rest = pending ? '/systems/1/bios/Settings' : '/systems/1/bios';
  return doc(rest, 'HpBios.1.2.0', {
    AttributeRegistry: `HpBiosAttributeRegistry${server.model.biosFamily}.1.1.00`,
    BootMode: mode === 'uefi' ? 'Uefi' : 'LegacyBios',
    Description: pending ? 'This is the Server BIOS Pending Settings.' : 'This is the Server BIOS Configuration.',
    Id: pending ? 'Settings' : 'bios',
    Name: pending ? 'BIOS Pending Settings' : 'BIOS Current Settings',
    ...(pending ? server.bios.pending : server.bios.current),
    ...(pending ? {} : { SettingsResult: { ETag: '', Messages: [{ MessageID: `${BASE0}.Success` }], Time: '' } }),
  }, pending ? {} : {
    BaseConfigs: href('/systems/1/bios/BaseConfigs'),
    Boot: href('/systems/1/bios/Boot'),
    Mappings: href('/systems/1/bios/Mappings'),
    Settings: href('/systems/1/bios/Settings'),
    iScsi: href('/systems/1/bios/iScsi'),
  });
}

/**
 * The ROM's default settings, read-only: `BaseConfigs` is a list of named
 * sets, `default` the manufacturing one (a client PATCHes it to the BIOS
 * Settings resource to reset the ROM). The boot mode is SimServer's, not
 * the ROM's: as the iLO 5 simulator's #Bios.ResetBios, a reset keeps it.
 */
export function baseConfigs(server: SimServer): Doc {
  return doc('/systems/1/bios/BaseConfigs', 'HpBaseConfigs.0.10.0', {
    BaseConfigs: [{ default: server.bios.defaults() }],
    Capabilities: { BaseConfig: true, BaseConfigs: false },
    Id: 'BaseConfigs',
    Modified: '2016-04-21T01:52:17+00:00',
    Name: 'BIOS Default Settings',
  });
}

export function bootSettings(server: SimServer, pending: boolean): Doc {
  const uefi = server.bootMode.current === 'uefi';
  const order = uefi ? server.uefiOrder : [];
  return doc(pending ? '/systems/1/bios/Boot/Settings' : '/systems/1/bios/Boot', 'HpServerBootSettings.1.2.0', {
    BootSources: order.map((e, i) => ({
      BootString: e.description,
      CorrelatableID: uefiDevicePath(e, i),
      StructuredBootString: structuredBootString(e, server.model),
      UEFIDevicePath: uefiDevicePath(e, i),
    })),
    DefaultBootOrder: ['Floppy', 'Cd', 'Usb', 'EmbeddedStorage', 'PcieSlotStorage', 'EmbeddedFlexLOM', 'PcieSlotNic', 'UefiShell'],
    Id: pending ? 'Settings' : 'Boot',
    Name: pending ? 'Boot Order Pending Settings' : 'Boot Order Current Settings',
    PersistentBootConfigOrder: order.map((e) => structuredBootString(e, server.model)),
  }, pending ? {} : { Settings: href('/systems/1/bios/Boot/Settings') });
}

export function iscsi(server: SimServer, pending: boolean): Doc {
  return doc(pending ? '/systems/1/bios/iScsi/Settings' : '/systems/1/bios/iScsi', 'HpiSCSISoftwareInitiator.1.0.0', {
    Id: pending ? 'Settings' : 'iScsi',
    Name: 'iSCSI Software Initiator',
    iSCSIInitiatorName: `iqn.1986-03.com.hp:uefi-${server.model.biosFamily.toLowerCase()}-${server.identity.serialNumber.toLowerCase()}`,
    iSCSIBootSources: [],
  }, pending ? {} : { Settings: href('/systems/1/bios/iScsi/Settings') });
}

export function secureBoot(server: SimServer): Doc {
  const sb = server.bios.secureBoot;
  return doc('/Systems/1/SecureBoot', 'HpSecureBoot.1.0.0', {
    Id: 'SecureBoot',
    Name: 'SecureBoot',
    ResetAllKeys: false,
    ResetToDefaultKeys: false,
    SecureBootCurrentState: sb.current,
    SecureBootEnable: sb.pending,
  });
}

export function processor(server: SimServer, id: number): Doc {
  const cpu = server.model.cpu;
  return doc(`/Systems/1/Processors/${id}`, 'Processor.1.0.0', {
    Id: String(id),
    InstructionSet: 'x86-64',
    Manufacturer: 'Intel',
    MaxSpeedMHz: 4800,
    Model: cpu.model,
    Name: 'Processors',
    ProcessorArchitecture: 'x86',
    ProcessorType: 'CPU',
    Socket: `Proc ${id}`,
    Status: { Health: health(server.health.subsystems.processor), State: 'Enabled' },
    TotalCores: cpu.cores,
    TotalThreads: cpu.threads,
  });
}

export function dimm(server: SimServer, index: number): Doc {
  const d = server.model.dimm;
  const perCpu = Math.ceil(d.count / server.model.cpu.count);
  const name = `PROC ${Math.floor(index / perCpu) + 1} DIMM ${(index % perCpu) + 1}`;
  return doc(`/Systems/1/Memory/proc${Math.floor(index / perCpu) + 1}dimm${(index % perCpu) + 1}`, 'HpMemory.1.0.0', {
    DIMMStatus: 'GoodInUse',
    DIMMTechnology: 'RDIMM',
    DIMMType: d.type,
    Id: `proc${Math.floor(index / perCpu) + 1}dimm${(index % perCpu) + 1}`,
    MaximumFrequencyMHz: d.mhz,
    Name: name,
    SizeMB: d.mib,
    SocketLocator: name,
  });
}

export function dimmPaths(server: SimServer): string[] {
  return Array.from({ length: server.model.dimm.count }, (_, i) => String(dimm(server, i).Id));
}

export function pciDevice(server: SimServer, index: number): Doc {
  const d = pciDevices(server.model)[index]!;
  return doc(`/Systems/1/PCIDevices/${index + 1}`, 'HpServerPciDevice.1.0.0', {
    BusNumber: 2 + index,
    ClassCode: d.classCode,
    DeviceID: d.deviceId,
    DeviceLocation: d.location,
    DeviceType: d.deviceType,
    Id: String(index + 1),
    Name: d.name,
    StructuredName: d.structuredName,
    SubclassCode: d.subclassCode,
    VendorID: d.vendorId,
  });
}

export function smartStorage(server: SimServer): Doc {
  return doc('/Systems/1/SmartStorage', 'HpSmartStorage.1.0.0', { Id: 'SmartStorage', Name: 'HpSmartStorage', Status: { Health: health(server.health.subsystems.storage) } }, {
    ArrayControllers: href('/Systems/1/SmartStorage/ArrayControllers'),
  });
}

export function arrayController(server: SimServer): Doc {
  const c = storageController(server.model);
  const base = '/Systems/1/SmartStorage/ArrayControllers/0';
  return doc(base, 'HpSmartStorageArrayController.1.0.0', { Id: '0', Location: c.location, Model: c.model, Name: 'HpSmartStorageArrayController', Status: { Health: 'OK', State: 'Enabled' } }, {
    LogicalDrives: href(`${base}/LogicalDrives`),
    PhysicalDrives: href(`${base}/DiskDrives`),
  });
}

export function logicalDriveDoc(server: SimServer, number: number): Doc | undefined {
  const ld = logicalDrives(server.model).find((l) => l.number === number);
  if (!ld) return undefined;
  return doc(`/Systems/1/SmartStorage/ArrayControllers/0/LogicalDrives/${number}`, 'HpSmartStorageLogicalDrive.1.1.0', {
    CapacityMiB: ld.capacityMiB,
    Id: String(number),
    LogicalDriveNumber: number,
    Name: 'HpSmartStorageLogicalDrive',
    Raid: ld.raid,
    Status: { Health: 'OK', State: 'Enabled' },
  });
}

export function diskDrive(server: SimServer, index: number): Doc | undefined {
  const d = disks(server.model)[index];
  if (!d) return undefined;
  return doc(`/Systems/1/SmartStorage/ArrayControllers/0/DiskDrives/${index}`, 'HpSmartStorageDiskDrive.1.0.0', {
    CapacityMiB: d.capacityMiB,
    Id: String(index),
    Location: d.location,
    MediaType: d.mediaType,
    Model: d.model,
    Name: 'HpSmartStorageDiskDrive',
    ...(d.rpm ? { RotationalSpeedRpm: d.rpm } : {}),
    SerialNumber: d.serial,
    Status: { Health: 'OK', State: 'Enabled' },
  });
}

export function ethernetInterface(server: SimServer, index: number): Doc {
  return doc(`/Systems/1/EthernetInterfaces/${index + 1}`, 'EthernetInterface.1.0.0', {
    FactoryMacAddress: server.macs.host[index],
    Id: String(index + 1),
    MACAddress: server.macs.host[index],
    MacAddress: server.macs.host[index],
    Name: `Port ${index + 1}`,
    Status: { Health: null, State: null },
  });
}

export function manager(server: SimServer): Doc {
  const fw = `${server.model.managerType} v${server.identity.firmwareVersion}`;
  const [major, minor] = server.identity.firmwareVersion.split('.').map(Number);
  return doc(
    '/Managers/1',
    'Manager.1.0.0',
    {
      Actions: { '#Manager.Reset': { target: '/redfish/v1/Managers/1/Actions/Manager.Reset/' } },
      AvailableActions: [{ Action: 'Reset' }],
      Description: 'Manager View',
      EthernetInterfaces: odata('/Managers/1/EthernetInterfaces'),
      Firmware: { Current: { VersionString: fw } },
      FirmwareVersion: fw,
      Id: '1',
      ManagerType: 'BMC',
      Model: server.model.managerType,
      Name: 'Manager',
      Oem: {
        Hp: {
          Firmware: { Current: { Date: server.identity.firmwareDate, DebugBuild: false, MajorVersion: major, MinorVersion: minor, Time: '', VersionString: fw } },
          License: { LicenseKey: 'XXXXX-XXXXX-XXXXX-XXXXX-XXXXX', LicenseString: server.licenceName(), LicenseType: server.licensed ? 'Perpetual' : 'Unlicensed' },
          Type: 'HpiLO.1.1.0',
          links: { LicenseService: href('/Managers/1/LicenseService') },
        },
      },
      Status: { State: 'Enabled' },
      UUID: server.uuid,
      VirtualMedia: odata('/Managers/1/VirtualMedia'),
    },
    { EthernetNICs: href('/Managers/1/EthernetInterfaces'), ManagerForServers: [href('/Systems/1')], VirtualMedia: href('/Managers/1/VirtualMedia') },
  );
}

export function managerNic(server: SimServer): Doc {
  return doc('/Managers/1/EthernetInterfaces/1', 'EthernetInterface.1.0.0', {
    FactoryMacAddress: server.macs.ilo,
    HostName: `${server.name}-ilo`,
    IPv4Addresses: [{ Address: '127.0.0.1', AddressOrigin: 'Static', Gateway: '0.0.0.0', SubnetMask: '255.0.0.0' }],
    Id: '1',
    MACAddress: server.macs.ilo,
    MacAddress: server.macs.ilo,
    Name: 'Manager Dedicated Network Interface',
    Status: { Health: 'OK', State: 'Enabled' },
  });
}

export const VM_ID: Record<SimDriveName, number> = { floppy: 1, cdrom: 2 };

export function virtualMedia(server: SimServer, device: SimDriveName): Doc {
  const d = server.drives[device];
  return doc(`/Managers/1/VirtualMedia/${VM_ID[device]}`, 'VirtualMedia.1.0.0', {
    ConnectedVia: d.connected ? 'URI' : 'NotConnected',
    Description: 'Virtual Removable Media',
    Id: String(VM_ID[device]),
    Image: d.inserted ? d.url : '',
    ImageName: d.inserted ? (d.url.split('/').pop() ?? '').split('?')[0] : '',
    Inserted: d.inserted,
    MediaTypes: device === 'cdrom' ? ['CD', 'DVD'] : ['Floppy', 'USBStick'],
    Name: 'VirtualMedia',
    Oem: { Hp: { '@odata.type': '#HpiLOVirtualMedia.1.0.0.HpiLOVirtualMedia', BootOnNextServerReset: d.bootOption === 'BOOT_ONCE' && !d.bootOnceUsed, Type: 'HpiLOVirtualMedia.1.0.0' } },
    WriteProtected: d.writeProtect,
  });
}

export function licence(server: SimServer): Doc {
  const adv = server.licensed;
  return doc('/Managers/1/LicenseService/1', 'HpiLOLicense.1.0.0', {
    Id: '1',
    License: server.licenceName(),
    LicenseKey: adv ? 'XXXXX-XXXXX-XXXXX-XXXXX-XXXXX' : '',
    LicenseType: adv ? 'Perpetual' : 'Unlicensed',
    Name: 'iLO License',
  });
}

export function sessionService(timeoutS: number): Doc {
  return doc('/SessionService', 'SessionService.1.0.0', { Id: 'SessionService', Name: 'Session Service', ServiceEnabled: true, SessionTimeout: timeoutS, Sessions: odata('/SessionService/Sessions') }, {
    Sessions: href('/SessionService/Sessions'),
  });
}

export function session(s: SimSession, mine: boolean, timeoutS: number): Doc {
  const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
  return doc(`/SessionService/Sessions/${s.id}`, 'Session.1.0.0', {
    Id: s.id,
    Name: 'User Session',
    Oem: { Hp: { AccessTime: iso(s.lastUsed), LoginTime: iso(s.created), MySession: mine, Type: 'HpiLOSession.1.0.0', UserAccount: s.username, UserExpires: iso(s.lastUsed + timeoutS * 1000), UserTag: 'REST', UserType: 'Local' } },
    UserName: s.username,
  });
}

export function chassis(server: SimServer): Doc {
  return doc('/Chassis/1', 'Chassis.1.0.0', { ChassisType: 'RackMount', Id: '1', Manufacturer: 'HP', Model: server.identity.productName, Name: 'Computer System Chassis', SerialNumber: server.identity.serialNumber }, {
    ComputerSystems: [href('/Systems/1')],
    ManagedBy: [href('/Managers/1')],
  });
}

/** The iLO 4 ExtendedError body (with its Redfish 1.0 `error` twin). */
export function extendedError(messageId: string, args?: string[]): Doc {
  return {
    Messages: [{ MessageID: messageId, ...(args ? { MessageArgs: args } : {}) }],
    Name: 'Extended Error Information',
    Type: 'ExtendedError.1.0.0',
    error: {
      '@Message.ExtendedInfo': [{ MessageId: messageId, ...(args ? { MessageArgs: args } : {}) }],
      code: `${ILO4}.ExtendedInfo`,
      message: 'See @Message.ExtendedInfo for more information.',
    },
  };
}

/** Properties that are iLO 4's pre-Redfish ones (left out when the client asks for Redfish with OData-Version). */
export const COMPAT_ONLY = ['Type', 'links', 'Items', 'Total', 'MemberType', 'AvailableActions', 'Power', 'Messages', 'Bios', 'Firmware'];

export const entryById = (order: SimBootEntry[], id: string): SimBootEntry | undefined => order.find((e) => e.id.toLowerCase() === id.toLowerCase());
