/**
 * The deploy engine's vocabulary: Ironic's provision states and methods, the
 * request an operator makes, and the record the engine keeps of each deploy.
 */
import type { RootDeviceHints } from './root-device-hints';
import type { BootMode } from '../bmc/types';
import type { ConfigDrive } from './config-drive/types';
import type { WrittenPartition } from './iscsi/write';

export type DeployMethod = 'iscsi_ilo' | 'agent_ilo' | 'pxe_ilo';
export const DEPLOY_METHODS: readonly DeployMethod[] = ['iscsi_ilo', 'agent_ilo', 'pxe_ilo'];

/** Ironic's provision states, as the API strings (cleaning: `cleaning` -> `clean wait` -> `available`, or `clean failed`). */
export type ProvisionState = 'available' | 'deploying' | 'wait call-back' | 'active' | 'deploy failed' | 'deleting' | 'error' | 'cleaning' | 'clean wait' | 'clean failed';

/** An image the deploy needs: an http(s) URL, a local file, `swift:<container>/<object>` or `glance:<id>`. */
export type ImageRef = string;

export interface ImageChecksum {
  algorithm: 'md5' | 'sha256' | 'sha512';
  value: string;
}

export interface DeployRequest {
  method: DeployMethod;
  /** The instance image to write. */
  image: ImageRef;
  imageChecksum?: ImageChecksum;
  /** raw (default) or qcow2. */
  imageFormat?: 'raw' | 'qcow2';
  /** whole-disk (default) or a partition image (iscsi_ilo, pxe_ilo). */
  imageType?: 'whole-disk' | 'partition';
  /** Kernel and ramdisk of a partition image, for the instance boot ISO / PXE config (netboot). */
  instanceKernel?: ImageRef;
  instanceRamdisk?: ImageRef;
  /** Deploy ramdisk as a ready ISO (vmedia methods)... */
  deployIso?: ImageRef;
  /** ...or as kernel + ramdisk (an ISO is built; pxe_ilo always uses these). */
  deployKernel?: ImageRef;
  deployRamdisk?: ImageRef;
  /** Requested boot mode; absent: keep the server's current one (Ironic's "preserve"). */
  bootMode?: BootMode;
  /** local (default for whole-disk) or netboot (partition images booted from an ISO / PXE). */
  bootOption?: 'local' | 'netboot';
  /** Size of the root partition for partition images (MiB). */
  rootMb?: number;
  /** MAC of the NIC the ramdisk should use (BOOTIF); default: the first NIC the iLO reports. */
  bootMac?: string;
  /** Extra kernel parameters for the instance (netboot). */
  kernelParams?: string;
  /** The instance's config drive (hostname, SSH keys, user data, network): Ironic's `configdrive`, ready or as parts. */
  configDrive?: ConfigDrive;
  /** Which disk to write: Ironic's root_device hints (size, serial, wwn, model, vendor, name, rotational, hctl, by_path…). */
  rootDeviceHints?: RootDeviceHints;
  /** Clean the server before this deploy (a first deploy), as Ironic cleans a node before it becomes available. */
  clean?: CleanPlan;
}

/** A clean step as an operator orders it: its name, and its priority (highest first; 0 leaves it out). */
export interface CleanStepSpec {
  step: string;
  priority: number;
  /** Keyword arguments for the step (the agent merges them into the call, as `step.args`). */
  args?: Record<string, unknown>;
}

/**
 * What a cleaning does (processes/clean-plan.ts checks it): the steps in
 * the order they run, and the agent ramdisk that runs the in-band ones
 * (cleaning always boots ironic-python-agent, whatever deployed the server;
 * absent: the deploy's own ramdisk, when it deployed with agent_ilo).
 */
export interface CleanPlan {
  steps: CleanStepSpec[];
  deployIso?: ImageRef;
  deployKernel?: ImageRef;
  deployRamdisk?: ImageRef;
}

export interface PublishedObject {
  name: string;
  url: string;
  expiresAt?: string;
}

/**
 * What the status reports as `result` once a deploy is active: what the
 * write left on the disk (iSCSI processes), or that the agent wrote it.
 */
export interface DeployResult {
  imageWritten?: boolean;
  /** UUID of the root filesystem (partition images; Ironic's root uuid). */
  rootUuid?: string;
  /** UEFI local boot of a partition image: the EFI system partition's UUID (FAT volume ID) the boot loader went to. */
  efiSystemPartitionUuid?: string;
  /** Disk identifier (MBR signature or GPT GUID) of a whole-disk image. */
  diskIdentifier?: string;
  partitions?: WrittenPartition[];
  /** agent_ilo: the in-band hardware inventory the agent reported (cpu, memory, disks, interfaces, system_vendor, boot). */
  agentInventory?: Record<string, unknown>;
}

/**
 * The part of a deploy's step data the engine and the deploy store read
 * themselves; each process extends it with what its steps pass on (see
 * processes/data.ts). Every field is optional: the steps fill them in.
 */
export interface StepData {
  /** MACs the server reported (normalised aa:bb:…): a ramdisk looking itself up by MAC finds the deploy in progress by them. */
  macs?: string[];
  /** The agent's callback URL from its first heartbeat: a later heartbeat naming another is refused. */
  agentUrl?: string;
  /** The TLS certificate (PEM) the agent sent in that heartbeat (agent_verify_ca): the only one trusted for it, and a later heartbeat sending another is refused. */
  agentVerifyCa?: string;
  /** What the status reports once the deploy is active. */
  result?: DeployResult;
  /** The last cleaning: the steps done, and those skipped (not supported on this iLO) with why. */
  cleaning?: { done: string[]; skipped: Array<{ step: string; reason: string }> };
  /** An active deploy's next upkeep (ISO time), run by the engine then: a netboot instance's boot media renewed before its URL expires (see DeployProcess.upkeep). */
  upkeepAt?: string;
}

/** How the clean-up (after a failure) or the tear-down went. */
export interface CleanupState {
  done: boolean;
  /** What could not be done, step by step. */
  errors: string[];
  /** A tear-down left incomplete is tried again by itself from then on (ISO time); absent: not retried. */
  retryAt?: string;
  /** Tear-down attempts so far (the pause between them doubles, up to 30 min). */
  attempts?: number;
}

export interface DeployRecord {
  /** Deploy id; also the "node uuid" the ramdisk uses in its callbacks. */
  id: string;
  /** What is locked: one deploy per server at a time. */
  serverKey: string;
  serverName: string;
  /** Opaque references the host application resolves to an iLO client and a store (e.g. Node-RED config node ids). */
  refs: Record<string, string>;
  method: DeployMethod;
  action: 'deploy' | 'rebuild' | 'undeploy';
  state: ProvisionState;
  request: DeployRequest;
  /** Names of the process's steps, and how far it got. */
  steps: string[];
  completed: string[];
  step?: { index: number; name: string; startedAt: string };
  /** Per-deploy secret handed to the ramdisk on the floppy / PXE command line. Never leaves the engine. */
  token: string;
  /** Values steps pass on to later steps (survive a restart); typed per process (processes/data.ts). */
  data: StepData;
  /** Objects published for the iLO, removed on clean-up. */
  published: PublishedObject[];
  /** When a callback wait gives up (ISO time). */
  callbackDeadline?: string;
  lastError?: string;
  failedStep?: string;
  cleanup?: CleanupState;
  /**
   * The last lines (at most CONSOLE_TAIL_LINES) of the server's serial
   * console while the deploy ran, when a console is configured for it;
   * as the console gave them (it echoes no typed password).
   */
  consoleTail?: string[];
  /** The cleaning this run does (before the deploy, or after the tear-down); absent: none. */
  clean?: CleanPlan;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
}

/** What the engine reports as it goes; never holds a credential or the token. */
export interface DeployProgress {
  deployId: string;
  server: string;
  method: DeployMethod;
  action: DeployRecord['action'];
  state: ProvisionState;
  step?: string;
  /** 1-based position of the step, and the number of steps. */
  stepIndex?: number;
  stepCount: number;
  message: string;
  transfer?: { bytes: number; total?: number; percent?: number };
  time: string;
}

/** The public view of a record (no token, no internal data). */
export interface DeployStatus {
  deployId: string;
  server: string;
  method: DeployMethod;
  action: DeployRecord['action'];
  state: ProvisionState;
  step?: string;
  stepIndex?: number;
  stepCount: number;
  lastError?: string;
  failedStep?: string;
  /** A failed deploy: the last console lines of its server (see DeployRecord.consoleTail), next to the failed step. */
  consoleTail?: string[];
  cleanup?: CleanupState;
  result?: DeployResult;
  /** The last cleaning's steps done and skipped. */
  cleaning?: StepData['cleaning'];
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
}
