/**
 * The iSCSI LUN a deploy ramdisk exports, and how qemu's block layer reaches
 * it: through its built-in userspace initiator (libiscsi) or, with open-iscsi,
 * through the kernel block device that a login creates. Either way it is
 * described as qemu `--image-opts` for the raw driver, which can also narrow
 * the view to a window (offset + size): how a partition is written without a
 * partition device.
 */
import { badInput } from '../errors';

export interface IscsiPortal {
  host: string;
  /** Default 3260. */
  port?: number;
}

export interface IscsiLun {
  portal: IscsiPortal;
  iqn: string;
  /** Default 1 (what Ironic's ramdisks export). */
  lun?: number;
}

export interface ResolvedLun {
  host: string;
  port: number;
  iqn: string;
  lun: number;
  /** `host:port`, IPv6 bracketed. */
  portal: string;
}

/** A byte range of the LUN. qemu wants both ends on 512-byte boundaries. */
export interface Window {
  offset: number;
  size: number;
}

const HOST = /^[A-Za-z0-9._-]+$|^[0-9A-Fa-f:.]+$/;
// Kilo's DIB ramdisk used `iqn-<uuid>`, which is not an RFC 3720 name, so the
// check is on what is safe (in a URL, in image-opts, as a path) rather than on the RFC.
const IQN = /^[A-Za-z0-9][A-Za-z0-9.:_-]{0,222}$/;

export function resolveLun(t: IscsiLun): ResolvedLun {
  if (!t || typeof t !== 'object' || !t.portal || typeof t.portal !== 'object') throw badInput('portal', 'an object { host, port? }', t?.portal);
  const host = t.portal.host;
  if (typeof host !== 'string' || !HOST.test(host) || host.startsWith('-')) throw badInput('portal.host', 'an IP address or host name', host);
  const port = t.portal.port ?? 3260;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw badInput('portal.port', 'an integer from 1 to 65535', port);
  if (typeof t.iqn !== 'string' || !IQN.test(t.iqn)) throw badInput('iqn', 'an iSCSI name of letters, digits and ". : _ -" (e.g. iqn.2008-10.org.openstack:<node>)', t.iqn);
  const lun = t.lun ?? 1;
  if (!Number.isInteger(lun) || lun < 0 || lun > 16383) throw badInput('lun', 'an integer from 0 to 16383', lun);
  return { host, port, iqn: t.iqn, lun, portal: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}` };
}

/** One `key=value` list for `--image-opts`; commas inside values are doubled, as qemu requires. */
export function imageOpts(pairs: Array<[string, string | number | undefined]>): string {
  return pairs
    .filter((p): p is [string, string | number] => p[1] !== undefined)
    .map(([k, v]) => `${k}=${String(v).replace(/,/g, ',,')}`)
    .join(',');
}

/** The raw driver over a protocol node, optionally narrowed to a window. */
export function rawOver(file: Array<[string, string | number | undefined]>, window?: Window): string {
  if (window && (window.offset % 512 !== 0 || window.size % 512 !== 0 || window.size <= 0)) {
    throw new Error(`window ${window.offset}+${window.size} is not on 512-byte boundaries`);
  }
  return imageOpts([
    ['driver', 'raw'],
    ['offset', window?.offset],
    ['size', window?.size],
    ...file.map(([k, v]): [string, string | number | undefined] => [`file.${k}`, v]),
  ]);
}

/** qemu's iscsi protocol node (libiscsi). A CHAP secret goes in a qemu secret object, by id. */
export function libiscsiNode(lun: ResolvedLun, chap?: { username: string; secretId: string }): Array<[string, string | number | undefined]> {
  return [
    ['driver', 'iscsi'],
    ['transport', 'tcp'],
    ['portal', lun.portal],
    ['target', lun.iqn],
    ['lun', lun.lun],
    ['user', chap?.username],
    ['password-secret', chap?.secretId],
  ];
}

/** qemu's node for a kernel block device. */
export function hostDeviceNode(path: string): Array<[string, string | number | undefined]> {
  return [
    ['driver', 'host_device'],
    ['filename', path],
  ];
}

/** Where udev puts a logged-in LUN (what Ironic waits for). */
export function byPathDevice(lun: ResolvedLun): string {
  return `/dev/disk/by-path/ip-${lun.portal}-iscsi-${lun.iqn}-lun-${lun.lun}`;
}
