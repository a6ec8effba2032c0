/**
 * The kernel initiator path, as Ironic's conductor ran it:
 * sendtargets discovery, login, check the session, rescan, wait for the
 * by-path device; at the end, logout and delete the node record (exit code 21,
 * "no records", is fine). It needs a kernel with iSCSI support; the machines
 * this project is developed on have none, so this path is only unit-tested
 * (its command lines), never run against a target here.
 */
import { stat } from 'node:fs/promises';
import type { RunResult, ToolRunner } from '../../exec/run';
import { DeployError } from '../errors';
import { byPathDevice, type ResolvedLun } from './target';

export interface OpenIscsiOptions {
  iscsiadm: string;
  run: ToolRunner;
  signal?: AbortSignal;
  /** Whether the by-path device is there (default: it exists and is a block device). */
  deviceReady?: (path: string) => Promise<boolean>;
  /** Pause between attempts (default: a real 1 s wait). */
  sleep?: (ms: number) => Promise<void>;
}

export interface OpenIscsiSession {
  /** The LUN's block device, `/dev/disk/by-path/ip-…-iscsi-<iqn>-lun-<n>`. */
  device: string;
  logout(): Promise<void>;
}

const NO_RECORDS = 21;

export async function openIscsiLogin(lun: ResolvedLun, o: OpenIscsiOptions): Promise<OpenIscsiSession> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deviceReady = o.deviceReady ?? (async (p: string) => (await stat(p).catch(() => undefined))?.isBlockDevice() === true);
  const node = ['-m', 'node', '-p', lun.portal, '-T', lun.iqn];
  const iscsiadm = async (args: string[], what: string, attempts = 1, accept: number[] = [0]): Promise<RunResult> => {
    let last: RunResult | undefined;
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await sleep(1000);
      if (o.signal?.aborted) throw new DeployError('aborted', `cancelled before: ${what}`);
      last = await o.run(o.iscsiadm, args, { signal: o.signal, timeoutMs: 120_000 });
      if (last.exitCode !== undefined && accept.includes(last.exitCode) && !last.failure) return last;
      if (last.notFound) throw new DeployError('not-supported', `${what}: ${o.iscsiadm} is not installed (Debian: open-iscsi)`);
    }
    const said = (last?.stderr.trim() || last?.failure || `exit code ${last?.exitCode}`).split('\n').join('; ');
    throw new DeployError('connection', `${what} (${lun.portal} ${lun.iqn}) failed: ${said}`, { toolMessage: said });
  };
  const logout = async (): Promise<void> => {
    await iscsiadm([...node, '--logout'], 'iSCSI logout', 1, [0, NO_RECORDS]).catch(() => undefined);
    await iscsiadm([...node, '-o', 'delete'], 'deleting the iSCSI node record', 1, [0, NO_RECORDS]);
  };

  await iscsiadm(['-m', 'discovery', '-t', 'st', '-p', lun.portal], 'iSCSI discovery', 5);
  try {
    await iscsiadm([...node, '--login'], 'iSCSI login', 5);
    let listed = false;
    for (let i = 0; i < 3 && !listed; i++) {
      if (i > 0) await sleep(1000);
      listed = (await iscsiadm(['-m', 'node', '-S'], 'listing iSCSI sessions')).stdout.includes(lun.iqn);
    }
    if (!listed) throw new DeployError('connection', `iSCSI login to ${lun.iqn} reported success, but no session is listed`);
    await iscsiadm([...node, '-R'], 'iSCSI rescan');
    const device = byPathDevice(lun);
    let ready = false;
    for (let i = 0; i < 3 && !ready; i++) {
      if (i > 0) await sleep(1000);
      ready = await deviceReady(device);
    }
    if (!ready) throw new DeployError('connection', `the iSCSI LUN did not appear as a block device at ${device}`);
    return { device, logout };
  } catch (err) {
    await logout().catch(() => undefined);
    throw err;
  }
}
