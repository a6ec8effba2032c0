/**
 * The programs a deploy process runs on this machine, checked before the
 * deploy starts, so a missing one is refused up front (naming the program
 * and the Debian package that brings it) instead of failing a step after the
 * server was power-cycled. A program found is remembered for the life of the
 * process; one missing is looked for again at the next deploy, so installing
 * it needs no restart.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { runTool, type ToolRunner } from '../exec/run';
import { DeployError } from './errors';
import type { DeployMethod } from './types';

export interface ToolRequirement {
  /** The program: a name looked up on PATH, or an absolute path. */
  tool: string;
  /** The Debian package that brings it. */
  package: string;
  /** What it is needed for, for the message. */
  purpose?: string;
}

export interface ToolSettings {
  iscsiInitiator?: 'libiscsi' | 'open-iscsi';
  /** Added by the host (settings.js `iloDeployRequiredTools`), e.g. tgtd for a simulated ramdisk. */
  requiredTools?: ToolRequirement[];
}

/**
 * What a process runs here: qemu-img (with its iSCSI driver) to write over
 * iSCSI, iscsiadm when open-iscsi is the initiator; the partition tools
 * (mkfs.vfat, mkswap) only for layouts the processes refuse today.
 */
export function toolsFor(method: DeployMethod, settings: ToolSettings): ToolRequirement[] {
  const tools: ToolRequirement[] = [];
  if (method === 'iscsi_ilo' || method === 'pxe_ilo') {
    tools.push({ tool: 'qemu-img', package: 'qemu-utils', purpose: 'it writes the image over iSCSI' });
    if (settings.iscsiInitiator === 'open-iscsi') tools.push({ tool: 'iscsiadm', package: 'open-iscsi', purpose: 'the open-iscsi initiator is selected' });
  }
  return [...tools, ...(settings.requiredTools ?? [])];
}

export interface CheckToolsOptions {
  /** Where to look for programs named without a path (default: this process's PATH). */
  path?: string;
  /** What runs qemu-img's probe (default: execa). */
  run?: ToolRunner;
}

const found = new Set<string>();

/** Every requirement met, or a 'missing-tool' error naming the first one missing and its package. */
export async function checkTools(method: DeployMethod, tools: readonly ToolRequirement[], opts: CheckToolsOptions = {}): Promise<void> {
  for (const t of tools) {
    const at = await locate(t.tool, opts.path ?? process.env.PATH ?? '');
    if (!at) throw missing(method, t, `${t.tool} is not installed here`);
    if (found.has(at)) continue;
    if (t.tool === 'qemu-img' || at.endsWith('/qemu-img')) await probeQemuIscsi(method, at, opts.run ?? runTool);
    found.add(at);
  }
}

function missing(method: DeployMethod, t: ToolRequirement, what: string): DeployError {
  return new DeployError('missing-tool', `${method} cannot run on this machine: ${what}${t.purpose ? ` (${t.purpose})` : ''}; install the Debian package ${t.package}`, {
    field: 'method',
  });
}

async function locate(tool: string, path: string): Promise<string | undefined> {
  const candidates = isAbsolute(tool) ? [tool] : tool.includes('/') ? [] : path.split(delimiter).filter(Boolean).map((d) => join(d, tool));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return c;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * qemu-img opens iSCSI LUNs through its iscsi block driver, a module of its
 * own (Debian: qemu-block-extra). Asking it to open a LUN on a closed port
 * tells the two apart at once: without the module it says "Unknown driver
 * 'iscsi'", with it, it fails to connect.
 */
async function probeQemuIscsi(method: DeployMethod, qemuImg: string, run: ToolRunner): Promise<void> {
  const r = await run(qemuImg, ['info', '--image-opts', 'driver=iscsi,transport=tcp,portal=127.0.0.1:1,target=iqn.2000-01.invalid:preflight,lun=0'], { timeoutMs: 30_000 });
  if (r.notFound) throw missing(method, { tool: 'qemu-img', package: 'qemu-utils', purpose: 'it writes the image over iSCSI' }, 'qemu-img cannot be started');
  if (/Unknown (driver|protocol) '?iscsi'?|module block-\S*iscsi not found/i.test(`${r.stderr}\n${r.stdout}`)) {
    throw missing(method, { tool: 'qemu-img', package: 'qemu-block-extra', purpose: 'it writes the image over iSCSI' }, "qemu-img has no iSCSI block driver");
  }
}

/**
 * The host's extra requirements per method, as settings.js gives them:
 * `{ iscsi_ilo: [{ tool: 'tgtd', package: 'tgt', purpose: '…' }], … }`.
 * Entries that do not fit are left out and said in `problems`.
 */
export function parseRequiredTools(value: unknown): { tools: Partial<Record<DeployMethod, ToolRequirement[]>>; problems: string[] } {
  const tools: Partial<Record<DeployMethod, ToolRequirement[]>> = {};
  const problems: string[] = [];
  if (value === undefined || value === null) return { tools, problems };
  if (typeof value !== 'object' || Array.isArray(value)) return { tools, problems: ['expected an object { <method>: [{ tool, package, purpose? }] }'] };
  for (const [method, list] of Object.entries(value as Record<string, unknown>)) {
    if (!['agent_ilo', 'iscsi_ilo', 'pxe_ilo'].includes(method)) {
      problems.push(`${method}: not a deploy method (agent_ilo, iscsi_ilo, pxe_ilo)`);
      continue;
    }
    for (const [i, t] of (Array.isArray(list) ? list : [list]).entries()) {
      const e = t as Partial<ToolRequirement> | null;
      const name = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$|^\/[^\0]+$/;
      if (!e || typeof e.tool !== 'string' || !name.test(e.tool) || typeof e.package !== 'string' || e.package === '') {
        problems.push(`${method}[${i}]: expected { tool: a program name or absolute path, package: its Debian package }`);
        continue;
      }
      (tools[method as DeployMethod] ??= []).push({ tool: e.tool, package: e.package, purpose: typeof e.purpose === 'string' ? e.purpose : undefined });
    }
  }
  return { tools, problems };
}
