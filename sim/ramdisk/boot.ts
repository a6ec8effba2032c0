/**
 * What runs on a simulated server after POST. It follows the server's
 * 'boot' events as firmware would: from the virtual CD it boots the deploy
 * ramdisk (reading parameters.txt from the virtual floppy's real bytes,
 * through the iLO's Range reads) and behaves as ironic-python-agent or as
 * the DIB iSCSI ramdisk; from the network it reads its PXE config from the
 * TFTP root; from the disk it boots the deployed instance, if there is one.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SimBootEvent, SimServer } from '../server';
import { SimDib, type DibFaults } from './dib';
import { FatImage, parseParameters } from './fat';
import { SimIpa, type RamdiskFaults } from './ipa';

export interface SimRamdiskOptions {
  /** Loopback address the ramdisk "gets by DHCP" (distinct per server: the DIB ramdisk listens on port 10000). */
  address?: string;
  /** Size of the simulated disk (default 64 MiB). */
  diskSizeBytes?: number;
  heartbeatIntervalMs?: number;
  /** TFTP root for network boots (pxe_ilo). */
  tftpRoot?: string;
  /** CA the ramdisk trusts for https image URLs. */
  ca?: string;
  log?(message: string): void;
}

export type SimRamdiskFaults = RamdiskFaults & DibFaults;

export interface InstanceBoot {
  via: 'disk' | 'boot-iso' | 'pxe';
  /** sha256 of the disk's first `size` bytes (the image written), when known. */
  diskSha256?: string;
  kernelParams?: string;
}

/**
 * Events: 'ramdisk' ({ kind: 'ipa' | 'dib', params }), 'instance' (InstanceBoot),
 * 'no-boot' (why), 'log' (a line of what the ramdisk does), 'error' (Error).
 */
export class SimRamdisk extends EventEmitter {
  /** Faults for the next ramdisk boot; cleared with `faults = {}`. */
  faults: SimRamdiskFaults = {};
  readonly diskFile: string;
  /** What the agent wrote (IPA path; the DIB path writes diskFile directly). */
  written?: { sha256: string; size: number; format: string };
  ipa?: SimIpa;
  dib?: SimDib;
  instanceBoots: InstanceBoot[] = [];
  private readonly dir: string;
  private readonly onBoot = (e: SimBootEvent): void => {
    this.boot(e).catch((err: unknown) => this.emit('error', err));
  };
  private readonly onPower = (p: string): void => {
    if (p === 'off') this.shutdown().catch((err: unknown) => this.emit('error', err));
  };

  constructor(
    readonly server: SimServer,
    private readonly opts: SimRamdiskOptions = {},
  ) {
    super();
    this.dir = mkdtempSync(join(tmpdir(), `sim-disk-${server.name}-`));
    this.diskFile = join(this.dir, 'disk.img');
    writeFileSync(this.diskFile, '');
    truncateSync(this.diskFile, opts.diskSizeBytes ?? 64 * 1024 * 1024);
    server.on('boot', this.onBoot);
    server.on('power', this.onPower);
    server.hostConsole?.follow(this);
    // A fresh server has nothing on its disk.
    server.diskBootable = false;
  }

  get address(): string {
    return this.opts.address ?? '127.0.0.1';
  }

  /** sha256 of the first `size` bytes of the disk (what a whole-disk write put there). */
  async diskSha256(size: number): Promise<string> {
    const h = createHash('sha256');
    for await (const c of createReadStream(this.diskFile, { start: 0, end: size - 1 })) h.update(c as Buffer);
    return h.digest('hex');
  }

  private log(m: string): void {
    this.emit('log', m);
    this.opts.log?.(`${this.server.name}: ${m}`);
  }

  private async boot(e: SimBootEvent): Promise<void> {
    await this.shutdown();
    if (e.device === 'cdrom') return this.bootCd(e);
    if (e.device === 'network') return this.bootNetwork();
    if (e.device === 'hdd') return this.bootInstance({ via: 'disk', diskSha256: this.written?.sha256 });
    this.emit('no-boot', `nothing to boot from (${e.device})`);
  }

  private async bootCd(e: SimBootEvent): Promise<void> {
    const cd = await this.server.openVirtualMedia('cdrom');
    const magic = await cd.read(0x8001, 5);
    if (magic.toString('latin1') !== 'CD001') return void this.emit('no-boot', 'the virtual CD is not an ISO 9660 image');
    if (!e.media.floppy) {
      // A CD without the parameters floppy: the instance's own boot ISO (netboot).
      return this.bootInstance({ via: 'boot-iso' });
    }
    const floppy = await this.server.openVirtualMedia('floppy');
    const fat = new FatImage(await floppy.read(0, floppy.size));
    if (fat.label.toLowerCase() !== 'ir-vfd-dev') return void this.emit('no-boot', `the floppy's label is ${fat.label}, not ir-vfd-dev`);
    const params = parseParameters(fat.readFile('parameters.txt').toString('utf8'));
    this.startRamdisk(params);
  }

  private startRamdisk(params: Record<string, string>): void {
    const faults = this.faults;
    if (params.deployment_key) {
      this.log('booting the DIB deploy ramdisk');
      this.dib = new SimDib(
        { diskFile: this.diskFile, diskSizeBytes: this.opts.diskSizeBytes ?? 64 * 1024 * 1024, address: this.address, reboot: () => this.rebootAfterDib(), log: (m) => this.log(m) },
        { deployment_id: params.deployment_id ?? '', deployment_key: params.deployment_key, iscsi_target_iqn: params.iscsi_target_iqn ?? '', ironic_api_url: params.ironic_api_url ?? '' },
        faults,
      );
      this.emit('ramdisk', { kind: 'dib', params: redact(params) });
      this.dib.start().catch((err: unknown) => this.emit('error', err));
      return;
    }
    if (params['ipa-api-url'] && params['ipa-agent-token']) {
      this.log('booting ironic-python-agent');
      this.ipa = new SimIpa(
        {
          macs: this.server.macs.host,
          writeDisk: (d) => {
            this.written = d;
            this.server.diskBootable = true;
          },
          powerOff: () => this.server.hardOff(),
          log: (m) => this.log(m),
        },
        { apiUrl: params['ipa-api-url'], token: params['ipa-agent-token'], heartbeatIntervalMs: this.opts.heartbeatIntervalMs, faults, ca: this.opts.ca },
      );
      this.emit('ramdisk', { kind: 'ipa', params: redact(params) });
      this.ipa.start().catch((err: unknown) => this.emit('error', err));
      return;
    }
    this.emit('no-boot', 'the floppy holds neither IPA nor DIB parameters');
  }

  private rebootAfterDib(): void {
    // DIB wrote the disk through the iSCSI target, then reboots itself.
    this.server.diskBootable = true;
    this.server.warmReset();
  }

  /** PXE: the config for this server's MAC in the TFTP root, as pxelinux / GRUB would find it. */
  private async bootNetwork(): Promise<void> {
    const root = this.opts.tftpRoot;
    if (!root) return void this.emit('no-boot', 'network boot, but no TFTP root is configured');
    const config = this.server.macs.host
      .map((mac) => mac.toLowerCase().replace(/:/g, '-'))
      .flatMap((m) => [join(root, 'pxelinux.cfg', `01-${m}`), join(root, 'grub', `grub.cfg-01-${m}`)])
      .find((p) => existsSync(p));
    if (!config) return void this.emit('no-boot', 'no PXE configuration for this MAC');
    const text = readFileSync(config, 'utf8');
    const entry = /^default (\S+)$/m.exec(text)?.[1] ?? /^set default=(\S+)$/m.exec(text)?.[1];
    if (entry === 'deploy') {
      const line = /^append initrd=\S+ (.*)$/m.exec(text)?.[1] ?? /^\s*linux\S* \S+ (.*)$/m.exec(text)?.[1] ?? '';
      this.startRamdisk(parseParameters(line.replace(/'/g, '')));
      return;
    }
    const params = entry === 'boot_partition' ? (/root=(UUID=\S+)/.exec(text)?.[1] ?? '') : entry === 'boot_whole_disk' ? (/append (mbr:\S+)/.exec(text)?.[1] ?? '') : '';
    this.bootInstance({ via: 'pxe', kernelParams: params, diskSha256: this.written?.sha256 });
  }

  private bootInstance(b: InstanceBoot): void {
    if (b.via === 'disk' && !this.server.diskBootable) return void this.emit('no-boot', 'the disk is empty');
    this.instanceBoots.push(b);
    this.log(`the instance booted (${b.via})`);
    this.emit('instance', b);
  }

  async shutdown(): Promise<void> {
    const ipa = this.ipa;
    const dib = this.dib;
    this.ipa = undefined;
    this.dib = undefined;
    await Promise.all([ipa?.stop(), dib?.stop()]);
  }

  async dispose(): Promise<void> {
    this.server.off('boot', this.onBoot);
    this.server.off('power', this.onPower);
    await this.shutdown();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function redact(params: Record<string, string>): Record<string, string> {
  const out = { ...params };
  for (const k of ['ipa-agent-token', 'deployment_key']) if (out[k]) out[k] = '***';
  return out;
}
