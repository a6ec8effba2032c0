/**
 * Steps the three processes share, each
 * with its undo, and the clean-up every failure ends with.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BmcError, isBmcError } from '../../bmc/errors';
import { readBmcState } from '../../bmc/state';
import type { BmcState, BootMode, Bmc, PowerResult, PowerState } from '../../bmc/types';
import { buildDeployIso } from '../../media/boot-iso';
import { buildFloppyImage } from '../../media/floppy';
import type { DeployParameters } from '../../media/parameters';
import type { ImageInput } from '../../images/reference';
import type { Step, StepContext } from '../step';
import { DeployError } from '../errors';
import type { DeployRequest, StepData } from '../types';
import type { ServerData, VirtualMediaData } from './data';
import type { DeployDeps } from './deps';
import { retryTransient } from './retry';
import { request } from 'undici';

/** A step's context, with the step data of the processes it is part of. */
export type Ctx<TData extends StepData = StepData> = StepContext<DeployDeps, TData>;

/** An image reference with the request's checksum attached, as lib/images takes it. */
export function imageInput(ref: string, checksum?: DeployRequest['imageChecksum']): ImageInput {
  if (!checksum) return ref;
  const key = /^https?:\/\//i.test(ref) ? 'url' : /^swift:/i.test(ref) ? 'swift' : /^glance:/i.test(ref) ? 'glance' : 'file';
  return { [key]: ref, checksum: { algorithm: checksum.algorithm, value: checksum.value.toLowerCase() } };
}

export function objectName(ctx: Ctx, what: string): string {
  return `${ctx.record.method}-${ctx.record.id}-${what}`;
}

export async function publishTracked(ctx: Ctx, name: string, body: Buffer | { size: number; stream(): NodeJS.ReadableStream }, ttlSeconds: number, untilUnpublished = false): Promise<string> {
  const media = await ctx.deps.media();
  const source = Buffer.isBuffer(body) ? body : (body.stream() as unknown as import('node:stream').Readable);
  // Record the name before publishing: a crash in between still cleans it up.
  await ctx.published({ name, url: '' });
  const p = await media.publish(name, source, {
    ttlSeconds,
    untilUnpublished,
    size: Buffer.isBuffer(body) ? body.length : body.size,
    onProgress: (t) => ctx.progress(`Publishing ${name}`, { bytes: t.bytes, total: t.total, percent: t.percent }),
  });
  await ctx.published({ name, url: p.url, expiresAt: p.expiresAt?.toISOString() });
  return p.url;
}

/**
 * A clean-up action (undo, clean-up, tear-down): first let any command the
 * iLO left unanswered land, then act, trying again while it fails in a way
 * that may pass.
 */
async function cleanupAction(ctx: Ctx, fn: () => Promise<void>): Promise<void> {
  await settleLateCommands(ctx);
  return retryTransient(fn, ctx.deps.settings.cleanupRetry);
}

export const DEFAULT_LATE_COMMAND_SETTLE_MS = 30_000;

async function settleLateCommands(ctx: Ctx): Promise<void> {
  let bmc: Bmc;
  try {
    bmc = await ctx.deps.bmc();
  } catch {
    return; // no client: the action itself reports why
  }
  const at = bmc.stats.unansweredAt;
  if (at === undefined) return;
  const wait = at + (ctx.deps.settings.lateCommandSettleMs ?? DEFAULT_LATE_COMMAND_SETTLE_MS) - Date.now();
  if (wait <= 0) return;
  ctx.progress(`Waiting ${Math.ceil(wait / 1000)} s before cleaning up: the iLO left a request unanswered and may still carry it out`);
  await new Promise((r) => setTimeout(r, wait));
}

/** Unpublish and forget what a step published, by name (no error if gone). */
export async function unpublish(ctx: Ctx, name: string | undefined): Promise<void> {
  if (!name) return;
  await (await ctx.deps.media()).unpublish(name);
  await ctx.forgetPublished(name);
}

/**
 * A rebuild inherits what the deploy it replaces left published (its
 * instance's boot ISO): once the server is off and about to be written
 * again, that instance is gone, and so is its media.
 */
export async function dropInheritedMedia(ctx: Ctx): Promise<void> {
  for (const p of ctx.record.published.filter((x) => !x.name.includes(ctx.record.id))) await unpublish(ctx, p.name);
}

/** Media for a ramdisk must outlive the wait for its callback. */
export function mediaTtlSeconds(ctx: Ctx): number {
  return Math.ceil((ctx.deps.settings.callbackTimeoutMs + ctx.deps.settings.writeTimeoutMs) / 1000) + 600;
}

/** The iLO said the server already was in the state asked for ("Host power is already OFF."). */
export function wasAlready(r: PowerResult, state: PowerState): boolean {
  return r.warnings.some((w) => new RegExp(`already ${state}\\b`, 'i').test(w));
}

/** The server is in `state` after the action: read back with it (RIBCL), or it already was. */
export function alreadyIn(r: PowerResult, state: PowerState): boolean {
  return r.powerState === state || wasAlready(r, state);
}

async function powerOffAndWait(ctx: Ctx, bmc: Bmc): Promise<void> {
  const r = await bmc.powerOff();
  if (!alreadyIn(r, 'off')) {
    await bmc.waitForPowerState('off', { timeoutMs: ctx.deps.settings.powerTimeoutMs, intervalMs: ctx.deps.settings.pollIntervalMs, signal: ctx.signal, delayFirstRead: true });
  }
}

/**
 * What a step read of the server, for the next step of the same run (kept
 * in memory only, never saved: a resumed deploy reads again). The inspect
 * step reads power and boot mode with the host data (one RIBCL request), so
 * the boot-mode and power-off steps that follow it at once need no read of
 * their own; the boot-device step does the same for the reboot.
 */
const freshReads = new WeakMap<object, Pick<BmcState, 'powerState' | 'bootMode' | 'bootModeSupported'>>();

/** Take (and forget) what the step before read. */
function takeFresh(ctx: Ctx): Pick<BmcState, 'powerState' | 'bootMode' | 'bootModeSupported'> | undefined {
  const f = freshReads.get(ctx.record);
  freshReads.delete(ctx.record);
  return f;
}

function keepFresh(ctx: Ctx, state: Pick<BmcState, 'powerState' | 'bootMode' | 'bootModeSupported'>): void {
  freshReads.set(ctx.record, { powerState: state.powerState, bootMode: state.bootMode, bootModeSupported: state.bootModeSupported });
}

/** The power state the step before this one read in the same run, if it did (see freshReads). */
export function takeFreshPowerState(ctx: Ctx): PowerState | undefined {
  return takeFresh(ctx)?.powerState;
}

/** Setting a boot device is refused while the host is in POST: wait and retry (Ironic retries with back-off). */
export async function whenNotInPost<T>(ctx: Ctx, what: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 180_000;
  for (let delay = 2000; ; delay = Math.min(delay * 2, 30_000)) {
    try {
      return await fn();
    } catch (err) {
      if (!isBmcError(err, 'busy') || err.reason !== 'host-in-post' || Date.now() + delay > deadline) throw err;
      ctx.progress(`${what}: the host is in POST, retrying in ${Math.round(delay / 1000)} s`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

// ------------------------------------------------------------------ steps

/** Who the server is (MACs for the ramdisk lookup) and, for virtual media, whether it is licensed. */
export function inspectServer(needsVirtualMedia: boolean): Step<DeployDeps, ServerData> {
  return {
    name: 'inspect',
    title: needsVirtualMedia ? 'Check the server and its virtual media licence' : 'Check the server',
    resumable: true,
    timeoutMs: 120_000,
    async run(ctx) {
      const bmc = await ctx.deps.bmc();
      // One read for this step and the two after it (boot mode, power off).
      const state = await readBmcState(bmc, { hostInfo: true, licence: needsVirtualMedia, bootMode: true, power: true });
      const host = required(state.hostInfo, 'the host data');
      const macs = host.nics.map((n) => n.mac.toLowerCase()).filter((m) => /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(m));
      const boot = ctx.record.request.bootMac?.toLowerCase().replace(/-/g, ':');
      if (boot && !macs.includes(boot)) macs.unshift(boot);
      if (macs.length === 0) throw new DeployError('invalid-input', 'bootMac: the iLO reports no NIC MAC address; give the MAC the server boots from', { field: 'bootMac' });
      ctx.data.macs = macs;
      ctx.data.bootMac = boot ?? macs[0];
      ctx.data.product = host.productName;
      if (needsVirtualMedia) {
        const lic = required(state.licence, 'the licence');
        if (!lic.virtualMedia) {
          throw new DeployError(
            'licence',
            `${ctx.record.serverName}: scripted virtual media needs an iLO Advanced licence, and this iLO has "${lic.type}"; install one, or deploy with pxe_ilo, which needs none`,
          );
        }
      }
      await ctx.save();
      keepFresh(ctx, state);
    },
  };
}

/**
 * Ironic's update_boot_mode: the requested mode, or keep the current
 * one ("unknown" pending means UEFI; no boot-mode support means BIOS).
 */
export function bootModeStep(): Step<DeployDeps, ServerData> {
  return {
    name: 'boot-mode',
    title: 'Set the boot mode',
    resumable: true,
    timeoutMs: 120_000,
    async run(ctx) {
      const bmc = await ctx.deps.bmc();
      const wanted = ctx.record.request.bootMode;
      const fresh = freshReads.get(ctx.record);
      let status;
      try {
        if (fresh?.bootModeSupported === false) throw new BmcError('not-supported', 'this iLO cannot report boot modes', { target: bmc.target });
        status = fresh?.bootMode ?? (await bmc.getBootMode());
      } catch (err) {
        if (!isBmcError(err, 'not-supported')) throw err;
        if (wanted === 'uefi') throw new DeployError('invalid-input', `bootMode: ${ctx.record.serverName} cannot boot UEFI (its iLO has no boot-mode control)`, { field: 'bootMode', cause: err });
        ctx.data.bootMode = 'bios';
        ctx.progress('This platform has no boot-mode control: legacy BIOS');
        return ctx.save();
      }
      let mode: BootMode;
      if (wanted) {
        if (status.supported === 'bios-only' && wanted === 'uefi') throw new DeployError('invalid-input', `bootMode: ${ctx.record.serverName} supports legacy BIOS only`, { field: 'bootMode' });
        if (status.supported === 'uefi-only' && wanted === 'bios') throw new DeployError('invalid-input', `bootMode: ${ctx.record.serverName} supports UEFI only`, { field: 'bootMode' });
        mode = wanted;
      } else {
        mode = status.pending === 'unknown' ? 'uefi' : status.pending;
      }
      if (status.pending !== mode) {
        await whenNotInPost(ctx, 'Set the boot mode', () => bmc.setPendingBootMode(mode));
        ctx.progress(`Pending boot mode set to ${mode}`);
      }
      ctx.data.bootMode = mode;
      await ctx.save();
    },
  };
}

export function powerOffStep(): Step<DeployDeps> {
  return {
    name: 'power-off',
    title: 'Power off',
    resumable: true,
    timeoutMs: (ctx) => ctx.deps.settings.powerTimeoutMs + 60_000,
    async run(ctx) {
      // Read off by the inspect step a moment ago: nothing to do. Were it
      // turned on since, the power-on step finds it on and resets it.
      if (takeFresh(ctx)?.powerState === 'off') return;
      await powerOffAndWait(ctx, await ctx.deps.bmc());
    },
  };
}

/** Build the floppy with the ramdisk's parameters and publish it and the deploy ISO (the request's ramdisk, or the one `ramdisk` gives: a cleaning's agent). */
export function publishDeployMediaStep(
  parameters: (ctx: Ctx<VirtualMediaData>) => DeployParameters,
  ramdisk?: (ctx: Ctx<VirtualMediaData>) => Pick<DeployRequest, 'deployIso' | 'deployKernel' | 'deployRamdisk'>,
): Step<DeployDeps, VirtualMediaData> {
  return {
    name: 'publish-media',
    title: 'Build and publish the deploy media',
    resumable: true,
    timeoutMs: 1_800_000,
    async run(ctx) {
      await dropInheritedMedia(ctx);
      const ttl = mediaTtlSeconds(ctx);
      const params = parameters(ctx);
      const floppyName = objectName(ctx, 'floppy.img');
      ctx.data.floppyObject = floppyName;
      // Streamed from its few written segments: no 1.44 MB buffer per deploy (500 at once would hold 700 MB).
      ctx.data.floppyUrl = await publishTracked(ctx, floppyName, buildFloppyImage(params), ttl);
      const req = ramdisk ? ramdisk(ctx) : ctx.record.request;
      if (req.deployIso) {
        if (/^https?:\/\//i.test(req.deployIso)) {
          // Ironic hands an http(s) deploy ISO to the iLO as it is.
          ctx.data.deployIsoUrl = req.deployIso;
        } else {
          const name = objectName(ctx, 'deploy.iso');
          ctx.data.deployIsoObject = name;
          await ctx.published({ name, url: '' });
          const p = await (await ctx.deps.media()).publishImage(req.deployIso, {
            ttlSeconds: ttl,
            name,
            onProgress: (t) => ctx.progress('Publishing the deploy ISO', t),
          });
          await ctx.published({ name, url: p.url, expiresAt: p.expiresAt?.toISOString() });
          ctx.data.deployIsoUrl = p.url;
        }
      } else {
        const { kernel, ramdisk } = await stageKernelAndRamdisk(ctx, req.deployKernel, req.deployRamdisk, 'deploy');
        const iso = await buildDeployIso({
          kernel,
          ramdisk,
          kernelParams: ctx.deps.settings.deployKernelParams,
          bootModes: ctx.data.bootMode ?? 'both',
          bootLoaders: ctx.deps.settings.bootLoaders,
        });
        const name = objectName(ctx, 'deploy.iso');
        ctx.data.deployIsoObject = name;
        ctx.data.deployIsoUrl = await publishTracked(ctx, name, iso, ttl);
      }
      await ctx.save();
    },
    async undo(ctx) {
      await cleanupAction(ctx, () => unpublish(ctx, ctx.data.floppyObject));
      await cleanupAction(ctx, () => unpublish(ctx, ctx.data.deployIsoObject));
    },
  };
}

/**
 * For a resumed virtual-media deploy whose ramdisk has not called back yet:
 * the iLO reads the deploy media at the URLs it was given, so when those are
 * no longer served (the built-in store came back on another port, or the
 * deploy was taken over from an instance whose store is gone) the deploy
 * goes back to publishing and inserting the media, and boots again.
 */
export async function republishWhenGone(ctx: Ctx<VirtualMediaData>): Promise<string | undefined> {
  const done = ctx.record.completed;
  if (!done.includes('publish-media') || done.includes('detach-media') || done.some((c) => c.startsWith('callback:'))) return undefined;
  const ours = [ctx.data.floppyUrl, ctx.data.deployIsoObject ? ctx.data.deployIsoUrl : undefined];
  // Taken over from another instance whose own store serves the media: it may be slow rather than dead, and die later; never rely on it.
  const local = (await ctx.deps.media()).localBaseUrl;
  if (local && ours.some((url) => url && !url.startsWith(`${local}/`))) {
    ctx.progress(`The deploy media is not served by this instance's store (now at ${local}): publishing and inserting it again`);
    return 'publish-media';
  }
  for (const url of ours) {
    const gone = url ? await noLongerServed(url, ctx.signal) : undefined;
    if (gone) {
      ctx.progress(`The deploy media is no longer served where the iLO reads it (${gone}): publishing and inserting it again`);
      return 'publish-media';
    }
  }
  return undefined;
}

/** Why a URL is certainly not served any more (connection refused, a 4xx answer), or undefined: served, or not known (a 5xx, a timeout: then nothing is redone). */
export async function noLongerServed(url: string, signal: AbortSignal): Promise<string | undefined> {
  try {
    const res = await request(url, { method: 'GET', headers: { range: 'bytes=0-0' }, headersTimeout: 10_000, bodyTimeout: 10_000, signal });
    await res.body.dump();
    // Any refusal (not found, gone, an expired temp URL's 401, another program now on that port): not our media any more.
    return res.statusCode >= 400 && res.statusCode < 500 ? `HTTP ${res.statusCode}` : undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ECONNREFUSED' || code === 'ENOTFOUND' ? code : undefined;
  }
}

/** Kernel and ramdisk the controller reads itself: copied (and verified) into the work directory. */
export async function stageKernelAndRamdisk(ctx: Ctx, kernelRef: string | undefined, ramdiskRef: string | undefined, what: string): Promise<{ kernel: string; ramdisk: string }> {
  if (!kernelRef || !ramdiskRef) throw new DeployError('invalid-input', `${what}Kernel and ${what}Ramdisk: expected both references`, { field: `${what}Kernel` });
  const dir = join(ctx.deps.settings.workDir, ctx.record.id);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const media = await ctx.deps.media();
  const kernel = join(dir, `${what}.kernel`);
  const ramdisk = join(dir, `${what}.ramdisk`);
  await media.download(kernelRef, kernel, { signal: ctx.signal });
  await media.download(ramdiskRef, ramdisk, { signal: ctx.signal, onProgress: (bytes, total) => ctx.progress(`Fetching the ${what} ramdisk`, { bytes, total }) });
  return { kernel, ramdisk };
}

/** A value an earlier step must have saved; its absence means the record was damaged. */
export function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new DeployError('failed', `${what} is missing from the deploy's saved state`);
  return value;
}

export async function removeWorkDir(ctx: Ctx): Promise<void> {
  await rm(join(ctx.deps.settings.workDir, ctx.record.id), { recursive: true, force: true });
}

export function attachMediaStep(): Step<DeployDeps, VirtualMediaData> {
  return {
    name: 'attach-media',
    title: 'Insert the virtual media, boot once from CD',
    resumable: true,
    timeoutMs: 300_000,
    async run(ctx) {
      const bmc = await ctx.deps.bmc();
      await whenNotInPost(ctx, 'Insert the virtual media', () =>
        bmc.attachDeployMedia({ cdrom: required(ctx.data.deployIsoUrl, 'the deploy ISO URL'), floppy: required(ctx.data.floppyUrl, 'the floppy URL'), oneTimeBootCdrom: true }),
      );
    },
    async undo(ctx) {
      await cleanupAction(ctx, async () => (await ctx.deps.bmc()).detachDeployMedia());
    },
  };
}

export function powerOnStep(title = 'Power on into the deploy ramdisk'): Step<DeployDeps> {
  return {
    name: 'power-on',
    title,
    resumable: true,
    timeoutMs: 120_000,
    async run(ctx) {
      const bmc = await ctx.deps.bmc();
      await ctx.deps.consoleReady?.();
      // The server is off (the power-off step saw to it): power on, one
      // request; if something turned it on since, reset it so that it boots
      // from what the steps before set up.
      if (wasAlready(await bmc.powerOn(), 'on')) await bmc.reset();
    },
    async undo(ctx) {
      await cleanupAction(ctx, async () => powerOffAndWait(ctx, await ctx.deps.bmc()));
    },
  };
}

/** Eject the deploy media and remove the floppy as soon as the ramdisk is up (Ironic left them until tear-down). */
export function detachDeployMediaStep(): Step<DeployDeps, VirtualMediaData> {
  return {
    name: 'detach-media',
    title: 'Eject the deploy media',
    resumable: true,
    timeoutMs: 300_000,
    async run(ctx) {
      await (await ctx.deps.bmc()).detachDeployMedia();
      await unpublish(ctx, ctx.data.floppyObject);
      await unpublish(ctx, ctx.data.deployIsoObject);
    },
  };
}

/** Persistent boot from disk, and the boot mode asserted again (Ironic does both after the write). */
export function bootFromDiskStep(): Step<DeployDeps, ServerData> {
  return {
    name: 'boot-device',
    title: 'Boot from the disk from now on',
    resumable: true,
    timeoutMs: 300_000,
    async run(ctx) {
      const bmc = await ctx.deps.bmc();
      // One read: the pending boot mode to assert, the boot order to change, and the power state the reboot step starts from.
      const state = await readBmcState(bmc, { pendingBootMode: true, persistentBootOrder: true, power: true });
      const changed = await reassertBootMode(ctx, bmc, state);
      // A boot-mode change may change the UEFI entries: then read them again.
      await whenNotInPost(ctx, 'Set the boot device', () => bmc.setPersistentBootOrder(['hdd'], changed ? undefined : state.persistentBootOrder));
      keepFresh(ctx, state);
    },
  };
}

/** Set the pending boot mode again where it is not the deploy's (read in `state` if given); whether it had to be set. */
export async function reassertBootMode(ctx: Ctx<ServerData>, bmc: Bmc, state?: BmcState): Promise<boolean> {
  const mode = ctx.data.bootMode;
  if (!mode) return false;
  try {
    if (state?.bootModeSupported === false) return false;
    const pending = state?.pendingBootMode ?? state?.bootMode?.pending ?? (await bmc.getBootMode()).pending;
    if (pending === mode) return false;
    await whenNotInPost(ctx, 'Set the boot mode', () => bmc.setPendingBootMode(mode));
    return true;
  } catch (err) {
    if (!isBmcError(err, 'not-supported')) throw err;
    return false;
  }
}

// ------------------------------------------------------------------ tear-down and clean-up

export function teardownPowerOff(): Step<DeployDeps> {
  return {
    name: 'td-power-off',
    title: 'Power off',
    timeoutMs: (ctx) => ctx.deps.settings.powerTimeoutMs + 60_000,
    async run(ctx) {
      await cleanupAction(ctx, async () => powerOffAndWait(ctx, await ctx.deps.bmc()));
    },
  };
}

export function teardownMedia(): Step<DeployDeps> {
  return {
    name: 'td-media',
    title: 'Eject virtual media and remove published objects',
    timeoutMs: 300_000,
    async run(ctx) {
      await cleanupAction(ctx, async () => (await ctx.deps.bmc()).detachDeployMedia());
      for (const p of [...ctx.record.published]) await cleanupAction(ctx, () => unpublish(ctx, p.name));
      await cleanupAction(ctx, () => removeWorkDir(ctx));
    },
  };
}

/** After any failure: nothing left inserted, published or running. Returns what could not be done. */
export async function cleanUp(ctx: Ctx, opts: { virtualMedia: boolean; extra?: () => Promise<void> }): Promise<string[]> {
  const errors: string[] = [];
  const attempt = async (what: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await cleanupAction(ctx, fn);
    } catch (err) {
      errors.push(`${what}: ${(err as Error).message}`);
    }
  };
  if (opts.virtualMedia) await attempt('eject the virtual media', async () => (await ctx.deps.bmc()).detachDeployMedia());
  for (const p of [...ctx.record.published]) await attempt(`remove ${p.name}`, () => unpublish(ctx, p.name));
  if (opts.extra) await attempt('remove files', opts.extra);
  await attempt('remove staged files', () => removeWorkDir(ctx));
  await attempt('power off', async () => powerOffAndWait(ctx, await ctx.deps.bmc()));
  return errors;
}
