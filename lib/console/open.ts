/**
 * Open a server's serial console the configured way, or with `auto` the
 * first way that works: IPMI serial-over-LAN, then the virtual serial port
 * over SSH (skipped while no host key is pinned). When every way fails the
 * error says why for each.
 */
import { BmcError } from '../bmc/errors';
import type { ConsoleChannel, ConsoleVia } from './channel';
import { resolveConsoleConfig, type ConsoleConfig, type ResolvedConsoleConfig } from './config';
import { openIpmiConsole } from './ipmi';
import { openSshConsole } from './ssh-vsp';

export interface OpenConsoleOptions {
  /** End a session someone else left open on the BMC first (IPMI; the iLO CLI has no such thing). */
  force?: boolean;
  /** With `auto`, try this way first (the one that worked last time). */
  prefer?: ConsoleVia;
  cols?: number;
  rows?: number;
}

type Opener = (c: ResolvedConsoleConfig, o: OpenConsoleOptions) => Promise<ConsoleChannel>;
const OPENERS: Record<ConsoleVia, Opener> = {
  ipmi: (c, o) => openIpmiConsole(c, { force: o.force === true }),
  ssh: (c, o) => openSshConsole(c, { ...(o.cols ? { cols: o.cols } : {}), ...(o.rows ? { rows: o.rows } : {}) }),
};

export async function openConsole(config: ConsoleConfig, opts: OpenConsoleOptions = {}): Promise<ConsoleChannel> {
  const c = resolveConsoleConfig(config);
  if (c.method === 'off') throw new BmcError('not-supported', `the serial console of ${c.host} is turned off in its configuration (console: off)`, { field: 'consoleMethod' });
  if (c.method !== 'auto') return OPENERS[c.method](c, opts);
  const order: ConsoleVia[] = opts.prefer === 'ssh' ? ['ssh', 'ipmi'] : ['ipmi', 'ssh'];
  const failures: Array<{ via: ConsoleVia; err: BmcError }> = [];
  for (const via of order) {
    if (via === 'ssh' && !c.sshHostKey) {
      failures.push({ via, err: new BmcError('not-supported', 'SSH: not tried, no host key is pinned (sshHostKey)', { field: 'sshHostKey' }) });
      continue;
    }
    try {
      return await OPENERS[via](c, opts);
    } catch (err) {
      const e = err instanceof BmcError ? err : new BmcError('other', (err as Error)?.message ?? String(err));
      // Someone holds the serial port: the other way in reaches the same port.
      if (e.code === 'busy') throw e;
      failures.push({ via, err: e });
    }
  }
  throw combined(c.host, failures);
}

function combined(host: string, failures: Array<{ via: ConsoleVia; err: BmcError }>): BmcError {
  const said = failures.map(({ via, err }) => `${via === 'ipmi' ? 'IPMI' : 'SSH'}: ${err.message.replace(/^(?:IPMI|SSH):?\s*/, '')}`).join('; ');
  const telling = failures.find((f) => f.err.code === 'login')?.err;
  const allUnsupported = failures.every((f) => f.err.code === 'not-supported' || f.err.code === 'invalid-input');
  const code = telling ? 'login' : allUnsupported ? 'not-supported' : (failures[failures.length - 1]?.err.code ?? 'other');
  const target = failures.find((f) => f.err.target)?.err.target;
  return new BmcError(code, `no serial console on ${host}: ${said}`, { ...(target ? { target } : {}) });
}
