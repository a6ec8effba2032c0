/**
 * `npm start`: a simulated fleet of 3 ProLiants (server-1 a Gen9 with iLO 4,
 * server-2 a Gen10 with iLO 5 spoken to over Redfish, server-3 a BIOS-only
 * Gen8 with a failed power supply), each running a simulated deploy ramdisk,
 * a small image server they can mount from, the files the deploy examples
 * read, and Node-RED on 127.0.0.1:1880 with this package and the example
 * flows: their fleet inventory (the ilo-fleet node every example uses) filled
 * with the simulated servers, their account in Node-RED's encrypted
 * credentials (the dashboard examples only when @flowfuse/node-red-dashboard
 * is installed).
 *   npm start -- --keep-flows   keep the flows you edited in .demo/
 *   npm start -- --secure       editor login and basic auth on the HTTP API (README: "Securing the HTTP API")
 *   PORT=1881 npm start         another editor port
 */
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Fleet } from '../sim/fleet';
import { patternImage, startMediaServer } from '../sim/media-server';
import { startChild } from './demo-child';
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
  // Each simulated server's serial console: IPMI serial-over-LAN where it has ipmi_sim, else the iLO's SSH vsp (host key pinned).
  const consoleOf = (name: unknown): Record<string, string | number> | undefined => {
    const c = fleet.ilos.find((i) => i.name === name)?.console;
    return c?.ssh ? { consoleMethod: c.ipmi ? 'auto' : 'ssh', ...(c.ipmi ? { ipmiPort: c.ipmi.port } : {}), sshPort: c.ssh.port, sshHostKey: c.ssh.openssh } : undefined;
  };
  for (const n of flows) {
    if (n.type === 'ilo-config') Object.assign(n, Object.fromEntries(Object.entries(consoleOf(n.name) ?? {}).map(([k, v]) => [k, String(v)])));
    if (n.type === 'ilo-fleet' && Array.isArray(n.servers)) for (const row of n.servers as Array<Record<string, unknown>>) Object.assign(row, consoleOf(row.name) ?? {});
  }
  wireDeploys(flows, {
    apiUrl: `http://127.0.0.1:${port}/ilo-deploy`,
    tftpRoot: files.tftpRoot,
    store: { host: '127.0.0.1', port: 0, stateDir: join(userDir, 'ilo-media-store'), fileRoots: [files.imagesDir] },
    env: { IMAGE: files.image, IMAGES: files.image, DEPLOY_ISO: files.deployIso, DEPLOY_KERNEL: files.deployKernel, DEPLOY_RAMDISK: files.deployRamdisk },
  });
  // Only this origin may drive the demo (a web page elsewhere cannot deploy or probe ports through it).
  const sameOrigin = { hosts: [`127.0.0.1:${port}`, `localhost:${port}`] };
  const secure = process.argv.includes('--secure') || process.env.ILO_DEMO_SECURE === '1' ? secureSettings() : undefined;
  writeUserDir({ userDir, repoRoot, packageName: pkg.name, flows, credentials, port, keepFlows, sameOrigin, secure });
  const blockers = iscsiBlockers();
  if (blockers.length) console.warn(`npm start: iscsi_ilo and pxe_ilo deploys cannot complete on this machine: ${blockers.join('; ')}`);
  writeFileSync(caFile, fleet.ca.cert);
  writeFileSync(fleetFile, password, { mode: 0o600 });

  // Node-RED ends when this process ends (exit-with-parent), however it ends.
  const red = startChild('Node-RED', process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--settings', join(userDir, 'settings.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ILO_DEMO_MEDIA_URL: demoIso },
  });
  let announced = false;
  red.process.stdout?.on('data', (d: Buffer) => {
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
  Fleet:             the "demo fleet" configuration node (every example uses it); on the "Power a fleet" tab
                     "every server: status" reads the whole fleet at once
  Deploy:            click "deploy server-N with ..." on the Deploy tab, or
${deployCurls(port)}
                     curl http://127.0.0.1:${port}/agent_ilo/deploy/<deployId>              (progress; until "state": "active")
                     curl -i -X DELETE http://127.0.0.1:${port}/agent_ilo/deploy/<deployId>  (undeploy)
${secure ? `  Secured:           editor login admin, password in .demo/admin-password; every API call needs\n                     -u api:$(cat .demo/api-password) (curl), the ramdisk call-backs their deploy token\n` : ''}${blockers.length ? `  NOT READY HERE:    iscsi_ilo and pxe_ilo cannot complete on this machine: ${blockers.join('; ')}.\n                     agent_ilo works.\n` : ''}  Dashboard:         ${withDashboard ? `http://127.0.0.1:${port}/dashboard` : 'not loaded (npm install @flowfuse/node-red-dashboard to see examples/dashboard)'}
  Stop with Ctrl-C.
`);
    }
  });
  // Any part ending ends them all: Node-RED, the fleet, its ramdisks (and their tgtd), the image server.
  let stopping = false;
  const stopAll = (code: number, why?: string): void => {
    if (stopping) return;
    stopping = true;
    if (why) console.error(`npm start: ${why}; stopping the demo`);
    // Whatever hangs, the demo is gone in 20 s.
    setTimeout(() => process.exit(code), 20_000).unref();
    Promise.allSettled([red.stop(), ...ramdisks.map((r) => r.dispose()), fleet.stop(), media.close()])
      .then(() => process.exit(code))
      .catch(() => process.exit(code));
  };
  red.ended
    .then((end) => {
      if (end.error) return stopAll(1, `Node-RED could not be started (${end.error.message})`);
      if (!stopping) stopAll(end.code ?? 1, `Node-RED ended (${end.signal ?? `exit code ${end.code}`})`);
    })
    .catch(() => undefined);
  process.on('SIGINT', () => stopAll(0));
  process.on('SIGTERM', () => stopAll(0));
  // A part of the demo running in this process failed: the rest goes with it.
  process.on('uncaughtException', (err) => stopAll(1, `internal error: ${err.stack ?? err.message}`));
  process.on('unhandledRejection', (err) => stopAll(1, `internal error: ${(err as Error)?.stack ?? String(err)}`));
}

/** Passwords for --secure (kept across runs, 0600 in .demo/) and the editor's as the bcrypt hash adminAuth wants. */
function secureSettings(): { adminUser: string; adminPasswordHash: string; apiUser: string; apiPasswordFile: string } {
  const stored = (name: string): string => {
    const file = join(userDir, name);
    if (!existsSync(file)) writeFileSync(file, randomBytes(12).toString('base64url'), { mode: 0o600 });
    return readFileSync(file, 'utf8').trim();
  };
  // Node-RED's own bcrypt implementation (a dependency of node-red, found from node-red's folder: not one of ours).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const bcrypt = require(require.resolve('bcryptjs', { paths: [dirname(require.resolve('node-red/package.json'))] })) as { hashSync(s: string, rounds: number): string };
  stored('api-password');
  return { adminUser: 'admin', adminPasswordHash: bcrypt.hashSync(stored('admin-password'), 10), apiUser: 'api', apiPasswordFile: join(userDir, 'api-password') };
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
