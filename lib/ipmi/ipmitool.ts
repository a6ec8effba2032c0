/**
 * ipmitool as a typed client: power, boot device, sensors and serial-over-LAN
 * against one BMC. Each call runs ipmitool once (through execa); calls on one
 * instance run one at a time, since BMCs allow few sessions.
 */
import { BmcError, invalidInput } from '../bmc/errors';
import { runTool, type RunResult } from '../exec/run';
import { IpmitoolError, ipmitoolFailure } from './diagnose';
import { connectionArgs, passwordEnv, resolveIpmitoolOptions, type IpmitoolOptions, type ResolvedIpmitoolOptions } from './options';
import { parseSdrVerbose, type Sensor } from './sensors';
import { spawnSol, type SolSession } from './sol';

export type IpmiPowerAction = 'on' | 'off' | 'cycle' | 'reset' | 'soft';
export const IPMI_POWER_ACTIONS: readonly IpmiPowerAction[] = ['on', 'off', 'cycle', 'reset', 'soft'];

export type IpmiBootDevice = 'pxe' | 'disk' | 'cdrom' | 'bios' | 'floppy' | 'safe' | 'none';
export const IPMI_BOOT_DEVICES: readonly IpmiBootDevice[] = ['pxe', 'disk', 'cdrom', 'bios', 'floppy', 'safe', 'none'];

export interface BootdevOptions {
  /** Ask for a UEFI boot of the device (otherwise legacy BIOS). */
  efiboot?: boolean;
  /** Keep the device for every boot (otherwise the next boot only). */
  persistent?: boolean;
}

export interface SolActivateOptions {
  /** Deactivate a session someone else left open first (default false: fail with `busy`). */
  force?: boolean;
  /** How long to wait for the session to open (default: the instance's timeoutMs). */
  readyTimeoutMs?: number;
}

/** What ipmitool prints on success for each power action. */
const POWER_REPLY: Record<IpmiPowerAction, RegExp> = {
  on: /Chassis Power Control: Up\/On/,
  off: /Chassis Power Control: Down\/Off/,
  cycle: /Chassis Power Control: Cycle/,
  reset: /Chassis Power Control: Reset/,
  soft: /Chassis Power Control: Soft/,
};

const CIPHER_STRONG = 17;
const CIPHER_COMMON = 3;

export class Ipmitool {
  readonly options: Readonly<Omit<ResolvedIpmitoolOptions, 'password'>>;
  /** A true private field: not shown by JSON.stringify or util.inspect, since it holds the password. */
  readonly #resolved: ResolvedIpmitoolOptions;
  /** The suite in use: fixed, or found by the first call when 'auto'. */
  private cipherSuite: number | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: IpmitoolOptions) {
    this.#resolved = resolveIpmitoolOptions(options);
    const { password: _password, ...visible } = this.#resolved;
    this.options = Object.freeze(visible);
    this.cipherSuite = this.#resolved.cipherSuite === 'auto' ? undefined : this.#resolved.cipherSuite;
  }

  get target(): string {
    return this.#resolved.target;
  }

  /** The cipher suite in use (undefined until the first call when 'auto'). */
  get activeCipherSuite(): number | undefined {
    return this.#resolved.interface === 'lanplus' ? this.cipherSuite : undefined;
  }

  async powerStatus(): Promise<'on' | 'off'> {
    const out = await this.run('power status', ['power', 'status'], /Chassis Power is (on|off)/);
    return /Chassis Power is on/.test(out) ? 'on' : 'off';
  }

  /**
   * A chassis power action. `soft` asks the OS to shut down (ACPI); `cycle`
   * is off then on, done by the BMC a little later.
   */
  async power(action: IpmiPowerAction): Promise<void> {
    if (!IPMI_POWER_ACTIONS.includes(action)) throw invalidInput('action', IPMI_POWER_ACTIONS.join(', '), action);
    await this.run(`power ${action}`, ['power', action], POWER_REPLY[action]);
  }

  /** Boot device for the next boot (or every boot with `persistent`), optionally in UEFI mode. */
  async bootdev(device: IpmiBootDevice, options: BootdevOptions = {}): Promise<void> {
    if (!IPMI_BOOT_DEVICES.includes(device)) throw invalidInput('device', IPMI_BOOT_DEVICES.join(', '), device);
    const flags = [options.efiboot ? 'efiboot' : '', options.persistent ? 'persistent' : ''].filter(Boolean);
    const args = ['chassis', 'bootdev', device, ...(flags.length ? [`options=${flags.join(',')}`] : [])];
    // ipmitool exits 0 when the BMC refuses the parameter; only this line means it took.
    await this.run(`chassis bootdev ${device}`, args, new RegExp(`^Set Boot Device to ${device}\\s*$`, 'm'));
  }

  /** Every full/compact sensor with its reading, parsed from the verbose SDR listing. */
  async sensors(): Promise<Sensor[]> {
    // With the global -v that run() always passes, `sdr list` prints the verbose
    // blocks Ironic parses (`sdr -v`); adding -v here would dump raw packets.
    const out = await this.run('sdr list', ['sdr', 'list']);
    return parseSdrVerbose(out);
  }

  /**
   * Open the serial console. The returned stream carries the server's serial
   * output and takes keystrokes. Fails with `busy` when another session holds
   * SOL (use `force`), `not-supported` when SOL is disabled on the BMC.
   */
  async solActivate(options: SolActivateOptions = {}): Promise<SolSession> {
    if (this.#resolved.interface !== 'lanplus') {
      throw new BmcError('not-supported', `serial-over-LAN needs IPMI 2.0 (interface "lanplus"); ${this.target} is configured for "lan"`, { target: this.target });
    }
    return this.exclusive(async () => {
      // Checks credentials and SOL support with full diagnostics, which the
      // terminal session (stdout and stderr merged) cannot give.
      const info = await this.runNow('sol info', ['sol', 'info', '1'], /Enabled\s*:/);
      if (/^\s*Enabled\s*:\s*false/m.test(info)) {
        throw new BmcError('not-supported', `serial-over-LAN is disabled on ${this.target} (sol info: Enabled false)`, { target: this.target });
      }
      if (options.force) await this.deactivateNow();
      const suite = this.cipherSuite ?? CIPHER_COMMON;
      return spawnSol({
        scriptPath: this.#resolved.scriptPath,
        command: [this.#resolved.ipmitoolPath, ...connectionArgs(this.#resolved, suite, false), 'sol', 'activate'],
        env: passwordEnv(this.#resolved),
        target: this.target,
        password: this.#resolved.password,
        readyTimeoutMs: options.readyTimeoutMs ?? this.#resolved.timeoutMs,
      });
    });
  }

  /** End whatever SOL session the BMC has open. Resolves `false` when none was. */
  async solDeactivate(): Promise<boolean> {
    return this.exclusive(() => this.deactivateNow());
  }

  private async deactivateNow(): Promise<boolean> {
    try {
      await this.runNow('sol deactivate', ['sol', 'deactivate']);
      return true;
    } catch (err) {
      if (err instanceof BmcError && /already de-?activated/i.test(err.iloMessage ?? '')) return false;
      throw err;
    }
  }

  /** Run one ipmitool command after the ones already queued on this instance. */
  private run(action: string, command: string[], expect?: RegExp): Promise<string> {
    return this.exclusive(() => this.runNow(action, command, expect));
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(action: string, command: string[], expect?: RegExp): Promise<string> {
    if (this.cipherSuite !== undefined || this.#resolved.interface === 'lan') {
      return this.attempt(action, command, this.cipherSuite ?? CIPHER_COMMON, expect);
    }
    try {
      const out = await this.attempt(action, command, CIPHER_STRONG, expect);
      this.cipherSuite = CIPHER_STRONG;
      return out;
    } catch (err) {
      if (!(err instanceof IpmitoolError) || !err.cipherRefused) throw err;
      const out = await this.attempt(action, command, CIPHER_COMMON, expect);
      this.cipherSuite = CIPHER_COMMON;
      return out;
    }
  }

  private async attempt(action: string, command: string[], suite: number, expect?: RegExp): Promise<string> {
    const r = this.#resolved;
    const result: RunResult = await runTool(r.ipmitoolPath, [...connectionArgs(r, suite, true), ...command], {
      env: passwordEnv(r),
      timeoutMs: r.timeoutMs,
    });
    const ok = result.exitCode === 0 && !result.failure && (expect === undefined || expect.test(result.stdout));
    if (!ok) throw ipmitoolFailure(result, { action, target: r.target, password: r.password });
    return result.stdout;
  }
}
