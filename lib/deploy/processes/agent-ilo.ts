/**
 * agent_ilo: virtual media boots
 * ironic-python-agent, which downloads the image itself and writes it; the
 * server then boots from its disk.
 */
import type { ImageInfo } from '../agent-client';
import { agentConfigDrive } from '../config-drive/drive';
import type { DeployProcess, Step } from '../step';
import { badInput } from '../errors';
import type { AgentIloData } from './data';
import { guardDeployDeps, type DeployDeps } from './deps';
import {
  alreadyIn,
  attachMediaStep,
  bootFromDiskStep,
  bootModeStep,
  cleanUp,
  detachDeployMediaStep,
  imageInput,
  inspectServer,
  mediaTtlSeconds,
  objectName,
  powerOffStep,
  powerOnStep,
  publishDeployMediaStep,
  republishWhenGone,
  required,
  takeFreshPowerState,
  teardownMedia,
  teardownPowerOff,
  unpublish,
  type Ctx,
} from './steps';
import { agentPartitionImage, installBootloaderStep, partitionImageInfo } from './agent-bootloader';
import { agentClient } from './agent-connection';
import { preflightFor } from './preflight';
import { validateCommon, validateDeployRamdisk } from './validate';

type AgentStep = Step<DeployDeps, AgentIloData>;

export function waitForAgent(): AgentStep {
  return {
    name: 'wait-agent',
    title: 'Wait for the agent to call back',
    resumable: true,
    timeoutMs: (ctx) => ctx.deps.settings.callbackTimeoutMs + 60_000,
    async run(ctx) {
      const body = await ctx.waitForCallback('heartbeat', ctx.deps.settings.callbackTimeoutMs);
      // The ramdisk API checked callback_url is an http(s) URL.
      ctx.data.agentUrl = String(body.callback_url);
      ctx.data.agentVersion = typeof body.agent_version === 'string' ? body.agent_version : undefined;
      // The ramdisk API checked it is a PEM certificate; from now on it is the only one trusted for this agent.
      ctx.data.agentVerifyCa = typeof body.agent_verify_ca === 'string' && body.agent_verify_ca !== '' ? body.agent_verify_ca : undefined;
      // The agent's own hardware inventory (IPA's format), when it sends one: kept beside the deploy (the API caps the body at 64 KiB).
      const inventory = body.inventory;
      if (inventory && typeof inventory === 'object' && !Array.isArray(inventory)) ctx.data.agentInventory = inventory as Record<string, unknown>;
      await ctx.save();
    },
  };
}

/** The agent's command API at its callback URL, trusting the certificate its heartbeat sent, else the operator's agent CA. */
/** image_info for standby.prepare_image: a URL the server can fetch, and the checksum it must match. */
async function imageInfo(ctx: Ctx<AgentIloData>): Promise<ImageInfo> {
  const req = ctx.record.request;
  const base = {
    id: ctx.record.id,
    disk_format: req.imageFormat ?? 'raw',
    container_format: 'bare' as const,
    stream_raw_images: true,
    image_type: 'whole-disk' as const,
    node_uuid: ctx.record.id,
    ...(agentPartitionImage(req) ? partitionImageInfo(req, ctx.data.bootMode ?? 'bios') : {}),
  };
  if (/^https?:\/\//i.test(req.image) && req.imageChecksum) {
    return { ...base, urls: [req.image], os_hash_algo: req.imageChecksum.algorithm, os_hash_value: req.imageChecksum.value.toLowerCase(), ...(req.imageChecksum.algorithm === 'md5' ? { checksum: req.imageChecksum.value.toLowerCase() } : {}) };
  }
  // Anything else goes through the store: checked on the way in, and published where the server can reach it.
  const name = objectName(ctx, 'image');
  ctx.data.imageObject = name;
  await ctx.published({ name, url: '' });
  const p = await (await ctx.deps.media()).publishImage(imageInput(req.image, req.imageChecksum), {
    ttlSeconds: mediaTtlSeconds(ctx),
    name,
    onProgress: (t) => ctx.progress('Publishing the image', t),
  });
  await ctx.published({ name, url: p.url, expiresAt: p.expiresAt?.toISOString() });
  return { ...base, urls: [p.url], os_hash_algo: p.checksum.algorithm, os_hash_value: p.checksum.value };
}

function writeImage(): AgentStep {
  return {
    name: 'write-image',
    title: 'The agent writes the image',
    // Resumable: after a restart the command is polled again, not sent twice.
    resumable: true,
    timeoutMs: (ctx) => ctx.deps.settings.writeTimeoutMs + 600_000,
    async run(ctx) {
      const agent = agentClient(ctx);
      if (!ctx.data.prepareSent) {
        const info = await imageInfo(ctx);
        const drive = ctx.record.request.configDrive;
        await agent.prepareImage(info, ctx.signal, drive === undefined ? undefined : await agentConfigDrive(drive, { uuid: ctx.record.id, name: ctx.record.serverName }));
        ctx.data.prepareSent = true;
        await ctx.save();
      }
      const started = Date.now();
      await agent.waitFor('prepare_image', {
        timeoutMs: ctx.deps.settings.writeTimeoutMs,
        intervalMs: ctx.deps.settings.pollIntervalMs,
        signal: ctx.signal,
        onPoll: (c) => {
          if (c.command_status === 'RUNNING') ctx.progress(`The agent is writing the image (${Math.round((Date.now() - started) / 1000)} s)`);
        },
      });
      await unpublish(ctx, ctx.data.imageObject);
      ctx.data.result = { imageWritten: true, ...(ctx.data.agentInventory ? { agentInventory: ctx.data.agentInventory } : {}) };
      await ctx.save();
    },
  };
}

function rebootIntoInstance(): AgentStep {
  return {
    name: 'reboot',
    title: 'Shut the agent down and boot the instance',
    resumable: true,
    timeoutMs: (ctx) => 2 * ctx.deps.settings.powerTimeoutMs + 120_000,
    async run(ctx) {
      const bmc = await ctx.deps.bmc();
      const { powerTimeoutMs, pollIntervalMs } = ctx.deps.settings;
      // Read by the boot-device step just before, in the same run; read here after a resume.
      const power = takeFreshPowerState(ctx) ?? (await bmc.getPowerState());
      if (power === 'on' && !ctx.data.rebooted) {
        try {
          await agentClient(ctx).powerOff(ctx.signal);
          // The agent has only just been asked: the first read waits one interval.
          await bmc.waitForPowerState('off', { timeoutMs: Math.min(powerTimeoutMs, 120_000), intervalMs: pollIntervalMs, signal: ctx.signal, delayFirstRead: true });
        } catch (err) {
          // The agent could not shut down cleanly: a hard power-off, as Ironic's out-of-band fallback.
          ctx.progress(`Soft power-off did not complete (${(err as Error).message}); powering off`);
          if (!alreadyIn(await bmc.powerOff(), 'off')) await bmc.waitForPowerState('off', { timeoutMs: powerTimeoutMs, intervalMs: pollIntervalMs, signal: ctx.signal, delayFirstRead: true });
        }
      }
      ctx.data.rebooted = true;
      await ctx.save();
      // RIBCL reads the power state back in the same request: no wait when it is on already.
      if (!alreadyIn(await bmc.powerOn(), 'on')) await bmc.waitForPowerState('on', { timeoutMs: powerTimeoutMs, intervalMs: pollIntervalMs, signal: ctx.signal, delayFirstRead: true });
    },
  };
}

export function agentIloProcess(): DeployProcess<DeployDeps, AgentIloData> {
  return {
    method: 'agent_ilo',
    preflight: preflightFor('agent_ilo'),
    resumeFrom: republishWhenGone,
    validate(req) {
      validateCommon(req);
      validateDeployRamdisk(req, false);
      if (req.bootOption === 'netboot') throw badInput('bootOption', 'local for agent_ilo (agent deploys boot from the disk; use iscsi_ilo to netboot a partition image)', req.bootOption);
      if (agentPartitionImage(req) && (!Number.isInteger(req.rootMb) || (req.rootMb as number) < 1)) {
        throw badInput('rootMb', 'the root partition size in MiB (a whole number) for a partition image', req.rootMb);
      }
    },
    guardDeps: guardDeployDeps,
    deploySteps: [
      inspectServer(true),
      bootModeStep(),
      powerOffStep(),
      publishDeployMediaStep((ctx) => ({
        'ipa-api-url': ctx.deps.settings.apiUrl,
        'ipa-agent-token': ctx.record.token,
        'ipa-driver-name': 'agent_ilo',
        boot_method: 'vmedia',
        BOOTIF: required(ctx.data.bootMac, 'the boot MAC'),
        'coreos.configdrive': 0,
      })),
      attachMediaStep(),
      powerOnStep(),
      waitForAgent(),
      detachDeployMediaStep(),
      writeImage(),
      installBootloaderStep(),
      bootFromDiskStep(),
      rebootIntoInstance(),
    ],
    teardownSteps: [teardownPowerOff(), teardownMedia()],
    cleanup: (ctx) => cleanUp(ctx, { virtualMedia: true }),
  };
}

