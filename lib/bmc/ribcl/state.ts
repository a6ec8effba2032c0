/**
 * Several RIBCL reads in one request: everything a step needs to know
 * about a server (power, boot mode, host data, virtual media, one-time
 * boot, persistent boot order, licence) for the price of one TLS handshake, where asking each
 * costs one each. Firmware without the boot-mode commands (iLO 3, some
 * iLO 4) refuses the whole request; it is then asked once more without
 * them, and the answer says boot modes are not supported.
 */
import { generationOf } from '../boot-devices';
import { isBmcError } from '../errors';
import { parseVirtualMediaDevice } from '../management-input';
import type { BmcState, BmcStateQuery, HostInfo, VirtualMediaDevice } from '../types';
import type { RibclClient } from './client';
import { decodePowerState, ribcl } from './commands';
import { decodeHostData, nicsFromSmbios, smbiosField } from './health';
import { decodeBootMode, decodeFwVersion, decodeLicences, decodeOneTimeBoot, decodePersistentBoot, decodeProductName, decodeVmStatus, ribclManagement as m } from './management';
import type { RibclCommand, RibclReply } from './protocol';

/** What to read (see BmcStateQuery). */
export type RibclStateQuery = BmcStateQuery;

export type RibclState = BmcState;

function commandsFor(q: RibclStateQuery, devices: VirtualMediaDevice[], withBootMode: boolean): RibclCommand[] {
  const commands: RibclCommand[] = [];
  if (q.power) commands.push(ribcl.getHostPowerStatus());
  if (q.hostInfo) commands.push(m.getProductName(), m.getHostData(), m.getFwVersion());
  for (const d of devices) commands.push(m.getVmStatus(d));
  if (q.oneTimeBoot) commands.push(m.getOneTimeBoot());
  if (q.persistentBootOrder) commands.push(m.getPersistentBoot());
  if (q.licence) commands.push(m.getAllLicenses());
  // Last: on firmware that refuses them, nothing before is lost by asking again without.
  if (withBootMode) commands.push(m.getCurrentBootMode(), m.getPendingBootMode(), m.getSupportedBootMode());
  return commands;
}

/** Read what `query` names in one request (two on firmware without boot-mode commands). */
export async function readRibclState(client: RibclClient, query: RibclStateQuery, target?: string): Promise<RibclState> {
  if (typeof query !== 'object' || query === null) throw new TypeError('readState: expected an object naming what to read');
  const devices = [...new Set((query.virtualMedia ?? []).map((d) => parseVirtualMediaDevice(d)))];
  let withBootMode = query.bootMode === true || query.pendingBootMode === true;
  const first = commandsFor(query, devices, withBootMode);
  if (first.length === 0) return { requests: 0 };
  let reply: RibclReply;
  let requests = 1;
  try {
    reply = await client.send(first);
  } catch (err) {
    if (!withBootMode || !isBmcError(err, 'not-supported')) throw err;
    withBootMode = false;
    const again = commandsFor(query, devices, false);
    requests = 2;
    reply = again.length ? await client.send(again) : { payload: [], warnings: [], documents: 0 };
  }
  const state: RibclState = { requests };
  if (query.power) state.powerState = decodePowerState(reply, target);
  if (query.hostInfo) state.hostInfo = decodeHostInfo(reply, target);
  if (devices.length) state.virtualMedia = Object.fromEntries(devices.map((d) => [d, decodeVmStatus(reply, d, target)]));
  if (query.oneTimeBoot) state.oneTimeBoot = decodeOneTimeBoot(reply, target);
  if (query.persistentBootOrder) state.persistentBootOrder = decodePersistentBoot(reply, target);
  if (query.licence) state.licence = decodeLicences(reply, target);
  if (query.bootMode || query.pendingBootMode) {
    state.bootModeSupported = withBootMode;
    if (withBootMode) {
      const mode = decodeBootMode(reply, target);
      if (query.bootMode) state.bootMode = mode;
      if (query.pendingBootMode) state.pendingBootMode = mode.pending;
    }
  }
  return state;
}

/** HostInfo from the GET_PRODUCT_NAME, GET_HOST_DATA and GET_FW_VERSION answers of one reply. */
export function decodeHostInfo(reply: RibclReply, target?: string): HostInfo {
  const smbios = decodeHostData(reply, target);
  const fw = decodeFwVersion(reply, target);
  const productName = decodeProductName(reply, target) || smbiosField(smbios, 1, 'Product Name') || '';
  const family = smbiosField(smbios, 0, 'Family');
  const date = smbiosField(smbios, 0, 'Date');
  const info: HostInfo = { productName, nics: nicsFromSmbios(smbios) };
  const generation = generationOf(productName);
  if (generation) info.generation = generation;
  const serial = smbiosField(smbios, 1, 'Serial Number') ?? smbiosField(smbios, 226, 'Serial Number');
  if (serial) info.serialNumber = serial;
  const uuid = smbiosField(smbios, 1, 'cUUID') ?? smbiosField(smbios, 226, 'cUUID') ?? smbiosField(smbios, 1, 'UUID');
  if (uuid) info.uuid = uuid;
  if (fw.processor) info.managementProcessor = fw.processor;
  if (fw.firmware) info.iloFirmware = fw.firmware;
  if (family || date) info.biosVersion = [family, date].filter(Boolean).join(' ');
  return info;
}
