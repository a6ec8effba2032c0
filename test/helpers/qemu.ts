/**
 * Running QEMU from a test: always TCG (KVM does not work on these machines: no
 * /dev/kvm inside their sandbox), a hard timeout, and the process killed by its PID when
 * the test ends early or the timeout hits.
 */
import { spawn } from 'node:child_process';

export interface QemuResult {
  /** Serial console and QEMU's own messages, as they came. */
  output: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  ms: number;
}

export interface QemuRun {
  pid: number | undefined;
  result: Promise<QemuResult>;
  /** Kills QEMU (by PID) if it is still running. */
  kill(): void;
}

export function runQemu(args: readonly string[], opts: { timeoutMs: number; binary?: string }): QemuRun {
  const started = Date.now();
  const child = spawn(opts.binary ?? 'qemu-system-x86_64', ['-accel', 'tcg', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.stderr.on('data', (c: Buffer) => chunks.push(c));
  let timedOut = false;
  let exited = false;
  const kill = (): void => {
    if (!exited && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, opts.timeoutMs);
  child.on('exit', () => {
    exited = true;
  });
  const result = new Promise<QemuResult>((resolve, reject) => {
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      exited = true;
      clearTimeout(timer);
      resolve({ output: Buffer.concat(chunks).toString('latin1'), code, signal, timedOut, ms: Date.now() - started });
    });
  });
  return { pid: child.pid, result, kill };
}

/**
 * An image presented as an iLO presents its virtual floppy: a USB
 * mass-storage disk (removable) on the xHCI bus `xhci`, never a legacy
 * floppy controller. A real deploy agent finds the floppy only this way.
 */
export function iloVirtualFloppy(file: string, id = 'vfd'): string[] {
  return [
    '-drive', `if=none,id=${id},format=raw,readonly=on,file=${file}`,
    '-device', `usb-bot,bus=xhci.0,id=${id}bot`,
    '-device', `scsi-hd,bus=${id}bot.0,drive=${id},vendor=HP iLO,product=Virtual Media,removable=on`,
  ];
}

/** The iLO's virtual CD-ROM: a USB CD drive on `xhci`, first to boot. `drive` is QEMU's -drive value, with id=`id`. */
export function iloVirtualCd(drive: string, id = 'vcd'): string[] {
  return ['-drive', drive, '-device', `usb-bot,bus=xhci.0,id=${id}bot`, '-device', `scsi-cd,bus=${id}bot.0,drive=${id},vendor=HP iLO,product=Virtual DVD-ROM,bootindex=1`];
}
