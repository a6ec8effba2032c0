/**
 * A simulated ironic-python-agent: after the simulated server boots the
 * deploy ISO, it looks itself up, heartbeats with the token from the floppy,
 * serves the agent command API, downloads and checksums the image, and
 * "writes" it to the simulated disk. Faults can be injected at every step.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';

export interface RamdiskHost {
  /** MACs of the simulated server's NICs. */
  macs: string[];
  /** The image as written to the simulated disk. */
  writeDisk(disk: { sha256: string; size: number; format: string }): void;
  /** The OS powers the machine off (standby.power_off). */
  powerOff(): void;
  log?(message: string): void;
}

export interface RamdiskFaults {
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
}

export interface IpaOptions {
  /** ipa-api-url from the floppy. */
  apiUrl: string;
  /** ipa-agent-token from the floppy. */
  token: string;
  heartbeatIntervalMs?: number;
  faults?: RamdiskFaults;
  /** PEM of a CA to trust for https image URLs (the media server's), else the system's. */
  ca?: string;
}

interface Command {
  id: string;
  command_name: string;
  command_params: Record<string, unknown>;
  command_status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
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
  agentUrl = '';
  heartbeats = 0;
  lastHeartbeatStatus?: number;

  constructor(
    private readonly host: RamdiskHost,
    private readonly opts: IpaOptions,
  ) {
    this.dispatcher = new Agent({ connect: opts.ca ? { ca: opts.ca } : {} });
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.host.log?.(`ipa: ${req.method} ${req.url}: ${(err as Error).message}`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.agentUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
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

  private api(path: string): string {
    return `${this.opts.apiUrl.replace(/\/+$/, '')}${path}`;
  }

  private async lookupAndHeartbeat(): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (!this.stopped && !this.nodeUuid) {
      try {
        const res = await request(this.api(`/v1/lookup?addresses=${encodeURIComponent(this.host.macs.join(','))}`), { dispatcher: this.dispatcher });
        const text = await res.body.text();
        if (res.statusCode === 200) this.nodeUuid = (JSON.parse(text) as { node: { uuid: string } }).node.uuid;
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
    try {
      const res = await request(this.api(`/v1/heartbeat/${this.nodeUuid}`), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-openstack-ironic-api-version': '1.68' },
        body: JSON.stringify({ callback_url: this.agentUrl, agent_token: this.opts.faults?.wrongToken ?? this.opts.token, agent_version: '9.13.1-sim' }),
        dispatcher: this.dispatcher,
      });
      await res.body.dump();
      this.heartbeats++;
      this.lastHeartbeatStatus = res.statusCode;
      this.host.log?.(`ipa: heartbeat: HTTP ${res.statusCode}`);
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
          cmd.command_result = await this.prepareImage(cmd.command_params.image_info as Record<string, unknown>);
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
      cmd.command_status = 'FAILED';
      const e = err as Error & { type?: string };
      cmd.command_error = { type: e.type ?? 'CommandExecutionError', code: 500, message: e.message, details: e.message };
    }
  }

  private async prepareImage(info: Record<string, unknown>): Promise<Record<string, unknown>> {
    const urls = info.urls as string[] | undefined;
    if (!Array.isArray(urls) || !urls[0]) throw Object.assign(new Error('image_info.urls is missing'), { type: 'InvalidCommandParamsError' });
    const algo = (info.os_hash_algo as string | undefined) ?? (info.checksum ? 'md5' : undefined);
    const expected = ((info.os_hash_value as string | undefined) ?? (info.checksum as string | undefined))?.toLowerCase();
    if (!algo || !expected) throw Object.assign(new Error('image_info has no checksum'), { type: 'InvalidCommandParamsError' });
    const res = await request(urls[0], { dispatcher: this.dispatcher });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw Object.assign(new Error(`image download failed: HTTP ${res.statusCode}`), { type: 'ImageDownloadError' });
    }
    const hash = createHash(algo);
    const sha = createHash('sha256');
    let size = 0;
    let first = true;
    for await (const chunk of res.body) {
      let c = chunk as Buffer;
      if (first && this.opts.faults?.corruptImage && c.length > 0) {
        c = Buffer.from(c);
        c[0] = (c[0] as number) ^ 0xff;
      }
      first = false;
      hash.update(c);
      sha.update(c);
      size += c.length;
    }
    const got = hash.digest('hex');
    if (got !== expected) throw Object.assign(new Error(`Image failed to verify against checksum. location: ${urls[0]}; image ID: ${String(info.id)}; image checksum: ${got}; verification checksum: ${expected}`), { type: 'ImageChecksumError' });
    this.host.writeDisk({ sha256: sha.digest('hex'), size, format: String(info.disk_format ?? 'raw') });
    return { result: `prepare_image: image (${String(info.id)}) written to device /dev/sda` };
  }
}
