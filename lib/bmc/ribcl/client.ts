/**
 * Sends RIBCL documents to one iLO and returns the analysed reply.
 */
import { BmcError } from '../errors';
import { IloHttpClient } from '../transport';
import { RibclCommand, RibclReply, analyzeRibclReply, buildRibclRequest } from './protocol';

export class RibclClient {
  constructor(private readonly http: IloHttpClient) {}

  get target(): string {
    return this.http.target;
  }

  /** Send several commands in one request; the iLO runs them in order. */
  async send(commands: RibclCommand[]): Promise<RibclReply> {
    const ep = this.http.endpoint;
    const body = buildRibclRequest({ username: ep.username, password: ep.password }, commands);
    const res = await this.http.exchange({
      method: 'POST',
      path: '/ribcl',
      headers: { 'content-type': 'text/xml' },
      body,
      idempotent: commands.every((c) => c.idempotent),
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
