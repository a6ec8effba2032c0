/**
 * `npm run sim -- --servers N --port P`: start a simulated fleet and print
 * how to reach each iLO. Stops on Ctrl-C.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Fleet } from './fleet';
import { parseModel } from './models';
import type { SimTimings } from './server';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      servers: { type: 'string', short: 'n', default: '3' },
      port: { type: 'string', short: 'p', default: '8443' },
      host: { type: 'string', default: '127.0.0.1' },
      password: { type: 'string' },
      'power-on-ms': { type: 'string' },
      'post-ms': { type: 'string' },
      'soft-off-ms': { type: 'string' },
      'hard-off-ms': { type: 'string' },
      models: { type: 'string' },
      unlicensed: { type: 'boolean', default: false },
      'share-cert': { type: 'boolean', default: false },
      'no-tls-resumption': { type: 'boolean', default: false },
      'ca-out': { type: 'string' },
      console: { type: 'boolean', default: false },
      ipmi: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(`usage: npm run sim -- [--servers N] [--port FIRST_PORT] [--host ADDR] [--password PW]
                     [--models gen9,gen10,gen8,gen11] [--unlicensed] [--share-cert]
                     [--power-on-ms MS] [--post-ms MS] [--soft-off-ms MS] [--hard-off-ms MS]
                     [--ca-out FILE] [--console] [--ipmi] [--no-tls-resumption] [--json]
Starts N simulated ProLiant iLOs on FIRST_PORT, FIRST_PORT+1, ... (0 = any free port).
--models assigns models in turn (default gen9): gen8 and gen9 speak RIBCL and iLO 4's
RESTful API, gen10 (iLO 5) and gen11 (iLO 6, UEFI only) Redfish and RIBCL.
--unlicensed: no iLO Advanced (virtual media refused).
--power-on-ms, --post-ms, --soft-off-ms, --hard-off-ms: how long power-on, POST (the
InPost state clients wait to see), an OS shutdown and a held power button take.
--share-cert: one certificate for every iLO (fast start for large fleets).
--console: each iLO also answers SSH (iLO CLI, \`vsp\` for the serial console); --ipmi: and
IPMI serial-over-LAN through OpenIPMI's ipmi_sim (Debian package openipmi).
--no-tls-resumption: the iLOs resume no TLS session (every connection a full handshake).`);
    return;
  }
  const servers = Number(values.servers);
  const port = Number(values.port);
  if (!Number.isInteger(servers) || servers < 1 || servers > 5000) throw new Error('--servers: expected a whole number from 1 to 5000');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port: expected a TCP port (0 for any free port)');
  const timings = parseTimings(values);
  const models = values.models ? values.models.split(',').map(parseModel) : undefined;
  const fleet = await Fleet.start({
    models,
    licensed: !values.unlicensed,
    shareCertificate: values['share-cert'],
    tlsResumption: !values['no-tls-resumption'],
    servers,
    basePort: port,
    host: values.host,
    password: values.password,
    timings,
    ...(values.console || values.ipmi ? { console: { ssh: values.console, ipmi: values.ipmi } } : {}),
  });
  if (values['ca-out']) writeFileSync(values['ca-out'], fleet.ca.cert);
  if (values.json) {
    console.log(
      JSON.stringify(
        fleet.ilos.map(({ name, host, port: p, username, password, fingerprint, server, console: c }) => ({
          name,
          host,
          port: p,
          username,
          password,
          fingerprint,
          model: server.model.name,
          ...(c?.ssh ? { sshPort: c.ssh.port, sshHostKey: c.ssh.fingerprint256 } : {}),
          ...(c?.ipmi ? { ipmiPort: c.ipmi.port } : {}),
        })),
      ),
    );
  } else {
    console.log(`Simulated ProLiant fleet: ${fleet.ilos.length} iLO(s), RIBCL and Redfish over HTTPS`);
    for (const i of fleet.ilos) {
      console.log(`  ${i.name.padEnd(12)} https://${i.host}:${i.port}  ${i.server.identity.productName} (${i.server.model.managerType})  user ${i.username}  password ${i.password}`);
      console.log(`  ${''.padEnd(12)} certificate SHA-256 ${i.fingerprint}`);
      if (i.console?.ssh) console.log(`  ${''.padEnd(12)} SSH ${i.host}:${i.console.ssh.port} (vsp: serial console), host key ${i.console.ssh.openssh}`);
      if (i.console?.ipmi) console.log(`  ${''.padEnd(12)} IPMI ${i.host}:${i.console.ipmi.port}/udp (sol activate)`);
    }
    console.log('Fleet CA (trust it with TLS mode "ca"):' + (values['ca-out'] ? ` written to ${values['ca-out']}` : `\n${fleet.ca.cert.trim()}`));
    console.log('Press Ctrl-C to stop.');
  }
  const stop = (): void => {
    fleet.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`stopping the fleet failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** The --*-ms options, each a whole number of milliseconds (0 to one hour). */
function parseTimings(values: Record<string, string | boolean | undefined>): Partial<SimTimings> | undefined {
  const names: Array<[string, keyof SimTimings]> = [
    ['power-on-ms', 'powerOnMs'],
    ['post-ms', 'postMs'],
    ['soft-off-ms', 'softOffMs'],
    ['hard-off-ms', 'hardOffMs'],
  ];
  const timings: Partial<SimTimings> = {};
  for (const [option, key] of names) {
    const raw = values[option];
    if (typeof raw !== 'string') continue;
    const ms = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || ms > 3_600_000) throw new Error(`--${option}: expected a whole number of milliseconds from 0 to 3600000, got "${raw}"`);
    timings[key] = ms;
  }
  return Object.keys(timings).length > 0 ? timings : undefined;
}

main().catch((err: unknown) => {
  console.error(`sim: ${(err as Error).message}`);
  process.exit(1);
});
