/**
 * Writes the Node-RED user directory the demo runs from: settings, the
 * example flows wired to the simulated fleet, and their credentials
 * encrypted the way Node-RED stores them.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync, lstatSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface DemoServer {
  name: string;
  host: string;
  port: number;
  username: string;
  password: string;
}

type FlowNode = Record<string, unknown> & { id: string; type: string };

/** What the deploy examples need to run against the simulated fleet. */
export interface DemoDeploySetup {
  /** This Node-RED's ramdisk API as the (simulated) servers reach it. */
  apiUrl: string;
  tftpRoot: string;
  /** The media store: the built-in server on this address, serving images from these directories. */
  store: { host: string; port: number; stateDir: string; fileRoots: string[] };
  /** Values for the example tabs' environment variables (IMAGE, DEPLOY_ISO, ...). */
  env: Record<string, string>;
}

/**
 * Every example flow, concatenated (each file is a Node-RED export array).
 * `skipDir` leaves out sub-folders (the dashboard examples, which stop every
 * flow when their module is not installed).
 */
export function loadExampleFlows(examplesDir: string, skipDir: (name: string) => boolean = () => false): FlowNode[] {
  const out: FlowNode[] = [];
  const walk = (dir: string): void => {
    // The dashboard examples come last, after the core-only ones.
    const entries = readdirSync(dir).sort((a, b) => Number(a === 'dashboard') - Number(b === 'dashboard') || a.localeCompare(b));
    for (const e of entries) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) {
        if (!skipDir(e)) walk(p);
      } else if (e.endsWith('.json')) out.push(...(JSON.parse(readFileSync(p, 'utf8')) as FlowNode[]));
    }
  };
  walk(examplesDir);
  // Config nodes shared between example files appear once.
  const seen = new Set<string>();
  return out.filter((n) => (seen.has(n.id) ? false : (seen.add(n.id), true)));
}

/**
 * Point the examples at the simulated servers: every ilo-fleet's rows named
 * after one (address, port, TLS trusted through the fleet's CA) and every
 * ilo-config named after one. Returns the credentials to store: the fleet's
 * default account when every simulated iLO has the same, else each server's
 * own; each ilo-config's own.
 */
export function wireToFleet(flows: FlowNode[], servers: DemoServer[], caFile: string): Record<string, Record<string, string>> {
  const creds: Record<string, Record<string, string>> = {};
  for (const n of flows) {
    if (n.type === 'ilo-fleet' && Array.isArray(n.servers)) {
      const accounts = new Map<string, DemoServer>();
      for (const row of n.servers as Array<Record<string, unknown>>) {
        const s = servers.find((x) => x.name === row.name);
        if (!s) continue;
        Object.assign(row, { host: s.host, port: s.port, tlsMode: 'ca', caFile, fingerprint: undefined });
        accounts.set(String(row.id), s);
      }
      const all = [...accounts.values()];
      if (all.length === 0) continue;
      // One account on every iLO: the fleet's default; else each server's own (see nodes/ilo-fleet/secrets.ts).
      if (all.every((s) => s.username === all[0]!.username && s.password === all[0]!.password)) creds[n.id] = { username: all[0]!.username, password: all[0]!.password };
      else {
        const map = (pick: (s: DemoServer) => string): string => JSON.stringify(Object.fromEntries([...accounts].map(([id, s]) => [id, pick(s)])));
        creds[n.id] = { usernames: map((s) => s.username), secrets: map((s) => s.password) };
      }
      continue;
    }
    if (n.type !== 'ilo-config') continue;
    const s = servers.find((x) => x.name === n.name);
    if (!s) continue;
    Object.assign(n, { host: s.host, port: String(s.port), protocol: n.protocol ?? 'auto', tlsMode: 'ca', caFile, fingerprint: '' });
    creds[n.id] = { username: s.username, password: s.password };
  }
  return creds;
}

/** Point the deploy examples at the demo: media store, callback URL, TFTP root, and the tabs' images. */
export function wireDeploys(flows: FlowNode[], d: DemoDeploySetup): void {
  for (const n of flows) {
    if (n.type === 'ilo-media-store' && n.name === 'media-store') {
      Object.assign(n, { storeType: 'builtin', host: d.store.host, port: String(d.store.port), publicUrl: '', stateDir: d.store.stateDir, fileRoots: d.store.fileRoots.join(',') });
    } else if (n.type === 'ilo-deploy-flow') {
      Object.assign(n, { apiUrl: d.apiUrl, tftpRoot: d.tftpRoot });
    } else if (n.type === 'tab' && Array.isArray(n.env)) {
      for (const e of n.env as Array<{ name: string; value: string; type: string }>) {
        const v = d.env[e.name];
        if (v !== undefined) Object.assign(e, { value: v, type: 'str' });
      }
    }
  }
}

/** Node-RED's credential file format: aes-256-ctr, key = sha256(secret), iv hex-prefixed. */
export function encryptCredentials(creds: unknown, secret: string): { $: string } {
  const key = createHash('sha256').update(secret).digest();
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  const body = cipher.update(JSON.stringify(creds), 'utf8', 'base64') + cipher.final('base64');
  return { $: iv.toString('hex') + body };
}

export function writeUserDir(opts: {
  userDir: string;
  repoRoot: string;
  packageName: string;
  flows: FlowNode[];
  credentials: Record<string, unknown>;
  port: number;
  keepFlows: boolean;
  /** Installed modules Node-RED must not load (e.g. to run as if only this package were installed). */
  denyModules?: string[];
  /** Where the editor and the flows' endpoints live (default both `/`). */
  roots?: { admin: string; node: string };
  /** Refuse requests from other origins, and for other Host names than these (see lib/http/guards.ts). */
  sameOrigin?: { hosts: string[] };
  /**
   * Editor login (adminAuth, bcrypt hash of the password) and basic
   * authentication of the flows' endpoints (the API password is read from
   * `apiPasswordFile` when Node-RED starts): the README's "Securing the HTTP API".
   */
  secure?: { adminUser: string; adminPasswordHash: string; apiUser: string; apiPasswordFile: string };
  /** settings.js `iloDeployStore` (where deploys are kept; default: files in the user directory). */
  iloDeployStore?: Record<string, unknown>;
}): void {
  const { userDir } = opts;
  mkdirSync(join(userDir, 'node_modules'), { recursive: true });
  const secretFile = join(userDir, '.credential-secret');
  if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(24).toString('hex'), { mode: 0o600 });
  const secret = readFileSync(secretFile, 'utf8').trim();
  const roots = opts.roots ?? { admin: '/', node: '/' };
  const lib = JSON.stringify(`${opts.packageName}/lib`);
  const nodeGuards: string[] = [];
  const adminGuards: string[] = [];
  let security = '';
  if (opts.sameOrigin) {
    security += `const sameOrigin = require(${lib}).refuseCrossOrigin({ hosts: ${JSON.stringify(opts.sameOrigin.hosts)} });\n`;
    nodeGuards.push('sameOrigin');
    adminGuards.push('sameOrigin');
  }
  if (opts.secure) {
    security += `const apiAuth = require(${lib}).basicAuth({ user: ${JSON.stringify(opts.secure.apiUser)}, password: require('fs').readFileSync(${JSON.stringify(opts.secure.apiPasswordFile)}, 'utf8').trim() });\n`;
    nodeGuards.push('apiAuth');
  }
  const settingsLines = [
    ...(adminGuards.length ? [`  httpAdminMiddleware: [${adminGuards.join(', ')}],`] : []),
    ...(nodeGuards.length ? [`  httpNodeMiddleware: [${nodeGuards.join(', ')}],`] : []),
    ...(opts.secure
      ? [`  adminAuth: { type: 'credentials', users: [{ username: ${JSON.stringify(opts.secure.adminUser)}, password: ${JSON.stringify(opts.secure.adminPasswordHash)}, permissions: '*' }] },`]
      : []),
  ];
  writeFileSync(
    join(userDir, 'settings.js'),
    `// Generated by npm start (scripts/start.ts): the demo's Node-RED settings.
${security}module.exports = {
  uiHost: '127.0.0.1',
  uiPort: ${opts.port},
  flowFile: 'flows.json',
  credentialSecret: require('fs').readFileSync(__dirname + '/.credential-secret', 'utf8').trim(),
  userDir: __dirname,
  httpNodeRoot: ${JSON.stringify(roots.node)},
  httpAdminRoot: ${JSON.stringify(roots.admin)},
${settingsLines.join('\n')}
  // The simulated DIB ramdisk of iscsi_ilo and pxe_ilo exports its disk with tgtd: without it
  // those deploys are refused up front (naming the tool and its package), the rest runs.
  iloDeployRequiredTools: {
    iscsi_ilo: [{ tool: 'tgtd', package: 'tgt', purpose: 'the simulated ramdisk serves its disk with it' }],
    pxe_ilo: [{ tool: 'tgtd', package: 'tgt', purpose: 'the simulated ramdisk serves its disk with it' }],
  },
  editorTheme: { tours: false, projects: { enabled: false } },
  telemetry: { enabled: false, updateNotification: false },
  diagnostics: { enabled: false },
  logging: { console: { level: 'info', metrics: false, audit: false } },
  externalModules: { autoInstall: false, palette: { allowInstall: false${opts.denyModules?.length ? `, denyList: ${JSON.stringify(opts.denyModules)}` : ''} } },${opts.iloDeployStore ? `\n  iloDeployStore: ${JSON.stringify(opts.iloDeployStore)},` : ''}
};
`,
  );
  const link = join(userDir, 'node_modules', opts.packageName);
  if (existsSync(link) || isDanglingLink(link)) rmSync(link, { recursive: false, force: true });
  symlinkSync(opts.repoRoot, link, 'dir');
  const flowFile = join(userDir, 'flows.json');
  if (!opts.keepFlows || !existsSync(flowFile)) {
    writeFileSync(flowFile, JSON.stringify(opts.flows, null, 2));
    writeFileSync(join(userDir, 'flows_cred.json'), JSON.stringify(encryptCredentials(opts.credentials, secret)));
  }
}

function isDanglingLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
