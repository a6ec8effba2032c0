/**
 * `npm start`: a simulated fleet of 3 ProLiants (server-1 a Gen9 with iLO 4,
 * server-2 a Gen10 with iLO 5 spoken to over Redfish, server-3 a BIOS-only
 * Gen8 with a failed power supply), a small image server they can mount
 * from, and Node-RED on 127.0.0.1:1880 with this package and the example
 * flows wired to them.
 *   npm start -- --keep-flows   keep the flows you edited in .demo/
 *   PORT=1881 npm start         another editor port
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Fleet } from '../sim/fleet';
import { patternImage, startMediaServer } from '../sim/media-server';
import { loadExampleFlows, wireToFleet, writeUserDir } from './demo-files';

const repoRoot = join(__dirname, '..', '..');
const userDir = process.env.ILO_DEMO_DIR ?? join(repoRoot, '.demo');

function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 1880);
  if (!(await portFree(port))) {
    console.error(`npm start: port ${port} on 127.0.0.1 is in use; try PORT=${port + 1} npm start`);
    process.exit(1);
  }
  const keepFlows = process.argv.includes('--keep-flows');
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string };

  // Stable credentials across runs, so kept flows still log in.
  const fleetFile = join(userDir, 'fleet-password');
  const password = existsSync(fleetFile) ? readFileSync(fleetFile, 'utf8').trim() : randomBytes(9).toString('base64url');
  let basePort = 8443;
  for (let i = 0; i < 3; i++) if (!(await portFree(basePort + i))) basePort = 0;
  const fleet = await Fleet.start({
    servers: 3,
    basePort,
    username: 'admin',
    password,
    timings: { powerOnMs: 4000, postMs: 3000, softOffMs: 3000 },
    models: ['gen9', 'gen10', 'gen8'],
  });
  fleet.get('server-3').server.health.set('Power Supply 2', 'Failed');
  // What the "Manual operations" flow mounts (a stand-in image; the iLO reads it with Range requests).
  const media = await startMediaServer();
  const demoIso = media.put('demo-boot.iso', patternImage(8 * 1024 * 1024));
  const caFile = join(userDir, 'fleet-ca.pem');
  const servers = fleet.ilos.map((i) => ({ name: i.name, host: i.host, port: i.port, username: i.username, password: i.password }));
  const flows = loadExampleFlows(join(repoRoot, 'examples'));
  const credentials = wireToFleet(flows, servers, caFile);
  writeUserDir({ userDir, repoRoot, packageName: pkg.name, flows, credentials, port, keepFlows });
  writeFileSync(caFile, fleet.ca.cert);
  writeFileSync(fleetFile, password, { mode: 0o600 });

  const red = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--settings', join(userDir, 'settings.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ILO_DEMO_MEDIA_URL: demoIso },
  });
  let announced = false;
  red.stdout.on('data', (d: Buffer) => {
    process.stdout.write(d);
    if (!announced && d.toString().includes('Started flows')) {
      announced = true;
      console.log(`
  Node-RED editor:   http://127.0.0.1:${port}/
  Simulated iLOs:    ${fleet.ilos.map((i) => `${i.name} https://${i.host}:${i.port}`).join(', ')}
                     (Gen9 iLO 4, Gen10 iLO 5, Gen8 iLO 4; user admin, password in .demo/fleet-password, CA in .demo/fleet-ca.pem)
  Demo image:        ${demoIso}
  Try:               curl -X POST -H 'Content-Type: application/json' -d '{"action":"on","wait":true}' \\
                       http://127.0.0.1:${port}/servers/server-1/power
  Stop with Ctrl-C.
`);
    }
  });
  const shutdown = (): Promise<unknown> => Promise.allSettled([fleet.stop(), media.close()]);
  const stop = (code: number): void => {
    red.kill('SIGINT');
    void shutdown().finally(() => process.exit(code));
  };
  red.on('exit', (code) => {
    void shutdown().finally(() => process.exit(code ?? 0));
  });
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
}

main().catch((err: unknown) => {
  console.error(`npm start: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
