/**
 * A deploy request's config drive, in the two forms Ironic's provision API
 * takes (`configdrive` of `PUT /v1/nodes/{node}/states/provision`).
 */

/** Ironic API 1.56 form: the drive's parts, built into an ISO here. */
export interface ConfigDriveParts {
  /** meta_data.json: `hostname`, `public_keys` ({name: key} or [key]), `uuid` and `name` (default: the deploy id and the server name), anything else. */
  meta_data?: Record<string, unknown>;
  /** user_data: text (e.g. `#cloud-config…`) as is; an object or array as JSON. */
  user_data?: string | Record<string, unknown> | unknown[] | null;
  /** network_data.json (OpenStack's: links by MAC, networks, routes, services). */
  network_data?: Record<string, unknown>;
  /** vendor_data2.json (Ironic API 1.59). */
  vendor_data?: Record<string, unknown>;
}

/**
 * Ironic's string form (a gzip-compressed ISO 9660 or VFAT image, base64
 * encoded; or an http(s) URL to one), or the parts.
 */
export type ConfigDrive = string | ConfigDriveParts;

export const CONFIG_DRIVE_PARTS: readonly (keyof ConfigDriveParts)[] = ['meta_data', 'user_data', 'network_data', 'vendor_data'];

/** Ironic's and ironic-python-agent's limit on the (uncompressed) drive: 64 MiB. */
export const MAX_CONFIG_DRIVE_BYTES = 64 * 1024 * 1024;

/** The size of the partition the agent (and Ironic's iSCSI deploy) adds for a whole-disk image: 64 MiB. */
export const CONFIG_DRIVE_PARTITION_BYTES = 64 * 1024 * 1024;
