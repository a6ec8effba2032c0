/**
 * iscsi_ilo: virtual media boots the DIB deploy
 * ramdisk, which exports the disk over iSCSI; the controller writes the
 * image; a partition image then boots from a boot ISO (netboot) or, with
 * local boot, from its disk through the boot loader the ramdisk installs
 * (dib-bootloader.ts); a whole-disk image from its disk.
 */
import { rootDeviceParam } from '../root-device-hints';
import type { DeployProcess } from '../step';
import type { IscsiIloData } from './data';
import { guardDeployDeps, type DeployDeps } from './deps';
import { bootIsoStep, keepBootIsoServed } from './boot-iso';
import { dibBootOption, dibBootloaderStep } from './dib-bootloader';
import { iscsiTargetIqn, notifyRamdiskDone, waitForDeployRamdisk, writeOverIscsi } from './iscsi-steps';
import {
  attachMediaStep,
  bootFromDiskStep,
  bootModeStep,
  cleanUp,
  detachDeployMediaStep,
  inspectServer,
  powerOffStep,
  powerOnStep,
  publishDeployMediaStep,
  republishWhenGone,
  required,
  teardownMedia,
  teardownPowerOff,
} from './steps';
import { preflightFor } from './preflight';
import { validateCommon, validateDeployRamdisk, validatePartition } from './validate';

export function iscsiIloProcess(): DeployProcess<DeployDeps, IscsiIloData> {
  const netboot = (r: { imageType?: string; bootOption?: string }) => (r.imageType ?? 'whole-disk') === 'partition' && (r.bootOption ?? 'netboot') === 'netboot';
  return {
    method: 'iscsi_ilo',
    preflight: preflightFor('iscsi_ilo'),
    resumeFrom: republishWhenGone,
    upkeep: keepBootIsoServed,
    validate(req) {
      validateCommon(req);
      validateDeployRamdisk(req, false);
      validatePartition(req);
    },
    guardDeps: guardDeployDeps,
    deploySteps: [
      inspectServer(true),
      bootModeStep(),
      powerOffStep(),
      publishDeployMediaStep((ctx) => ({
        deployment_id: ctx.record.id,
        deployment_key: ctx.record.token,
        iscsi_target_iqn: iscsiTargetIqn(ctx.record.id),
        ironic_api_url: ctx.deps.settings.apiUrl,
        disk: 'cciss/c0d0,sda,hda,vda',
        // Whole-disk images are "netboot" to DIB, so it installs no boot loader (Kilo did the same).
        boot_option: dibBootOption(ctx.record.request),
        // Ironic's iscsi deploy hands the ramdisk its root device hints this way.
        ...rootDeviceParams(ctx.record.request.rootDeviceHints),
        boot_mode: ctx.data.bootMode ?? 'bios',
        boot_method: 'vmedia',
        BOOTIF: required(ctx.data.bootMac, 'the boot MAC'),
        'ipa-api-url': ctx.deps.settings.apiUrl,
        'ipa-driver-name': 'iscsi_ilo',
        'coreos.configdrive': 0,
      })),
      attachMediaStep(),
      powerOnStep(),
      waitForDeployRamdisk(),
      detachDeployMediaStep(),
      writeOverIscsi(),
      {
        // Netboot (partition image): boot ISO, persistent CD. Otherwise: persistent HDD.
        ...bootIsoStep(),
        async run(ctx) {
          return netboot(ctx.record.request) ? bootIsoStep().run(ctx) : bootFromDiskStep().run(ctx);
        },
        title: 'Set the instance boot device (boot ISO to netboot a partition image, disk otherwise)',
      },
      dibBootloaderStep(),
      notifyRamdiskDone(),
    ],
    teardownSteps: [teardownPowerOff(), teardownMedia()],
    cleanup: (ctx) => cleanUp(ctx, { virtualMedia: true }),
  };
}

function rootDeviceParams(hints: Parameters<typeof rootDeviceParam>[0]): { root_device?: string } {
  const v = rootDeviceParam(hints);
  return v ? { root_device: v } : {};
}
