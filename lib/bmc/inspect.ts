/**
 * Inspect a server through whichever protocol its client speaks.
 */
import { BmcError } from './errors';
import { completeInspection, type InspectionProvider, type ServerInspection } from './inspection';
import { RedfishInspection } from './redfish/inspect';
import { RedfishBmc } from './redfish/provider';
import { RibclInspection } from './ribcl/inspect';
import { RibclBmc } from './ribcl/provider';
import type { Bmc } from './types';

export function inspectionProviderFor(bmc: Bmc): InspectionProvider {
  if (bmc instanceof RibclBmc) return new RibclInspection(bmc);
  if (bmc instanceof RedfishBmc) return new RedfishInspection(bmc);
  throw new BmcError('not-supported', `inspection is not available over ${bmc.protocol} for this client`, { target: bmc.target });
}

/** Read the hardware and add Ironic's properties and capabilities. */
export async function inspectServer(bmc: Bmc): Promise<ServerInspection> {
  return completeInspection(await inspectionProviderFor(bmc).readHardware());
}
