/**
 * Cleaning's out-of-band steps on an iLO 4, which RIBCL has no command for,
 * through the iLO 4 RESTful API (`/rest/v1`) beside it, as proliantutils
 * does on a Gen9: Basic authentication, pre-Redfish `links.*.href` links,
 * pending settings PATCHed to the BIOS `Settings` resource.
 *
 * - BIOS defaults: the system's `Oem.Hp.links.BIOS`, that resource's
 *   `links.BaseConfigs` (`BaseConfigs[]`, the entry holding a `default`
 *   object), PATCHed to the BIOS `links.Settings`; applied at the next POST.
 * - Secure boot keys: `Oem.Hp.links.SecureBoot`, PATCH
 *   `{"ResetToDefaultKeys": true}` or `{"ResetAllKeys": true}`; only while
 *   the host boots UEFI (read from the BIOS resource's `BootMode` first).
 *
 * What a server cannot do is told by what its iLO publishes, not by a
 * model table: a Gen8's ROM publishes no BIOS or SecureBoot resource, an
 * iLO 3 or older has no RESTful API at all; both are `not-supported`.
 * Requests go through the provider's own IloHttpClient (same TLS settings,
 * counted in its stats).
 */
import { BmcError } from '../errors';
import { RedfishClient, type JsonObject } from '../redfish/client';
import { obj } from '../redfish/links';
import type { IloHttpClient } from '../transport';
import type { SecureBootKeysReset } from '../types';

const SYSTEM = '/rest/v1/Systems/1';

/** `links.<name>.href` of a pre-Redfish resource (or of its `Oem.Hp`). */
function linkOf(doc: JsonObject, name: string): string | undefined {
  const href = obj(obj(doc.links)[name]).href;
  return typeof href === 'string' && href.length > 0 ? href : undefined;
}

class Ilo4RestCall {
  readonly client: RedfishClient;

  constructor(
    http: IloHttpClient,
    /** What the caller is doing, first in every error ("reset the BIOS settings to default"). */
    readonly operation: string,
  ) {
    this.client = new RedfishClient(http, 'basic', { odataVersion: false });
  }

  get target(): string {
    return this.client.target;
  }

  notSupported(why: string): BmcError {
    return new BmcError('not-supported', `${this.operation}: ${why}`, { target: this.target });
  }

  async get(path: string, what: string): Promise<JsonObject> {
    return this.client.get(path, `${this.operation}: ${what}`);
  }

  /** The system resource; a 404 there means no RESTful API (iLO 3 and older, iLO 4 firmware before 2.00). */
  async system(): Promise<JsonObject> {
    try {
      return await this.get(SYSTEM, `read ${SYSTEM}`);
    } catch (err) {
      if (err instanceof BmcError && err.status === '404') {
        throw new BmcError('not-supported', `${this.operation}: this iLO has no RESTful API (${SYSTEM} not found); iLO 4 offers it from firmware 2.00 on`, {
          target: this.target,
          status: err.status,
          iloMessage: err.iloMessage,
          cause: err,
        });
      }
      throw err;
    }
  }

  /** A link in the system's `Oem.Hp.links`, or not-supported saying which resource this server lacks. */
  systemLink(system: JsonObject, name: string, lacks: string): string {
    const hp = obj(obj(system.Oem).Hp);
    const href = linkOf(hp, name);
    if (href) return href;
    // An iLO 5 answers /rest/v1 too (Redfish, Oem.Hpe): its own protocol does this.
    const ilo5 = Object.keys(obj(system.Oem)).includes('Hpe') ? ' (this is an iLO 5 or later: use the Redfish protocol)' : '';
    throw this.notSupported(`${lacks}${ilo5}`);
  }
}

/** Errors from below (a dropped connection, a timeout) get the operation in front, keeping their code. */
async function named<T>(call: Ilo4RestCall, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof BmcError && !err.message.startsWith(call.operation)) {
      throw new BmcError(err.code, `${call.operation}: ${err.message}`, { target: err.target ?? call.target, status: err.status, iloMessage: err.iloMessage, reason: err.reason, cause: err });
    }
    throw err;
  }
}

/** Four requests: the system, its BIOS resource, the BaseConfigs, the PATCH of the defaults. */
export function resetBiosToDefault(http: IloHttpClient): Promise<void> {
  const call = new Ilo4RestCall(http, 'reset the BIOS settings to default');
  return named(call, async () => {
    const biosHref = call.systemLink(await call.system(), 'BIOS', "this server's ROM publishes no BIOS resource (a Gen8 has none; HPE offers BIOS defaults from Gen9 on)");
    const bios = await call.get(biosHref, 'read the BIOS settings');
    const baseConfigs = linkOf(bios, 'BaseConfigs');
    if (!baseConfigs) throw call.notSupported('the BIOS resource links no BaseConfigs (the ROM publishes no default settings)');
    // Pending settings go to the Settings resource; a ROM without one takes them on the BIOS resource itself.
    const settings = linkOf(bios, 'Settings') ?? biosHref;
    const configs = (await call.get(baseConfigs, 'read the BIOS default settings')).BaseConfigs;
    const defaults = Array.isArray(configs) ? configs.map((c) => obj(c).default).find((d) => d && typeof d === 'object' && !Array.isArray(d)) : undefined;
    if (!defaults) throw call.notSupported('the BaseConfigs resource holds no "default" settings');
    await call.client.patch(settings, defaults as JsonObject, call.operation);
  });
}

/** Three requests: the system, the BIOS resource (boot mode), the PATCH of the SecureBoot resource. */
export function resetSecureBootKeys(http: IloHttpClient, how: SecureBootKeysReset): Promise<void> {
  const call = new Ilo4RestCall(http, how === 'default' ? 'reset the secure boot keys to default' : 'clear the secure boot keys');
  return named(call, async () => {
    const system = await call.system();
    const secureBoot = call.systemLink(system, 'SecureBoot', "this server's ROM publishes no SecureBoot resource (a Gen8 has no UEFI secure boot; HPE offers it from Gen9 on)");
    const biosHref = call.systemLink(system, 'BIOS', "this server's ROM publishes no BIOS resource to read its boot mode from");
    const mode = (await call.get(biosHref, 'read the boot mode')).BootMode;
    if (typeof mode !== 'string') throw new BmcError('protocol', `${call.operation}: the BIOS resource has no BootMode`, { target: call.target });
    if (mode.toLowerCase() !== 'uefi') throw call.notSupported(`not possible while the host boots legacy BIOS (secure boot needs UEFI; BootMode is ${mode})`);
    await call.client.patch(secureBoot, how === 'default' ? { ResetToDefaultKeys: true } : { ResetAllKeys: true }, call.operation);
  });
}
