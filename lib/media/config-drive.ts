/**
 * The OpenStack config drive an instance reads its identity from (cloud-init's
 * ConfigDrive data source, Ignition, Glean): an ISO 9660 volume labelled
 * `config-2` with, in each metadata version directory under `openstack/`,
 * `meta_data.json` and, when given, `user_data`, `network_data.json` and
 * `vendor_data2.json`. The versions are the ones Ironic (through openstacksdk's
 * `configdrive.build`) writes: `2012-08-10` and `latest`, the same files in both.
 */
import { invalidMediaInput } from './errors';
import { buildIso, type IsoFile, type IsoImage } from './iso/writer';

export const CONFIG_DRIVE_LABEL = 'config-2';
export const CONFIG_DRIVE_VERSIONS: readonly string[] = ['2012-08-10', 'latest'];

export interface ConfigDriveContent {
  /** meta_data.json (always written; `uuid` is what cloud-init takes as the instance id). */
  metaData: Record<string, unknown>;
  /** user_data, as bytes (text such as `#cloud-config`, or JSON). */
  userData?: Buffer;
  /** network_data.json. */
  networkData?: Record<string, unknown>;
  /** vendor_data2.json (Ironic writes the request's `vendor_data` there). */
  vendorData?: Record<string, unknown>;
  /** Version directories under `openstack/`. Default CONFIG_DRIVE_VERSIONS. */
  versions?: readonly string[];
  /** Timestamp of the volume and of its entries. Default: now. */
  date?: Date;
}

const VERSION = /^(\d{4}-\d{2}-\d{2}|latest)$/;

function json(value: unknown, field: string): Buffer {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidMediaInput(field, 'a JSON object');
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** The files of a config drive, by path (what the ISO holds; also what a VFAT drive would hold). */
export function configDriveFiles(content: ConfigDriveContent): IsoFile[] {
  if (typeof content !== 'object' || content === null) throw invalidMediaInput('configDrive', 'an object { metaData, userData?, networkData?, vendorData? }', content);
  const versions = content.versions ?? CONFIG_DRIVE_VERSIONS;
  if (!Array.isArray(versions) || versions.length === 0 || !versions.every((v) => typeof v === 'string' && VERSION.test(v))) {
    throw invalidMediaInput('versions', 'a non-empty list of version directories (YYYY-MM-DD or latest)', versions);
  }
  if (content.userData !== undefined && !Buffer.isBuffer(content.userData)) throw invalidMediaInput('userData', 'a Buffer');
  const per: Array<[string, Buffer]> = [['meta_data.json', json(content.metaData, 'metaData')]];
  if (content.networkData !== undefined) per.push(['network_data.json', json(content.networkData, 'networkData')]);
  if (content.vendorData !== undefined) per.push(['vendor_data2.json', json(content.vendorData, 'vendorData')]);
  if (content.userData !== undefined && content.userData.length > 0) per.push(['user_data', content.userData]);
  return versions.flatMap((v) => per.map(([name, data]) => ({ path: `openstack/${v}/${name}`, data })));
}

/** The config drive as an ISO 9660 image (Rock Ridge names), labelled `config-2`. */
export function buildConfigDriveImage(content: ConfigDriveContent): IsoImage {
  return buildIso({ volumeId: CONFIG_DRIVE_LABEL, files: configDriveFiles(content), date: content.date });
}
