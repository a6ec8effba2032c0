/**
 * The boot ISO of a netboot instance (iscsi_ilo with a partition image):
 * built here (kernel, ramdisk, root=UUID=…, BIOS and UEFI; Kilo could not
 * build a UEFI one), published, inserted as the virtual CD and booted from
 * from then on. "On the first and subsequent reboots" the iLO reads it at
 * the URL it holds, so for as long as the deploy is active that URL must
 * work: the built-in store serves the ISO until it is unpublished; a Swift
 * temp URL is signed again (and the object's expiry moved) a third of its
 * lifetime before it expires and before every power-on or reset made
 * through this package, and inserted again. The tear-down (undeploy) and a
 * rebuild unpublish it.
 */
import { isLibError } from '../../errors';
import { buildInstanceBootIso } from '../../media/boot-iso';
import { DeployError } from '../errors';
import type { Step } from '../step';
import type { IscsiIloData } from './data';
import type { DeployDeps } from './deps';
import { noLongerServed, objectName, publishTracked, reassertBootMode, removeWorkDir, stageKernelAndRamdisk, unpublish, whenNotInPost, type Ctx } from './steps';

/** Build the boot ISO and publish it (until unpublished where the store can); its URL. The next upkeep is set from its expiry. */
async function publishBootIso(ctx: Ctx<IscsiIloData>): Promise<string> {
  const req = ctx.record.request;
  const rootUuid = ctx.data.rootUuid;
  if (!rootUuid) throw new DeployError('failed', 'the image was written but its root filesystem UUID is unknown: cannot build the boot ISO');
  const { kernel, ramdisk } = await stageKernelAndRamdisk(ctx, req.instanceKernel, req.instanceRamdisk, 'instance');
  const iso = await buildInstanceBootIso({
    kernel,
    ramdisk,
    rootUuid,
    kernelParams: req.kernelParams ?? 'nofb nomodeset vga=normal',
    bootModes: ctx.data.bootMode ?? 'both',
    bootLoaders: ctx.deps.settings.bootLoaders,
  });
  const name = objectName(ctx, 'boot.iso');
  ctx.data.bootIsoObject = name;
  const url = await publishTracked(ctx, name, iso, ctx.deps.settings.bootIsoTtlSeconds, true);
  await removeWorkDir(ctx);
  scheduleRenewal(ctx);
  return url;
}

/** A third of the URL's lifetime before it expires; none for media served until unpublished. */
function scheduleRenewal(ctx: Ctx<IscsiIloData>): void {
  const expiresAt = ctx.record.published.find((p) => p.name === ctx.data.bootIsoObject)?.expiresAt;
  ctx.data.upkeepAt = expiresAt ? new Date(Date.parse(expiresAt) - (ctx.deps.settings.bootIsoTtlSeconds * 1000) / 3).toISOString() : undefined;
}

/** The iLO holds `url` on its virtual CD, and boots from CD from now on. */
async function holdBootIso(ctx: Ctx<IscsiIloData>, url: string, force: boolean): Promise<void> {
  const bmc = await ctx.deps.bmc();
  const cd = force ? undefined : await bmc.getVirtualMediaStatus('cdrom');
  if (!cd?.inserted || cd.imageUrl !== url) {
    await whenNotInPost(ctx, 'Insert the boot ISO', () => bmc.insertVirtualMedia('cdrom', url, { bootOnce: false, writeProtect: true }));
  }
  if (force || (await bmc.getPersistentBootOrder())[0]?.device !== 'cdrom') {
    await whenNotInPost(ctx, 'Set the boot device', () => bmc.setPersistentBootOrder(['cdrom']));
  }
}

export function bootIsoStep(): Step<DeployDeps, IscsiIloData> {
  return {
    name: 'boot-device',
    title: 'Build the boot ISO and boot from it from now on',
    resumable: true,
    timeoutMs: 1_800_000,
    async run(ctx) {
      const url = await publishBootIso(ctx);
      await ctx.save();
      await reassertBootMode(ctx, await ctx.deps.bmc());
      await holdBootIso(ctx, url, true);
    },
    async undo(ctx) {
      await unpublish(ctx, ctx.data.bootIsoObject);
    },
  };
}

/**
 * DeployProcess.upkeep of a netboot instance: its boot ISO served at a URL
 * that works (renewed, or built and published again when the store lost
 * it), and that URL on the iLO's virtual CD.
 */
export async function keepBootIsoServed(ctx: Ctx<IscsiIloData>, why: 'due' | 'power-on'): Promise<void> {
  const name = ctx.data.bootIsoObject;
  if (!name) {
    ctx.data.upkeepAt = undefined;
    return ctx.save();
  }
  const pub = ctx.record.published.find((p) => p.name === name);
  let url: string;
  if (pub?.url && !pub.expiresAt) {
    // Served until unpublished: the URL stays, unless the store lost it (its state, or its port after a restart).
    const gone = await noLongerServed(pub.url, ctx.signal);
    if (gone) ctx.progress(`The boot ISO is no longer served where the iLO reads it (${gone}): building and publishing it again`);
    url = gone ? await publishBootIso(ctx) : pub.url;
  } else {
    try {
      const p = await (await ctx.deps.media()).renew(name, { ttlSeconds: ctx.deps.settings.bootIsoTtlSeconds });
      await ctx.published({ name, url: p.url, expiresAt: p.expiresAt?.toISOString() });
      url = p.url;
      scheduleRenewal(ctx);
      ctx.progress(`Boot ISO URL signed again${p.expiresAt ? `, valid until ${p.expiresAt.toISOString()}` : ''}`);
    } catch (err) {
      if (!isLibError(err, 'not-found')) throw err;
      ctx.progress('The boot ISO is gone from the store (it expired): building and publishing it again');
      url = await publishBootIso(ctx);
    }
  }
  await ctx.save();
  await holdBootIso(ctx, url, false);
  if (why === 'power-on') ctx.progress('Boot ISO checked and inserted before the power-on');
}
