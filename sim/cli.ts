/**
 * `npm run sim -- --servers N --port P`: start a simulated fleet and print
 * how to reach each iLO. Stops on Ctrl-C.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Fleet } from './fleet';
import { parseModel } from './models';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      servers: { type: 'string', short: 'n', default: '3' },
      port: { type: 'string', short: 'p', default: '8443' },
      host: { type: 'string', default: '127.0.0.1' },
      password: { type: 'string' },
      'power-on-ms': { type: 'string' },
      models: { type: 'string' },
      unlicensed: { type: 'boolean', default: false },
      'share-cert': { type: 'boolean', default: false },
      'no-tls-resumption': { type: 'boolean', default: false },
      'ca-out': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(`usage: npm run sim -- [--servers N] [--port FIRST_PORT] [--host ADDR] [--password PW]
                     [--models gen9,gen10,gen8] [--unlicensed] [--share-cert]
                     [--power-on-ms MS] [--ca-out FILE] [--no-tls-resumption] [--json]
Starts N simulated ProLiant iLOs on FIRST_PORT, FIRST_PORT+1, ... (0 = any free port).
--models assigns models in turn (default gen9); gen8 and gen9 speak RIBCL (iLO 4),
gen10 Redfish and RIBCL (iLO 5). --unlicensed: no iLO Advanced (virtual media refused).
--share-cert: one certificate for every iLO (fast start for large fleets).
--no-tls-resumption: the iLOs resume no TLS session (every connection a full handshake).`);
    return;
  }
  const servers = Number(values.servers);
  const port = Number(values.port);
  if (!Number.isInteger(servers) || servers < 1 || servers > 5000) throw new Error('--servers: expected a whole number from 1 to 5000');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port: expected a TCP port (0 for any free port)');
  const powerOnMs = values['power-on-ms'] === undefined ? undefined : Number(values['power-on-ms']);
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
    timings: powerOnMs === undefined ? undefined : { powerOnMs },
  });
  if (values['ca-out']) writeFileSync(values['ca-out'], fleet.ca.cert);
  if (values.json) {
    console.log(
      JSON.stringify(
        fleet.ilos.map(({ name, host, port: p, username, password, fingerprint, server }) => ({ name, host, port: p, username, password, fingerprint, model: server.model.name })),
      ),
    );
  } else {
    console.log(`Simulated ProLiant fleet: ${fleet.ilos.length} iLO(s), RIBCL and Redfish over HTTPS`);
    for (const i of fleet.ilos) {
      console.log(`  ${i.name.padEnd(12)} https://${i.host}:${i.port}  ${i.server.identity.productName} (${i.server.model.managerType})  user ${i.username}  password ${i.password}`);
      console.log(`  ${''.padEnd(12)} certificate SHA-256 ${i.fingerprint}`);
    }
    console.log('Fleet CA (trust it with TLS mode "ca"):' + (values['ca-out'] ? ` written to ${values['ca-out']}` : `\n${fleet.ca.cert.trim()}`));
    console.log('Press Ctrl-C to stop.');
  }
  const stop = (): void => {
    void fleet.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`sim: ${(err as Error).message}`);
  process.exit(1);
});
