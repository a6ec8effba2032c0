/**
 * RIBCL commands the simulated iLO understands. Each entry names the
 * section it belongs to; a command in the wrong section, or one the
 * simulated firmware does not know, gets the syntax error a real iLO gives.
 */
import type { SimServer } from '../server';
import type { RenderNode } from './render';
import { ReqNode, decoded } from './request';

export type RibclSectionName = 'SERVER_INFO' | 'RIB_INFO' | 'USER_INFO';

export interface CommandContext {
  server: SimServer;
  node: ReqNode;
  mode: 'read' | 'write';
  /** Decoded attribute value, case-insensitive name. */
  attr(name: string): string | undefined;
}

export interface CommandOutcome {
  status?: number;
  message?: string;
  payload?: RenderNode;
  inform?: string;
}

export type CommandHandler = (ctx: CommandContext) => CommandOutcome | Promise<CommandOutcome>;

interface Registered {
  section: RibclSectionName;
  write: boolean;
  handler: CommandHandler;
}

const registry = new Map<string, Registered>();

/** Add (or replace) a command. Later issues extend the simulator through this. */
export function registerRibclCommand(name: string, section: RibclSectionName, write: boolean, handler: CommandHandler): void {
  registry.set(name, { section, write, handler });
}

export function lookupRibclCommand(name: string): Registered | undefined {
  return registry.get(name);
}

export function makeContext(server: SimServer, node: ReqNode, mode: 'read' | 'write'): CommandContext {
  return { server, node, mode, attr: (n) => decoded(node, n) };
}

const info = (message: string | undefined): CommandOutcome => (message ? { message } : {});

// ---------------------------------------------------------------- power

registerRibclCommand('GET_HOST_POWER_STATUS', 'SERVER_INFO', false, ({ server }) => ({
  payload: { name: 'GET_HOST_POWER', attrs: [['HOST_POWER', server.powerState === 'on' ? 'ON' : 'OFF']] },
}));

registerRibclCommand('SET_HOST_POWER', 'SERVER_INFO', true, (ctx) => {
  const v = (ctx.attr('HOST_POWER') ?? '').toLowerCase();
  if (v === 'yes' || v === 'y') return info(ctx.server.powerOn());
  if (v === 'no' || v === 'n') return info(ctx.server.hardOff());
  return { status: 0x0004, message: 'The value specified is invalid.' };
});

registerRibclCommand('HOLD_PWR_BTN', 'SERVER_INFO', true, (ctx) => {
  const toggle = (ctx.attr('TOGGLE') ?? 'yes').toLowerCase();
  if (ctx.server.powerState === 'off' && toggle === 'yes') return info(ctx.server.powerOn());
  return info(ctx.server.hardOff());
});

registerRibclCommand('PRESS_PWR_BTN', 'SERVER_INFO', true, ({ server }) => {
  server.pressPowerButton();
  return {};
});

registerRibclCommand('RESET_SERVER', 'SERVER_INFO', true, ({ server }) => {
  if (server.powerState === 'off') return { message: 'Host power is OFF.' };
  server.warmReset();
  return { message: 'Server being reset.' };
});

registerRibclCommand('COLD_BOOT_SERVER', 'SERVER_INFO', true, ({ server }) => {
  server.coldBoot();
  return {};
});

registerRibclCommand('WARM_BOOT_SERVER', 'SERVER_INFO', true, ({ server }) => {
  server.warmReset();
  return {};
});

// ---------------------------------------------------------------- identity

registerRibclCommand('GET_PRODUCT_NAME', 'SERVER_INFO', false, ({ server }) => ({
  payload: { name: 'GET_PRODUCT_NAME', children: [{ name: 'PRODUCT_NAME', attrs: [['VALUE', server.identity.productName]] }] },
}));

registerRibclCommand('GET_FW_VERSION', 'RIB_INFO', false, ({ server }) => ({
  payload: {
    name: 'GET_FW_VERSION',
    attrs: [
      ['FIRMWARE_VERSION', server.identity.firmwareVersion],
      ['FIRMWARE_DATE', server.identity.firmwareDate],
      ['MANAGEMENT_PROCESSOR', server.identity.managementProcessor],
      ['LICENSE_TYPE', server.identity.licenseType],
    ],
  },
}));

registerRibclCommand('GET_SERVER_NAME', 'SERVER_INFO', false, ({ server }) => ({
  payload: { name: 'SERVER_NAME', attrs: [['VALUE', server.name]] },
}));
