/**
 * RIBCL management commands of the simulated iLO: virtual media, boot mode,
 * one-time and persistent boot, licences, embedded health and host data,
 * rendered like the recorded firmware replies.
 *
 * Refusals the sources do not record verbatim (licence, image fetch) use
 * wording of the simulator's own, each naming its cause; see README.
 */
import type { SimComponentStatus } from '../health';
import { disks, logicalDrives, storageController, type SimDisk } from '../inventory';
import { SimRefusal, type SimOneTimeBoot, type SimServer } from '../server';
import type { FetchOutcome, SimDriveName, SimVmOption } from '../vmedia';
import { registerRibclCommand, type CommandContext, type CommandOutcome } from './commands';
import type { RenderNode } from './render';
import { decoded } from './request';

const value = (name: string, v: string | number, unit?: string): RenderNode => ({
  name,
  attrs: unit ? [['VALUE', String(v)], ['UNIT', unit]] : [['VALUE', String(v)]],
});

/** How firmware words each refusal. */
export function ribclRefusal(err: unknown, command: string): CommandOutcome {
  if (!(err instanceof SimRefusal)) throw err;
  switch (err.kind) {
    case 'licence':
      return { status: 0x003c, message: `Feature not supported - ${command} requires an iLO Advanced license.` };
    case 'host-in-post':
      return { status: 0x0004, message: 'Problem manipulating EV' };
    case 'not-supported':
      return { status: 0x003c, message: `Feature not supported - ${command}` };
    case 'no-image':
      return { status: 0x0039, message: 'No image present in the Virtual Media drive' };
    case 'media':
      return mediaRefusal(err.media ?? 'unreachable');
    default:
      return { status: 0x0004, message: 'The value specified is invalid.' };
  }
}

function mediaRefusal(kind: string): CommandOutcome {
  const messages: Record<string, string> = {
    unreachable: 'Unable to connect to the Virtual Media URL.',
    'not-found': 'Virtual Media image not found at the URL (HTTP 404).',
    tls: 'Unable to establish a secure connection to the Virtual Media URL.',
    refused: 'The Virtual Media URL refused access.',
    'bad-reply': 'Unable to read the Virtual Media image from the URL.',
  };
  return { status: 0x0004, message: messages[kind] ?? messages.unreachable! };
}

function driveOf(ctx: CommandContext): SimDriveName | CommandOutcome {
  // Without DEVICE the firmware assumes FLOPPY (HP scripting guide).
  const d = (ctx.attr('DEVICE') ?? 'FLOPPY').trim().toUpperCase();
  if (d === 'CDROM') return 'cdrom';
  if (d === 'FLOPPY') return 'floppy';
  return { status: 0x0035, message: 'An invalid Virtual Media option has been given.' };
}

const guard = async (command: string, fn: () => CommandOutcome | Promise<CommandOutcome>): Promise<CommandOutcome> => {
  try {
    return await fn();
  } catch (err) {
    return ribclRefusal(err, command);
  }
};

// ---------------------------------------------------------------- virtual media

registerRibclCommand('GET_VM_STATUS', 'RIB_INFO', false, (ctx) => {
  const device = driveOf(ctx);
  if (typeof device !== 'string') return device;
  const d = ctx.server.drives[device];
  return {
    payload: {
      name: 'GET_VM_STATUS',
      attrs: [
        ['VM_APPLET', d.connected ? 'CONNECTED' : 'DISCONNECTED'],
        ['DEVICE', device.toUpperCase()],
        ['BOOT_OPTION', d.bootOption],
        ['WRITE_PROTECT', d.writeProtect ? 'YES' : 'NO'],
        ['IMAGE_INSERTED', d.inserted ? 'YES' : 'NO'],
        ['IMAGE_URL', d.url],
      ],
    },
  };
});

registerRibclCommand('INSERT_VIRTUAL_MEDIA', 'RIB_INFO', true, (ctx) =>
  guard('INSERT_VIRTUAL_MEDIA', () => {
    const device = driveOf(ctx);
    if (typeof device !== 'string') return device;
    const url = (ctx.attr('IMAGE_URL') ?? '').trim();
    if (!url) return { status: 0x0004, message: 'IMAGE_URL must not be blank.' };
    // RIBCL takes an insert over an inserted image.
    ctx.server.insertMedia(device, url, 'replace');
    return {};
  }),
);

registerRibclCommand('EJECT_VIRTUAL_MEDIA', 'RIB_INFO', true, (ctx) =>
  guard('EJECT_VIRTUAL_MEDIA', () => {
    const device = driveOf(ctx);
    if (typeof device !== 'string') return device;
    ctx.server.ejectMedia(device, ctx.server.model.ejectEmptyIsError);
    return {};
  }),
);

registerRibclCommand('SET_VM_STATUS', 'RIB_INFO', true, (ctx) =>
  guard('SET_VM_STATUS', async () => {
    const device = driveOf(ctx);
    if (typeof device !== 'string') return device;
    const child = (name: string): string | undefined => {
      const c = ctx.node.children.find((n) => n.name === name);
      return c ? decoded(c, 'VALUE')?.trim().toUpperCase() : undefined;
    };
    const option = child('VM_BOOT_OPTION');
    const wp = child('VM_WRITE_PROTECT');
    if (wp !== undefined && wp !== 'YES' && wp !== 'NO' && wp !== 'Y' && wp !== 'N') {
      return { status: 0x0035, message: 'An invalid Virtual Media option has been given.' };
    }
    const writeProtect = wp === undefined ? undefined : wp.startsWith('Y');
    const server = ctx.server;
    switch (option) {
      case undefined:
        server.setMediaBootOption(device, server.drives[device].bootOption, writeProtect);
        return {};
      case 'CONNECT': {
        // Connect now: the iLO reads the image; CONNECT also sets BOOT_ALWAYS.
        if (writeProtect !== undefined) server.drives[device].writeProtect = writeProtect;
        const outcome: FetchOutcome = await server.connectMedia(device);
        if (!outcome.ok) return mediaRefusal(outcome.kind);
        server.setMediaBootOption(device, 'BOOT_ALWAYS');
        return {};
      }
      case 'DISCONNECT':
        server.setMediaBootOption(device, 'NO_BOOT', writeProtect);
        server.drives[device].connected = false;
        return {};
      case 'BOOT_ONCE':
      case 'BOOT_ALWAYS':
      case 'NO_BOOT':
        server.setMediaBootOption(device, option as SimVmOption, writeProtect);
        return {};
      default:
        return { status: 0x0035, message: 'An invalid Virtual Media option has been given.' };
    }
  }),
);

// ---------------------------------------------------------------- boot mode

const MODE_NAME = { bios: 'LEGACY', uefi: 'UEFI' } as const;
const SUPPORTED_BOOT_MODE = { 'bios-only': 'LEGACY_ONLY', 'bios-and-uefi': 'LEGACY_UEFI', 'uefi-only': 'UEFI_ONLY' } as const;

registerRibclCommand('GET_CURRENT_BOOT_MODE', 'SERVER_INFO', false, ({ server }) => ({
  payload: { name: 'GET_CURRENT_BOOT_MODE', children: [value('BOOT_MODE', MODE_NAME[server.bootMode.current])] },
}));

registerRibclCommand('GET_PENDING_BOOT_MODE', 'SERVER_INFO', false, ({ server }) => ({
  payload: { name: 'GET_PENDING_BOOT_MODE', children: [value('BOOT_MODE', MODE_NAME[server.bootMode.pending])] },
}));

registerRibclCommand('GET_SUPPORTED_BOOT_MODE', 'SERVER_INFO', false, ({ server }) => ({
  payload: {
    name: 'GET_SUPPORTED_BOOT_MODE',
    children: [value('SUPPORTED_BOOT_MODE', SUPPORTED_BOOT_MODE[server.model.supportedBootModes])],
  },
}));

registerRibclCommand('SET_PENDING_BOOT_MODE', 'SERVER_INFO', true, (ctx) =>
  guard('SET_PENDING_BOOT_MODE', () => {
    const v = (ctx.attr('VALUE') ?? '').trim().toUpperCase();
    // A legacy-only ROM refuses the command whatever the value; a UEFI-only one refuses LEGACY (setPendingBootMode).
    if (ctx.server.model.supportedBootModes === 'bios-only') throw new SimRefusal('not-supported', 'legacy only');
    if (v === 'UEFI') ctx.server.setPendingBootMode('uefi');
    else if (v === 'LEGACY') ctx.server.setPendingBootMode('bios');
    else return { status: 0x0004, message: 'The value specified is invalid.' };
    return {};
  }),
);

// ---------------------------------------------------------------- one-time and persistent boot

const LEGACY_DEVICES: Record<string, SimOneTimeBoot['device']> = {
  FLOPPY: 'floppy',
  CDROM: 'cdrom',
  HDD: 'hdd',
  USB: 'usb',
  NETWORK: 'network',
  RBSU: 'setup',
};

function oneTimeFrom(server: SimServer, raw: string): SimOneTimeBoot | null | undefined {
  const v = raw.trim();
  const upper = v.toUpperCase();
  if (upper === 'NORMAL') return null;
  if (LEGACY_DEVICES[upper]) return { device: LEGACY_DEVICES[upper]!, value: upper };
  if (/^EMB-/.test(upper)) return { device: 'other', value: upper };
  const entry = server.uefiOrder.find((e) => e.id.toLowerCase() === v.toLowerCase());
  if (entry && server.bootMode.current === 'uefi') return { device: entry.device, value: entry.id };
  return undefined;
}

registerRibclCommand('GET_ONE_TIME_BOOT', 'SERVER_INFO', false, ({ server }) => ({
  payload: { name: 'ONE_TIME_BOOT', children: [value('BOOT_TYPE', server.oneTimeBoot?.value ?? 'Normal')] },
}));

registerRibclCommand('SET_ONE_TIME_BOOT', 'SERVER_INFO', true, (ctx) =>
  guard('SET_ONE_TIME_BOOT', () => {
    const boot = oneTimeFrom(ctx.server, ctx.attr('VALUE') ?? '');
    if (boot === undefined) return { status: 0x0004, message: 'The value specified is invalid.' };
    ctx.server.setOneTimeBoot(boot);
    return {};
  }),
);

registerRibclCommand('GET_PERSISTENT_BOOT', 'SERVER_INFO', false, ({ server }) => {
  const uefi = server.bootMode.current === 'uefi';
  return {
    payload: {
      name: 'PERSISTENT_BOOT',
      // Recorded firmware writes the attribute in lower case here.
      children: server.activeOrder().map((e) => ({
        name: 'DEVICE',
        attrs: uefi ? ([['value', e.id], ['DESCRIPTION', e.description]] as Array<[string, string]>) : [['value', e.id]],
      })),
    },
  };
});

registerRibclCommand('SET_PERSISTENT_BOOT', 'SERVER_INFO', true, (ctx) =>
  guard('SET_PERSISTENT_BOOT', () => {
    const ids = ctx.node.children.filter((c) => c.name === 'DEVICE').map((c) => (decoded(c, 'VALUE') ?? '').trim());
    if (ids.length === 0) return { status: 0x0004, message: 'The value specified is invalid.' };
    ctx.server.setPersistentOrder(ids);
    return {};
  }),
);

// ---------------------------------------------------------------- licence

registerRibclCommand('GET_ALL_LICENSES', 'RIB_INFO', false, ({ server }) => ({
  payload: {
    name: 'GET_ALL_LICENSES',
    spaced: true,
    children: [
      {
        name: 'LICENSE',
        children: [
          value('LICENSE_TYPE', server.licenceName()),
          value('LICENSE_KEY', server.licensed ? 'XXXXX-XXXXX-XXXXX-XXXXX-XXXXX' : ''),
          value('LICENSE_INSTALL_DATE', server.licensed ? 'Thu Mar  5 09:42:28 2015' : ''),
          value('LICENSE_CLASS', server.licensed ? 'FQL' : ''),
        ],
      },
    ],
  },
}));

// ---------------------------------------------------------------- health

const TEMP_STATUS: Record<SimComponentStatus, string> = { OK: 'OK', Degraded: 'Caution', Failed: 'Critical', 'Not Installed': 'Not Installed' };
const PSU_STATUS: Record<SimComponentStatus, string> = { OK: 'Good, In Use', Degraded: 'Degraded', Failed: 'Failed', 'Not Installed': 'Not Installed' };

function embeddedHealth(server: SimServer): RenderNode {
  const h = server.health;
  const { cpu, dimm } = server.model;
  const celsius = (name: string, v: number): RenderNode => (v > 0 ? value(name, v, 'Celsius') : value(name, 'N/A'));
  const glance = h.summary();
  const redundancy = (statuses: SimComponentStatus[]): string => (statuses.filter((s) => s === 'OK').length >= 2 ? 'Redundant' : 'Not Redundant');
  return {
    name: 'GET_EMBEDDED_HEALTH_DATA',
    spaced: true,
    children: [
      {
        name: 'FANS',
        children: h.fans.map((f) => ({
          name: 'FAN',
          children: [value('ZONE', f.zone), value('LABEL', f.label), value('STATUS', f.status), value('SPEED', f.speed, 'Percentage')],
        })),
      },
      {
        name: 'TEMPERATURE',
        children: h.temperatures.map((t) => ({
          name: 'TEMP',
          children: [
            value('LABEL', t.label),
            value('LOCATION', t.location),
            value('STATUS', TEMP_STATUS[t.status]),
            t.status === 'Not Installed' ? value('CURRENTREADING', 'N/A') : celsius('CURRENTREADING', t.reading),
            celsius('CAUTION', t.caution),
            celsius('CRITICAL', t.critical),
          ],
        })),
      },
      {
        name: 'POWER_SUPPLIES',
        children: [
          {
            name: 'POWER_SUPPLY_SUMMARY',
            children: [
              value('PRESENT_POWER_READING', server.powerState === 'on' ? '162 Watts' : '0 Watts'),
              value('POWER_MANAGEMENT_CONTROLLER_FIRMWARE_VERSION', '1.0.9'),
              value('POWER_SYSTEM_REDUNDANCY', redundancy(h.powerSupplies.map((p) => p.status))),
              value('HP_POWER_DISCOVERY_SERVICES_REDUNDANCY_STATUS', 'N/A'),
              value('HIGH_EFFICIENCY_MODE', 'Balanced'),
            ],
          },
          ...h.powerSupplies.map((p) => ({
            name: 'SUPPLY',
            children: [
              value('LABEL', p.label),
              value('PRESENT', p.status === 'Not Installed' ? 'No' : 'Yes'),
              value('STATUS', PSU_STATUS[p.status]),
              value('PDS', 'Yes'),
              value('HOTPLUG_CAPABLE', 'Yes'),
              value('MODEL', p.model),
              value('SPARE', '754377-001'),
              value('SERIAL_NUMBER', p.serial),
              value('CAPACITY', `${p.capacityWatts} Watts`),
              value('FIRMWARE_VERSION', p.firmware),
            ],
          })),
        ],
      },
      {
        name: 'PROCESSORS',
        children: Array.from({ length: cpu.count }, (_, i) => i + 1).map((n) => ({
          name: 'PROCESSOR',
          children: [
            value('LABEL', `Proc ${n}`),
            value('NAME', ` ${cpu.model}      `),
            value('STATUS', h.subsystems.processor),
            value('SPEED', `${cpu.mhz} MHz`),
            value('EXECUTION_TECHNOLOGY', `${cpu.cores}/${cpu.cores} cores; ${cpu.threads} threads`),
            value('MEMORY_TECHNOLOGY', '64-bit Capable'),
            value('INTERNAL_L1_CACHE', '768 KB'),
            value('INTERNAL_L2_CACHE', '3072 KB'),
            value('INTERNAL_L3_CACHE', '30720 KB'),
          ],
        })),
      },
      {
        name: 'MEMORY',
        children: [
          {
            name: 'ADVANCED_MEMORY_PROTECTION',
            children: [
              value('AMP_MODE_STATUS', 'Advanced ECC'),
              value('CONFIGURED_AMP_MODE', 'Advanced ECC'),
              value('AVAILABLE_AMP_MODES', 'Advanced ECC, Online Spare (Rank Sparing)'),
            ],
          },
          {
            name: 'MEMORY_DETAILS_SUMMARY',
            children: Array.from({ length: cpu.count }, (_, i) => i + 1).map((n) => ({
              name: `CPU_${n}`,
              children: [
                value('NUMBER_OF_SOCKETS', 12),
                value('TOTAL_MEMORY_SIZE', `${(dimm.count / cpu.count) * (dimm.mib / 1024)} GB`),
                value('OPERATING_FREQUENCY', `${dimm.mhz} MHz`),
                value('OPERATING_VOLTAGE', '1.20 v'),
              ],
            })),
          },
        ],
      },
      {
        name: 'NIC_INFORMATION',
        children: [
          ...server.macs.host.map((mac, i) => ({
            name: 'NIC',
            children: [
              value('NETWORK_PORT', `Port ${i + 1}`),
              value('PORT_DESCRIPTION', 'N/A'),
              value('LOCATION', 'Embedded'),
              value('MAC_ADDRESS', mac),
              value('IP_ADDRESS', 'N/A'),
              value('STATUS', 'Unknown'),
            ],
          })),
          {
            name: 'NIC',
            children: [
              value('NETWORK_PORT', 'iLO Dedicated Network Port'),
              value('PORT_DESCRIPTION', 'iLO Dedicated Network Port'),
              value('LOCATION', 'Embedded'),
              value('MAC_ADDRESS', server.macs.ilo),
              value('IP_ADDRESS', '127.0.0.1'),
              value('STATUS', 'OK'),
            ],
          },
        ],
      },
      storageHealth(server),
      {
        name: 'FIRMWARE_INFORMATION',
        children: [
          ['iLO', `${server.identity.firmwareVersion} ${server.identity.firmwareDate}`],
          // iLO 4 names the ROM after the brand of its day; iLO 5 and 6 say just "System ROM".
          [server.model.managementProcessor === 'iLO4' ? 'HP ProLiant System ROM' : 'System ROM', server.model.biosVersion],
          ['Intelligent Platform Abstraction Data', '23.6.0 Build 13'],
          ['Power Management Controller Firmware', '1.0.9'],
        ].map(([n, v], i) => ({ name: `INDEX_${i + 1}`, children: [value('FIRMWARE_NAME', n!), value('FIRMWARE_VERSION', v!)] })),
      },
      {
        name: 'HEALTH_AT_A_GLANCE',
        children: [
          { name: 'BIOS_HARDWARE', attrs: [['STATUS', glance.bios_hardware!]] },
          { name: 'FANS', attrs: [['STATUS', glance.fans!]] },
          { name: 'FANS', attrs: [['REDUNDANCY', redundancy(h.fans.map((f) => f.status))]] },
          { name: 'TEMPERATURE', attrs: [['STATUS', glance.temperature!]] },
          { name: 'POWER_SUPPLIES', attrs: [['STATUS', glance.power_supplies!]] },
          { name: 'POWER_SUPPLIES', attrs: [['REDUNDANCY', redundancy(h.powerSupplies.map((p) => p.status))]] },
          { name: 'PROCESSOR', attrs: [['STATUS', glance.processor!]] },
          { name: 'MEMORY', attrs: [['STATUS', glance.memory!]] },
          { name: 'NETWORK', attrs: [['STATUS', glance.network!]] },
          { name: 'STORAGE', attrs: [['STATUS', glance.storage!]] },
        ],
      },
    ],
  };
}

/**
 * STORAGE as iLO 4 and later report a Smart Array: the controller, its
 * drive enclosure, each logical drive with the physical drives in it, and
 * drives in no logical drive directly under the controller. Capacities are
 * binary gigabytes written "GB", as firmware writes them ("558 GB" for a
 * 600 GB drive).
 */
function storageHealth(server: SimServer): RenderNode {
  const c = storageController(server.model);
  const all = disks(server.model);
  const gb = (mib: number): string => `${Math.floor(mib / 1024)} GB`;
  const status = TEMP_STATUS[server.health.subsystems.storage];
  const physical = (d: SimDisk): RenderNode => {
    const [port, box, bay] = d.location.split(':');
    const where = `Port ${port} Box ${box} Bay ${bay}`;
    return {
      name: 'PHYSICAL_DRIVE',
      children: [
        value('LABEL', where),
        value('STATUS', 'OK'),
        value('SERIAL_NUMBER', d.serial),
        value('MODEL', d.model),
        value('CAPACITY', gb(d.capacityMiB)),
        value('MARKETING_CAPACITY', `${Math.round((d.capacityMiB * 1.048576) / 1000)} GB`),
        value('LOCATION', where),
        value('FW_VERSION', 'HPD4'),
        value('DRIVE_CONFIGURATION', d.logicalDrive ? 'Configured' : 'Unassigned'),
        value('ENCRYPTION_STATUS', 'Not Encrypted'),
        value('MEDIA_TYPE', d.mediaType),
      ],
    };
  };
  return {
    name: 'STORAGE',
    children: [
      {
        name: 'CONTROLLER',
        children: [
          value('LABEL', c.location === 'Slot 0' ? 'Controller on System Board' : `Controller in ${c.location}`),
          value('STATUS', status),
          value('CONTROLLER_STATUS', status),
          value('SERIAL_NUMBER', `PEYHB0${server.identity.serialNumber.slice(-6)}`),
          value('MODEL', c.model),
          value('FW_VERSION', c.firmware),
          value('CACHE_MODULE_STATUS', 'OK'),
          value('CACHE_MODULE_SERIAL_NUM', `PBKUD0${server.identity.serialNumber.slice(-6)}`),
          value('CACHE_MODULE_MEMORY', '2097152 KB'),
          { name: 'DRIVE_ENCLOSURE', children: [value('LABEL', 'Port 1I Box 1'), value('STATUS', 'OK'), value('DRIVE_BAY', String(all.length).padStart(2, '0'))] },
          ...logicalDrives(server.model).map((ld) => ({
            name: 'LOGICAL_DRIVE',
            children: [
              value('LABEL', String(ld.number).padStart(2, '0')),
              value('STATUS', 'OK'),
              value('CAPACITY', gb(ld.capacityMiB)),
              value('FAULT_TOLERANCE', ld.raid === '1' ? 'RAID 1/RAID 1+0' : 'RAID 0'),
              value('ENCRYPTION_STATUS', 'Not Encrypted'),
              ...all.filter((d) => d.logicalDrive === ld.number).map(physical),
            ],
          })),
          ...all.filter((d) => !d.logicalDrive).map(physical),
        ],
      },
    ],
  };
}

registerRibclCommand('GET_EMBEDDED_HEALTH', 'SERVER_INFO', false, ({ server }) => ({ payload: embeddedHealth(server) }));

// ---------------------------------------------------------------- host data (SMBIOS)

function smbios(type: number, handle: number, fields: Array<[string, string]>): RenderNode {
  // A token structure (type, length, handle, strings): firmware sends the raw record; clients read the FIELDs.
  const strings = Buffer.from(fields.map(([, v]) => v).join('\0') + '\0\0', 'latin1');
  const raw = Buffer.concat([Buffer.from([type, 4, handle & 0xff, handle >> 8]), strings]);
  return {
    name: 'SMBIOS_RECORD',
    attrs: [
      ['TYPE', String(type)],
      ['B64_DATA', raw.toString('base64')],
    ],
    children: fields.map(([n, v]) => ({ name: 'FIELD', attrs: [['NAME', n], ['VALUE', v]] as Array<[string, string]> })),
  };
}

registerRibclCommand('GET_HOST_DATA', 'SERVER_INFO', false, ({ server }) => {
  const { cpu, dimm } = server.model;
  const serial = server.identity.serialNumber.padEnd(16, ' ');
  const macFields: Array<[string, string]> = [];
  server.macs.host.forEach((mac, i) => macFields.push(['Port', String(i + 1)], ['MAC', mac.toUpperCase().replace(/:/g, '-')]));
  macFields.push(['Port', 'iLO'], ['MAC', server.macs.ilo.toUpperCase().replace(/:/g, '-')]);
  const shortUuid = `${server.uuid.replace(/-/g, '').slice(0, 6)}${server.identity.serialNumber}`.slice(0, 16);
  return {
    payload: {
      name: 'GET_HOST_DATA',
      children: [
        smbios(0, 0, [
          ['Family', server.model.biosFamily],
          ['Date', server.model.biosDate],
        ]),
        smbios(1, 1, [
          ['Product Name', server.identity.productName],
          ['Serial Number', serial],
          ['UUID', shortUuid],
          ['cUUID', server.uuid],
        ]),
        ...Array.from({ length: cpu.count }, (_, i) =>
          smbios(4, 4 + i, [
            ['Label', `Proc ${i + 1}`],
            ['Speed', `${cpu.mhz} MHz`],
            ['Execution Technology', `${cpu.cores} of ${cpu.cores} cores; ${cpu.threads} threads`],
            ['Memory Technology', '64-bit Capable'],
          ]),
        ),
        smbios(17, 17, [
          ['Label', 'PROC  1 DIMM  1 '],
          ['Size', `${dimm.mib} MB`],
          ['Speed', `${dimm.mhz} MHz`],
        ]),
        smbios(209, 209, macFields),
        smbios(226, 226, [
          ['Serial Number', serial],
          ['cUUID', server.uuid],
        ]),
      ],
    },
  };
});
