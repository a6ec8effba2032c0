/**
 * A simulated diskimage-builder deploy ramdisk (iscsi_ilo, pxe_ilo): it
 * exports the server's disk through a real tgtd target, calls
 * pass_deploy_info with the deploy key, waits for "done" on TCP 10000, then
 * reboots the server. With `boot_option=local` it first
 * stops the target, installs a boot loader as DIB's deploy-ironic script
 * does (root: the disk's last partition; UEFI: the one labelled efi-part),
 * reports it with pass_bootloader_install_info and waits for "done" again.
 */
import { createServer, type Server } from 'node:net';
import { request } from 'undici';
import { startTgtd, type Tgtd } from '../tgtd';
import { dibInstallBootloader, type SimBootloader } from './disk';

export interface DibHost {
  /** The file that is the server's disk. */
  diskFile: string;
  diskSizeBytes: number;
  /** Loopback address this ramdisk "has" (127.x.y.z), so several can listen on port 10000. */
  address: string;
  reboot(): void;
  bootloaderInstalled(b: SimBootloader): void;
  log?(message: string): void;
}

export interface DibFaults {
  /** Never call pass_deploy_info. */
  lostCallback?: boolean;
  /** Send this key instead of the one it was given. */
  wrongToken?: string;
  /** Report this error in pass_deploy_info (e.g. "no disk found"). */
  reportError?: string;
  /** Local boot: the boot loader install fails with this message (e.g. grub-install missing from the image). */
  bootloaderError?: string;
}

export interface DibParams {
  deployment_id: string;
  deployment_key: string;
  iscsi_target_iqn: string;
  ironic_api_url: string;
  /** local: install a boot loader after the write (DIB reads boot_option and boot_mode from the floppy or the command line). */
  boot_option?: string;
  boot_mode?: string;
}

export class SimDib {
  private target?: Tgtd;
  private listener?: Server;
  private stopped = false;
  callbackStatus?: number;
  doneReceived = false;
  /** What pass_bootloader_install_info reported (local boot), and the API's answer. */
  bootloaderReport?: { status: 'SUCCEEDED' | 'FAILED'; error: string; httpStatus?: number };
  /** exported: waiting for the write's "done"; installing: no one listens (DIB's nc is not running); reported: waiting for the last "done". */
  private phase: 'exported' | 'installing' | 'reported' = 'exported';

  constructor(
    private readonly host: DibHost,
    private readonly params: DibParams,
    private readonly faults: DibFaults = {},
  ) {}

  async start(): Promise<void> {
    for (const k of ['deployment_id', 'deployment_key', 'iscsi_target_iqn', 'ironic_api_url'] as const) {
      if (!this.params[k]) throw new Error(`dib: ${k} missing from the parameters`);
    }
    this.target = await startTgtd({ sizeBytes: this.host.diskSizeBytes, host: this.host.address, iqn: this.params.iscsi_target_iqn, backingFile: this.host.diskFile });
    this.listener = createServer((sock) => {
      let text = '';
      sock.on('data', (d) => (text += d.toString()));
      sock.on('end', () => {
        sock.end();
        if (text.trim() === 'done') this.onDone().catch((err: unknown) => this.host.log?.(`dib: finishing failed: ${(err as Error).message}`));
      });
      sock.on('error', () => undefined);
    });
    await new Promise<void>((resolve, reject) => {
      this.listener!.once('error', reject);
      this.listener!.listen(10000, this.host.address, () => resolve());
    });
    if (this.faults.lostCallback) return this.host.log?.('dib: (fault) never calling back');
    await this.passDeployInfo();
  }

  private async passDeployInfo(): Promise<void> {
    this.callbackStatus = await this.vendorPassthru('pass_deploy_info', {
      address: this.host.address,
      key: this.faults.wrongToken ?? this.params.deployment_key,
      iqn: this.params.iscsi_target_iqn,
      port: String(this.target!.port),
      lun: '1',
      error: this.faults.reportError ?? '',
    });
  }

  private async vendorPassthru(method: string, body: Record<string, unknown>): Promise<number | undefined> {
    const url = `${this.params.ironic_api_url.replace(/\/+$/, '')}/v1/nodes/${this.params.deployment_id}/vendor_passthru/${method}`;
    for (let attempt = 0; attempt < 10 && !this.stopped; attempt++) {
      try {
        const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        await res.body.dump();
        return res.statusCode;
      } catch {
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    return undefined;
  }

  private async onDone(): Promise<void> {
    if (this.phase === 'installing') return;
    if (this.phase === 'reported' || this.params.boot_option !== 'local') return this.finish();
    this.phase = 'installing';
    // "Stopping iSCSI target", then the boot loader, as the script does.
    await this.target?.stop();
    this.target = undefined;
    const mode = this.params.boot_mode === 'uefi' ? 'uefi' : 'bios';
    let report: NonNullable<SimDib['bootloaderReport']>;
    try {
      if (this.faults.bootloaderError) throw new Error(this.faults.bootloaderError);
      this.host.bootloaderInstalled(await dibInstallBootloader(this.host.diskFile, mode));
      report = { status: 'SUCCEEDED', error: '' };
    } catch (err) {
      report = { status: 'FAILED', error: (err as Error).message };
    }
    this.host.log?.(`dib: boot loader (${mode}): ${report.status}${report.error ? `: ${report.error}` : ''}`);
    this.phase = 'reported';
    report.httpStatus = await this.vendorPassthru('pass_bootloader_install_info', { address: this.host.address, status: report.status, key: this.faults.wrongToken ?? this.params.deployment_key, error: report.error });
    this.bootloaderReport = report;
  }

  private async finish(): Promise<void> {
    this.doneReceived = true;
    await this.stop();
    this.host.reboot();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const l = this.listener;
    this.listener = undefined;
    if (l) await new Promise<void>((r) => l.close(() => r()));
    await this.target?.stop();
    this.target = undefined;
  }
}
