/**
 * Where an iLO keeps things, discovered from links (HPE asks clients not to
 * hard-code URIs below the service root) and cached for the client's
 * lifetime: these never change. Collections are read with `$expand=.`
 * (iLO 5 supports it), so each costs one round trip.
 */
import { BmcError } from '../errors';
import type { VirtualMediaDevice } from '../types';
import type { JsonObject, RedfishClient } from './client';

export interface VirtualMediaLinks {
  member: string;
  insert: string;
  eject: string;
  /** The member has Oem.Hpe.BootOnNextServerReset (the CD-ROM on iLO 5). */
  bootOnNextReset: boolean;
}

export const odataId = (v: unknown): string | undefined => {
  const id = (v as { '@odata.id'?: unknown } | undefined)?.['@odata.id'];
  return typeof id === 'string' ? id : undefined;
};

export const obj = (v: unknown): JsonObject => (v && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : {});

export class RedfishLinks {
  private readonly cache = new Map<string, Promise<unknown>>();
  private readonly watchers = new Set<(path: string, doc: JsonObject) => void>();

  constructor(
    private readonly client: RedfishClient,
    root?: JsonObject,
  ) {
    if (root) this.cache.set('root', Promise.resolve(root));
  }

  private once<T>(name: string, load: () => Promise<T>): Promise<T> {
    let p = this.cache.get(name) as Promise<T> | undefined;
    if (!p) {
      p = load();
      this.cache.set(name, p);
      // A failed discovery is tried again next time.
      p.catch(() => this.cache.delete(name));
    }
    return p;
  }

  /**
   * Be told of each resource discovery reads in full while `fn` is watching
   * (a read scope takes them, so that a discovery and a read of the same
   * resource in one scope cost one request). Returns the unwatch function.
   */
  watch(fn: (path: string, doc: JsonObject) => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  private seen(path: string, doc: JsonObject): JsonObject {
    for (const w of this.watchers) w(path, doc);
    return doc;
  }

  private missing(what: string): BmcError {
    return new BmcError('not-supported', `this iLO's Redfish service has no ${what}`, { target: this.client.target });
  }

  root(): Promise<JsonObject> {
    return this.once('root', () => this.client.get('/redfish/v1/', 'read the Redfish service root'));
  }

  /** The first member of a collection linked from `parent[prop]`, expanded when the iLO allows. */
  private async firstMember(parent: JsonObject, prop: string, what: string): Promise<JsonObject> {
    const collection = odataId(parent[prop]);
    if (!collection) throw this.missing(what);
    const c = await this.client.get(`${collection}?$expand=.`, `find the ${what}`);
    const first = Array.isArray(c.Members) ? obj(c.Members[0]) : undefined;
    const id = odataId(first);
    if (!first || !id) throw this.missing(what);
    // An iLO that did not expand gives only the link: fetch the member.
    return this.seen(id, Object.keys(first).length > 1 ? first : await this.client.get(id, `read the ${what}`));
  }

  /** The ComputerSystem as first seen (for what never changes: links, UEFI class, action targets). */
  system(): Promise<JsonObject> {
    return this.once('system', async () => this.firstMember(await this.root(), 'Systems', 'computer system'));
  }

  manager(): Promise<JsonObject> {
    return this.once('manager', async () => this.firstMember(await this.root(), 'Managers', 'manager'));
  }

  chassis(): Promise<JsonObject> {
    return this.once('chassis', async () => this.firstMember(await this.root(), 'Chassis', 'chassis'));
  }

  async systemUri(): Promise<string> {
    const id = odataId(await this.system());
    if (!id) throw this.missing('computer system');
    return id;
  }

  async resetTarget(): Promise<string> {
    const s = await this.system();
    const t = obj(obj(s.Actions)['#ComputerSystem.Reset']).target;
    return typeof t === 'string' ? t : `${await this.systemUri()}Actions/ComputerSystem.Reset/`;
  }

  async coldBootTarget(): Promise<string> {
    const s = await this.system();
    const t = obj(obj(obj(obj(s.Oem).Hpe).Actions)['#HpeComputerSystemExt.SystemReset']).target;
    if (typeof t !== 'string') throw this.missing('HPE SystemReset (cold boot) action');
    return t;
  }

  /** BIOS current settings URI and its pending settings object. */
  bios(): Promise<{ current: string; pending: string }> {
    return this.once('bios', async () => {
      const current = odataId((await this.system()).Bios);
      if (!current) throw this.missing('BIOS resource');
      const doc = this.seen(current, await this.client.get(current, 'read the BIOS settings'));
      const pending = odataId(obj(doc['@Redfish.Settings']).SettingsObject);
      if (!pending) throw this.missing('pending BIOS settings object');
      return { current, pending };
    });
  }

  /** Oem.Hpe.Bios.UefiClass: 0 legacy only, 2 legacy and UEFI, 3 UEFI only. */
  async uefiClass(): Promise<number | undefined> {
    const s = await this.system();
    const hpe = obj(obj(s.Oem).Hpe ?? obj(s.Oem).Hp);
    const c = obj(hpe.Bios).UefiClass;
    return typeof c === 'number' ? c : undefined;
  }

  async bootOptions(): Promise<string> {
    const id = odataId(obj((await this.system()).Boot).BootOptions);
    if (!id) throw this.missing('boot options collection');
    return id;
  }

  async ethernetInterfaces(): Promise<string | undefined> {
    return odataId((await this.system()).EthernetInterfaces);
  }

  /** Virtual media members, told apart by MediaTypes (member ids are not to be hard-coded). */
  virtualMedia(): Promise<Record<VirtualMediaDevice, VirtualMediaLinks>> {
    return this.once('vmedia', async () => {
      const collection = odataId((await this.manager()).VirtualMedia);
      if (!collection) throw this.missing('virtual media');
      const c = await this.client.get(`${collection}?$expand=.`, 'find the virtual media drives');
      const members: JsonObject[] = [];
      for (const m of Array.isArray(c.Members) ? c.Members : []) {
        const id = odataId(m);
        if (id) members.push(Object.keys(obj(m)).length > 1 ? obj(m) : await this.client.get(id, 'read a virtual media drive'));
      }
      const find = (types: string[]): VirtualMediaLinks => {
        const m = members.find((x) => Array.isArray(x.MediaTypes) && x.MediaTypes.some((t) => types.includes(String(t))));
        const id = odataId(m);
        if (!m || !id) throw this.missing(`${types[0]} virtual media drive`);
        const actions = obj(m.Actions);
        const oemActions = obj(obj(obj(m.Oem).Hpe).Actions);
        const target = (std: string, oem: string, fallback: string): string => {
          const t = obj(actions[std]).target ?? obj(oemActions[oem]).target;
          return typeof t === 'string' ? t : `${id}${fallback}`;
        };
        return {
          member: id,
          insert: target('#VirtualMedia.InsertMedia', '#HpeiLOVirtualMedia.InsertVirtualMedia', 'Actions/VirtualMedia.InsertMedia/'),
          eject: target('#VirtualMedia.EjectMedia', '#HpeiLOVirtualMedia.EjectVirtualMedia', 'Actions/VirtualMedia.EjectMedia/'),
          bootOnNextReset: 'BootOnNextServerReset' in obj(obj(m.Oem).Hpe),
        };
      };
      return { cdrom: find(['CD', 'DVD']), floppy: find(['Floppy', 'USBStick']) };
    });
  }

  /** The licence resource (HPE OEM LicenseService). */
  licence(): Promise<string> {
    return this.once('licence', async () => {
      const m = await this.manager();
      const collection = odataId(obj(obj(obj(m.Oem).Hpe).Links).LicenseService);
      if (!collection) throw this.missing('licence service');
      const first = await this.firstMember({ L: { '@odata.id': collection } }, 'L', 'licence');
      const id = odataId(first);
      if (!id) throw this.missing('licence');
      return id;
    });
  }

  async thermal(): Promise<string> {
    const id = odataId((await this.chassis()).Thermal);
    if (!id) throw this.missing('thermal data');
    return id;
  }

  async power(): Promise<string> {
    const id = odataId((await this.chassis()).Power);
    if (!id) throw this.missing('power data');
    return id;
  }
}
