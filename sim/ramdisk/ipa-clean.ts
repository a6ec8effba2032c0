/**
 * The simulated agent's clean extension, as ironic-python-agent's
 * `clean.get_clean_steps` and `clean.execute_clean_step` answer: the
 * GenericHardwareManager's steps (erase_devices_metadata at priority 99,
 * erase_devices at 10, the others at 0), each run on the simulated disk
 * file with the real tools.
 *
 * erase_devices_metadata: the agent erases the metadata of every partition
 * first, then of the disk (wipefs --force --all, then sgdisk -Z). A
 * partition is not a device here, so its first and last MiB (where every
 * signature wipefs knows lives) are copied into a sparse scratch file of
 * the partition's size, wiped there by wipefs, and copied back.
 * erase_devices: the disk is overwritten with zeros (the agent shreds, or
 * has the drive erase itself).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readDisk } from './disk';

const run = promisify(execFile);
const MiB = 1024 * 1024;

/** How IPA names the generic hardware manager and its version (sent back as clean_version). */
export const SIM_HARDWARE_MANAGER = { name: 'generic_hardware_manager', version: '1.2' };

interface CleanStep {
  step: string;
  priority: number;
  interface: 'deploy' | 'raid';
  reboot_requested: boolean;
  abortable: boolean;
}

const STEPS: CleanStep[] = [
  { step: 'erase_devices', priority: 10, interface: 'deploy', reboot_requested: false, abortable: true },
  { step: 'erase_devices_metadata', priority: 99, interface: 'deploy', reboot_requested: false, abortable: true },
  { step: 'erase_devices_express', priority: 0, interface: 'deploy', reboot_requested: false, abortable: true },
  { step: 'erase_pstore', priority: 0, interface: 'deploy', reboot_requested: false, abortable: true },
  { step: 'delete_configuration', priority: 0, interface: 'raid', reboot_requested: false, abortable: true },
  { step: 'create_configuration', priority: 0, interface: 'raid', reboot_requested: false, abortable: true },
];

export class CleanCommandError extends Error {
  constructor(
    message: string,
    readonly type: string,
    /** IPA answers a clean_version other than its own with this status instead of FAILED. */
    readonly status: 'FAILED' | 'CLEAN_VERSION_MISMATCH' = 'FAILED',
  ) {
    super(message);
  }
}

export function getCleanSteps(): Record<string, unknown> {
  return {
    clean_steps: { GenericHardwareManager: STEPS.map((s) => ({ ...s })) },
    hardware_manager_version: { [SIM_HARDWARE_MANAGER.name]: SIM_HARDWARE_MANAGER.version },
  };
}

export interface CleanFaults {
  /** This clean step fails (as a disk that refuses to be written would). */
  failCleanStep?: string;
}

export async function executeCleanStep(diskFile: string, params: Record<string, unknown>, faults: CleanFaults = {}): Promise<Record<string, unknown>> {
  const step = params.step as Partial<CleanStep> | undefined;
  if (!step || typeof step !== 'object' || typeof step.step !== 'string') throw new CleanCommandError('Invalid or missing parameter: step', 'InvalidCommandParamsError');
  const version = params.clean_version as Record<string, unknown> | undefined;
  if (version && typeof version === 'object' && SIM_HARDWARE_MANAGER.name in version && version[SIM_HARDWARE_MANAGER.name] !== SIM_HARDWARE_MANAGER.version) {
    throw new CleanCommandError(`Hardware managers changed during cleaning: ${JSON.stringify(version)} != ${JSON.stringify(getCleanSteps().hardware_manager_version)}`, 'VersionMismatch', 'CLEAN_VERSION_MISMATCH');
  }
  if (faults.failCleanStep === step.step) throw new CleanCommandError(`Error performing clean step ${step.step}: the disk /dev/sda did not accept the write (injected fault)`, 'CleaningError');
  let result: unknown;
  switch (step.step) {
    case 'erase_devices_metadata':
      await eraseMetadata(diskFile);
      result = null;
      break;
    case 'erase_devices':
      await zero(diskFile);
      result = { '/dev/sda': 'erased' };
      break;
    case 'erase_devices_express':
    case 'erase_pstore':
    case 'delete_configuration':
    case 'create_configuration':
      result = null; // nothing to do on this hardware
      break;
    default:
      throw new CleanCommandError(`No HardwareManager found to handle method: ${step.step}`, 'HardwareManagerMethodNotFound');
  }
  return { clean_result: result, clean_step: step };
}

async function eraseMetadata(diskFile: string): Promise<void> {
  const { partitions } = await readDisk(diskFile);
  for (const p of partitions.reverse()) await wipePartition(diskFile, p.startBytes, p.sizeBytes);
  await tool('wipefs', ['--force', '--all', diskFile]);
  await tool('sgdisk', ['-Z', diskFile]);
}

/** wipefs on a partition's bytes: its first and last MiB, wiped in a scratch copy and written back. */
async function wipePartition(diskFile: string, start: number, size: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sim-ipa-wipe-'));
  const scratch = join(dir, 'part');
  const regions = size <= 2 * MiB ? [[0, size]] : [[0, MiB], [size - MiB, MiB]];
  const disk = await open(diskFile, 'r+');
  try {
    const part = await open(scratch, 'w+');
    try {
      await part.truncate(size);
      for (const [at, len] of regions as Array<[number, number]>) {
        const buf = Buffer.alloc(len);
        await disk.read(buf, 0, len, start + at);
        await part.write(buf, 0, len, at);
      }
    } finally {
      await part.close();
    }
    await tool('wipefs', ['--force', '--all', scratch]);
    const part2 = await open(scratch, 'r');
    try {
      for (const [at, len] of regions as Array<[number, number]>) {
        const buf = Buffer.alloc(len);
        await part2.read(buf, 0, len, at);
        await disk.write(buf, 0, len, start + at);
      }
    } finally {
      await part2.close();
    }
  } finally {
    await disk.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function zero(diskFile: string): Promise<void> {
  const size = (await stat(diskFile)).size;
  const fh = await open(diskFile, 'r+');
  try {
    const chunk = Buffer.alloc(4 * MiB);
    for (let at = 0; at < size; at += chunk.length) await fh.write(chunk, 0, Math.min(chunk.length, size - at), at);
  } finally {
    await fh.close();
  }
}

async function tool(cmd: string, args: string[]): Promise<void> {
  try {
    await run(cmd, args);
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new CleanCommandError(`${cmd} ${args.join(' ')} failed: ${String(e.stderr ?? '').trim() || e.message}`, 'CleaningError');
  }
}
