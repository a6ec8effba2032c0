/**
 * The addresses a discovery may contact, from what an operator types:
 * items separated by commas, spaces or new lines, each a host name, an IP
 * address, an IPv4 range ("10.0.0.10-10.0.0.40" or "10.0.0.10-40") or an
 * IPv4 CIDR block ("10.0.0.0/26", network and broadcast addresses left
 * out), with an optional port or port range (":443", ":8443-8450"; default
 * 443). IPv6 addresses are taken one at a time, in brackets when a port
 * follows ("[fd00::5]:443"). The total is bounded: nothing is contacted
 * unless the whole list is valid and small enough.
 */
import { isIP } from 'node:net';
import { normaliseHost } from '../bmc/endpoint';
import { BmcError } from '../bmc/errors';
import { InventoryError } from './errors';

export interface ProbeTarget {
  host: string;
  port: number;
}

export const MAX_TARGETS = 4096;

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function ports(spec: string | undefined, item: string, field: string): [number, number] {
  if (spec === undefined || spec === '') return [443, 443];
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(spec);
  const a = Number(m?.[1]);
  const b = m?.[2] !== undefined ? Number(m[2]) : a;
  if (!m || a < 1 || b > 65535 || b < a) throw new InventoryError(field, `expected a port or port range such as :443 or :8443-8450 after the address (got "${item}")`);
  return [a, b];
}

/** Every (host, port) the spec names, in order, without duplicates; throws naming the bad item. */
export function parseTargets(spec: string | readonly string[], opts: { max?: number; field?: string } = {}): ProbeTarget[] {
  const max = opts.max ?? MAX_TARGETS;
  const field = opts.field ?? 'range';
  const items = (Array.isArray(spec) ? spec.join(',') : String(spec)).split(/[\s,;]+/).filter((s) => s !== '');
  if (items.length === 0) throw new InventoryError(field, 'expected the addresses to probe, e.g. 10.0.0.10-10.0.0.40 or 10.0.0.0/24');
  const out: ProbeTarget[] = [];
  const seen = new Set<string>();
  const add = (host: string, from: number, to: number): void => {
    for (let p = from; p <= to; p++) {
      const key = `${host}|${p}`;
      if (seen.has(key)) continue;
      if (out.length >= max) throw new InventoryError(field, `expected at most ${max} addresses to probe in one discovery (narrow the range)`);
      seen.add(key);
      out.push({ host, port: p });
    }
  };
  for (const item of items) {
    let hostPart = item;
    let portPart: string | undefined;
    const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(item);
    if (bracket) {
      hostPart = bracket[1]!;
      portPart = bracket[2];
    } else if ((item.match(/:/g) ?? []).length === 1) {
      [hostPart, portPart] = item.split(':') as [string, string];
    }
    const [p1, p2] = ports(portPart, item, field);
    const cidr = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(hostPart);
    const range = /^(\d{1,3}(?:\.\d{1,3}){3})-(\d{1,3}(?:\.\d{1,3}){3}|\d{1,3})$/.exec(hostPart);
    if (cidr) {
      const bits = Number(cidr[2]);
      if (isIP(cidr[1]!) !== 4 || bits > 32) throw new InventoryError(field, `expected an IPv4 block such as 10.0.0.0/24 (got "${item}")`);
      const size = 2 ** (32 - bits);
      if (size > max) throw new InventoryError(field, `expected at most ${max} addresses to probe in one discovery ("${item}" has ${size})`);
      const base = Math.floor(ipv4ToInt(cidr[1]!) / size) * size;
      const [first, last] = size > 2 ? [base + 1, base + size - 2] : [base, base + size - 1];
      for (let n = first; n <= last; n++) add(intToIpv4(n), p1, p2);
    } else if (range) {
      const start = range[1]!;
      const end = range[2]!.includes('.') ? range[2]! : `${start.split('.').slice(0, 3).join('.')}.${range[2]}`;
      if (isIP(start) !== 4 || isIP(end) !== 4) throw new InventoryError(field, `expected an IPv4 range such as 10.0.0.10-10.0.0.40 (got "${item}")`);
      const a = ipv4ToInt(start);
      const b = ipv4ToInt(end);
      if (b < a) throw new InventoryError(field, `expected a range whose end is not before its start (got "${item}")`);
      if (b - a + 1 > max) throw new InventoryError(field, `expected at most ${max} addresses to probe in one discovery ("${item}" has ${b - a + 1})`);
      for (let n = a; n <= b; n++) add(intToIpv4(n), p1, p2);
    } else {
      let host: string;
      try {
        host = normaliseHost(hostPart);
      } catch (err) {
        if (!(err instanceof BmcError)) throw err;
        throw new InventoryError(field, `expected a host, an IP address, a range (10.0.0.10-40) or a block (10.0.0.0/24) (got "${item.slice(0, 60)}")`);
      }
      add(host, p1, p2);
    }
  }
  return out;
}
