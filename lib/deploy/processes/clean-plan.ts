/**
 * The clean steps this package knows, with Ironic's default priorities, and
 * the plan an operator's list makes of them. As in Ironic, the list sets
 * priorities over the defaults (a step it does not name keeps its default;
 * priority 0 leaves a step out), and the steps run highest priority first.
 *
 * In-band steps are the agent's (GenericHardwareManager: erase_devices_metadata
 * 99, erase_devices 10, which Ironic's iLO driver turns off by default);
 * out-of-band ones are Ironic's iLO management steps
 * (reset_secure_boot_keys_to_default 20, reset_bios_to_default 10,
 * clear_secure_boot_keys 0), and two that Ironic's tear-down of a cleaning
 * does: eject the virtual media and clear the one-time boot.
 */
import { badInput } from '../errors';
import type { CleanPlan, CleanStepSpec, ImageRef } from '../types';

export type CleanStepName =
  | 'erase_devices_metadata'
  | 'erase_devices'
  | 'reset_secure_boot_keys_to_default'
  | 'reset_bios_to_default'
  | 'clear_secure_boot_keys'
  | 'eject_media'
  | 'clear_one_time_boot';

export interface KnownCleanStep {
  /** Ironic's interface: `deploy` steps run in the agent, `management` ones through the iLO. */
  interface: 'deploy' | 'management';
  priority: number;
}

export const CLEAN_STEPS: Readonly<Record<CleanStepName, KnownCleanStep>> = {
  erase_devices_metadata: { interface: 'deploy', priority: 99 },
  erase_devices: { interface: 'deploy', priority: 0 },
  reset_secure_boot_keys_to_default: { interface: 'management', priority: 20 },
  reset_bios_to_default: { interface: 'management', priority: 10 },
  clear_secure_boot_keys: { interface: 'management', priority: 0 },
  eject_media: { interface: 'management', priority: 2 },
  clear_one_time_boot: { interface: 'management', priority: 1 },
};

const NAMES = Object.keys(CLEAN_STEPS) as CleanStepName[];

export function isAgentStep(step: string): boolean {
  return CLEAN_STEPS[step as CleanStepName]?.interface === 'deploy';
}

/**
 * The steps to run, in order, from an operator's list (an array, or its
 * JSON text) over the defaults. Bad entries are refused naming the field
 * and the entry, e.g. `cleanSteps[1].priority`.
 */
export function cleanSteps(value: unknown, field: string): CleanStepSpec[] {
  let list = value;
  if (typeof list === 'string') {
    if (list.trim() === '') list = [];
    else {
      try {
        list = JSON.parse(list) as unknown;
      } catch {
        throw badInput(field, 'a JSON list of clean steps, e.g. [{"step": "erase_devices", "priority": 90}]', value);
      }
    }
  }
  if (list === undefined || list === null) list = [];
  if (!Array.isArray(list)) throw badInput(field, 'a list of clean steps, e.g. [{"step": "erase_devices", "priority": 90}]', value);
  const chosen = new Map<CleanStepName, CleanStepSpec>(NAMES.map((n) => [n, { step: n, priority: CLEAN_STEPS[n].priority }]));
  const seen = new Set<string>();
  list.forEach((entry: unknown, i) => {
    const at = `${field}[${i}]`;
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) throw badInput(at, 'an object { step, priority, args? }', entry);
    const e = entry as Record<string, unknown>;
    for (const k of Object.keys(e)) if (!['step', 'priority', 'args', 'interface'].includes(k)) throw badInput(`${at}.${k}`, 'no such key (step, priority, args, interface)', e[k]);
    if (typeof e.step !== 'string' || !NAMES.includes(e.step as CleanStepName)) throw badInput(`${at}.step`, `one of ${NAMES.join(', ')}`, e.step);
    const name = e.step as CleanStepName;
    if (seen.has(name)) throw badInput(`${at}.step`, `each step once (${name} is listed twice)`, e.step);
    seen.add(name);
    if (e.interface !== undefined && e.interface !== CLEAN_STEPS[name].interface) throw badInput(`${at}.interface`, `${CLEAN_STEPS[name].interface} for ${name}`, e.interface);
    if (typeof e.priority !== 'number' || !Number.isInteger(e.priority) || e.priority < 0) throw badInput(`${at}.priority`, 'a whole number, 0 or more (0 leaves the step out; higher runs first)', e.priority);
    if (e.args !== undefined && (typeof e.args !== 'object' || e.args === null || Array.isArray(e.args))) throw badInput(`${at}.args`, 'an object of keyword arguments for the step', e.args);
    chosen.set(name, { step: name, priority: e.priority, ...(e.args ? { args: e.args as Record<string, unknown> } : {}) });
  });
  // Highest priority first; equal priorities keep the order above (Ironic sorts by priority alone).
  return [...chosen.values()].filter((s) => s.priority > 0).sort((a, b) => b.priority - a.priority);
}

/**
 * `msg.deploy.clean` (or the node's option): true (the node's steps), false
 * (no cleaning), or { steps?, deployIso?, deployKernel?, deployRamdisk? }.
 * Returns the plan, or undefined for no cleaning.
 */
export function cleanPlan(value: unknown, field: string, nodeSteps: CleanStepSpec[]): CleanPlan | undefined {
  if (value === false || value === undefined || value === null) return undefined;
  if (value === true) return { steps: nodeSteps };
  if (typeof value !== 'object' || Array.isArray(value)) throw badInput(field, 'true, false, or { steps, deployIso, deployKernel, deployRamdisk }', value);
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) if (!['steps', 'deployIso', 'deployKernel', 'deployRamdisk'].includes(k)) throw badInput(`${field}.${k}`, 'no such key (steps, deployIso, deployKernel, deployRamdisk)', v[k]);
  const ref = (k: 'deployIso' | 'deployKernel' | 'deployRamdisk'): ImageRef | undefined => {
    if (v[k] === undefined || v[k] === '') return undefined;
    if (typeof v[k] !== 'string') throw badInput(`${field}.${k}`, "a reference to the agent ramdisk's image (http(s) URL, file, swift: or glance:)", v[k]);
    return v[k];
  };
  const plan: CleanPlan = { steps: v.steps === undefined ? nodeSteps : cleanSteps(v.steps, `${field}.steps`) };
  const iso = ref('deployIso');
  const kernel = ref('deployKernel');
  const ramdisk = ref('deployRamdisk');
  if ((kernel === undefined) !== (ramdisk === undefined)) throw badInput(`${field}.${kernel ? 'deployRamdisk' : 'deployKernel'}`, 'both deployKernel and deployRamdisk of the agent, or neither');
  if (iso) plan.deployIso = iso;
  if (kernel && ramdisk) Object.assign(plan, { deployKernel: kernel, deployRamdisk: ramdisk });
  return plan;
}

/** Cleaning boots ironic-python-agent: a plan without its own agent ramdisk needs a deploy made with agent_ilo (whose ramdisk it reuses). */
export function checkCleanRamdisk(plan: CleanPlan, method: string, field: string): void {
  if (!plan.deployIso && !plan.deployKernel && method !== 'agent_ilo') {
    throw badInput(field, `the agent ramdisk cleaning boots (ironic-python-agent's ISO, or deployKernel and deployRamdisk): this server deploys with ${method}, whose ramdisk is not the agent`);
  }
}
