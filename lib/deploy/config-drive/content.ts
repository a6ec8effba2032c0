/**
 * What goes on a drive built from the parts, with Ironic's defaults
 * (conductor `build_configdrive`): `meta_data.uuid` is the node's UUID (here
 * the deploy id, so a rebuilt server is a new instance to cloud-init, which
 * then applies the new keys and user data) and `meta_data.name` the node's
 * name (the server's) unless given; user data as text, or JSON for an
 * object or array.
 */
import type { ConfigDriveContent } from '../../media/config-drive';
import type { ConfigDriveParts } from './types';

export interface DriveOwner {
  /** meta_data.uuid when not given. */
  uuid: string;
  /** meta_data.name when not given. */
  name?: string;
}

export function configDriveContent(parts: ConfigDriveParts, owner: DriveOwner, date?: Date): ConfigDriveContent {
  const metaData: Record<string, unknown> = { ...(parts.meta_data ?? {}) };
  if (metaData.uuid === undefined) metaData.uuid = owner.uuid;
  if (metaData.name === undefined && owner.name) metaData.name = owner.name;
  const ud = parts.user_data;
  const userData = ud === undefined || ud === null || ud === '' ? undefined : Buffer.from(typeof ud === 'string' ? ud : JSON.stringify(ud), 'utf8');
  return { metaData, userData, networkData: parts.network_data, vendorData: parts.vendor_data, date };
}
