/**
 * ilo-virtual-media: read, insert or eject the image in a server's virtual
 * CD-ROM or floppy, with the image URL from the node or the message.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { checkVirtualMediaRequest, describeDrive, runVirtualMediaAction, type VirtualMediaAction, type VirtualMediaDevice } from '../../lib/bmc';
import { STATUS, evaluateProperty, handleInput, pick, requireIloConfig } from '../common/node-red';

interface IloVirtualMediaDef extends NodeDef {
  server: string;
  /** An action, or "msg" to take it from msg.action. */
  action: VirtualMediaAction | 'msg';
  /** A device, or "msg" to take it from msg.device. */
  device: VirtualMediaDevice | 'msg';
  url: string;
  urlType: string;
  bootOnce: boolean;
}

interface VirtualMediaMessage extends NodeMessageInFlow {
  action?: unknown;
  device?: unknown;
  url?: unknown;
  bootOnce?: unknown;
}

export = function register(RED: NodeAPI): void {
  function IloVirtualMedia(this: Node, def: IloVirtualMediaDef): void {
    RED.nodes.createNode(this, def);
    handleInput<VirtualMediaMessage>(this, async (msg) => {
      const config = requireIloConfig(RED, def.server);
      const action = pick(def.action, msg.action, 'msg.action', 'action');
      const device = pick(def.device, msg.device, 'msg.device', 'device');
      const urlType = def.urlType || 'str';
      const url = action.value === 'insert' ? await evaluateProperty(RED, def.url ?? '', urlType, this, msg) : undefined;
      const request = checkVirtualMediaRequest(
        { action: action.value, device: device.value, url, bootOnce: typeof msg.bootOnce === 'boolean' ? msg.bootOnce : !!def.bootOnce },
        { action: action.field, device: device.field, url: urlType === 'str' ? 'url' : `${urlType}.${def.url}` },
      );
      const bmc = await config.getBmc();
      this.status(STATUS.busy(request.action === 'status' ? 'reading…' : `${request.action} ${request.device}…`));
      const outcome = await runVirtualMediaAction(bmc, request);
      const text = describeDrive(outcome.status);
      this.status(outcome.status.inserted ? (outcome.status.connected ? STATUS.ok(text) : STATUS.busy(text)) : STATUS.idle(text));
      msg.payload = { server: config.label, protocol: bmc.protocol, ...outcome };
      if (msg.topic === undefined || msg.topic === '') msg.topic = config.label;
    });
  }

  RED.nodes.registerType('ilo-virtual-media', IloVirtualMedia);
};
