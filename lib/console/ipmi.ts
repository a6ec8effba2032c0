/**
 * The console through IPMI serial-over-LAN: `ipmitool sol activate` (see
 * lib/ipmi/sol.ts), as Ironic's ipmitool console runs it.
 */
import { Ipmitool } from '../ipmi/ipmitool';
import type { ConsoleChannel } from './channel';
import { targetOf, type ResolvedConsoleConfig } from './config';

export async function openIpmiConsole(c: ResolvedConsoleConfig, opts: { force?: boolean } = {}): Promise<ConsoleChannel> {
  const ipmi = new Ipmitool({
    host: c.host,
    port: c.ipmiPort,
    username: c.username,
    password: c.password,
    cipherSuite: c.ipmiCipherSuite,
    // Each retry doubles ipmitool's wait: 2 gives up after about 6 s on an iLO whose IPMI over LAN is off.
    retries: 2,
    timeoutMs: c.openTimeoutMs,
    ...(c.ipmitoolPath ? { ipmitoolPath: c.ipmitoolPath } : {}),
    ...(c.scriptPath ? { scriptPath: c.scriptPath } : {}),
  });
  const sol = await ipmi.solActivate({ force: opts.force === true, readyTimeoutMs: c.openTimeoutMs });
  return {
    via: 'ipmi',
    target: targetOf(c.host, c.ipmiPort),
    stream: sol.stream,
    ended: sol.ended.then((e) => ({ by: e.by, ...(e.by === 'remote' ? { reason: `ipmitool ended (exit code ${e.exitCode ?? '-'})` } : {}) })),
    sendBreak: () => sol.sendBreak(),
    resize: () => undefined,
    close: () => sol.close().then((e) => ({ by: e.by })),
  };
}
