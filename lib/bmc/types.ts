/**
 * The one interface every iLO client implements, whatever the protocol.
 */

export type PowerState = 'on' | 'off';

/** Power actions an operator asks for. */
export type PowerAction = 'on' | 'off' | 'soft-off' | 'reset' | 'cold-boot';

export const POWER_ACTIONS: readonly PowerAction[] = ['on', 'off', 'soft-off', 'reset', 'cold-boot'];

export type BmcProtocol = 'ribcl' | 'redfish';

export interface WaitOptions {
  /** Give up after this long (ms). */
  timeoutMs: number;
  /** Time between polls (ms). */
  intervalMs?: number;
  /** Abort the wait early. */
  signal?: AbortSignal;
}

export interface BmcStats {
  /** HTTPS requests sent to the iLO since the client was created. */
  requests: number;
  /** Requests repeated after a retryable failure. */
  retries: number;
}

export interface PowerResult {
  /** Power state read back after the action, when the protocol gives it for free. */
  powerState?: PowerState;
  /** Informational messages from the iLO (e.g. "Host power is already ON."). */
  warnings: string[];
}

export interface Bmc {
  readonly protocol: BmcProtocol;
  /** `host:port` of the iLO. */
  readonly target: string;

  getPowerState(): Promise<PowerState>;
  /** Power on (no-op when already on). */
  powerOn(): Promise<PowerResult>;
  /** Hard power off: hold the power button (no-op when already off). */
  powerOff(): Promise<PowerResult>;
  /** Press the power button once: asks the OS to shut down. Completion is up to the OS. */
  softPowerOff(): Promise<PowerResult>;
  /** Reboot: a warm reset when on; when off, power on (as Ironic does). */
  reset(): Promise<PowerResult>;
  /** Cold boot: remove power and power on again. */
  coldBoot(): Promise<PowerResult>;
  /** Poll until the power state equals `target`; rejects with a `timeout` BmcError. */
  waitForPowerState(target: PowerState, options: WaitOptions): Promise<PowerState>;

  readonly stats: BmcStats;
  /** Release connections (and sessions). The client cannot be used afterwards. */
  close(): Promise<void>;
}
