/**
 * One simulated ProLiant: its host power state machine, identity and
 * credentials. The iLO endpoints (RIBCL now, Redfish later) drive it.
 *
 * Events: 'power' (state: 'on' | 'off'), 'post' (postState), 'boot' (the
 * host finished POST and starts booting), 'shutdown-request' (the OS was
 * asked to shut down).
 */
import { EventEmitter } from 'node:events';
import { FaultQueue } from './faults';

export type SimPostState = 'PowerOff' | 'InPost' | 'FinishedPost';

export interface SimTimings {
  /** From a power-on request until the host reports power ON. */
  powerOnMs: number;
  /** From power ON until POST is finished and the host boots. */
  postMs: number;
  /** From the power-button press until the OS has shut down (if it agrees). */
  softOffMs: number;
  /** From hold-power-button until the host is off. */
  hardOffMs: number;
}

export const DEFAULT_TIMINGS: SimTimings = { powerOnMs: 1500, postMs: 1500, softOffMs: 2000, hardOffMs: 0 };

export interface SimIdentity {
  productName: string;
  serialNumber: string;
  managementProcessor: string;
  firmwareVersion: string;
  firmwareDate: string;
  licenseType: string;
  ribclVersion: string;
}

export interface SimServerOptions {
  name: string;
  username: string;
  password: string;
  timings?: Partial<SimTimings>;
  identity?: Partial<SimIdentity>;
  /** Whether the simulated OS shuts down when the power button is pressed. */
  osHonoursShutdown?: boolean;
  initialPower?: 'on' | 'off';
}

export class SimServer extends EventEmitter {
  readonly name: string;
  readonly username: string;
  password: string;
  readonly timings: SimTimings;
  readonly identity: SimIdentity;
  osHonoursShutdown: boolean;
  readonly faults = new FaultQueue();
  /** Requests received by this iLO, by endpoint. */
  readonly requests = { ribcl: 0, total: 0 };

  private power: 'on' | 'off';
  private post: SimPostState;
  private timers = new Set<NodeJS.Timeout>();
  private pendingShutdown = false;

  constructor(opts: SimServerOptions) {
    super();
    this.name = opts.name;
    this.username = opts.username;
    this.password = opts.password;
    this.timings = { ...DEFAULT_TIMINGS, ...opts.timings };
    this.identity = {
      productName: 'ProLiant DL380 Gen9',
      serialNumber: `SIM${Buffer.from(opts.name).toString('hex').slice(0, 7).toUpperCase().padEnd(7, '0')}`,
      managementProcessor: 'iLO4',
      firmwareVersion: '2.80',
      firmwareDate: 'Jan 25 2022',
      licenseType: 'iLO Advanced',
      ribclVersion: '2.23',
      ...opts.identity,
    };
    this.osHonoursShutdown = opts.osHonoursShutdown ?? true;
    this.power = opts.initialPower ?? 'off';
    this.post = this.power === 'on' ? 'FinishedPost' : 'PowerOff';
  }

  get powerState(): 'on' | 'off' {
    return this.power;
  }

  get postState(): SimPostState {
    return this.post;
  }

  /** Power transitions queued but not yet complete. */
  get transitioning(): boolean {
    return this.timers.size > 0;
  }

  // ------------------------------------------------ actions (iLO semantics)

  /** SET_HOST_POWER Yes / PRESS when off. Returns an informational message when nothing changes. */
  powerOn(): string | undefined {
    if (this.power === 'on' || this.pendingOn) return 'Host power is already ON.';
    this.startPowerOn();
    return undefined;
  }

  /** HOLD_PWR_BTN (TOGGLE=NO) / SET_HOST_POWER No: hard off. */
  hardOff(): string | undefined {
    if (this.power === 'off' && !this.pendingOn) return 'Host power is already OFF.';
    this.cancelTimers();
    this.after(this.timings.hardOffMs, () => this.setPower('off'));
    return undefined;
  }

  /** PRESS_PWR_BTN: on a running host, asks the OS to shut down; on an off host, powers on. */
  pressPowerButton(): void {
    if (this.power === 'off') {
      if (!this.pendingOn) this.startPowerOn();
      return;
    }
    this.emit('shutdown-request');
    if (!this.osHonoursShutdown || this.pendingShutdown) return;
    this.pendingShutdown = true;
    this.after(this.timings.softOffMs, () => {
      this.pendingShutdown = false;
      this.setPower('off');
    });
  }

  /** RESET_SERVER: warm reset of a running host (POST runs again). */
  warmReset(): void {
    if (this.power !== 'on') return;
    this.cancelTimers();
    this.setPost('InPost');
    this.after(this.timings.postMs, () => this.finishPost());
  }

  /** COLD_BOOT_SERVER: power removed, then on again. */
  coldBoot(): void {
    this.cancelTimers();
    if (this.power === 'on') this.setPower('off');
    this.startPowerOn();
  }

  // ------------------------------------------------ mechanics

  private pendingOn = false;

  private startPowerOn(): void {
    this.pendingOn = true;
    this.after(this.timings.powerOnMs, () => {
      this.pendingOn = false;
      this.setPower('on');
      this.setPost('InPost');
      this.after(this.timings.postMs, () => this.finishPost());
    });
  }

  private finishPost(): void {
    this.setPost('FinishedPost');
    this.emit('boot');
  }

  private setPower(p: 'on' | 'off'): void {
    if (p === 'off') {
      this.cancelTimers();
      this.pendingShutdown = false;
      this.pendingOn = false;
      this.setPost('PowerOff');
    }
    if (this.power !== p) {
      this.power = p;
      this.emit('power', p);
    }
  }

  private setPost(s: SimPostState): void {
    if (this.post !== s) {
      this.post = s;
      this.emit('post', s);
    }
  }

  private after(ms: number, fn: () => void): void {
    if (ms <= 0) {
      fn();
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private cancelTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.pendingOn = false;
    this.pendingShutdown = false;
  }

  /** Stop every pending transition (when the fleet stops). */
  dispose(): void {
    this.cancelTimers();
    this.removeAllListeners();
  }
}
