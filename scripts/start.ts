/**
 * `npm start`: a simulated fleet of 3 ProLiants (server-1 a Gen9 with iLO 4,
 * server-2 a Gen10 with iLO 5 spoken to over Redfish, server-3 a BIOS-only
 * Gen8 with a failed power supply), each running a simulated deploy ramdisk,
 * a small image server they can mount from, the files the deploy examples
 * read, and Node-RED on 127.0.0.1:1880 with this package and the example
 * flows wired to them (the dashboard examples only when
 * @flowfuse/node-red-dashboard is installed).
 *   npm start -- --keep-flows   keep the flows you edited in .demo/
 *   PORT=1881 npm start         another editor port
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Fleet } from '../sim/fleet';
import { patternImage, startMediaServer } from '../sim/media-server';
import { attachRamdisks, iscsiBlockers, prepareArtefacts } from './demo-deploy';
import { loadExampleFlows, wireDeploys, wireToFleet, writeUserDir } from './demo-files';

const repoRoot = join(__dirname, '..', '..');
const userDir = process.env.ILO_DEMO_DIR ?? join(repoRoot, '.demo');

/** Whether Node-RED will find the dashboard module (it scans the node_modules folders above its own). */
function dashboardInstalled(): boolean {
  try {
    require.resolve('@flowfuse/node-red-dashboard/package.json', { paths: [repoRoot, userDir] });
    return true;
  } catch {
    return false;
  }
}

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
  // ILO_DEMO_FLEET_PORT=0: any free ports (the tests, which start several demos at once).
  let basePort = Number(process.env.ILO_DEMO_FLEET_PORT ?? 8443);
  if (!Number.isInteger(basePort) || basePort < 0 || basePort > 65533) {
    console.error(`npm start: ILO_DEMO_FLEET_PORT: expected a port number (0 for any), got ${JSON.stringify(process.env.ILO_DEMO_FLEET_PORT)}`);
    process.exit(1);
  }
  for (let i = 0; i < 3 && basePort !== 0; i++) if (!(await portFree(basePort + i))) basePort = 0;
  const fleet = await Fleet.start({
    servers: 3,
    basePort,
    username: 'admin',
    password,
    timings: { powerOnMs: 4000, postMs: 3000, softOffMs: 3000 },
    models: ['gen9', 'gen10', 'gen8'],
    // Serial consoles (the editor's "iLO console" tab): SSH vsp always, IPMI serial-over-LAN where ipmi_sim and ipmitool are installed.
    console: { ssh: true, ipmi: spawnSync('sh', ['-c', 'command -v ipmi_sim && command -v ipmitool && command -v script']).status === 0 },
  });
  fleet.get('server-3').server.health.set('Power Supply 2', 'Failed');
  // What the "Manual operations" flow mounts (a stand-in image; the iLO reads it with Range requests).
  const media = await startMediaServer();
  const demoIso = media.put('demo-boot.iso', patternImage(8 * 1024 * 1024));
  // The fleet is new on every run, so are its deploys: forget the previous run's deploy state and published media.
  for (const d of ['ilo-deploy', 'ilo-media-store']) rmSync(join(userDir, d), { recursive: true, force: true });
  const files = await prepareArtefacts(userDir);
  const log = (line: string): void => console.log(`[demo] ${line}`);
  const ramdisks = await attachRamdisks(fleet, files.tftpRoot, log);
  const caFile = join(userDir, 'fleet-ca.pem');
  const servers = fleet.ilos.map((i) => ({ name: i.name, host: i.host, port: i.port, username: i.username, password: i.password }));
  const withDashboard = dashboardInstalled();
  const flows = loadExampleFlows(join(repoRoot, 'examples'), (dir) => dir === 'dashboard' && !withDashboard);
  const credentials = wireToFleet(flows, servers, caFile);
  for (const n of flows) {
    const c = n.type === 'ilo-config' ? fleet.ilos.find((i) => i.name === n.name)?.console : undefined;
    if (c?.ssh) Object.assign(n, { consoleMethod: c.ipmi ? 'auto' : 'ssh', ipmiPort: c.ipmi ? String(c.ipmi.port) : '', sshPort: String(c.ssh.port), sshHostKey: c.ssh.openssh });
  }
  wireDeploys(flows, {
    apiUrl: `http://127.0.0.1:${port}/ilo-deploy`,
    tftpRoot: files.tftpRoot,
    store: { host: '127.0.0.1', port: 0, stateDir: join(userDir, 'ilo-media-store'), fileRoots: [files.imagesDir] },
    env: { IMAGE: files.image, DEPLOY_ISO: files.deployIso, DEPLOY_KERNEL: files.deployKernel, DEPLOY_RAMDISK: files.deployRamdisk },
  });
  writeUserDir({ userDir, repoRoot, packageName: pkg.name, flows, credentials, port, keepFlows });
  const blockers = iscsiBlockers();
  if (blockers.length) console.warn(`npm start: iscsi_ilo and pxe_ilo deploys cannot complete on this machine: ${blockers.join('; ')}`);
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
  Serial consoles:   the editor's "iLO console" sidebar tab (the servers' POST, ramdisk and instance boot)
  Demo image:        ${demoIso}
  Try:               curl -X POST -H 'Content-Type: application/json' -d '{"action":"on","wait":true}' \\
                       http://127.0.0.1:${port}/servers/server-1/power
  Deploy:            click "deploy server-N" on a Deploy tab, or
${deployCurls(port)}
                     curl http://127.0.0.1:${port}/agent_ilo/deploy/<deployId>              (progress; until "state": "active")
                     curl -i -X DELETE http://127.0.0.1:${port}/agent_ilo/deploy/<deployId>  (undeploy)
${blockers.length ? `  NOT READY HERE:    iscsi_ilo and pxe_ilo cannot complete on this machine: ${blockers.join('; ')}.\n                     agent_ilo works.\n` : ''}  Dashboard:         ${withDashboard ? `http://127.0.0.1:${port}/dashboard` : 'not loaded (npm install @flowfuse/node-red-dashboard to see examples/dashboard)'}
  Stop with Ctrl-C.
`);
    }
  });
  const shutdown = (): Promise<unknown> => Promise.allSettled([...ramdisks.map((r) => r.dispose()), fleet.stop(), media.close()]);
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

function deployCurls(port: number): string {
  const one = (method: string, server: string): string =>
    `                     curl -i -X POST -H 'Content-Type: application/json' -d '{"server":"${server}"}' http://127.0.0.1:${port}/${method}/deploy`;
  return [one('agent_ilo', 'server-1'), one('iscsi_ilo', 'server-2'), one('pxe_ilo', 'server-3')].join('\n');
}

main().catch((err: unknown) => {
  console.error(`npm start: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
