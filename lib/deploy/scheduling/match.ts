/**
 * What a pool deploy asks of a server, and whether a server has it: Ironic's
 * capabilities (`boot_mode:uefi`, `secure_boot:true`…) and properties
 * (`memory_mb`, `cpus`, `local_gb`, `cpu_arch`), each required value written
 * the way a Nova flavor's extra specs write them (the semantics of Nova's
 * scheduler filters, `extra_specs_ops`):
 *
 *   "uefi"             no operator: the value as a string, exactly
 *   "s== uefi"         string equal; also s!=, s<, s<=, s>, s>= (string order)
 *   "== 65536"         numeric equal; also !=, >=, <= (numbers)
 *   "= 65536"          numeric "at least" (Nova's `=` means >=)
 *   "<in> uefi"        the server's value contains this text
 *   "<or> a <or> b"    the server's value is one of these strings
 *   "<all-in> a b"     the server's value contains each of these words
 *
 * A number given as a requirement (JSON `65536`) means `== 65536`. A server
 * without the key, or whose value is not a number for a numeric operator,
 * does not match.
 */
import { badInput } from '../errors';

/** A server's facts: its capabilities and properties, values as strings (as Ironic stores capabilities). */
export interface ServerFacts {
  capabilities: Record<string, string>;
  properties: Record<string, string>;
}

/** What a pool deploy requires: key -> requirement (see the module comment). */
export interface Requirements {
  capabilities: Record<string, string>;
  properties: Record<string, string>;
}

const NUMERIC: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a >= b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
  '>=': (a, b) => a >= b,
  '<=': (a, b) => a <= b,
};

const STRING: Record<string, (a: string, b: string) => boolean> = {
  's==': (a, b) => a === b,
  's!=': (a, b) => a !== b,
  's<': (a, b) => a < b,
  's<=': (a, b) => a <= b,
  's>': (a, b) => a > b,
  's>=': (a, b) => a >= b,
};

/** Every operator this matcher knows (the first word of a requirement). */
export const OPERATORS: readonly string[] = [...Object.keys(NUMERIC), ...Object.keys(STRING), '<in>', '<all-in>', '<or>'];

const KEY = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_REQUIREMENT = 256;

function numberOf(text: string): number | undefined {
  if (!/^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(text)) return undefined;
  return Number(text);
}

/** Splits a requirement into its operator and operand; no known operator: the whole text is the operand of a string equality. */
function parse(requirement: string): { op: string | undefined; words: string[]; rest: string } {
  const words = requirement.trim().split(/\s+/).filter((w) => w !== '');
  const first = words[0];
  if (first !== undefined && OPERATORS.includes(first)) return { op: first, words: words.slice(1), rest: requirement.trim().slice(first.length).trim() };
  return { op: undefined, words, rest: requirement.trim() };
}

/** Whether a server's value (undefined: it has none) meets one requirement. */
export function matchValue(value: string | undefined, requirement: string): boolean {
  if (value === undefined) return false;
  const { op, words, rest } = parse(requirement);
  if (op === undefined) return value === rest;
  if (op === '<or>') return rest.split('<or>').map((w) => w.trim()).includes(value.trim());
  if (op === '<in>') return value.includes(rest);
  if (op === '<all-in>') return words.every((w) => value.includes(w));
  const numeric = NUMERIC[op];
  if (numeric) {
    const a = numberOf(value);
    const b = numberOf(rest);
    return a !== undefined && b !== undefined && numeric(a, b);
  }
  return STRING[op]!(value, rest);
}

/** The first requirement a server does not meet, as "key op value (server has …)"; undefined: it meets all. */
export function unmet(facts: ServerFacts, req: Requirements): string | undefined {
  for (const kind of ['capabilities', 'properties'] as const) {
    for (const [key, requirement] of Object.entries(req[kind])) {
      const has = facts[kind][key];
      if (!matchValue(has, requirement)) return `${key} ${requirement} (it has ${has === undefined ? 'none' : JSON.stringify(has)})`;
    }
  }
  return undefined;
}

/** Requirements in a readable line, e.g. "boot_mode=uefi, memory_mb >= 65536". */
export function describeRequirements(req: Requirements): string {
  const parts = [...Object.entries(req.capabilities), ...Object.entries(req.properties)].map(([k, v]) => (parse(v).op ? `${k} ${v}` : `${k}=${v}`));
  return parts.length ? parts.join(', ') : 'no requirements';
}

/**
 * One kind of requirements as a message or a body gives them: an object
 * `{ key: "requirement" | number | boolean }`, or (capabilities) Ironic's
 * string "k:v,k:v". Checked here so that a bad one names its field.
 */
export function parseRequirementMap(v: unknown, field: string): Record<string, string> {
  if (v === undefined || v === null || v === '') return {};
  const out: Record<string, string> = {};
  if (typeof v === 'string') {
    for (const part of v.split(',')) {
      const i = part.indexOf(':');
      const key = part.slice(0, i).trim();
      if (i <= 0 || !KEY.test(key)) throw badInput(field, 'capabilities as Ironic writes them, "boot_mode:uefi,secure_boot:true", or an object { "boot_mode": "uefi" }', v);
      out[key] = part.slice(i + 1).trim();
    }
    return out;
  }
  if (typeof v !== 'object' || Array.isArray(v)) throw badInput(field, 'an object { "key": "requirement" }, e.g. { "memory_mb": ">= 65536" }', v);
  for (const [key, r] of Object.entries(v as Record<string, unknown>)) {
    if (!KEY.test(key)) throw badInput(`${field}.${key.slice(0, 40)}`, 'a key of letters, digits, _ . -');
    const f = `${field}.${key}`;
    if (typeof r === 'number' && Number.isFinite(r)) out[key] = `== ${r}`;
    else if (typeof r === 'boolean') out[key] = String(r);
    else if (typeof r === 'string' && r.trim() !== '' && r.length <= MAX_REQUIREMENT) out[key] = checked(r, f);
    else throw badInput(f, `a requirement such as "uefi", ">= 65536", "<or> a <or> b" (operators ${OPERATORS.join(' ')}), or a number`, r);
  }
  return out;
}

/** A requirement whose operator needs a number has one; <or> has alternatives. */
function checked(r: string, field: string): string {
  const { op, rest, words } = parse(r);
  if (op && NUMERIC[op] && numberOf(rest) === undefined) throw badInput(field, `a number after "${op}"`, r);
  if (op && (STRING[op] || op === '<in>' || op === '<all-in>') && words.length === 0) throw badInput(field, `a value after "${op}"`, r);
  if (op === '<or>' && rest.split('<or>').every((w) => w.trim() === '')) throw badInput(field, 'alternatives: "<or> a <or> b"', r);
  return r.trim();
}

/** Ironic's capabilities string ("k:v,k:v") as a map; malformed parts are left out. */
export function capabilityMap(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? '').split(',')) {
    const i = part.indexOf(':');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

/** Properties as strings (inspection gives numbers). */
function stringsOf(o: object | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o ?? {})) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
  return out;
}

/** A server's facts: what inspection found, with what the operator configured over it (configured values win). */
export function factsOf(configured: { capabilities?: string | Record<string, string>; properties?: string | object }, inspected?: { capabilities?: Record<string, string>; properties?: object }): ServerFacts {
  const caps = typeof configured.capabilities === 'string' ? capabilityMap(configured.capabilities) : (configured.capabilities ?? {});
  const props = typeof configured.properties === 'string' ? capabilityMap(configured.properties) : stringsOf(configured.properties);
  return {
    capabilities: { ...stringsOf(inspected?.capabilities), ...caps },
    properties: { ...stringsOf(inspected?.properties), ...props },
  };
}
