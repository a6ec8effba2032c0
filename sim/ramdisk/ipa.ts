/**
 * A simulated ironic-python-agent: after the simulated server boots the
 * deploy ISO, it looks itself up, heartbeats with the token from the floppy,
 * serves the agent command API, downloads and checksums the image, and
 * "writes" it to the simulated disk. Faults can be injected at every step.
 *
 * TLS as the real agent: by default (automatic TLS) it asks the API's
 * version and, from 1.68, generates its own certificate, serves HTTPS with
 * it, heartbeats an https:// callback_url and the certificate as
 * agent_verify_ca; with a certificate given (IPA's listen_tls) it serves
 * HTTPS with that one and sends none; 'off' serves plain HTTP.
 */
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { Agent, request } from 'undici';
import { generateAgentCertificate, type AgentCertificate } from './agent-cert';
import { pickDisk, type SimHostDisk } from './device-hints';
import { writeConfigDrivePartition } from './ipa-config-drive';
import type { WrittenPartitionImage } from './disk';
import { installBootloader, preparePartitionImage, type PartitionHost } from './ipa-partition';
import { CleanCommandError, executeCleanStep, getCleanSteps, type CleanFaults } from './ipa-clean';

export interface RamdiskHost extends PartitionHost {
  /** MACs of the simulated server's NICs. */
  macs: string[];
  /** The image as written to the simulated disk. */
  writeDisk(disk: { sha256: string; size: number; format: string }): void;
  /** The simulated disk's file (diskFile): the image's bytes (raw, or converted from qcow2 with qemu-img), a partition image's layout and the config drive go there. */
  /** The disks the agent sees (the first is `diskFile`); absent: `diskFile` alone, as /dev/sda. */
  disks?: SimHostDisk[];
  /** The agent chose this disk to write (root device hints, or the default). */
  useDisk?(disk: SimHostDisk): void;
  /** The hardware inventory the agent reports with its heartbeats, in IPA's format. */
  inventory?(): Record<string, unknown>;
  /** The OS powers the machine off (standby.power_off). */
  powerOff(): void;
  log?(message: string): void;
}

export interface RamdiskFaults extends CleanFaults {
  /** Never call back (lookup and heartbeats are skipped). */
  lostCallback?: boolean;
  /** Heartbeat with this token instead of the one from the floppy. */
  wrongToken?: string;
  /** Flip a byte of the downloaded image (the checksum must catch it). */
  corruptImage?: boolean;
  /** Make this command (e.g. "standby.prepare_image") fail. */
  failCommand?: string;
  /** Look up and heartbeat only after this many milliseconds (a slow boot or network). */
  slowCallbackMs?: number;
  /** After its first heartbeat, send another certificate as agent_verify_ca (a rebooted agent, or another machine with the token); it keeps serving its first. */
  otherCertificate?: boolean;
}

/** How the agent serves its API: 'auto' (IPA's automatic TLS, the default), its own certificate (listen_tls), or plain HTTP. */
export type SimAgentTls = 'auto' | 'off' | { key: string; cert: string };

export interface IpaOptions {
  /** ipa-api-url from the floppy. */
  apiUrl: string;
  /** ipa-agent-token from the floppy. */
  token: string;
  heartbeatIntervalMs?: number;
  faults?: RamdiskFaults;
  /** PEM of a CA to trust for https image URLs (the media server's), else the system's. */
  ca?: string;
  /** The address it listens on and advertises in its callback_url (default 127.0.0.1). */
  address?: string;
  tls?: SimAgentTls;
}

interface Command {
  id: string;
  command_name: string;
  command_params: Record<string, unknown>;
  command_status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CLEAN_VERSION_MISMATCH';
  command_error: { type: string; code: number; message: string; details: string } | null;
  command_result: Record<string, unknown> | null;
}

export class SimIpa {
  private server?: Server;
  private timer?: NodeJS.Timeout;
  private readonly commands: Command[] = [];
  private stopped = false;
  private readonly dispatcher: Agent;
  nodeUuid?: string;
  /** The root device hints the lookup gave (instance_info first, then properties, as IPA reads them). */
  rootDeviceHints?: Record<string, unknown>;
  /** The disk prepare_image wrote. */
  installDisk?: SimHostDisk;
  /** What the last partition-image write left (standby.get_partition_uuids). */
  partitionUuids?: WrittenPartitionImage;
  agentUrl = '';
  /** The certificate it generated (automatic TLS) and sends as agent_verify_ca. */
  generatedCert?: AgentCertificate;
  heartbeats = 0;
  lastHeartbeatStatus?: number;
  /** The API's refusal of the last heartbeat (its faultstring). */
  lastHeartbeatFault?: string;
  private otherCert?: AgentCertificate;

  constructor(
    private readonly host: RamdiskHost,
    private readonly opts: IpaOptions,
  ) {
    this.dispatcher = new Agent({ connect: opts.ca ? { ca: opts.ca } : {} });
  }

  async start(): Promise<void> {
    const address = this.opts.address ?? '127.0.0.1';
    const tls = await this.tlsIdentity(address);
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((err: unknown) => {
        this.host.log?.(`ipa: ${req.method} ${req.url}: ${(err as Error).message}`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    };
    this.server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, handler) : createServer(handler);
    await new Promise<void>((r) => this.server!.listen(0, address, () => r()));
    this.agentUrl = `${tls ? 'https' : 'http'}://${address}:${(this.server.address() as AddressInfo).port}`;
    this.host.log?.(`ipa: listening at ${this.agentUrl}`);
    if (this.opts.faults?.lostCallback) {
      this.host.log?.('ipa: (fault) never calling back');
      return;
    }
    const slow = this.opts.faults?.slowCallbackMs ?? 0;
    if (slow > 0) {
      this.host.log?.(`ipa: (fault) calling back after ${slow} ms`);
      this.timer = setTimeout(() => this.callBack(), slow);
      return;
    }
    this.callBack();
  }

  /** Looks the node up and heartbeats in the background; failures are logged, as IPA does. */
  private callBack(): void {
    this.lookupAndHeartbeat().catch((err: unknown) => this.host.log?.(`ipa: calling back failed: ${(err as Error).message}`));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const srv = this.server;
    this.server = undefined;
    if (srv) {
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    }
    await this.dispatcher.close().catch(() => undefined);
  }

  /** The certificate it serves, or none (plain HTTP). Automatic TLS only when the API supports it, as IPA decides. */
  private async tlsIdentity(address: string): Promise<AgentCertificate | undefined> {
    const mode = this.opts.tls ?? 'auto';
    if (mode === 'off') return undefined;
    if (mode !== 'auto') return mode;
    if (!(await this.apiSupportsAutoTls())) {
      this.host.log?.('ipa: the API does not support automatic TLS (before 1.68): serving HTTP');
      return undefined;
    }
    const hostName = `sim-ipa-${address.replace(/[.:]/g, '-')}`;
    this.generatedCert = await generateAgentCertificate(address, hostName);
    if (this.opts.faults?.otherCertificate) this.otherCert = await generateAgentCertificate(address, hostName);
    this.host.log?.(`ipa: generated a TLS certificate for ${address}`);
    return this.generatedCert;
  }

  /** GET / : the API's default_version.version is 1.68 or later (IPA's supports_auto_tls; an unreachable API means no). */
  private async apiSupportsAutoTls(): Promise<boolean> {
    try {
      const res = await request(this.api('/'), { dispatcher: this.dispatcher, headersTimeout: 10_000, bodyTimeout: 10_000 });
      const doc = (await res.body.json()) as { default_version?: { version?: string } };
      const [major, minor] = String(doc.default_version?.version ?? '').split('.').map(Number);
      return major === 1 && (minor ?? 0) >= 68;
    } catch (err) {
      this.host.log?.(`ipa: cannot read the API's version: ${(err as Error).message}`);
      return false;
    }
  }

  private api(path: string): string {
    return `${this.opts.apiUrl.replace(/\/+$/, '')}${path}`;
  }

  private async lookupAndHeartbeat(): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (!this.stopped && !this.nodeUuid) {
      try {
        const res = await request(this.api(`/v1/lookup?addresses=${encodeURIComponent(this.host.macs.join(','))}`), { dispatcher: this.dispatcher });
        const text = await res.body.text();
        if (res.statusCode === 200) {
          const node = (JSON.parse(text) as { node: { uuid: string; properties?: { root_device?: unknown }; instance_info?: { root_device?: unknown } } }).node;
          const hints = node.instance_info?.root_device ?? node.properties?.root_device;
          if (hints && typeof hints === 'object') this.rootDeviceHints = hints as Record<string, unknown>;
          this.nodeUuid = node.uuid;
        }
        else this.host.log?.(`ipa: lookup: HTTP ${res.statusCode}`);
      } catch (err) {
        // the API may not be up yet; IPA retries with back-off
        this.host.log?.(`ipa: lookup failed: ${(err as Error).message}`);
      }
      if (!this.nodeUuid) {
        if (Date.now() > deadline) return this.host.log?.('ipa: lookup gave up');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await this.heartbeat();
  }

  private async heartbeat(): Promise<void> {
    if (this.stopped || !this.nodeUuid) return;
    const cert = this.heartbeats > 0 && this.otherCert ? this.otherCert : this.generatedCert;
    try {
      const res = await request(this.api(`/v1/heartbeat/${this.nodeUuid}`), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-openstack-ironic-api-version': '1.68' },
        body: JSON.stringify({
          callback_url: this.agentUrl,
          agent_token: this.opts.faults?.wrongToken ?? this.opts.token,
          agent_version: '9.13.1-sim',
          ...(cert ? { agent_verify_ca: cert.cert } : {}),
          ...(this.host.inventory ? { inventory: this.host.inventory() } : {}),
        }),
        dispatcher: this.dispatcher,
      });
      const text = await res.body.text();
      this.heartbeats++;
      this.lastHeartbeatStatus = res.statusCode;
      this.lastHeartbeatFault = res.statusCode === 202 ? undefined : faultOf(text);
      this.host.log?.(`ipa: heartbeat: HTTP ${res.statusCode}${this.lastHeartbeatFault ? ` ${this.lastHeartbeatFault}` : ''}`);
    } catch (err) {
      this.lastHeartbeatStatus = 0;
      this.host.log?.(`ipa: heartbeat failed: ${(err as Error).message}`);
    }
    if (!this.stopped) this.timer = setTimeout(() => this.callBack(), this.opts.heartbeatIntervalMs ?? 30_000);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://agent');
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.searchParams.get('agent_token') !== this.opts.token) return send(401, { message: 'Token invalid.' });
    const path = url.pathname.replace(/\/+$/, '');
    if (req.method === 'GET' && path === '/v1/commands') return send(200, { commands: this.commands });
    if (req.method === 'POST' && path === '/v1/commands') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      let body: { name?: string; params?: Record<string, unknown> };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        return send(400, { message: 'invalid JSON' });
      }
      if (this.commands.some((c) => c.command_status === 'RUNNING')) return send(409, { message: 'Agent is busy' });
      const name = String(body.name ?? '');
      const bare = name.split('.').pop() ?? name;
      const cmd: Command = { id: randomUUID(), command_name: bare, command_params: body.params ?? {}, command_status: 'RUNNING', command_error: null, command_result: null };
      this.commands.push(cmd);
      const work = this.run(name, cmd);
      if (url.searchParams.get('wait') === 'true') await work;
      return send(200, cmd);
    }
    send(404, { message: `no route ${req.method} ${path}` });
  }

  private async run(name: string, cmd: Command): Promise<void> {
    try {
      if (this.opts.faults?.failCommand === name) throw Object.assign(new Error(`${name} failed (injected fault)`), { type: 'CommandExecutionError' });
      switch (name) {
        case 'standby.prepare_image':
          cmd.command_result = await this.prepareImage(cmd.command_params);
          break;
        case 'standby.get_partition_uuids':
          cmd.command_result = this.partitionUuids ? { 'root uuid': this.partitionUuids['root uuid'], 'efi system partition uuid': this.partitionUuids['efi system partition uuid'] ?? null, partitions: this.partitionUuids.partitions } : {};
          break;
        case 'image.install_bootloader':
          cmd.command_result = await installBootloader(this.onDisk(this.installDisk), cmd.command_params);
          break;
        case 'clean.get_clean_steps':
          cmd.command_result = getCleanSteps();
          break;
        case 'clean.execute_clean_step':
          cmd.command_result = await executeCleanStep(this.host.diskFile, cmd.command_params, this.opts.faults);
          this.host.log?.(`ipa: clean step ${String((cmd.command_params.step as { step?: unknown } | undefined)?.step)} done`);
          break;
        case 'standby.sync':
          cmd.command_result = { result: 'sync: done' };
          break;
        case 'standby.power_off':
          cmd.command_result = { result: 'power_off: done' };
          setTimeout(() => this.host.powerOff(), 50);
          break;
        default:
          throw Object.assign(new Error(`unknown command ${name}`), { type: 'InvalidCommandError' });
      }
      cmd.command_status = 'SUCCEEDED';
    } catch (err) {
      cmd.command_status = err instanceof CleanCommandError ? err.status : 'FAILED';
      const e = err as Error & { type?: string };
      cmd.command_error = { type: e.type ?? 'CommandExecutionError', code: 500, message: e.message, details: e.message };
    }
  }

  private async prepareImage(params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const info = (params.image_info ?? {}) as Record<string, unknown>;
    const urls = info.urls as string[] | undefined;
    if (!Array.isArray(urls) || !urls[0]) throw Object.assign(new Error('image_info.urls is missing'), { type: 'InvalidCommandParamsError' });
    const algo = (info.os_hash_algo as string | undefined) ?? (info.checksum ? 'md5' : undefined);
    const expected = ((info.os_hash_value as string | undefined) ?? (info.checksum as string | undefined))?.toLowerCase();
    if (!algo || !expected) throw Object.assign(new Error('image_info has no checksum'), { type: 'InvalidCommandParamsError' });
    // Before anything is downloaded or written: the disk the hints name (IPA's get_os_install_device).
    const target = this.chooseDisk();
    const host = this.onDisk(target);
    const res = await request(urls[0], { dispatcher: this.dispatcher });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw Object.assign(new Error(`image download failed: HTTP ${res.statusCode}`), { type: 'ImageDownloadError' });
    }
    const hash = createHash(algo);
    const sha = createHash('sha256');
    let size = 0;
    let first = true;
    const format = String(info.disk_format ?? 'raw');
    // A partition image is kept in the ramdisk's own temp directory until it is laid out on the disk, as the agent does; a whole-disk image goes onto the disk.
    const tmp = info.image_type === 'partition' ? mkdtempSync(join(tmpdir(), 'sim-ipa-')) : undefined;
    const file = tmp ? createWriteStream(join(tmp, 'image')) : undefined;
    const disk = tmp ? undefined : await openDiskWriter(host.diskFile, format);
    try {
      for await (const chunk of res.body) {
        let c = chunk as Buffer;
        if (first && this.opts.faults?.corruptImage && c.length > 0) {
          c = Buffer.from(c);
          c[0] = (c[0] as number) ^ 0xff;
        }
        first = false;
        hash.update(c);
        sha.update(c);
        if (file) {
          if (!file.write(c)) await new Promise<void>((r) => file.once('drain', () => r()));
        } else await disk?.write(c, size);
        size += c.length;
      }
      file?.end();
      if (file) await finished(file);
      const got = hash.digest('hex');
      if (got !== expected) throw Object.assign(new Error(`Image failed to verify against checksum. location: ${urls[0]}; image ID: ${String(info.id)}; image checksum: ${got}; verification checksum: ${expected}`), { type: 'ImageChecksumError' });
      await disk?.finish();
      await disk?.close();
      this.host.writeDisk({ sha256: sha.digest('hex'), size, format });
      let message = `prepare_image: image (${String(info.id)}) written to device ${target?.name ?? '/dev/sda'}`;
      if (tmp) {
        const p = await preparePartitionImage(host, info, join(tmp, 'image'));
        this.partitionUuids = p.uuids;
        message = p.result;
      }
      // Ironic of the Kilo era sends configdrive beside image_info; later ones also inside it.
      const configdrive = params.configdrive ?? info.configdrive;
      if (typeof configdrive === 'string' && configdrive !== '') {
        const cd = await writeConfigDrivePartition(host.diskFile, configdrive, (url) => this.fetch(url));
        this.host.log?.(`ipa: config drive written to partition ${cd.partition}${cd.reused ? ' (existing config-2 partition)' : ''}`);
        message += `; config drive written to partition ${cd.partition}`;
      }
      return { result: message };
    } finally {
      file?.destroy();
      await disk?.close();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    }
  }

  /** The install disk: by the hints when there are some (none matching fails as IPA fails), else the first. */
  private chooseDisk(): SimHostDisk | undefined {
    const disks = this.host.disks;
    if (!disks?.length) return undefined;
    const disk = pickDisk(disks, this.rootDeviceHints);
    if (!disk) {
      throw Object.assign(new Error(`Error finding the disk or partition device to deploy the image onto: No suitable device was found for deployment using these hints ${JSON.stringify(this.rootDeviceHints)}`), { type: 'DeviceNotFound' });
    }
    this.installDisk = disk;
    this.host.useDisk?.(disk);
    this.host.log?.(`ipa: install device ${disk.name}${this.rootDeviceHints ? ` (root device hints ${JSON.stringify(this.rootDeviceHints)})` : ''}`);
    return disk;
  }

  /** The host, with its disk file being the chosen disk's. */
  private onDisk(disk: SimHostDisk | undefined): RamdiskHost {
    return disk ? { ...this.host, diskFile: disk.file } : this.host;
  }

  private async fetch(url: string): Promise<Buffer> {
    const res = await request(url, { dispatcher: this.dispatcher });
    const body = Buffer.from(await res.body.arrayBuffer());
    if (res.statusCode >= 400) throw Object.assign(new Error(`Can't download the configdrive content from '${url.split('?')[0]}'. Got status code ${res.statusCode}`), { type: 'InstanceDeployFailure' });
    return body;
  }
}

function faultOf(text: string): string {
  try {
    return String((JSON.parse(text) as { faultstring?: unknown }).faultstring ?? text);
  } catch {
    return text.slice(0, 200);
  }
}

/**
 * Where the downloaded bytes go: straight onto the disk file for raw
 * images; for qcow2 into a scratch file that `qemu-img convert` then writes
 * onto the disk as raw (as the agent does).
 */
async function openDiskWriter(diskFile: string, format: string): Promise<{ write(c: Buffer, at: number): Promise<void>; finish(): Promise<void>; close(): Promise<void> }> {
  const scratch = format === 'raw' ? undefined : `${diskFile}.download`;
  const diskSize = (await stat(diskFile)).size;
  const fh = await open(scratch ?? diskFile, scratch ? 'w' : 'r+');
  return {
    write: async (c, at) => {
      // A disk does not grow: an image larger than it fails as the agent's write would.
      if (!scratch && at + c.length > diskSize) throw Object.assign(new Error(`the image is larger than the disk (${diskSize} bytes)`), { type: 'ImageWriteError' });
      await fh.write(c, 0, c.length, at);
    },
    finish: async () => {
      if (!scratch) return;
      await fh.close();
      await promisify(execFile)('qemu-img', ['convert', '-n', '-f', format, '-O', 'raw', scratch, diskFile]).catch((err: Error) => {
        throw Object.assign(new Error(`qemu-img convert failed: ${err.message}`), { type: 'ImageWriteError' });
      });
    },
    close: async () => {
      await fh.close().catch(() => undefined);
      if (scratch) await rm(scratch, { force: true });
    },
  };
}
