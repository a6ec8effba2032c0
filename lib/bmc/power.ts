/**
 * A power action as an operator asks for it: validate, act, optionally wait
 * for the state the action leads to. Used by the ilo-power node and the
 * deploy engine alike.
 */
import { BmcError, invalidInput, isBmcError } from './errors';
import { checkWellFormed } from './management-input';
import { POWER_ACTIONS, type Bmc, type PowerAction, type PowerState } from './types';

export type PowerRequest = PowerAction | 'status';

export const POWER_REQUESTS: readonly PowerRequest[] = ['status', ...POWER_ACTIONS];

/** The state each action leads to, which "wait" waits for. */
export const POWER_TARGET: Record<PowerAction, PowerState> = {
  on: 'on',
  off: 'off',
  'soft-off': 'off',
  reset: 'on',
  'cold-boot': 'on',
};

export function parsePowerRequest(value: unknown, field = 'action'): PowerRequest {
  checkWellFormed(value, field);
  const v = typeof value === 'string' ? value.trim().toLowerCase() : value;
  const aliases: Record<string, PowerRequest> = { 'power-on': 'on', 'power-off': 'off', softoff: 'soft-off', reboot: 'reset', coldboot: 'cold-boot' };
  const found = typeof v === 'string' ? (POWER_REQUESTS.find((a) => a === v) ?? aliases[v]) : undefined;
  if (!found) throw invalidInput(field, `one of ${POWER_REQUESTS.join(', ')}`, value);
  return found;
}

export interface PowerOptions {
  /** Wait until the server reaches the action's target state. */
  wait?: boolean;
  timeoutMs?: number;
  intervalMs?: number;
  signal?: AbortSignal;
  /** Told when a wait begins (for a "powering on…" status). */
  onWaiting?: (target: PowerState) => void;
}

export interface PowerOutcome {
  action: PowerRequest;
  powerState: PowerState;
  warnings: string[];
  waited: boolean;
  elapsedMs: number;
}

export async function runPowerAction(bmc: Bmc, action: PowerRequest, opts: PowerOptions = {}): Promise<PowerOutcome> {
  const t0 = Date.now();
  if (action === 'status') {
    return { action, powerState: await bmc.getPowerState(), warnings: [], waited: false, elapsedMs: Date.now() - t0 };
  }
  const result = await ACT[action](bmc);
  let powerState = result.powerState ?? (opts.wait ? undefined : await bmc.getPowerState());
  const target = POWER_TARGET[action];
  if (opts.wait && powerState !== target) {
    opts.onWaiting?.(target);
    try {
      powerState = await bmc.waitForPowerState(target, {
        timeoutMs: opts.timeoutMs ?? 300_000,
        intervalMs: opts.intervalMs,
        signal: opts.signal,
      });
    } catch (err) {
      if (action === 'soft-off' && isBmcError(err, 'timeout')) {
        throw new BmcError('timeout', `soft power-off: the operating system did not shut down in time (${err.message}); use "off" to force it`, {
          target: bmc.target,
          cause: err,
        });
      }
      throw err;
    }
  }
  return { action, powerState: powerState as PowerState, warnings: result.warnings, waited: !!opts.wait, elapsedMs: Date.now() - t0 };
}

const ACT: Record<PowerAction, (bmc: Bmc) => ReturnType<Bmc['powerOn']>> = {
  on: (b) => b.powerOn(),
  off: (b) => b.powerOff(),
  'soft-off': (b) => b.softPowerOff(),
  reset: (b) => b.reset(),
  'cold-boot': (b) => b.coldBoot(),
};
