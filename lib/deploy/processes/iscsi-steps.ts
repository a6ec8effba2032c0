/**
 * The DIB deploy ramdisk's side of iscsi_ilo and pxe_ilo: it
 * exports the disk over iSCSI and calls pass_deploy_info; the controller
 * writes the image; "done" on TCP 10000 makes the ramdisk reboot.
 */
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import { notifyDibRamdisk } from '../dib-notify';
import type { Step, StepContext } from '../step';
import { configDriveFile } from '../config-drive/drive';
import type { ConfigDrive } from '../config-drive/types';
import { DeployError } from '../errors';
import { writeImageToIscsi } from '../iscsi';
import type { IscsiWriteData, RamdiskDisk } from './data';
import type { DeployDeps } from './deps';
import { imageInput, removeWorkDir, required } from './steps';

export function iscsiTargetIqn(deployId: string): string {
  return `iqn.2008-10.org.openstack:${deployId}`;
}

export function waitForDeployRamdisk(): Step<DeployDeps, IscsiWriteData> {
  return {
    name: 'wait-ramdisk',
    title: 'Wait for the deploy ramdisk to export the disk',
    resumable: true,
    timeoutMs: (ctx) => ctx.deps.settings.callbackTimeoutMs + 60_000,
    async run(ctx) {
      const body = await ctx.waitForCallback('pass_deploy_info', ctx.deps.settings.callbackTimeoutMs);
      if (typeof body.error === 'string' && body.error !== '') throw new DeployError('ramdisk', `Error returned from deploy ramdisk: ${body.error.slice(0, 500)}`);
      const address = String(body.address);
      if (!isIP(address) && !/^[A-Za-z0-9.-]{1,253}$/.test(address)) throw new DeployError('ramdisk', `the ramdisk sent an invalid address ${JSON.stringify(address.slice(0, 60))}`);
      const port = Number(body.port ?? 3260);
      const lun = Number(body.lun ?? 1);
      const iqn = String(body.iqn);
      if (!/^iqn\.[A-Za-z0-9.:-]{1,220}$/.test(iqn)) throw new DeployError('ramdisk', `the ramdisk sent an invalid iqn ${JSON.stringify(iqn.slice(0, 60))}`);
      if (!Number.isInteger(port) || port < 1 || port > 65535 || !Number.isInteger(lun) || lun < 0) throw new DeployError('ramdisk', 'the ramdisk sent an invalid iSCSI port or LUN');
      ctx.data.disk = { address, iqn, port, lun } satisfies RamdiskDisk;
      await ctx.save();
    },
  };
}

export function writeOverIscsi(): Step<DeployDeps, IscsiWriteData> {
  return {
    name: 'write-image',
    title: 'Write the image over iSCSI',
    resumable: false,
    timeoutMs: (ctx) => ctx.deps.settings.writeTimeoutMs + 600_000,
    async run(ctx) {
      const req = ctx.record.request;
      const disk = required(ctx.data.disk, "the ramdisk's iSCSI export");
      const dir = join(ctx.deps.settings.workDir, ctx.record.id);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // The config drive first: a bad one (an unreachable URL) fails before the image is fetched.
      const configdrive = req.configDrive === undefined ? undefined : await stageConfigDrive(ctx, req.configDrive, dir);
      const local = join(dir, 'image');
      await (await ctx.deps.media()).download(imageInput(req.image, req.imageChecksum), local, {
        signal: ctx.signal,
        onProgress: (bytes, total) => ctx.progress('Fetching the image', { bytes, total, percent: total ? Math.floor((bytes / total) * 100) : undefined }),
      });
      const partition = (req.imageType ?? 'whole-disk') === 'partition';
      const result = await writeImageToIscsi({
        portal: { host: disk.address, port: disk.port },
        iqn: disk.iqn,
        lun: disk.lun,
        image: local,
        imageFormat: req.imageFormat,
        imageType: partition ? 'partition' : 'whole-disk',
        partition: partition
          ? { rootMb: req.rootMb as number, bootMode: ctx.data.bootMode ?? 'bios', bootOption: req.bootOption ?? 'netboot' }
          : undefined,
        configdrive,
        initiator: ctx.deps.settings.iscsiInitiator,
        workDir: dir,
        signal: ctx.signal,
        onProgress: (p) => ctx.progress(`Writing over iSCSI: ${p.step}`, p.percent === undefined ? undefined : { bytes: 0, percent: p.percent }),
      });
      ctx.data.rootUuid = result.rootUuid;
      ctx.data.diskIdentifier = result.diskIdentifier;
      ctx.data.result = { rootUuid: result.rootUuid, efiSystemPartitionUuid: result.efiSystemPartitionUuid, diskIdentifier: result.diskIdentifier, partitions: result.partitions };
      await ctx.save();
      await removeWorkDir(ctx);
    },
  };
}

/** The config drive as a raw image in the deploy's work directory: built from the parts, decoded, or fetched from its URL through the media service. */
async function stageConfigDrive(ctx: StepContext<DeployDeps, IscsiWriteData>, drive: ConfigDrive, dir: string): Promise<{ path: string }> {
  ctx.progress('Preparing the config drive');
  const media = await ctx.deps.media();
  const { path } = await configDriveFile(drive, { uuid: ctx.record.id, name: ctx.record.serverName }, join(dir, 'configdrive.img'), async (url, to) => {
    await media.download(url, to, { signal: ctx.signal });
  });
  return { path };
}

export function notifyRamdiskDone(): Step<DeployDeps, IscsiWriteData> {
  return {
    name: 'notify-ramdisk',
    title: 'Tell the ramdisk to reboot into the instance',
    resumable: true,
    timeoutMs: 120_000,
    async run(ctx) {
      const disk = required(ctx.data.disk, "the ramdisk's iSCSI export");
      await notifyDibRamdisk(disk.address, ctx.deps.settings.dibNotifyPort ?? 10000, 60_000);
    },
  };
}
