/**
 * What a simulated server writes to its serial port over its life: the
 * BIOS's POST screen, the boot device, the deploy ramdisk's kernel and agent
 * (from the simulated ramdisk's events), the deployed instance booting to a
 * login prompt, and a very small shell behind it. Keystrokes are echoed as a
 * Linux tty would once an OS runs; the BIOS ignores them.
 */
import type { EventEmitter } from 'node:events';
import type { SimBootEvent, SimServer } from '../server';
import type { SimSerialPort } from './serial-port';

type HostState = 'off' | 'bios' | 'booting' | 'login' | 'password' | 'shell';

const NL = '\r\n';

export class SimHostConsole {
  private state: HostState = 'off';
  private line = '';
  private user = '';
  private bootStart = Date.now();
  private os: 'ramdisk' | 'instance' | undefined;
  private readonly unhook: Array<() => void> = [];

  constructor(
    private readonly server: SimServer,
    private readonly port: SimSerialPort,
  ) {
    this.on(server, 'post', (s: string) => {
      if (s === 'InPost') this.post();
    });
    this.on(server, 'power', (p: string) => {
      if (p === 'off') {
        if (this.os) this.kernel('reboot: Power down');
        this.state = 'off';
        this.os = undefined;
      }
    });
    this.on(server, 'shutdown-request', () => {
      if (this.os) this.write(`${NL}Broadcast message from root@${server.name}:${NL}${NL}The system is going down for poweroff NOW!${NL}`);
    });
    this.on(server, 'boot', (e: SimBootEvent) => this.boot(e));
    this.on(port, 'input', (d: Buffer) => this.input(d));
    if (server.powerState === 'on') this.state = 'bios';
  }

  /** Follow a simulated ramdisk (sim/ramdisk/boot.ts): its kernel, agent log and the instance it boots. */
  follow(ramdisk: EventEmitter): void {
    this.followed = true;
    this.on(ramdisk, 'ramdisk', (r: { kind: 'ipa' | 'dib' }) => this.ramdiskBoot(r.kind));
    this.on(ramdisk, 'log', (m: string) => {
      if (this.os === 'ramdisk') this.kernel(`${this.agentName()}: ${m}`);
    });
    this.on(ramdisk, 'instance', (b: { via: string }) => this.instanceBoot(b.via));
    this.on(ramdisk, 'no-boot', (why: string) => this.write(`${NL}${why}${NL}No bootable device found. Press F1 to retry boot, F2 for System Utilities.${NL}`));
  }

  dispose(): void {
    for (const u of this.unhook.splice(0)) u();
  }

  private on(emitter: EventEmitter, event: string, fn: (...a: never[]) => void): void {
    const f = fn as (...a: unknown[]) => void;
    emitter.on(event, f);
    this.unhook.push(() => emitter.off(event, f));
  }

  private write(text: string): void {
    this.port.write(text);
  }

  private kernel(message: string): void {
    const t = ((Date.now() - this.bootStart) / 1000).toFixed(6).padStart(12, ' ');
    this.write(`[${t}] ${message}${NL}`);
  }

  private post(): void {
    this.state = 'bios';
    this.os = undefined;
    const m = this.server.model;
    this.write(
      [
        '\x1b[2J\x1b[H',
        `ProLiant System BIOS - ${m.biosVersion}`,
        `(C) Copyright 1982-2020 Hewlett Packard Enterprise Development LP`,
        `${this.server.identity.productName}, serial number ${this.server.identity.serialNumber}`,
        '',
        '2 Processor(s) detected, 16 total cores enabled, Hyperthreading is enabled',
        '65536 MB memory installed',
        `${m.managerType} firmware ${m.firmwareVersion}, boot mode ${this.server.bootMode.pending === 'uefi' ? 'UEFI' : 'Legacy BIOS'}`,
        '',
        'Press ESC+9 for System Utilities, ESC+@ for One-Time Boot Menu, ESC+& for Network Boot',
        '',
      ].join(NL),
    );
  }

  private boot(e: SimBootEvent): void {
    this.bootStart = Date.now();
    const what: Record<string, string> = {
      cdrom: `iLO Virtual CD-ROM${e.imageUrl ? ` (${safeUrl(e.imageUrl)})` : ''}`,
      floppy: 'iLO Virtual Floppy',
      hdd: 'Embedded RAID: Logical Drive 1',
      network: `Embedded LOM 1 Port 1 (PXE, MAC ${this.server.macs.host[0] ?? '-'})`,
      usb: 'USB',
      setup: 'System Utilities',
      other: 'a boot option',
      none: 'nothing',
    };
    this.state = 'booting';
    this.write(`Booting ${what[e.device] ?? e.device} (${e.mode === 'uefi' ? 'UEFI' : 'Legacy BIOS'}, ${e.source})...${NL}`);
    if (!this.followed && e.device === 'hdd' && this.server.diskBootable) this.instanceBoot('disk');
  }

  private agentName(): string {
    return this.lastKind === 'dib' ? 'deploy-ramdisk' : 'ironic-python-agent[612]';
  }

  private lastKind: 'ipa' | 'dib' = 'ipa';
  /** A simulated ramdisk reports what boots; without one, a bootable disk boots its OS here. */
  private followed = false;

  private ramdiskBoot(kind: 'ipa' | 'dib'): void {
    this.lastKind = kind;
    this.os = 'ramdisk';
    this.bootStart = Date.now();
    this.kernel('Linux version 6.1.0-sim (deploy ramdisk, simulated) #1 SMP PREEMPT_DYNAMIC');
    this.kernel('Command line: console=ttyS1,115200n8 (deploy parameters from the virtual floppy)');
    this.kernel(`DMI: HPE ${this.server.identity.productName}, BIOS ${this.server.model.biosVersion}`);
    this.kernel('serial8250: ttyS1 at I/O 0x2f8 (irq = 3, base_baud = 115200) is a 16550A');
    this.kernel(`Run /init as init process`);
    this.kernel(kind === 'ipa' ? 'Starting ironic-python-agent...' : 'Starting the iSCSI deploy ramdisk...');
    this.loginPrompt(kind === 'ipa' ? 'Ironic Python Agent (simulated)' : 'DIB deploy ramdisk (simulated)');
  }

  private instanceBoot(via: string): void {
    this.os = 'instance';
    this.bootStart = Date.now();
    this.kernel('Linux version 6.8.0-sim (the deployed instance, simulated) #1 SMP');
    this.kernel(`Command line: ${via === 'pxe' ? 'BOOT_IMAGE=(pxe)' : 'BOOT_IMAGE=/boot/vmlinuz'} root=LABEL=cloudimg-rootfs console=ttyS1,115200n8`);
    this.kernel('EXT4-fs (sda1): mounted filesystem with ordered data mode');
    this.kernel('systemd[1]: Reached target Multi-User System.');
    this.kernel('cloud-init[801]: Cloud-init finished');
    this.loginPrompt('Ubuntu 24.04 LTS (simulated instance)');
  }

  private loginPrompt(banner: string): void {
    this.line = '';
    this.state = 'login';
    this.write(`${NL}${banner} ${this.server.name} ttyS1${NL}${NL}${this.server.name} login: `);
  }

  private prompt(): void {
    this.write(`${this.user}@${this.server.name}:~# `);
  }

  private input(d: Buffer): void {
    if (this.state === 'off' || this.state === 'bios' || this.state === 'booting') return;
    for (const ch of d.toString('utf8')) {
      if (ch === '\r' || ch === '\n') {
        if (ch === '\n' && this.line === '' && this.lastWasCr) continue;
        this.lastWasCr = ch === '\r';
        this.enter();
        continue;
      }
      this.lastWasCr = false;
      if (ch === '\x7f' || ch === '\b') {
        if (this.line.length > 0) {
          this.line = this.line.slice(0, -1);
          if (this.state !== 'password') this.write('\b \b');
        }
        continue;
      }
      if (ch === '\x03') {
        this.line = '';
        this.write(`^C${NL}`);
        if (this.state === 'shell') this.prompt();
        else {
          this.state = 'login';
          this.write(`${this.server.name} login: `);
        }
        continue;
      }
      if (ch < ' ') continue;
      if (this.line.length < 256) this.line += ch;
      if (this.state !== 'password') this.write(ch);
    }
  }

  private lastWasCr = false;

  private enter(): void {
    const text = this.line.trim();
    this.line = '';
    this.write(NL);
    if (this.state === 'login') {
      if (!text) return void this.write(`${this.server.name} login: `);
      this.user = text;
      this.state = 'password';
      this.write('Password: ');
      return;
    }
    if (this.state === 'password') {
      if (this.user !== 'root') {
        this.write(`${NL}Login incorrect${NL}${this.server.name} login: `);
        this.state = 'login';
        return;
      }
      this.state = 'shell';
      this.write(`Welcome to the simulated ${this.os === 'ramdisk' ? 'deploy ramdisk' : 'instance'} on ${this.server.name}.${NL}`);
      this.prompt();
      return;
    }
    // shell
    const [cmd, ...args] = text.split(/\s+/);
    if (cmd === 'exit' || cmd === 'logout') {
      this.state = 'login';
      this.write(`${NL}${this.server.name} login: `);
      return;
    }
    if (cmd === 'echo') this.write(`${args.join(' ')}${NL}`);
    else if (cmd === 'hostname') this.write(`${this.server.name}${NL}`);
    else if (cmd === 'uname') this.write(`Linux ${this.server.name} 6.8.0-sim #1 SMP x86_64 GNU/Linux${NL}`);
    else if (cmd) this.write(`-bash: ${cmd}: command not found${NL}`);
    this.prompt();
  }
}

/** An image URL without its query (a temp URL's signature is nobody's business on a console). */
function safeUrl(u: string): string {
  const q = u.indexOf('?');
  return q === -1 ? u : `${u.slice(0, q)}?…`;
}
