/**
 * Sends RIBCL documents to one iLO and returns the analysed reply.
 */
import { BmcError } from '../errors';
import { IloHttpClient } from '../transport';
import { RibclCommand, RibclReply, analyzeRibclReply, buildRibclRequest } from './protocol';

export class RibclClient {
  /** Read-only requests waiting for a connection, by body: an identical read joins them. */
  private readonly queued = new Map<string, Promise<RibclReply>>();

  constructor(private readonly http: IloHttpClient) {}

  get target(): string {
    return this.http.target;
  }

  /**
   * Send several commands in one request; the iLO runs them in order.
   *
   * A read-only request identical to one still waiting for a connection
   * (this iLO's `maxConnections` are busy) shares that request and its
   * reply instead of queueing another: the one request goes out after both
   * callers asked, so its answer is as fresh as a request of their own.
   * A request already sent is never shared.
   */
  send(commands: RibclCommand[]): Promise<RibclReply> {
    const ep = this.http.endpoint;
    const body = buildRibclRequest({ username: ep.username, password: ep.password }, commands);
    if (!commands.every((c) => c.mode === 'read' && c.idempotent)) return this.transmit(body, commands);
    const waiting = this.queued.get(body);
    if (waiting) return waiting;
    // `sent` may run before transmit() returns (a free slot is taken at once).
    const entry: { gone: boolean; reply?: Promise<RibclReply> } = { gone: false };
    const sent = (): void => {
      entry.gone = true;
      if (entry.reply && this.queued.get(body) === entry.reply) this.queued.delete(body);
    };
    const reply = this.transmit(body, commands, sent).finally(sent);
    entry.reply = reply;
    if (!entry.gone) this.queued.set(body, reply);
    return reply;
  }

  private async transmit(body: string, commands: RibclCommand[], onSend?: () => void): Promise<RibclReply> {
    const res = await this.http.exchange({
      method: 'POST',
      path: '/ribcl',
      headers: { 'content-type': 'text/xml' },
      body,
      idempotent: commands.every((c) => c.idempotent),
      onSend,
    });
    if (res.statusCode === 404) {
      throw new BmcError('not-supported', `iLO ${this.target} has no /ribcl endpoint (HTTP 404): RIBCL over HTTP is not available`, {
        target: this.target,
        status: '404',
      });
    }
    if (res.statusCode >= 400) {
      throw new BmcError('protocol', `iLO ${this.target} answered HTTP ${res.statusCode} to a RIBCL request`, {
        target: this.target,
        status: String(res.statusCode),
      });
    }
    // Firmware sends ASCII, sometimes with stray high bytes: latin1 never fails.
    return analyzeRibclReply(res.body.toString('latin1'), this.target);
  }
}
