/**
 * Request checks shared by the processes: every problem names its field.
 */
import { checkConfigDrive } from '../config-drive/check';
import { badInput } from '../errors';
import { checkRootDeviceHints } from '../root-device-hints';
import type { DeployRequest } from '../types';

const MAC = /^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/;
/** In unicode mode a pair is one code point, so this finds only a surrogate without its other half. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const STRING_FIELDS = ['image', 'deployIso', 'deployKernel', 'deployRamdisk', 'instanceKernel', 'instanceRamdisk', 'bootMac', 'kernelParams'] as const;

/**
 * Every string of the request is a string, and well-formed: a lone UTF-16
 * surrogate would be turned into U+FFFD on its way into a URL, a file name
 * or the floppy, silently deploying something else than was asked.
 */
function checkStrings(req: DeployRequest): void {
  for (const field of STRING_FIELDS) {
    const v: unknown = req[field];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw badInput(field, 'a string', v);
    const lone = LONE_SURROGATE.exec(v);
    if (lone) {
      const code = (lone[0].codePointAt(0) ?? 0).toString(16).toUpperCase();
      throw badInput(field, `text without a lone UTF-16 surrogate (found U+${code} at position ${lone.index + 1}, half of a character)`);
    }
  }
}

export function validateCommon(req: DeployRequest): void {
  if (typeof req.image !== 'string' || req.image.trim() === '') throw badInput('image', 'the image to deploy: an http(s) URL, a file path, swift:container/object or glance:<id>', req.image);
  checkStrings(req);
  if (req.bootMode !== undefined && req.bootMode !== 'bios' && req.bootMode !== 'uefi') throw badInput('bootMode', 'bios or uefi (or nothing, to keep the current mode)', req.bootMode);
  if (req.imageFormat !== undefined && req.imageFormat !== 'raw' && req.imageFormat !== 'qcow2') throw badInput('imageFormat', 'raw or qcow2', req.imageFormat);
  if (req.imageType !== undefined && req.imageType !== 'whole-disk' && req.imageType !== 'partition') throw badInput('imageType', 'whole-disk or partition', req.imageType);
  if (req.bootOption !== undefined && req.bootOption !== 'local' && req.bootOption !== 'netboot') throw badInput('bootOption', 'local or netboot', req.bootOption);
  if (req.bootMac !== undefined && !MAC.test(req.bootMac)) throw badInput('bootMac', 'a MAC address like 52:54:00:12:34:56', req.bootMac);
  if (req.imageChecksum !== undefined) {
    const c = req.imageChecksum;
    const len = { md5: 32, sha256: 64, sha512: 128 }[c?.algorithm as 'md5'];
    if (!len || typeof c.value !== 'string' || !new RegExp(`^[0-9a-fA-F]{${len}}$`).test(c.value)) {
      throw badInput('imageChecksum', 'an object { algorithm: md5 | sha256 | sha512, value: hex digest of that length }', c);
    }
  }
  if (req.kernelParams !== undefined && (typeof req.kernelParams !== 'string' || /[\n\r"\\]/.test(req.kernelParams))) {
    throw badInput('kernelParams', 'kernel parameters on one line, without quotes or backslashes', req.kernelParams);
  }
  checkConfigDrive(req.configDrive);
  checkRootDeviceHints(req.rootDeviceHints);
}

export function validateDeployRamdisk(req: DeployRequest, requireKernel: boolean): void {
  const hasIso = typeof req.deployIso === 'string' && req.deployIso !== '';
  const hasKernel = typeof req.deployKernel === 'string' && req.deployKernel !== '' && typeof req.deployRamdisk === 'string' && req.deployRamdisk !== '';
  if (requireKernel && !hasKernel) throw badInput('deployKernel', 'the deploy kernel and deploy ramdisk (deployKernel and deployRamdisk) for a network boot');
  if (!requireKernel && !hasIso && !hasKernel) throw badInput('deployIso', 'a deploy ISO, or a deploy kernel and ramdisk (deployKernel and deployRamdisk) to build one from');
}

export function validatePartition(req: DeployRequest): void {
  if ((req.imageType ?? 'whole-disk') !== 'partition') return;
  if (!Number.isInteger(req.rootMb) || (req.rootMb as number) < 1) throw badInput('rootMb', 'the root partition size in MiB (a whole number) for a partition image', req.rootMb);
  // Local boot: the ramdisk installs a boot loader on the disk; netboot: the instance kernel and ramdisk boot it from an ISO or PXE.
  if ((req.bootOption ?? 'netboot') === 'local') return;
  if (!req.instanceKernel || !req.instanceRamdisk) throw badInput('instanceKernel', 'the instance kernel and ramdisk (instanceKernel, instanceRamdisk) to boot a partition image over the network (or bootOption local)');
}
