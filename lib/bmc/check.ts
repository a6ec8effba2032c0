/**
 * "Test connection": log in to an iLO with a configuration that may not be
 * saved yet, read what it is, and log out again. Every answer names the
 * iLO's protocol, model and firmware; a failure keeps the typed error.
 */
import { fetchIloCertificate, type IloCertificate } from './certificate';
import { createBmc, type BmcConfig } from './connect';
import { resolveEndpoint } from './endpoint';
import type { BmcProtocol, LicenceInfo, PowerState } from './types';

export interface ConnectionReport {
  protocol: BmcProtocol;
  productName: string;
  generation?: string;
  iloFirmware?: string;
  powerState: PowerState;
  licence: LicenceInfo;
  /** What the iLO presented (undefined if it could not be read a second time). */
  certificate?: IloCertificate;
}

/** The certificate only: for pinning it. Trust is judged against the CA the config names, if any. */
export function readCertificate(config: Pick<BmcConfig, 'host' | 'port' | 'tls' | 'connectTimeoutMs'>): Promise<IloCertificate> {
  const ep = resolveEndpoint({ host: config.host, port: config.port, username: '-', password: '', tls: config.tls, connectTimeoutMs: config.connectTimeoutMs });
  return fetchIloCertificate({ host: ep.host, port: ep.port, ca: ep.tls.caPem, legacy: ep.tls.legacy, timeoutMs: ep.connectTimeoutMs });
}

/**
 * Connects exactly as the nodes will (same TLS mode, protocol choice and
 * login), reads product, firmware, power state and licence, and closes the
 * client (a Redfish session is deleted). Rejects with the BmcError the
 * nodes would meet.
 */
export async function checkConnection(config: BmcConfig): Promise<ConnectionReport> {
  const bmc = await createBmc(config);
  try {
    const [host, powerState, licence] = await Promise.all([bmc.getHostInfo(), bmc.getPowerState(), bmc.getLicence()]);
    const certificate = await readCertificate(config).catch(() => undefined);
    return {
      protocol: bmc.protocol,
      productName: host.productName,
      generation: host.generation,
      iloFirmware: host.iloFirmware,
      powerState,
      licence,
      certificate,
    };
  } finally {
    await bmc.close().catch(() => undefined);
  }
}
