/**
 * Run by test/integration/bmc-failing-requests.test.ts in a process of its
 * own started with --unhandled-rejections=strict: calls every Bmc method of
 * both providers (RIBCL on a simulated Gen9, Redfish on a simulated Gen10)
 * with the first, the second and the last of its requests refused by the
 * iLO, and once with a wrong password. Prints one JSON line per call; a
 * promise left unhandled anywhere makes this process exit non-zero, which
 * the test sees.
 */
import { BmcError } from '../../lib/bmc/errors';
import { RedfishBmc } from '../../lib/bmc/redfish/provider';
import { RibclBmc } from '../../lib/bmc/ribcl/provider';
import type { Bmc } from '../../lib/bmc/types';
import { Fleet, type SimIlo } from '../../sim/fleet';
import { patternImage, startMediaServer } from '../../sim/media-server';

export interface ProbeLine {
  protocol: 'ribcl' | 'redfish';
  method: string;
  /** Which request failed: 1-based, or "password". */
  failing: number | 'password';
  requests: number;
  outcome: 'resolved' | 'typed-error' | 'untyped-error';
  detail?: string;
}

type Call = (bmc: Bmc) => Promise<unknown>;

function calls(iso: string, floppy: string): Record<string, Call> {
  // The batched read (RIBCL: one request for power, boot mode, host data, drives, one-time boot, boot order and licence; Redfish: each resource once).
  const batched: Record<string, Call> = {
    readState: (b) => b.readState!({ power: true, bootMode: true, hostInfo: true, virtualMedia: ['cdrom', 'floppy'], oneTimeBoot: true, persistentBootOrder: true, licence: true }),
  };
  return {
    ...batched,
    getPowerState: (b) => b.getPowerState(),
    powerOn: (b) => b.powerOn(),
    powerOff: (b) => b.powerOff(),
    softPowerOff: (b) => b.softPowerOff(),
    reset: (b) => b.reset(),
    coldBoot: (b) => b.coldBoot(),
    waitForPowerState: (b) => b.waitForPowerState('off', { timeoutMs: 5000, intervalMs: 20 }),
    getVirtualMediaStatus: (b) => b.getVirtualMediaStatus('cdrom'),
    insertVirtualMedia: (b) => b.insertVirtualMedia('cdrom', iso, { bootOnce: true }),
    ejectVirtualMedia: (b) => b.ejectVirtualMedia('cdrom'),
    setVirtualMediaBootOption: (b) => b.setVirtualMediaBootOption('cdrom', 'boot-once'),
    getBootMode: (b) => b.getBootMode(),
    setPendingBootMode: (b) => b.setPendingBootMode('uefi'),
    getOneTimeBoot: (b) => b.getOneTimeBoot(),
    setOneTimeBoot: (b) => b.setOneTimeBoot('cdrom'),
    getPersistentBootOrder: (b) => b.getPersistentBootOrder(),
    setPersistentBootOrder: (b) => b.setPersistentBootOrder(['cdrom', 'hdd']),
    getLicence: (b) => b.getLicence(),
    getHealth: (b) => b.getHealth(),
    getHostInfo: (b) => b.getHostInfo(),
    attachDeployMedia: (b) => b.attachDeployMedia({ cdrom: iso, floppy, oneTimeBootCdrom: true }),
    detachDeployMedia: (b) => b.detachDeployMedia(),
    // Cleaning's out-of-band steps (iLO 4: its REST API beside RIBCL).
    resetBiosToDefault: (b) => b.resetBiosToDefault(),
    resetSecureBootKeys: (b) => b.resetSecureBootKeys('default'),
  };
}

async function main(): Promise<void> {
  const fleet = await Fleet.start({ servers: 2, models: ['gen9', 'gen10'], timings: { powerOnMs: 10, postMs: 10, softOffMs: 10 } });
  const media = await startMediaServer();
  const iso = media.put('probe.iso', patternImage(64 * 1024));
  const floppy = media.put('probe.img', patternImage(16 * 1024));
  const variants: Array<{ protocol: 'ribcl' | 'redfish'; ilo: SimIlo }> = [
    { protocol: 'ribcl', ilo: fleet.ilos[0]! },
    { protocol: 'redfish', ilo: fleet.ilos[1]! },
  ];
  try {
    for (const { protocol, ilo } of variants) {
      const client = (password = ilo.password): Bmc => {
        const ep = { host: ilo.host, port: ilo.port, username: ilo.username, password, tls: { mode: 'ca' as const, ca: fleet.ca.cert }, requestTimeoutMs: 5000 };
        return protocol === 'ribcl' ? new RibclBmc(ep) : new RedfishBmc(ep);
      };
      // The iLO refuses the request: insufficient privilege (never retried by either client).
      const refusal = protocol === 'ribcl' ? { kind: 'error' as const, status: 0x23, message: 'User does NOT have correct privilege for action.' } : { kind: 'error' as const, status: 403, message: 'Base.1.4.InsufficientPrivilege' };
      for (const [method, call] of Object.entries(calls(iso, floppy))) {
        // How many requests the call makes when nothing fails (a fresh client: logins and discovery count).
        ilo.server.resetState();
        const counting = client();
        await call(counting).catch(() => undefined);
        const requests = counting.stats.requests;
        await counting.close();
        const failing: Array<number | 'password'> = [...new Set([1, 2, requests].filter((n) => n >= 1 && n <= requests)), 'password'];
        for (const f of failing) {
          ilo.server.resetState();
          ilo.server.faults.clear();
          if (f !== 'password') ilo.server.faults.add({ ...refusal, times: 1, after: f - 1 });
          const bmc = client(f === 'password' ? `${ilo.password}-wrong` : ilo.password);
          const line: ProbeLine = { protocol, method, failing: f, requests, outcome: 'resolved' };
          try {
            await call(bmc);
          } catch (err) {
            line.outcome = err instanceof BmcError ? 'typed-error' : 'untyped-error';
            line.detail = err instanceof BmcError ? err.code : String((err as Error)?.stack ?? err);
          }
          // close() lets every request still in flight finish: an orphaned one rejects now, in this process.
          await bmc.close();
          await new Promise((r) => setImmediate(r));
          console.log(JSON.stringify(line));
        }
      }
    }
  } finally {
    await media.close();
    await fleet.stop();
  }
  console.log('probe: done');
}

main().catch((err: unknown) => {
  console.error(`probe failed: ${(err as Error)?.stack ?? String(err)}`);
  process.exit(2);
});
