/**
 * Several reads of one server at once: through the client's own readState
 * (one RIBCL request; one Redfish read per resource), or call by call for a
 * Bmc without it.
 */
import { isBmcError } from './errors';
import type { Bmc, BmcState, BmcStateQuery } from './types';

export async function readBmcState(bmc: Bmc, query: BmcStateQuery): Promise<BmcState> {
  if (bmc.readState) return bmc.readState(query);
  const before = bmc.stats.requests;
  const state: BmcState = { requests: 0 };
  if (query.power) state.powerState = await bmc.getPowerState();
  if (query.hostInfo) state.hostInfo = await bmc.getHostInfo();
  if (query.licence) state.licence = await bmc.getLicence();
  if (query.oneTimeBoot) state.oneTimeBoot = await bmc.getOneTimeBoot();
  if (query.persistentBootOrder) state.persistentBootOrder = await bmc.getPersistentBootOrder();
  for (const d of query.virtualMedia ?? []) (state.virtualMedia ??= {})[d] = await bmc.getVirtualMediaStatus(d);
  if (query.bootMode || query.pendingBootMode) {
    try {
      const mode = await bmc.getBootMode();
      if (query.bootMode) state.bootMode = mode;
      if (query.pendingBootMode) state.pendingBootMode = mode.pending;
      state.bootModeSupported = true;
    } catch (err) {
      if (!isBmcError(err, 'not-supported')) throw err;
      state.bootModeSupported = false;
    }
  }
  state.requests = bmc.stats.requests - before;
  return state;
}
