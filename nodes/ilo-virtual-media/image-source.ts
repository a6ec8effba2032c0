/**
 * Where ilo-virtual-media gets the URL it gives the iLO: the image as given
 * when it is an http(s) URL, or, through an ilo-media-store, the URL of the
 * image published under a name stable per iLO and drive (so inserting again
 * replaces the previous object, and eject removes it).
 */
import { invalidInput, type VirtualMediaDevice } from '../../lib/bmc';
import { sanitiseObjectName } from '../../lib/store/names';

const HTTP_URL = /^https?:\/\//i;

/** Whether `image` must go through the store: anything but an http(s) URL, or everything when asked to. */
export function needsPublishing(image: unknown, publishAlways: boolean): boolean {
  return publishAlways || !(typeof image === 'string' && HTTP_URL.test(image.trim()));
}

/** "vmedia-<ilo-config id>-cdrom.iso" / "…-floppy.img": one object per iLO and drive. */
export function stableObjectName(iloConfigId: string, device: VirtualMediaDevice): string {
  return sanitiseObjectName(`vmedia-${iloConfigId}-${device}${device === 'cdrom' ? '.iso' : '.img'}`, `vmedia-${device}`);
}

/** The error for an image that needs a store when none is selected. */
export function storeNeeded(field: string, image: unknown): Error {
  return invalidInput(field, 'an http:// or https:// URL (select a media store in the node to publish a file path, swift: or glance: image)', typeof image === 'string' ? image : undefined);
}

/** Seconds from the node's field; empty: the store's default. */
export function ttlOf(v: string | number | undefined): number | undefined {
  if (v === '' || v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw invalidInput('ttl', 'a whole number of seconds (or empty for the store default)', v);
  return n;
}
