/**
 * ilo-boot-mode: read a server's boot mode (legacy BIOS / UEFI, current and
 * pending), set the pending mode, set a one-time boot device or the
 * persistent boot order.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { checkBootRequest, describeBoot, runBootAction, type BootAction, type BootRequest } from '../../lib/bmc';
import { STATUS, pick } from '../common/node-red';
import { handleServerInput, selectionOf, type ServerSelection } from '../common/servers';

interface IloBootModeDef extends NodeDef, ServerSelection {
  /** An action, or "msg" to take it from msg.action. */
  action: BootAction | 'msg';
  /** bios | uefi | msg */
  mode: string;
  /** normal | cdrom | hdd | network | usb | floppy | msg */
  device: string;
  /** Comma-separated device classes; empty: msg.devices. */
  order: string;
}

interface BootMessage extends NodeMessageInFlow {
  action?: unknown;
  mode?: unknown;
  device?: unknown;
  devices?: unknown;
  server?: unknown;
}

export = function register(RED: NodeAPI): void {
  function IloBootMode(this: Node, def: IloBootModeDef): void {
    RED.nodes.createNode(this, def);
    handleServerInput<BootMessage, BootRequest>(
      RED,
      this,
      selectionOf(def),
      (msg) => {
        const action = pick(def.action, msg.action, 'msg.action', 'action');
        const mode = pick(def.mode, msg.mode, 'msg.mode', 'mode');
        const device = pick(def.device, msg.device, 'msg.device', 'device');
        const devices = pick(def.order?.trim(), msg.devices, 'msg.devices', 'order');
        return checkBootRequest(
          { action: action.value, mode: mode.value, device: device.value, devices: devices.value },
          { action: action.field, mode: mode.field, device: device.field, devices: devices.field },
        );
      },
      async ({ target, input: request, msg, status }) => {
        const bmc = await target.getBmc();
        status(STATUS.busy(request.action === 'status' ? 'reading…' : `${request.action}…`));
        const outcome = await runBootAction(bmc, request);
        status(STATUS.ok(describeBoot(outcome)));
        msg.payload = { server: target.name, protocol: bmc.protocol, ...outcome };
        if (msg.topic === undefined || msg.topic === '') msg.topic = target.name;
      },
    );
  }

  RED.nodes.registerType('ilo-boot-mode', IloBootMode);
};
