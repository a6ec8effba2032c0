/**
 * What the deploy processes need from the host application: the server's
 * iLO, somewhere to publish media, and settings. The clients are asked for
 * at each use (not held), so a Node-RED redeploy that recreates them does
 * not break a deploy in flight.
 */
import type { Readable } from 'node:stream';
import type { Bmc } from '../../bmc/types';
import type { ImageInput, Checksum } from '../../images/reference';
import type { BootLoaderPaths } from '../../media/bootloaders';
import type { ToolRequirement } from '../preflight';
import type { RetryPolicy } from './retry';

export interface PublishedMedia {
  url: string;
  /** Absent: served until unpublished. */
  expiresAt?: Date;
  name: string;
  size: number;
}

export interface PublishedImageInfo extends PublishedMedia {
  checksum: Checksum;
  verified: boolean;
}

/** The media store with its image sources (lib/images MediaService fits). */
export interface MediaPort {
  publish(
    name: string,
    source: Readable | Buffer,
    opts: { ttlSeconds: number; untilUnpublished?: boolean; size?: number; contentType?: string; onProgress?: (p: { bytes: number; total?: number; percent?: number }) => void },
  ): Promise<PublishedMedia>;
  unpublish(name: string): Promise<void>;
  /** Keep a published object for `ttlSeconds` more; its URL from now on (Swift: newly signed). StoreError 'not-found' when it is gone. */
  renew(name: string, opts: { ttlSeconds: number }): Promise<PublishedMedia>;
  publishImage(image: ImageInput, opts: { ttlSeconds: number; name?: string; onProgress?: (p: { bytes: number; total?: number; percent?: number }) => void }): Promise<PublishedImageInfo>;
  download(image: ImageInput, path: string, opts?: { onProgress?: (bytes: number, total?: number) => void; signal?: AbortSignal }): Promise<{ size: number; checksum: Checksum; verified: boolean }>;
  /**
   * Whether an image reference can be read by this store, without reading
   * it: its syntax and URL scheme, and a file's place inside the allowed
   * directories, its existence and readability. Throws naming `field`.
   */
  checkImage(image: ImageInput, field: string): Promise<void>;
  /** Where this instance's own store serves from (the built-in server), or undefined for a store all instances share (Swift). */
  readonly localBaseUrl?: string;
}

export interface DeploySettings {
  /** Base URL of the ramdisk API as the servers reach it (Ironic API URL / ipa-api-url). */
  apiUrl: string;
  /** Wait for the ramdisk to call back (Ironic: 1800 s). */
  callbackTimeoutMs: number;
  /** Wait for a power state (default 300 s). */
  powerTimeoutMs: number;
  /** Image write by the agent or over iSCSI (default 3600 s). */
  writeTimeoutMs: number;
  /** How long the boot ISO of a netboot instance stays published (default 30 days). */
  bootIsoTtlSeconds: number;
  /** Staging space for images the controller writes itself (iSCSI) and kernels. */
  workDir: string;
  /** TFTP root for pxe_ilo. */
  tftpRoot?: string;
  /** Prefix of file names inside PXE configs (a tftpd path map, or an HTTP URL). */
  pxePathPrefix?: string;
  /** Extra kernel parameters for the deploy ramdisk, e.g. a serial console. */
  deployKernelParams?: string;
  /** Boot loader files for ISOs built here (defaults: the host's). */
  bootLoaders?: Partial<BootLoaderPaths>;
  /** iSCSI initiator for iscsi_ilo / pxe_ilo (default libiscsi, userspace). */
  iscsiInitiator?: 'libiscsi' | 'open-iscsi';
  /** Programs this machine must have for the method besides its own (settings.js `iloDeployRequiredTools`), checked before the deploy starts. */
  requiredTools?: ToolRequirement[];
  /** Poll interval for power states and agent commands (default 2 s). */
  pollIntervalMs?: number;
  /** Port the DIB ramdisk listens on for "done" (default 10000). */
  dibNotifyPort?: number;
  /** How clean-up repeats an action that failed in a way that may pass (default: 4 attempts, 1 s pause doubling, within 60 s). */
  cleanupRetry?: RetryPolicy;
  /**
   * An iLO that left a request unanswered may still carry it out (a power-on
   * that lands after clean-up turned the server off): clean-up actions wait
   * until this long after the last unanswered request (default 30 s).
   */
  lateCommandSettleMs?: number;
  /** PEM of the CA that signs the certificates of agents serving their own (no agent_verify_ca in their heartbeat); default: the system's CAs. */
  agentCa?: string;
}

export interface DeployDeps {
  bmc(): Promise<Bmc>;
  media(): Promise<MediaPort>;
  settings: DeploySettings;
  /**
   * Resolves once the server's serial console, when the host follows one for
   * this deploy, has opened (or could not): a power-on waits for it, so that
   * the deploy's console lines hold the boot. Bounded by the host; never rejects.
   */
  consoleReady?(): Promise<void>;
}

export const DEFAULT_SETTINGS: Omit<DeploySettings, 'apiUrl' | 'workDir'> = {
  callbackTimeoutMs: 1_800_000,
  powerTimeoutMs: 300_000,
  writeTimeoutMs: 3_600_000,
  bootIsoTtlSeconds: 30 * 24 * 3600,
};

/**
 * The deps of one run whose iLO refuses every command once the run is
 * stopped (`signal` aborted: its lease lost, or the engine stopping): a step
 * that does not watch the signal cannot send one more command to a server
 * another instance may be driving by now.
 */
export function guardDeployDeps(deps: DeployDeps, signal: AbortSignal): DeployDeps {
  const stopped = (): Promise<never> => Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('the run was stopped'));
  return {
    ...deps,
    bmc: async () => {
      const bmc = await deps.bmc();
      return new Proxy(bmc, {
        get(target, prop, receiver) {
          const value: unknown = Reflect.get(target, prop, receiver);
          if (typeof value !== 'function' || prop === 'close') return value;
          // Every Bmc method is async: a stopped run gets a rejection, as from the iLO.
          return (...args: unknown[]): unknown => (signal.aborted ? stopped() : (value as (...a: unknown[]) => unknown).apply(target, args));
        },
      });
    },
  };
}
