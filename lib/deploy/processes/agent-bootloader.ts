/**
 * Local boot of a partition image with ironic-python-agent (Ironic's
 * agent_base configure_local_boot): once the agent wrote the image, the
 * conductor asks it for the root (and, in UEFI, the EFI system) partition
 * UUIDs and has it install a boot loader for them with
 * image.install_bootloader; the server then boots from its disk. A
 * whole-disk image brings its own boot loader: nothing to do.
 */
import { AgentClient } from '../agent-client';
import { agentTrust } from '../agent-tls';
import { DeployError } from '../errors';
import type { Step } from '../step';
import type { DeployRequest } from '../types';
import type { AgentIloData } from './data';
import type { DeployDeps } from './deps';
import { required } from './steps';

/** A partition image the agent writes for local boot (agent_ilo boots nothing else). */
export function agentPartitionImage(req: DeployRequest): boolean {
  return (req.imageType ?? 'whole-disk') === 'partition';
}

/** prepare_image's partition fields, as Ironic adds them to image_info (no swap, ephemeral or config drive partition asked for here). */
export function partitionImageInfo(req: DeployRequest, bootMode: 'bios' | 'uefi'): Record<string, unknown> {
  return {
    image_type: 'partition',
    root_mb: req.rootMb,
    swap_mb: 0,
    ephemeral_mb: 0,
    ephemeral_format: null,
    preserve_ephemeral: false,
    deploy_boot_mode: bootMode,
    boot_option: 'local',
    disk_label: bootMode === 'uefi' ? 'gpt' : 'msdos',
  };
}

export function installBootloaderStep(): Step<DeployDeps, AgentIloData> {
  return {
    name: 'install-bootloader',
    title: 'The agent installs the boot loader (partition image)',
    // Installing it again after a restart is what grub-install does anyway.
    resumable: true,
    timeoutMs: (ctx) => ctx.deps.settings.writeTimeoutMs,
    async run(ctx) {
      if (!agentPartitionImage(ctx.record.request)) return;
      // Trusting the agent as the other agent steps do: the certificate its heartbeat sent, else the operator's agent CA.
      const agent = new AgentClient(required(ctx.data.agentUrl, "the agent's callback URL"), ctx.record.token, { trust: agentTrust(ctx.data.agentVerifyCa, ctx.deps.settings.agentCa) });
      const mode = ctx.data.bootMode ?? 'bios';
      const uuids = await agent.partitionUuids(ctx.signal);
      if (!uuids.rootUuid) throw new DeployError('ramdisk', 'the agent wrote the partition image but reported no root UUID (is it an ironic-python-agent that deploys partition images?)');
      if (mode === 'uefi' && !uuids.efiSystemPartitionUuid) throw new DeployError('ramdisk', 'the agent wrote the partition image for UEFI but reported no EFI system partition UUID');
      ctx.data.result = { ...ctx.data.result, rootUuid: uuids.rootUuid, efiSystemPartitionUuid: uuids.efiSystemPartitionUuid };
      await ctx.save();
      ctx.progress(`Installing the boot loader for root ${uuids.rootUuid}${mode === 'uefi' ? ` into EFI system partition ${uuids.efiSystemPartitionUuid}` : ''} (${mode})`);
      await agent.installBootloader(
        { root_uuid: uuids.rootUuid, efi_system_part_uuid: mode === 'uefi' ? (uuids.efiSystemPartitionUuid ?? null) : null, prep_boot_part_uuid: null, target_boot_mode: mode },
        ctx.signal,
      );
      try {
        await agent.waitFor('install_bootloader', { timeoutMs: ctx.deps.settings.writeTimeoutMs, intervalMs: ctx.deps.settings.pollIntervalMs, signal: ctx.signal });
      } catch (err) {
        // Ironic's words, with the agent's reason.
        throw new DeployError('ramdisk', `Failed to install a bootloader when deploying node ${ctx.record.id}. Error: ${(err as Error).message}`, { cause: err });
      }
    },
  };
}
