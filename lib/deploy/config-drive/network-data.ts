/**
 * OpenStack's network_data.json, checked the way its readers use it
 * (cloud-init's `convert_net_json`, Glean): links (NICs, bonds, VLANs) by id
 * and MAC, networks on a link (static or DHCP, IPv4 or IPv6, with routes),
 * services (DNS servers). A mistake found here would otherwise surface only
 * as an instance that boots without network, or a cloud-init traceback.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { badInput } from '../errors';

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
/** Link types Nova and Neutron write; cloud-init treats the physical ones as NICs. */
const LINK_TYPES = ['phy', 'ethernet', 'bridge', 'hw_veb', 'hyperv', 'ovs', 'tap', 'vhostuser', 'vif', 'dvs', 'vrouter', 'bond', 'vlan', 'infiniband'];
const NETWORK_TYPES = ['ipv4', 'ipv6', 'ipv4_dhcp', 'ipv6_dhcp', 'ipv6_slaac', 'ipv6_dhcpv6-stateless', 'ipv6_dhcpv6-stateful'];

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function list(nd: Obj, key: string, field: string): Obj[] {
  const v = nd[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw badInput(`${field}.${key}`, 'an array', v);
  v.forEach((item, i) => {
    if (!isObject(item)) throw badInput(`${field}.${key}[${i}]`, 'an object', item);
  });
  return v as Obj[];
}

function text(o: Obj, key: string, field: string, required: boolean): string | undefined {
  const v = o[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw badInput(`${field}.${key}`, 'a non-empty string', v);
  return v;
}

function mac(o: Obj, key: string, field: string, required: boolean): void {
  const v = o[key];
  if (v === undefined && !required) return;
  if (typeof v !== 'string' || !MAC.test(v)) throw badInput(`${field}.${key}`, 'a MAC address like 52:54:00:12:34:56', v);
}

function ip(v: unknown, family: 4 | 6, field: string, what = 'address'): void {
  const ok = typeof v === 'string' && (family === 4 ? isIPv4(v) : isIPv6(v));
  if (!ok) throw badInput(field, `an IPv${family} ${what}`, v);
}

/** A dotted IPv4 netmask with contiguous ones (255.255.255.0), or an IPv6 one (ffff:ffff:ffff:ffff::). */
function netmask(v: unknown, family: 4 | 6, field: string): void {
  ip(v, family, field, 'netmask');
  if (family === 4) {
    const n = (v as string).split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
    const inverted = ~n >>> 0;
    if ((inverted & (inverted + 1)) !== 0) throw badInput(field, 'a netmask with contiguous ones, e.g. 255.255.255.0', v);
  }
}

function checkLinks(nd: Obj, field: string): Set<string> {
  const links = list(nd, 'links', field);
  const ids = new Set<string>();
  links.forEach((l, i) => {
    const f = `${field}.links[${i}]`;
    const id = text(l, 'id', f, true) as string;
    if (ids.has(id)) throw badInput(`${f}.id`, 'an id no other link has', id);
    ids.add(id);
    const type = text(l, 'type', f, true) as string;
    if (!LINK_TYPES.includes(type)) throw badInput(`${f}.type`, LINK_TYPES.join(', '), type);
    mac(l, 'ethernet_mac_address', f, false);
    if (l.name !== undefined) text(l, 'name', f, true);
    if (l.mtu !== undefined && l.mtu !== null && (!Number.isInteger(l.mtu) || (l.mtu as number) < 68 || (l.mtu as number) > 65535)) {
      throw badInput(`${f}.mtu`, 'a whole number from 68 to 65535', l.mtu);
    }
    if (type !== 'bond' && type !== 'vlan' && l.ethernet_mac_address === undefined && l.name === undefined) {
      // cloud-init names a NIC by the MAC the link gives (or by its name); without either it stops.
      throw badInput(`${f}.ethernet_mac_address`, 'the MAC of the NIC this link is (or a name)');
    }
  });
  links.forEach((l, i) => {
    const f = `${field}.links[${i}]`;
    if (l.type === 'bond') {
      const members = l.bond_links;
      if (!Array.isArray(members) || members.length === 0 || !members.every((m) => typeof m === 'string' && ids.has(m) && m !== l.id)) {
        throw badInput(`${f}.bond_links`, 'a non-empty array of the ids of other links', members);
      }
      if (l.bond_mode !== undefined) text(l, 'bond_mode', f, true);
    }
    if (l.type === 'vlan') {
      if (typeof l.vlan_link !== 'string' || !ids.has(l.vlan_link) || l.vlan_link === l.id) throw badInput(`${f}.vlan_link`, 'the id of another link', l.vlan_link);
      if (!Number.isInteger(l.vlan_id) || (l.vlan_id as number) < 1 || (l.vlan_id as number) > 4094) throw badInput(`${f}.vlan_id`, 'a VLAN id from 1 to 4094', l.vlan_id);
      mac(l, 'vlan_mac_address', f, true);
    }
  });
  return ids;
}

function checkServices(o: Obj, field: string): void {
  list(o, 'services', field).forEach((s, i) => {
    const f = `${field}.services[${i}]`;
    const type = text(s, 'type', f, true);
    if (type === 'dns' && !(typeof s.address === 'string' && (isIPv4(s.address) || isIPv6(s.address)))) throw badInput(`${f}.address`, 'the IP address of a DNS server', s.address);
  });
}

function checkNetworks(nd: Obj, field: string, links: Set<string>): void {
  const ids = new Set<string>();
  list(nd, 'networks', field).forEach((n, i) => {
    const f = `${field}.networks[${i}]`;
    const id = text(n, 'id', f, true) as string;
    if (ids.has(id)) throw badInput(`${f}.id`, 'an id no other network has', id);
    ids.add(id);
    if (typeof n.link !== 'string' || !links.has(n.link)) throw badInput(`${f}.link`, `the id of one of the links (${[...links].join(', ') || 'none given'})`, n.link);
    const type = text(n, 'type', f, true) as string;
    if (!NETWORK_TYPES.includes(type)) throw badInput(`${f}.type`, NETWORK_TYPES.join(', '), type);
    const family = type.startsWith('ipv4') ? 4 : 6;
    if (type === 'ipv4' || type === 'ipv6') {
      // An IPv6 address may carry its prefix length (2001:db8::5/64) instead of a netmask.
      const prefixed = family === 6 && typeof n.ip_address === 'string' ? /^(.+)\/(\d{1,3})$/.exec(n.ip_address) : null;
      if (prefixed && Number(prefixed[2]) > 128) throw badInput(`${f}.ip_address`, 'an IPv6 prefix length of at most 128', n.ip_address);
      ip(prefixed ? prefixed[1] : n.ip_address, family, `${f}.ip_address`);
      if (!prefixed || n.netmask !== undefined) netmask(n.netmask, family, `${f}.netmask`);
      if (n.gateway !== undefined && n.gateway !== null) ip(n.gateway, family, `${f}.gateway`, 'gateway address');
    }
    list(n, 'routes', f).forEach((r, j) => {
      const rf = `${f}.routes[${j}]`;
      ip(r.network, family, `${rf}.network`, 'network address');
      netmask(r.netmask, family, `${rf}.netmask`);
      ip(r.gateway, family, `${rf}.gateway`, 'gateway address');
    });
    checkServices(n, f);
  });
}

/** Throws a DeployError naming the first field at fault. */
export function checkNetworkData(nd: unknown, field: string): void {
  if (!isObject(nd)) throw badInput(field, 'an object { links, networks, services } (OpenStack network_data.json)', nd);
  for (const key of Object.keys(nd)) {
    if (!['links', 'networks', 'services'].includes(key)) throw badInput(`${field}.${key}`, 'only links, networks and services in network_data');
  }
  const links = checkLinks(nd, field);
  checkNetworks(nd, field, links);
  checkServices(nd, field);
}
