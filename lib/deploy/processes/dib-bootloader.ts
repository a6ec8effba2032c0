/**
 * Local boot of a partition image with the DIB deploy ramdisk (iscsi_ilo,
 * pxe_ilo), as Ironic Kilo's iscsi deploy did it: once the image is written
 * and the server set to boot from its disk, the conductor sends "done"; the
 * ramdisk stops its iSCSI target, installs GRUB into the root filesystem
 * (its disk's last partition; in UEFI with the partition labelled efi-part
 * as /boot/efi) and reports with pass_bootloader_install_info; anything but
 * SUCCEEDED fails the deploy. The last "done" (notify-ramdisk) then makes it
 * reboot into the instance.
 */
import { notifyDibRamdisk } from '../dib-notify';
import { DeployError } from '../errors';
import type { Step } from '../step';
import type { DeployRequest } from '../types';
import type { IscsiWriteData } from './data';
import type { DeployDeps } from './deps';
import { required } from './steps';

/** A partition image booted from its disk: the ramdisk installs a boot loader. */
export function localBootPartition(req: DeployRequest): boolean {
  return (req.imageType ?? 'whole-disk') === 'partition' && req.bootOption === 'local';
}

/** boot_option for the DIB ramdisk: local only when it must install a boot loader (whole-disk images are netboot to it, so it installs none, as Kilo did). */
export function dibBootOption(req: DeployRequest): 'local' | 'netboot' {
  return localBootPartition(req) ? 'local' : 'netboot';
}

export function dibBootloaderStep(): Step<DeployDeps, IscsiWriteData> {
  return {
    name: 'install-bootloader',
    title: 'The deploy ramdisk installs the boot loader (partition image, local boot)',
    resumable: true,
    timeoutMs: (ctx) => ctx.deps.settings.callbackTimeoutMs + 120_000,
    async run(ctx) {
      if (!localBootPartition(ctx.record.request)) return;
      const disk = required(ctx.data.disk, "the ramdisk's iSCSI export");
      if (!ctx.data.bootloaderAsked) {
        await notifyDibRamdisk(disk.address, ctx.deps.settings.dibNotifyPort ?? 10000, 60_000);
        // Once only: the ramdisk stops listening while it installs, and would take a second "done" as the last one.
        ctx.data.bootloaderAsked = true;
        await ctx.save();
      }
      const body = await ctx.waitForCallback('pass_bootloader_install_info', ctx.deps.settings.callbackTimeoutMs);
      if (body.status !== 'SUCCEEDED') {
        const why = typeof body.error === 'string' && body.error !== '' ? body.error.slice(0, 500) : `status ${String(body.status).slice(0, 40)}`;
        throw new DeployError('ramdisk', `Failed to install bootloader on node ${ctx.record.id}. Error: ${why}`);
      }
      ctx.progress(`The deploy ramdisk installed the boot loader (${ctx.data.bootMode ?? 'bios'})`);
    },
  };
}
