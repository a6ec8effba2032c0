/**
 * Make the right client for an iLO from its configuration.
 */
import type { IloEndpoint } from './endpoint';
import { BmcError, invalidInput } from './errors';
import { RibclBmc } from './ribcl/provider';
import type { Bmc } from './types';

export type BmcProtocolChoice = 'auto' | 'ribcl' | 'redfish';

export interface BmcConfig extends IloEndpoint {
  protocol?: BmcProtocolChoice;
}

/**
 * Create a client. "auto" will probe once and pick (with the Redfish
 * provider); until then it means RIBCL.
 */
export async function createBmc(config: BmcConfig): Promise<Bmc> {
  const protocol = config.protocol ?? 'auto';
  switch (protocol) {
    case 'ribcl':
    case 'auto':
      return new RibclBmc(config);
    case 'redfish':
      throw new BmcError('not-supported', 'the Redfish provider is not available yet; choose RIBCL', { field: 'protocol' });
    default:
      throw invalidInput('protocol', 'auto, ribcl or redfish', protocol);
  }
}
