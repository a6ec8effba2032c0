/**
 * pxe_ilo: the iLO only manages (power, boot
 * device, boot mode); the DIB deploy ramdisk is loaded over PXE from a TFTP
 * root we write, then the iSCSI write as iscsi_ilo. No virtual media, so no
 * Advanced licence. The deploy token travels on the PXE command line, in
 * clear over TFTP: the price of PXE, said in the README.
 */
import { rootDeviceParam } from '../root-device-hints';
import type { DeployProcess, Step } from '../step';
import { DeployError } from '../errors';
import { removePxeFiles, switchPxeConfig, writePxeFiles, type PxeNodeLocation } from '../pxe';
import type { PxeIloData } from './data';
import { guardDeployDeps, type DeployDeps } from './deps';
import { dibBootOption, dibBootloaderStep } from './dib-bootloader';
import { iscsiTargetIqn, notifyRamdiskDone, waitForDeployRamdisk, writeOverIscsi } from './iscsi-steps';
import { bootModeStep, cleanUp, dropInheritedMedia, inspectServer, powerOffStep, powerOnStep, required, stageKernelAndRamdisk, teardownPowerOff, whenNotInPost, type Ctx } from './steps';
import { preflightFor } from './preflight';
import { validateCommon, validateDeployRamdisk, validatePartition } from './validate';

type PxeStep = Step<DeployDeps, PxeIloData>;

function location(ctx: Ctx<PxeIloData>): PxeNodeLocation {
  const tftpRoot = ctx.deps.settings.tftpRoot;
  if (!tftpRoot) throw new DeployError('invalid-input', 'tftpRoot: pxe_ilo needs the TFTP root directory the servers boot from', { field: 'tftpRoot' });
  return { tftpRoot, nodeId: ctx.record.id, macs: required(ctx.data.macs, "the server's MACs"), bootMode: ctx.data.bootMode ?? 'bios' };
}

function pxeSetup(): PxeStep {
  return {
    name: 'pxe-config',
    title: 'Write the PXE configuration and the deploy kernel into the TFTP root',
    resumable: true,
    timeoutMs: 1_800_000,
    async run(ctx) {
      const req = ctx.record.request;
      const loc = location(ctx);
      await dropInheritedMedia(ctx);
      const deploy = await stageKernelAndRamdisk(ctx, req.deployKernel, req.deployRamdisk, 'deploy');
      const netbootPartition = (req.imageType ?? 'whole-disk') === 'partition' && (req.bootOption ?? 'netboot') === 'netboot';
      const instance = netbootPartition ? await stageKernelAndRamdisk(ctx, req.instanceKernel, req.instanceRamdisk, 'instance') : undefined;
      ctx.data.pxe = loc;
      await ctx.save();
      await writePxeFiles({
        ...loc,
        params: {
          deploymentId: ctx.record.id,
          deploymentKey: ctx.record.token,
          apiUrl: ctx.deps.settings.apiUrl,
          iscsiTargetIqn: iscsiTargetIqn(ctx.record.id),
          bootOption: dibBootOption(req),
          rootDevice: rootDeviceParam(req.rootDeviceHints),
          appendParams: [ctx.deps.settings.deployKernelParams, 'nofb nomodeset vga=normal'].filter(Boolean).join(' '),
        },
        images: { deployKernel: deploy.kernel, deployRamdisk: deploy.ramdisk, kernel: instance?.kernel, ramdisk: instance?.ramdisk },
        pathPrefix: ctx.deps.settings.pxePathPrefix,
      });
    },
    async undo(ctx) {
      const loc = ctx.data.pxe;
      if (loc) await removePxeFiles(loc);
    },
  };
}

function networkBoot(): PxeStep {
  return {
    name: 'network-boot',
    title: 'Boot from the network (one-time and persistent)',
    resumable: true,
    timeoutMs: 300_000,
    async run(ctx) {
      const bmc = await ctx.deps.bmc();
      await whenNotInPost(ctx, 'Set the boot device', () => bmc.setOneTimeBoot('network'));
      await whenNotInPost(ctx, 'Set the boot device', () => bmc.setPersistentBootOrder(['network']));
    },
  };
}

function instanceBoot(): PxeStep {
  return {
    name: 'boot-device',
    title: 'Set the instance boot (PXE config for netboot, disk otherwise)',
    resumable: true,
    timeoutMs: 300_000,
    async run(ctx) {
      const req = ctx.record.request;
      const loc = required(ctx.data.pxe, 'the PXE file locations');
      const bmc = await ctx.deps.bmc();
      const partition = (req.imageType ?? 'whole-disk') === 'partition';
      if (partition && (req.bootOption ?? 'netboot') === 'netboot') {
        await switchPxeConfig(loc, { kind: 'partition', rootUuid: required(ctx.data.rootUuid, 'the root filesystem UUID') });
        await whenNotInPost(ctx, 'Set the boot device', () => bmc.setPersistentBootOrder(['network']));
      } else if (req.bootOption === 'netboot') {
        await switchPxeConfig(loc, { kind: 'whole-disk', diskIdentifier: required(ctx.data.diskIdentifier, 'the disk identifier') });
        await whenNotInPost(ctx, 'Set the boot device', () => bmc.setPersistentBootOrder(['network']));
      } else {
        await whenNotInPost(ctx, 'Set the boot device', () => bmc.setPersistentBootOrder(['hdd']));
        await removePxeFiles(loc);
      }
    },
  };
}

export function pxeIloProcess(): DeployProcess<DeployDeps, PxeIloData> {
  const removeFiles = async (ctx: Ctx<PxeIloData>): Promise<void> => {
    const loc = ctx.data.pxe;
    if (loc) await removePxeFiles(loc);
  };
  return {
    method: 'pxe_ilo',
    preflight: preflightFor('pxe_ilo'),
    validate(req) {
      validateCommon(req);
      validateDeployRamdisk(req, true);
      validatePartition(req);
    },
    guardDeps: guardDeployDeps,
    deploySteps: [
      inspectServer(false),
      bootModeStep(),
      powerOffStep(),
      pxeSetup(),
      networkBoot(),
      powerOnStep('Power on into the PXE deploy ramdisk'),
      waitForDeployRamdisk(),
      writeOverIscsi(),
      instanceBoot(),
      dibBootloaderStep(),
      notifyRamdiskDone(),
    ],
    teardownSteps: [
      teardownPowerOff(),
      {
        name: 'td-pxe',
        title: 'Remove the PXE files',
        async run(ctx) {
          await removeFiles(ctx);
        },
      },
    ],
    cleanup: (ctx) => cleanUp(ctx, { virtualMedia: false, extra: () => removeFiles(ctx) }),
  };
}
