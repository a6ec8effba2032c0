/**
 * Inventory files as an operator writes them: 1,000 servers in CSV, JSON
 * and YAML (Bifrost's shape), read back exactly, exported without any
 * credential; bad files refused at the first bad value with its line and
 * field, and an import that fails changes nothing.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { draftFromRow, checkServer, exportInventory, InventoryError, parseInventory, planImport, type InventoryServer } from '../../lib/inventory';

const N = 1000;

interface Row {
  name: string;
  host: string;
  port: number;
  username: string;
  password: string;
  macs: string[];
  pool: string;
  caps: string;
  notes: string;
  tls: 'verify' | 'insecure' | 'pinned' | 'ca';
}

function fingerprint(i: number): string {
  return Array.from({ length: 32 }, (_, k) => ((i * 7 + k * 13) & 0xff).toString(16).padStart(2, '0').toUpperCase()).join(':');
}

function rows(): Row[] {
  return Array.from({ length: N }, (_, i) => ({
    name: `rack${Math.floor(i / 40) + 1}-u${(i % 40) + 1}`,
    host: `10.${Math.floor(i / 250)}.${i % 250}.${(i % 7) + 10}`,
    port: i % 10 === 0 ? 8443 : 443,
    username: i % 3 === 0 ? '' : `admin${i % 5}`,
    password: i % 3 === 0 ? '' : `p@ss,"${i}"`,
    macs: [`94:18:82:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:10`, `94:18:82:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:11`],
    pool: `rack${Math.floor(i / 40) + 1}`,
    caps: i % 2 ? 'boot_mode:uefi,secure_boot:false' : 'boot_mode:bios',
    notes: i % 50 === 0 ? `bought ${2018 + (i % 5)}, "spare", line\nsecond line` : '',
    tls: (['verify', 'insecure', 'pinned', 'ca'] as const)[i % 4]!,
  }));
}

function csvCell(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function asCsv(rs: Row[]): string {
  const head = 'name,ilo_address,client_port,ilo_username,ilo_password,ilo_verify_ca,ilo_tls_fingerprint,macs,pool,capabilities,description';
  const lines = rs.map((r, i) =>
    [r.name, r.host, String(r.port), r.username, r.password, r.tls === 'verify' ? 'true' : r.tls === 'insecure' ? 'false' : r.tls === 'ca' ? '/etc/ilo/ca.pem' : '', r.tls === 'pinned' ? fingerprint(i) : '', r.macs.join(' '), r.pool, r.caps, r.notes].map(csvCell).join(','),
  );
  return `# exported from the CMDB\n${head}\n${lines.join('\n')}\n`;
}

function asBifrost(rs: Row[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  rs.forEach((r, i) => {
    const di: Record<string, unknown> = { ilo_address: r.host, client_port: r.port, deploy_kernel: 'http://images/ipa.kernel' };
    if (r.username) di.ilo_username = r.username;
    if (r.password) di.ilo_password = r.password;
    if (r.tls === 'verify') di.ilo_verify_ca = true;
    if (r.tls === 'insecure') di.ilo_verify_ca = false;
    if (r.tls === 'ca') di.ilo_verify_ca = '/etc/ilo/ca.pem';
    if (r.tls === 'pinned') di.ilo_tls_fingerprint = fingerprint(i);
    out[r.name] = {
      name: r.name,
      driver: i % 2 ? 'ilo5' : 'ilo',
      driver_info: di,
      nics: r.macs.map((mac) => ({ mac })),
      properties: { cpu_arch: 'x86_64', capabilities: r.caps },
      host_groups: ['baremetal', r.pool],
      instance_info: { image_source: 'http://images/ubuntu.qcow2' },
      ...(r.notes ? { description: r.notes } : {}),
    };
  });
  return out;
}

function expectRows(servers: Array<{ server: InventoryServer; secret: { username?: string; password?: string } }>, rs: Row[]): void {
  assert.equal(servers.length, rs.length);
  servers.forEach(({ server: s, secret }, i) => {
    const r = rs[i]!;
    assert.equal(s.name, r.name);
    assert.equal(s.host, r.host);
    assert.equal(s.port, r.port);
    assert.equal(s.tlsMode, r.tls, `${r.name} TLS`);
    if (r.tls === 'pinned') assert.equal(s.fingerprint, fingerprint(i));
    if (r.tls === 'ca') assert.equal(s.caFile, '/etc/ilo/ca.pem');
    assert.deepEqual(s.macs, r.macs);
    assert.equal(s.pool, r.pool);
    assert.equal(s.capabilities, r.caps);
    assert.equal(s.notes, r.notes || undefined);
    assert.equal(secret.username, r.username || undefined);
    assert.equal(secret.password, r.password || undefined);
  });
}

function refused(text: string, format: 'csv' | 'json' | 'yaml' | 'auto', line: number, field: RegExp | string, message?: RegExp): void {
  assert.throws(
    () => parseInventory(text, { format }),
    (err: unknown) => {
      assert.ok(err instanceof InventoryError, String(err));
      assert.equal(err.line, line, `line of: ${err.message}`);
      if (typeof field === 'string') assert.equal(err.field, field, err.message);
      else assert.match(err.field, field, err.message);
      if (message) assert.match(err.message, message);
      assert.match(err.message, new RegExp(`^line ${line}, `));
      return true;
    },
  );
}

describe('inventory import and export', () => {
  const rs = rows();

  test('a 1,000-server CSV is read whole: every field, accounts beside the servers', () => {
    const parsed = parseInventory(asCsv(rs));
    assert.equal(parsed.format, 'csv');
    expectRows(parsed.servers, rs);
    assert.equal(parsed.servers[1]!.line, 5, 'lines count the comment, the header and the two-line note before');
  });

  test('the same fleet as Bifrost JSON and YAML reads the same, Bifrost fields that are not ours ignored', () => {
    const doc = asBifrost(rs);
    const fromJson = parseInventory(JSON.stringify(doc, null, '\t'));
    assert.equal(fromJson.format, 'json');
    expectRows(fromJson.servers, rs);
    const fromYaml = parseInventory(stringify(doc));
    assert.equal(fromYaml.format, 'yaml');
    expectRows(fromYaml.servers, rs);
  });

  test('export carries no credential, and reads back to the same inventory in each format', () => {
    const servers = parseInventory(asCsv(rs)).servers.map((c) => c.server);
    for (const format of ['csv', 'json', 'yaml'] as const) {
      const text = exportInventory(servers, format);
      for (const r of rs.slice(0, 60)) {
        if (r.password) assert.ok(!text.includes(r.password), `${format} export holds ${r.name}'s password`);
      }
      assert.doesNotMatch(text, /ilo_password|ilo_username|admin\d/, format);
      const back = parseInventory(text, { format }).servers.map((c) => c.server);
      assert.deepEqual(
        back.map(({ id: _id, ...s }) => s),
        servers.map(({ id: _id, ...s }) => s),
        format,
      );
    }
  });

  test('properties (what a pool deploy matches before inspection): CSV as Ironic writes capabilities, Bifrost with its ram and disk_size; exported as each reads them; a bad one names its field', () => {
    const csv = parseInventory('name,ilo_address,properties\nbig,10.1.0.1,"memory_mb:262144,cpus:64"\nplain,10.1.0.2,\n');
    assert.equal(csv.servers[0]!.server.properties, 'memory_mb:262144,cpus:64');
    assert.equal(csv.servers[1]!.server.properties, undefined);
    const yaml = parseInventory(stringify({ big: { driver: 'ilo', driver_info: { ilo_address: '10.1.0.1' }, properties: { cpu_arch: 'x86_64', ram: 262144, disk_size: 1787, cpus: 64, capabilities: 'boot_mode:uefi', root_device: { size: 1787 } } } }));
    const big = yaml.servers[0]!.server;
    assert.equal(big.properties, 'cpu_arch:x86_64,memory_mb:262144,local_gb:1787,cpus:64', "Bifrost's names read as Ironic's; root_device hints are not a property a pool matches");
    assert.equal(big.capabilities, 'boot_mode:uefi');
    const exported = JSON.parse(exportInventory([big], 'json')) as Record<string, { properties: Record<string, string> }>;
    assert.deepEqual(exported.big!.properties, { cpu_arch: 'x86_64', ram: '262144', disk_size: '1787', cpus: '64', capabilities: 'boot_mode:uefi' }, 'written back in Bifrost\'s names');
    assert.equal(parseInventory(exportInventory([big], 'json')).servers[0]!.server.properties, big.properties);
    assert.match(exportInventory([big], 'csv'), /,"cpu_arch:x86_64,memory_mb:262144,local_gb:1787,cpus:64",/);
    refused('name,ilo_address,properties\nbig,10.1.0.1,lots of memory\n', 'csv', 2, 'properties', /properties as Ironic writes them: "memory_mb:262144,cpus:64"/);
    // The fleet's own rows are checked the same way.
    assert.throws(() => checkServer(draftFromRow({ name: 'x', host: '10.1.0.3', properties: 'memory_mb=1' }, 0)), /servers\[0\]\.properties: expected properties as Ironic writes them/);
  });

  test('an import keeps the ids (so the stored passwords) of servers it names, adds, and with "replace" removes', () => {
    const current = parseInventory(asCsv(rs.slice(0, 10))).servers.map((c) => c.server);
    const file = parseInventory('name,ilo_address,ilo_password\nrack1-u2,10.9.9.9,new\nextra-1,10.9.9.10,\n');
    const merged = planImport(current, file, 'merge');
    assert.equal(merged.servers.length, 11);
    const u2 = merged.servers.find((s) => s.name === 'rack1-u2')!;
    assert.equal(u2.id, current[1]!.id, 'same name, same id');
    assert.equal(u2.host, '10.9.9.9');
    assert.deepEqual(merged.secrets.get(u2.id), { password: 'new' });
    assert.deepEqual(merged.added, ['extra-1']);
    assert.deepEqual(merged.updated, ['rack1-u2']);
    const replaced = planImport(current, file, 'replace');
    assert.deepEqual(replaced.servers.map((s) => s.name), ['rack1-u2', 'extra-1']);
    assert.equal(replaced.removed.length, 9);
    // A file server whose iLO is a kept server's: refused, naming both.
    const clash = parseInventory('name,ilo_address\nnewcomer,10.0.1.11\n');
    assert.throws(() => planImport(current, clash, 'merge'), /line 2, ilo_address: 10\.0\.1\.11:443 is already the iLO of "rack1-u2"/);
  });

  test('bad CSV rows are refused with their line and column', () => {
    const good = asCsv(rs.slice(0, 20)).split('\n');
    // Line 1 is the comment, 2 the header, server 0 lines 3-4 (its note has two lines): server i is on line i + 4.
    const bad = (lineNo: number, replace: (l: string) => string): string => good.map((l, i) => (i === lineNo - 1 ? replace(l) : l)).join('\n');
    refused(bad(8, (l) => l.replace(',443,', ',70000,')), 'csv', 8, 'client_port', /expected a TCP port between 1 and 65535 \(got "70000"\)/);
    refused(bad(9, (l) => l.replace('94:18:82:00:05:10', '94:18:82:00:05')), 'csv', 9, 'macs', /MAC addresses/);
    refused(bad(10, (l) => l.replace(/^rack1-u7,/, 'rack1-u3,')), 'csv', 10, 'name', /"rack1-u3" is already the name of the server at line 6/);
    refused(bad(12, (l) => l.replace(',boot_mode:bios,', ',uefi please,')), 'csv', 12, 'capabilities', /Ironic/);
    refused(bad(13, (l) => `${l},surplus`), 'csv', 13, 'column 12', /at most 11 values/);
    refused(bad(14, (l) => l.replace(fingerprint(10), 'AB:CD')), 'csv', 14, 'ilo_tls_fingerprint', /SHA-256/);
    refused('name,ilo_adress\ns1,10.0.0.1\n', 'csv', 1, '"ilo_adress"', /a known column/);
    // A value missing before the password shifts it under client_port: the error does not show it.
    refused('name,ilo_address,ilo_username,client_port,ilo_password\ns1,10.0.0.1,admin,s3cret-pw\ns2,10.0.0.2,admin,443,s3cret-pw\n', 'csv', 2, 'client_port', /expected a TCP port between 1 and 65535 \(got "\*\*\*"\)/);
    refused('name,ilo_address\ns1,"10.0.0.1\ns2,10.0.0.2\n', 'csv', 2, 'column 2', /closing quote/);
    refused('name,ilo_address\ns1,10.0.0.1\ns2,not a host!\n', 'csv', 3, 'ilo_address', /host name, IPv4 or IPv6/);
  });

  test('bad JSON is refused with its line and the path of the field', () => {
    const doc = asBifrost(rs.slice(0, 5));
    const json = JSON.stringify(doc, null, 2);
    const lines = json.split('\n');
    const portLine = lines.findIndex((l) => l.includes('"client_port": 443')) + 1;
    refused(json.replace('"client_port": 443', '"client_port": "https"'), 'json', portLine, 'rack1-u2.driver_info.client_port', /TCP port/);
    const driverLine = lines.findIndex((l) => l.includes('"driver": "ilo"')) + 1;
    refused(json.replace('"driver": "ilo"', '"driver": "ipmi"'), 'json', driverLine, 'rack1-u1.driver', /ilo, ilo5, redfish/);
    // A syntax error: JSON's own message, at the line it points to.
    const broken = json.replace('"client_port": 443,', '"client_port": 443,,');
    const brokenLine = broken.split('\n').findIndex((l) => l.includes('443,,')) + 1;
    refused(broken, 'json', brokenLine, 'JSON', /not valid JSON/);
    refused('[{"name": "a", "driver_info": {"ilo_address": "10.0.0.1"}}, {"driver_info": {"ilo_address": "10.0.0.2"}}]', 'json', 1, 'name', /expected the server name/);
  });

  test('bad YAML is refused with its line and field; aliases are not expanded', () => {
    const yaml = stringify(asBifrost(rs.slice(0, 4)));
    const lines = yaml.split('\n');
    const macLine = lines.findIndex((l) => l.includes('mac: 94:18:82:00:02:11')) + 1;
    refused(yaml.replace('mac: 94:18:82:00:02:11', 'mac: 94:18:82:00:02'), 'yaml', macLine, 'rack1-u3.nics[1].mac', /MAC address/);
    const keyLine = lines.findIndex((l) => l.includes('ilo_address: 10.0.3.13')) + 1;
    refused(yaml.replace('ilo_address: 10.0.3.13', 'ilo_adress: 10.0.3.13'), 'yaml', keyLine, 'rack1-u4.driver_info.ilo_adress', /typo/);
    refused('a:\n  driver_info: {ilo_address: 10.0.0.1}\na:\n  driver_info: {ilo_address: 10.0.0.2}\n', 'yaml', 3, 'YAML', /unique/);
    refused('a: &x\n  driver_info: {ilo_address: 10.0.0.1}\nb: *x\n', 'yaml', 3, 'YAML', /no aliases/);
    refused('- just a string\n', 'yaml', 1, '[0]', /mapping/);
  });

  test('serial console settings: read from CSV, JSON and YAML, kept by the flow\'s rows, exported (a host key is public); bad ones named with line and field', () => {
    const key = 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU';
    const hex = fingerprint(3);
    const csv = `name,ilo_address,console_method,ipmi_port,ssh_port,ssh_host_key\ns1,10.0.0.1,ssh,,2222,${key}\ns2,10.0.0.2,ipmi,6230,,\ns3,10.0.0.3,none,,,\ns4,10.0.0.4,,,,\n`;
    const fromCsv = parseInventory(csv, { format: 'csv' }).servers.map((c) => c.server);
    assert.deepEqual(
      fromCsv.map((s) => [s.name, s.consoleMethod, s.ipmiPort, s.sshPort, s.sshHostKey]),
      [
        ['s1', 'ssh', undefined, 2222, key],
        ['s2', 'ipmi', 6230, undefined, undefined],
        ['s3', 'off', undefined, undefined, undefined],
        ['s4', undefined, undefined, undefined, undefined],
      ],
    );
    // ilo-config's names are accepted as columns and driver_info keys too.
    const camel = parseInventory(`name,ilo_address,consoleMethod,sshPort,sshHostKey\ns1,10.0.0.1,ssh,22,${hex}\n`, { format: 'csv' }).servers[0]!.server;
    assert.deepEqual([camel.consoleMethod, camel.sshPort, camel.sshHostKey], ['ssh', 22, hex]);
    const yaml = `s1:\n  driver: ilo\n  driver_info:\n    ilo_address: 10.0.0.1\n    console_method: ssh\n    ssh_port: 2222\n    ssh_host_key: "${key}"\n    ipmi_port: 6231\n`;
    const fromYaml = parseInventory(yaml, { format: 'yaml' }).servers[0]!.server;
    assert.deepEqual([fromYaml.consoleMethod, fromYaml.ipmiPort, fromYaml.sshPort, fromYaml.sshHostKey], ['ssh', 6231, 2222, key]);
    const fromJson = parseInventory(JSON.stringify([{ name: 's1', driver_info: { ilo_address: '10.0.0.1', consoleMethod: 'ipmi', ipmiPort: '6232' } }]), { format: 'json' }).servers[0]!.server;
    assert.deepEqual([fromJson.consoleMethod, fromJson.ipmiPort], ['ipmi', 6232]);

    // Exported in every format and read back the same.
    for (const format of ['csv', 'json', 'yaml'] as const) {
      const text = exportInventory(fromCsv, format);
      assert.ok(text.includes(key), `${format} export carries the host key`);
      const back = parseInventory(text, { format }).servers.map((c) => c.server);
      assert.deepEqual(
        back.map((s) => [s.consoleMethod, s.ipmiPort, s.sshPort, s.sshHostKey]),
        fromCsv.map((s) => [s.consoleMethod, s.ipmiPort, s.sshPort, s.sshHostKey]),
        format,
      );
    }
    // The fleet node's stored rows keep them.
    const row = checkServer(draftFromRow({ name: 's1', host: '10.0.0.1', consoleMethod: 'ssh', sshPort: 2222, sshHostKey: key, ipmiPort: '623' }, 0)).server;
    assert.deepEqual([row.consoleMethod, row.ipmiPort, row.sshPort, row.sshHostKey], ['ssh', 623, 2222, key]);
    assert.throws(() => checkServer(draftFromRow({ name: 's1', host: '10.0.0.1', consoleMethod: 'ssh' }, 4)), (e: unknown) => e instanceof InventoryError && e.field === 'servers[4].consoleMethod' && /SSH host key/.test(e.message));

    const head = 'name,ilo_address,console_method,ipmi_port,ssh_port,ssh_host_key';
    refused(`${head}\ns1,10.0.0.1,ipmi,,,\ns2,10.0.0.2,telnet,,,\n`, 'csv', 3, 'console_method', /one of auto, ipmi, ssh, off \(or none\) \(got "telnet"\)/);
    refused(`${head}\ns1,10.0.0.1,ipmi,70000,,\n`, 'csv', 2, 'ipmi_port', /port between 1 and 65535/);
    refused(`${head}\ns1,10.0.0.1,ssh,,0,${key}\n`, 'csv', 2, 'ssh_port', /port between 1 and 65535/);
    refused(`${head}\ns1,10.0.0.1,ssh,,22,AB:CD\n`, 'csv', 2, 'ssh_host_key', /SHA-256 fingerprint of the iLO's SSH host key/);
    refused(`${head}\ns1,10.0.0.1,auto,,,\ns2,10.0.0.2,ssh,,22,\n`, 'csv', 3, 'ssh_host_key', /console method "ssh"/);
    refused(`s1:\n  driver_info:\n    ilo_address: 10.0.0.1\n    console_method: ssh\n`, 'yaml', 4, 's1.driver_info.console_method', /SSH host key/);
    refused(`s1:\n  driver_info:\n    ilo_address: 10.0.0.1\n\n    ssh_port: twenty-two\n`, 'yaml', 5, 's1.driver_info.ssh_port', /port/);
    refused(JSON.stringify({ s1: { driver_info: { ilo_address: '10.0.0.1', ssh_host_key: 'nope' } } }, null, 2), 'json', 5, 's1.driver_info.ssh_host_key', /SHA-256/);
  });

  test('size bounds: too large a file, too many servers', () => {
    assert.throws(() => parseInventory('x'.repeat(100), { maxBytes: 50 }), /file: expected at most 50 bytes/);
    assert.throws(() => parseInventory(asCsv(rs.slice(0, 30)), { maxServers: 20 }), (e: unknown) => e instanceof InventoryError && /at most 20 servers/.test(e.message) && e.line !== undefined);
  });
});
