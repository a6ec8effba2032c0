/**
 * Talks to a running ironic-python-agent: runs commands,
 * polls their results, with the deploy's token on every call.
 */
import { request } from 'undici';
import { agentDispatcher, agentTlsFailure, type AgentTrust } from './agent-tls';
import { DeployError } from './errors';

export type CommandStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CLEAN_VERSION_MISMATCH' | 'VERSION_MISMATCH';

export interface CommandResult {
  id?: string;
  command_name: string;
  command_params?: Record<string, unknown>;
  command_status: CommandStatus;
  command_error?: { type?: string; code?: number; message?: string; details?: string } | string | null;
  command_result?: Record<string, unknown> | null;
}

export interface ImageInfo {
  id: string;
  urls: string[];
  disk_format: 'raw' | 'qcow2';
  container_format: 'bare';
  /** Legacy MD5 (IPA before os_hash). */
  checksum?: string;
  os_hash_algo?: 'md5' | 'sha256' | 'sha512';
  os_hash_value?: string;
  stream_raw_images?: boolean;
  image_type?: 'whole-disk' | 'partition';
  node_uuid?: string;
  /** Partition images: the layout the agent makes (ironic-lib's work_on_disk), as Ironic sends it. */
  root_mb?: number;
  swap_mb?: number;
  ephemeral_mb?: number;
  ephemeral_format?: string | null;
  preserve_ephemeral?: boolean;
  deploy_boot_mode?: 'bios' | 'uefi';
  boot_option?: 'local' | 'netboot';
  disk_label?: 'msdos' | 'gpt';
}

/** What standby.get_partition_uuids answers: the partitions of the last image written. */
export interface PartitionUuids {
  rootUuid?: string;
  efiSystemPartitionUuid?: string;
}

export interface AgentClientOptions {
  /** Per HTTP request (default 60 s). */
  requestTimeoutMs?: number;
  /** What an https agent's certificate must chain to (agent-tls.ts agentTrust); default: the system's CAs. */
  trust?: AgentTrust;
}

export class AgentClient {
  private readonly base: URL;

  constructor(
    agentUrl: string,
    private readonly token: string,
    private readonly opts: AgentClientOptions = {},
  ) {
    let u: URL;
    try {
      u = new URL(agentUrl);
    } catch {
      throw new DeployError('ramdisk', `the agent gave an invalid callback_url ${JSON.stringify(agentUrl)}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new DeployError('ramdisk', `the agent's callback_url must be http(s), got ${u.protocol}`);
    this.base = u;
  }

  private url(path: string, query: Record<string, string>): string {
    const u = new URL(path, this.base.href.endsWith('/') ? this.base.href : `${this.base.href}/`);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    u.searchParams.set('agent_token', this.token);
    return u.href;
  }

  private async call(method: 'GET' | 'POST', path: string, query: Record<string, string>, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    const timeout = this.opts.requestTimeoutMs ?? 60_000;
    let res;
    try {
      res = await request(this.url(path, query), {
        method,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: timeout,
        bodyTimeout: timeout,
        signal,
        dispatcher: this.base.protocol === 'https:' && this.opts.trust?.ca ? agentDispatcher(this.opts.trust.ca) : undefined,
      });
    } catch (err) {
      const untrusted = agentTlsFailure(err, this.opts.trust, this.base.host);
      if (untrusted) throw new DeployError('ramdisk', untrusted, { cause: err });
      const code = (err as NodeJS.ErrnoException).code ?? '';
      const kind = /TIMEOUT/.test(code) ? 'timeout' : 'ramdisk';
      throw new DeployError(kind, `cannot reach the agent at ${this.base.host}: ${code || (err as Error).message}`, { cause: err });
    }
    const text = await res.body.text();
    if (res.statusCode === 401) throw new DeployError('ramdisk', 'the agent refused our token (401)');
    if (res.statusCode === 409) throw new DeployError('ramdisk', `the agent is busy with another command (409): ${text.slice(0, 200)}`);
    if (res.statusCode >= 400) throw new DeployError('ramdisk', `the agent answered HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
    try {
      return text ? JSON.parse(text) : {};
    } catch {
      throw new DeployError('ramdisk', `the agent sent something that is not JSON: ${text.slice(0, 80)}`);
    }
  }

  /** POST /v1/commands/ — `wait: true` blocks in the agent until the command ends. */
  async run(name: string, params: Record<string, unknown>, wait: boolean, signal?: AbortSignal): Promise<CommandResult> {
    const r = (await this.call('POST', 'v1/commands/', { wait: String(wait) }, { name, params }, signal)) as CommandResult;
    if (!r || typeof r.command_status !== 'string') throw new DeployError('ramdisk', `the agent's answer to ${name} has no command_status`);
    if (wait && r.command_status === 'FAILED') throw new DeployError('ramdisk', `${name} failed in the agent: ${errorText(r)}`);
    return r;
  }

  async list(signal?: AbortSignal): Promise<CommandResult[]> {
    const r = (await this.call('GET', 'v1/commands/', {}, undefined, signal)) as { commands?: CommandResult[] };
    return Array.isArray(r.commands) ? r.commands : [];
  }

  /**
   * Poll GET /v1/commands until the last command named `bareName` is no
   * longer RUNNING (Ironic looks at the last entry; results use the bare
   * name, e.g. prepare_image).
   */
  async waitFor(
    bareName: string,
    o: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal; onPoll?: (c: CommandResult) => void },
  ): Promise<CommandResult> {
    const deadline = Date.now() + o.timeoutMs;
    for (;;) {
      const last = (await this.list(o.signal)).filter((c) => c.command_name === bareName).at(-1);
      if (last) {
        o.onPoll?.(last);
        if (last.command_status === 'SUCCEEDED') return last;
        if (last.command_status !== 'RUNNING') throw new DeployError('ramdisk', `${bareName} ${last.command_status.toLowerCase()} in the agent: ${errorText(last)}`);
      }
      if (Date.now() >= deadline) throw new DeployError('timeout', `the agent's ${bareName} did not finish within ${Math.round(o.timeoutMs / 1000)} s`);
      await sleep(o.intervalMs ?? 2000, o.signal);
    }
  }

  /**
   * standby.prepare_image: download the image, check it, write it to disk
   * (asynchronous); then the config drive (`configdrive`: gzip then base64,
   * or an http(s) URL), which the agent writes to a partition of its own.
   */
  prepareImage(imageInfo: ImageInfo, signal?: AbortSignal, configdrive?: string): Promise<CommandResult> {
    return this.run('standby.prepare_image', { image_info: imageInfo, configdrive: configdrive ?? null }, false, signal);
  }

  /**
   * The root (and EFI system) partition UUIDs of the partition image just
   * written: standby.get_partition_uuids (ironic-python-agent from
   * Victoria), else, as Ironic did before, the `root_uuid=` and
   * `efi_system_partition_uuid=` words of prepare_image's result.
   */
  async partitionUuids(signal?: AbortSignal): Promise<PartitionUuids> {
    try {
      const r = (await this.run('standby.get_partition_uuids', {}, true, signal)).command_result ?? {};
      const root = r['root uuid'];
      const esp = r['efi system partition uuid'];
      if (typeof root === 'string' && root !== '') return { rootUuid: root, efiSystemPartitionUuid: typeof esp === 'string' && esp !== '' ? esp : undefined };
    } catch (err) {
      if (!(err instanceof DeployError) || !/HTTP 404|unknown command|InvalidCommand/i.test(err.message)) throw err;
    }
    const prepared = (await this.list(signal)).filter((c) => c.command_name === 'prepare_image').at(-1);
    const words = String(prepared?.command_result?.result ?? '').split(/\s+/);
    const word = (key: string): string | undefined => words.find((w) => w.startsWith(`${key}=`))?.slice(key.length + 1) || undefined;
    return { rootUuid: word('root_uuid'), efiSystemPartitionUuid: word('efi_system_partition_uuid') };
  }

  /** image.install_bootloader (asynchronous in the agent): a boot loader for the root filesystem, into the EFI system partition in UEFI. */
  installBootloader(params: { root_uuid: string; efi_system_part_uuid: string | null; prep_boot_part_uuid: null; target_boot_mode: 'bios' | 'uefi' }, signal?: AbortSignal): Promise<CommandResult> {
    return this.run('image.install_bootloader', params, false, signal);
  }

  sync(signal?: AbortSignal): Promise<CommandResult> {
    return this.run('standby.sync', {}, true, signal);
  }

  /** standby.power_off: the agent shuts the machine down; the connection may drop as it does. */
  async powerOff(signal?: AbortSignal): Promise<void> {
    try {
      await this.run('standby.power_off', {}, false, signal);
    } catch (err) {
      if (err instanceof DeployError && /cannot reach/.test(err.message)) return;
      throw err;
    }
  }
}

/**
 * What a failed agent command said. ironic-python-agent puts a generic text
 * in `message` ("Command execution failed", "Error verifying image
 * checksum") and the useful part (the checksums, the device error) in
 * `details`: both are kept, as the agent's own str() joins them. The query
 * of any URL in it is cut (an image URL may be a signed temp URL).
 */
export function errorText(c: Pick<CommandResult, 'command_error'>): string {
  const e = c.command_error;
  if (!e) return 'no error given';
  let text: string;
  if (typeof e === 'string') text = e;
  else {
    const said = [e.message, e.details].filter((x): x is string => typeof x === 'string' && x.trim() !== '');
    text = said.length ? said.join(': ') : (e.type ?? JSON.stringify(e));
  }
  const cut = text.replace(/(\bhttps?:\/\/[^\s?#'"]*)\?[^\s'";]*/gi, '$1?…');
  return cut.length > 2000 ? `${cut.slice(0, 2000)}…` : cut;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    // The listener goes with the pause: a long write polled every 2 s would otherwise pile them up on the step's signal.
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
