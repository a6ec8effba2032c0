/**
 * The RIBCL implementation of Bmc (iLO 2 to 5).
 */
import type { IloEndpoint } from '../endpoint';
import { IloHttpClient } from '../transport';
import type { Bmc, BmcStats, PowerResult, PowerState, WaitOptions } from '../types';
import { pollPowerState } from '../wait';
import { RibclClient } from './client';
import { decodePowerState, ribcl } from './commands';
import type { RibclCommand, RibclReply } from './protocol';
import { checkRibclPassword } from './protocol';

export class RibclBmc implements Bmc {
  readonly protocol = 'ribcl' as const;
  protected readonly http: IloHttpClient;
  protected readonly client: RibclClient;

  constructor(endpoint: IloEndpoint | IloHttpClient) {
    this.http = endpoint instanceof IloHttpClient ? endpoint : new IloHttpClient(endpoint);
    checkRibclPassword(this.http.endpoint.password);
    this.client = new RibclClient(this.http);
  }

  get target(): string {
    return this.http.target;
  }

  get stats(): BmcStats {
    return this.http.stats;
  }

  /** Send raw RIBCL commands in one request (for operations not wrapped yet). */
  send(commands: RibclCommand[]): Promise<RibclReply> {
    return this.client.send(commands);
  }

  async getPowerState(): Promise<PowerState> {
    return decodePowerState(await this.client.send([ribcl.getHostPowerStatus()]), this.target);
  }

  /** One request: the action, then the power state read back. */
  private async actAndRead(action: RibclCommand): Promise<PowerResult> {
    const reply = await this.client.send([action, ribcl.getHostPowerStatus()]);
    return { powerState: decodePowerState(reply, this.target), warnings: reply.warnings };
  }

  powerOn(): Promise<PowerResult> {
    return this.actAndRead(ribcl.setHostPowerOn());
  }

  powerOff(): Promise<PowerResult> {
    return this.actAndRead(ribcl.holdPowerButton());
  }

  softPowerOff(): Promise<PowerResult> {
    return this.actAndRead(ribcl.pressPowerButton());
  }

  async reset(): Promise<PowerResult> {
    // RESET_SERVER only makes sense for a running server; Ironic powers an
    // off server on instead, and so do we.
    const state = await this.getPowerState();
    return this.actAndRead(state === 'on' ? ribcl.resetServer() : ribcl.setHostPowerOn());
  }

  coldBoot(): Promise<PowerResult> {
    return this.actAndRead(ribcl.coldBootServer());
  }

  waitForPowerState(target: PowerState, options: WaitOptions): Promise<PowerState> {
    return pollPowerState(() => this.getPowerState(), target, options, this.target);
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
