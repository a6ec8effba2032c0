/**
 * The simulated agent's partition-image commands, as ironic-python-agent's:
 * standby.prepare_image with `image_type: partition` lays the disk out and
 * writes the root filesystem (its result names root_uuid, and
 * efi_system_partition_uuid for a UEFI local boot, as the agent's message
 * does), standby.get_partition_uuids answers the UUIDs of that last write,
 * and image.install_bootloader installs a boot loader for the root (and EFI
 * system) partition it is given, refusing what the agent refuses.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { agentInstallBootloader, writePartitionImage, type SimBootloader, type WrittenPartitionImage } from './disk';

const run = promisify(execFile);

export interface PartitionHost {
  diskFile: string;
  /** The mode the server booted the agent in (install_bootloader's default target_boot_mode). */
  bootMode(): 'bios' | 'uefi';
  partitionWritten(w: WrittenPartitionImage): void;
  bootloaderInstalled(b: SimBootloader): void;
}

function invalid(message: string): Error {
  return Object.assign(new Error(message), { type: 'InvalidCommandParamsError' });
}

/** prepare_image's disk part for a partition image, from the downloaded (and verified) image file. */
export async function preparePartitionImage(host: PartitionHost, info: Record<string, unknown>, downloaded: string): Promise<{ result: string; uuids: WrittenPartitionImage }> {
  const rootMb = Number(info.root_mb);
  if (!Number.isInteger(rootMb) || rootMb < 1) throw invalid('image_info.root_mb must be a whole number of MiB for a partition image');
  const mode = info.deploy_boot_mode === 'uefi' ? 'uefi' : 'bios';
  const option = info.boot_option === 'local' ? 'local' : 'netboot';
  let image = downloaded;
  if (info.disk_format === 'qcow2') {
    image = `${downloaded}.raw`;
    await run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', downloaded, image]);
  }
  const uuids = await writePartitionImage(host.diskFile, { image, rootMb, bootMode: mode, bootOption: option, diskLabel: info.disk_label === 'gpt' ? 'gpt' : undefined });
  host.partitionWritten(uuids);
  // The agent's own message format: Ironic before Victoria parsed the UUIDs out of it.
  const efi = mode === 'uefi' && option === 'local' ? ` efi_system_partition_uuid=${uuids['efi system partition uuid'] ?? ''}` : '';
  return { result: `prepare_image: image (${String(info.id)}) written to device /dev/sda root_uuid=${uuids['root uuid']}${efi}`, uuids };
}

/** image.install_bootloader { root_uuid, efi_system_part_uuid, prep_boot_part_uuid, target_boot_mode }. */
export async function installBootloader(host: PartitionHost, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const target = params.target_boot_mode ?? host.bootMode();
  if (target !== 'bios' && target !== 'uefi') throw invalid(`target_boot_mode must be bios or uefi, not ${JSON.stringify(target)}`);
  if (params.prep_boot_part_uuid) throw invalid('prep_boot_part_uuid: this is not a ppc64 machine');
  const b = await agentInstallBootloader(host.diskFile, { rootUuid: params.root_uuid, espUuid: params.efi_system_part_uuid, mode: target });
  host.bootloaderInstalled(b);
  return { result: 'install_bootloader: done' };
}
