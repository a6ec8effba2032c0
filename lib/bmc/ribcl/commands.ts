/**
 * RIBCL commands and the decoding of their answers. Each
 * builder returns a command that can be batched with others in one request.
 */
import { BmcError } from '../errors';
import type { PowerState } from '../types';
import { RibclCommand, RibclReply, requirePayload } from './protocol';
import { attr } from './xml';

const read = (name: string, section: RibclCommand['section'] = 'SERVER_INFO', attrs?: Record<string, string>): RibclCommand => ({
  section,
  mode: 'read',
  name,
  attrs,
  idempotent: true,
});

const write = (
  name: string,
  idempotent: boolean,
  attrs?: Record<string, string>,
  section: RibclCommand['section'] = 'SERVER_INFO',
): RibclCommand => ({ section, mode: 'write', name, attrs, idempotent });

export const ribcl = {
  getHostPowerStatus: (): RibclCommand => read('GET_HOST_POWER_STATUS'),
  /** SET_HOST_POWER Yes: powers on; "already ON" is informational. */
  setHostPowerOn: (): RibclCommand => write('SET_HOST_POWER', true, { HOST_POWER: 'Yes' }),
  /** Hold the button; TOGGLE=NO keeps an already-off server off. */
  holdPowerButton: (): RibclCommand => write('HOLD_PWR_BTN', true, { TOGGLE: 'NO' }),
  /** A momentary press: not idempotent (a second press could power the server back on). */
  pressPowerButton: (): RibclCommand => write('PRESS_PWR_BTN', false),
  resetServer: (): RibclCommand => write('RESET_SERVER', false),
  coldBootServer: (): RibclCommand => write('COLD_BOOT_SERVER', false),
};

/** GET_HOST_POWER_STATUS answers with a GET_HOST_POWER element. */
export function decodePowerState(reply: RibclReply, target?: string): PowerState {
  const el = requirePayload(reply, 'GET_HOST_POWER', target);
  const v = (attr(el, 'HOST_POWER') ?? '').trim().toUpperCase();
  if (v === 'ON') return 'on';
  if (v === 'OFF') return 'off';
  throw new BmcError('protocol', `iLO reported an unknown power state ${JSON.stringify(v)}`, { target, iloMessage: v });
}
