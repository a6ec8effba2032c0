/**
 * Make the right client for an iLO from its configuration.
 *
 * "auto" probes once, without credentials: GET /redfish/v1/. When the
 * service root names an iLO 5 or later (Oem.Hpe.Manager[0].ManagerType), or
 * is a Redfish service without HPE's OEM block, Redfish is used; otherwise
 * (iLO 4, whose Redfish is partial, or no Redfish at all: iLO 2/3) RIBCL.
 * The choice holds for the client's lifetime, and the probe's connection
 * and service root are reused by the chosen provider.
 */
import type { IloEndpoint } from './endpoint';
import { invalidInput } from './errors';
import type { JsonObject } from './redfish/client';
import { RedfishBmc } from './redfish/provider';
import { RibclBmc } from './ribcl/provider';
import { IloHttpClient } from './transport';
import type { Bmc, BmcProtocol } from './types';

export type BmcProtocolChoice = 'auto' | 'ribcl' | 'redfish';

export interface BmcConfig extends IloEndpoint {
  protocol?: BmcProtocolChoice;
}

export interface ProbeResult {
  protocol: BmcProtocol;
  /** ManagerType from the service root, e.g. "iLO 5", when there is one. */
  managerType?: string;
  /** The service root, when Redfish answered. */
  root?: JsonObject;
}

/** The "auto" rule, on an already-open HTTPS client (one unauthenticated GET). */
export async function probeProtocol(http: IloHttpClient): Promise<ProbeResult> {
  const res = await http.request({ method: 'GET', path: '/redfish/v1/', headers: { accept: 'application/json' }, idempotent: true });
  if (res.statusCode !== 200) return { protocol: 'ribcl' };
  let root: JsonObject;
  try {
    root = JSON.parse(res.body.toString('utf8')) as JsonObject;
  } catch {
    return { protocol: 'ribcl' };
  }
  const oem = (root.Oem ?? {}) as Record<string, { Manager?: Array<{ ManagerType?: unknown }> }>;
  const managerType = oem.Hpe?.Manager?.[0]?.ManagerType ?? oem.Hp?.Manager?.[0]?.ManagerType;
  if (typeof managerType !== 'string') {
    // Redfish, but not an HPE iLO we know: RIBCL is certainly not there.
    return oem.Hpe || oem.Hp ? { protocol: 'ribcl' } : { protocol: 'redfish', root };
  }
  const generation = Number(/iLO\s*(\d+)/i.exec(managerType)?.[1] ?? 0);
  return generation >= 5 ? { protocol: 'redfish', managerType, root } : { protocol: 'ribcl', managerType };
}

/** Create a client; with "auto" (the default) this costs one probe request. */
export async function createBmc(config: BmcConfig): Promise<Bmc> {
  const protocol = config.protocol ?? 'auto';
  switch (protocol) {
    case 'ribcl':
      return new RibclBmc(config);
    case 'redfish':
      return new RedfishBmc(config);
    case 'auto': {
      const http = new IloHttpClient(config);
      try {
        const probe = await probeProtocol(http);
        if (probe.protocol === 'redfish') return new RedfishBmc(http, { root: probe.root });
        // RIBCL opens a connection per call: keep no idle socket from the probe.
        await http.releaseKeepAlive();
        return new RibclBmc(http);
      } catch (err) {
        await http.close();
        throw err;
      }
    }
    default:
      throw invalidInput('protocol', 'auto, ribcl or redfish', protocol);
  }
}
