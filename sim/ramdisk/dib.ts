/**
 * A simulated diskimage-builder deploy ramdisk (iscsi_ilo, pxe_ilo): it
 * exports the server's disk through a real tgtd target, calls
 * pass_deploy_info with the deploy key, waits for "done" on TCP 10000, then
 * reboots the server (reference §2.4).
 */
import { createServer, type Server } from 'node:net';
import { request } from 'undici';
import { startTgtd, type Tgtd } from '../tgtd';

export interface DibHost {
  /** The file that is the server's disk. */
  diskFile: string;
  diskSizeBytes: number;
  /** Loopback address this ramdisk "has" (127.x.y.z), so several can listen on port 10000. */
  address: string;
  reboot(): void;
  log?(message: string): void;
}

export interface DibFaults {
  /** Never call pass_deploy_info. */
  lostCallback?: boolean;
  /** Send this key instead of the one it was given. */
  wrongToken?: string;
  /** Report this error in pass_deploy_info (e.g. "no disk found"). */
  reportError?: string;
}

export interface DibParams {
  deployment_id: string;
  deployment_key: string;
  iscsi_target_iqn: string;
  ironic_api_url: string;
}

export class SimDib {
  private target?: Tgtd;
  private listener?: Server;
  private stopped = false;
  callbackStatus?: number;
  doneReceived = false;

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
        if (text.trim() === 'done') this.finish().catch((err: unknown) => this.host.log?.(`dib: finishing failed: ${(err as Error).message}`));
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
    const url = `${this.params.ironic_api_url.replace(/\/+$/, '')}/v1/nodes/${this.params.deployment_id}/vendor_passthru/pass_deploy_info`;
    for (let attempt = 0; attempt < 10 && !this.stopped; attempt++) {
      try {
        const res = await request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            address: this.host.address,
            key: this.faults.wrongToken ?? this.params.deployment_key,
            iqn: this.params.iscsi_target_iqn,
            port: String(this.target!.port),
            lun: '1',
            error: this.faults.reportError ?? '',
          }),
        });
        await res.body.dump();
        this.callbackStatus = res.statusCode;
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 300));
      }
    }
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
