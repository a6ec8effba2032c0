/**
 * What the steps of each process pass on to later steps, saved with the
 * record (`record.data`), so a resumed deploy finds it again. Each field
 * says which step writes it; a step reads only what an earlier one wrote.
 * A new process (or a new step, e.g. a config drive) adds its fields here.
 */
import type { BootMode } from '../../bmc/types';
import type { PxeNodeLocation } from '../pxe';
import type { StepData } from '../types';

/** Steps every process has (inspect, boot mode). */
export interface ServerData extends StepData {
  /** inspect: the MAC the ramdisk should use (the request's bootMac, or the first NIC). */
  bootMac?: string;
  /** inspect: the iLO's product name. */
  product?: string;
  /** boot-mode: the mode the server deploys (and the instance boots) in. */
  bootMode?: BootMode;
}

/** Virtual media processes (agent_ilo, iscsi_ilo): the deploy media published for the iLO. */
export interface VirtualMediaData extends ServerData {
  /** publish-media: the floppy's object name in the media store, and its URL. */
  floppyObject?: string;
  floppyUrl?: string;
  /** publish-media: the deploy ISO's object name (absent when the request's http(s) ISO is handed over as is), and its URL. */
  deployIsoObject?: string;
  deployIsoUrl?: string;
}

/** Where a DIB ramdisk exports the disk (from its pass_deploy_info). */
export interface RamdiskDisk {
  address: string;
  iqn: string;
  port: number;
  lun: number;
}

/** Processes that write the image over iSCSI to a DIB ramdisk (iscsi_ilo, pxe_ilo). */
export interface IscsiWriteData extends ServerData {
  /** wait-ramdisk: the ramdisk's iSCSI export. */
  disk?: RamdiskDisk;
  /** write-image: the root filesystem UUID (partition image), the disk identifier (whole-disk). */
  rootUuid?: string;
  diskIdentifier?: string;
  /** install-bootloader (local boot of a partition image): "done" was sent, the ramdisk is installing the boot loader. */
  bootloaderAsked?: boolean;
}

export interface AgentIloData extends VirtualMediaData {
  /** wait-agent: the agent's version from its heartbeat (its URL is StepData.agentUrl). */
  agentVersion?: string;
  /** wait-agent: the hardware inventory the agent sent with its heartbeat, if it did (ironic-python-agent's format). */
  agentInventory?: Record<string, unknown>;
  /** write-image: the image's object name when it went through the media store. */
  imageObject?: string;
  /** write-image: prepare_image was sent (a resumed step polls it again instead of sending it twice). */
  prepareSent?: boolean;
  /** reboot: the agent was shut down (a resumed step only powers on). */
  rebooted?: boolean;
}

export interface IscsiIloData extends VirtualMediaData, IscsiWriteData {
  /** boot-device (netboot): the instance boot ISO's object name. */
  bootIsoObject?: string;
}

export interface PxeIloData extends IscsiWriteData {
  /** pxe-config: where the PXE files of this deploy were written. */
  pxe?: PxeNodeLocation;
}

/** Cleaning (processes/cleaning.ts): the agent's steps, and how far the plan got. */
export interface CleaningData extends AgentIloData {
  /** clean-steps: the agent's clean steps (get_clean_steps), and its hardware manager versions (sent back as clean_version). */
  agentCleanSteps?: string[];
  cleanVersion?: Record<string, unknown>;
  /** clean-steps: the index in the plan of the next step to run, and whether the agent was already asked to run it. */
  cleanAt?: number;
  cleanSent?: boolean;
}
