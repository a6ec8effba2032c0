/**
 * Media stores with a 2 GiB object:
 *  - the built-in media server, fetched with curl on loopback, against curl
 *    fetching the same file, in the same run, from a plain Node static
 *    server (fs.createReadStream().pipe(res) with Node's defaults, in a child
 *    process) and from busybox httpd (sendfile) when busybox has it;
 *  - upload to a real Swift on loopback: ours (SwiftMediaStore.publish)
 *    against python-swiftclient's `swift upload` of the same file.
 * Peak RSS growth of this process is measured during each of ours.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { BuiltinMediaStore, SwiftMediaStore } from '../lib/store';
import { SwiftClient } from '../lib/swift';
import { freePort } from '../test/helpers/daemons';
import { hasTool } from '../test/helpers/env';
import { SAIO_TOOLS, startSaio } from '../test/helpers/swift-saio';
import { compare, fmt, heading, peakRss, rssMb } from './harness';
import type { BenchSuite } from './suite';

const run = promisify(execFile);
const SIZE = 2 * 1024 * 1024 * 1024;
const MB = 1024 * 1024;
const ROUNDS = 2;
const RSS_LIMIT_MB = 50;

async function makeObject(path: string): Promise<void> {
  const block = randomFillSync(Buffer.allocUnsafe(64 * MB));
  const fh = await open(path, 'w');
  try {
    for (let written = 0; written < SIZE; written += block.length) {
      randomFillSync(block, 0, 4096); // no two blocks alike
      await fh.write(block);
    }
  } finally {
    await fh.close();
  }
}

/** curl's own figures: bytes, bytes/s, HTTP status. */
async function curlFetch(url: string): Promise<{ bytesPerSec: number; bytes: number; status: number }> {
  const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{size_download} %{speed_download} %{http_code}', url], { maxBuffer: 1024 });
  const [bytes, speed, status] = stdout.trim().split(' ').map(Number);
  return { bytes: bytes ?? 0, bytesPerSec: speed ?? 0, status: status ?? 0 };
}

const NODE_STATIC_SERVER = `
const http = require('node:http'), fs = require('node:fs');
const file = process.argv[1], size = fs.statSync(file).size;
const srv = http.createServer((req, res) => { res.writeHead(200, { 'content-length': size }); fs.createReadStream(file).pipe(res); });
srv.listen(0, '127.0.0.1', () => process.stdout.write(String(srv.address().port) + '\\n'));
`;

interface Baseline {
  name: string;
  url: string;
  stop(): Promise<void>;
}

/** A plain Node static server (fs.createReadStream().pipe(res), defaults) in a child process. */
async function startNodeStatic(file: string): Promise<Baseline> {
  const child = spawn(process.execPath, ['-e', NODE_STATIC_SERVER, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  return { name: 'plain Node static server', url: `http://127.0.0.1:${String(chunk).trim()}/${basename(file)}`, stop: () => stopChild(child) };
}

/** busybox httpd serving the file's directory (sendfile), when busybox has it. */
async function startBusybox(file: string): Promise<Baseline | undefined> {
  if (!hasTool('busybox')) return undefined;
  const { stdout } = await run('busybox', ['--list']);
  if (!stdout.split('\n').includes('httpd')) return undefined;
  const port = await freePort();
  const child = spawn('busybox', ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', dirname(file)], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/${basename(file)}`;
  for (let i = 0; i < 50; i++) {
    if ((await run('curl', ['-s', '-o', '/dev/null', '-r', '0-0', '-w', '%{http_code}', url]).catch(() => ({ stdout: '' }))).stdout === '206') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { name: 'busybox httpd', url, stop: () => stopChild(child) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

function rssLine(what: string, growthMb: number): void {
  console.log(`${what.padEnd(44)} peak RSS growth ${fmt(growthMb)} MB  (target < ${RSS_LIMIT_MB} MB: ${growthMb < RSS_LIMIT_MB ? 'MET' : 'NOT MET'})`);
}

async function builtinServer(dir: string, file: string): Promise<void> {
  heading('Built-in media server: 2 GiB object fetched with curl on loopback');
  const store = await BuiltinMediaStore.open({ stateDir: join(dir, 'state') });
  const baselines = [await startNodeStatic(file), await startBusybox(file)].filter((b): b is Baseline => b !== undefined);
  try {
    const rss0 = rssMb();
    const pubMeter = peakRss();
    const t0 = performance.now();
    const p = await store.publish('object.bin', createReadStream(file, { highWaterMark: MB }), { ttlSeconds: 3600, size: SIZE });
    const pubSec = (performance.now() - t0) / 1000;
    const pubGrowth = pubMeter.stop() - rss0;
    console.log(`${'publish (copy into the state directory)'.padEnd(44)} ${fmt(SIZE / MB / pubSec)} MB/s`);
    rssLine('publishing 2 GiB into the built-in store', pubGrowth);

    const best = new Map<string, number>();
    let serveGrowth = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const line: string[] = [];
      for (const b of baselines) {
        const r = await curlFetch(b.url);
        if (r.status !== 200 || r.bytes !== SIZE) throw new Error(`${b.name}: ${r.status}, ${r.bytes} bytes`);
        best.set(b.name, Math.max(best.get(b.name) ?? 0, r.bytesPerSec));
        line.push(`${b.name} ${fmt(r.bytesPerSec / MB)} MB/s`);
      }
      const before = rssMb();
      const meter = peakRss();
      const o = await curlFetch(p.url);
      serveGrowth = Math.max(serveGrowth, meter.stop() - before);
      if (o.status !== 200 || o.bytes !== SIZE) throw new Error(`built-in fetch: ${o.status}, ${o.bytes} bytes`);
      best.set('ours', Math.max(best.get('ours') ?? 0, o.bytesPerSec));
      console.log(`  round ${i + 1}: ours ${fmt(o.bytesPerSec / MB)} MB/s, ${line.join(', ')}`);
    }
    for (const b of baselines) {
      compare(`GET 2 GiB, best of ${ROUNDS}, vs ${b.name}`, (best.get('ours') ?? 0) / MB, (best.get(b.name) ?? 0) / MB, 'MB/s', { atLeast: 0.9 });
    }
    rssLine('serving 2 GiB (our process)', serveGrowth);
  } finally {
    for (const b of baselines) await b.stop();
    await store.close();
  }
}

async function swiftUpload(file: string): Promise<void> {
  heading('Upload of the 2 GiB object to a real Swift on loopback');
  if (!SAIO_TOOLS.every(hasTool) || !hasTool('swift')) {
    console.log('NOT RUN: Swift or python3-swiftclient is missing (npm run provision)');
    return;
  }
  const saio = await startSaio();
  const client = new SwiftClient({ auth: { type: 'tempauth', authUrl: saio.authUrl, user: saio.user, key: saio.key } });
  try {
    await client.setTempUrlKey('bench-key');
    const store = new SwiftMediaStore({ client, container: 'bench' });
    await client.putContainer('bench');
    // swift upload reads its credentials from the environment, not its arguments
    const env = { ...process.env, ST_AUTH: saio.authUrl, ST_USER: saio.user, ST_KEY: saio.key };
    let best = { ours: 0, base: 0 };
    let growth = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = performance.now();
      await run('swift', ['upload', 'bench', file, '--object-name', 'baseline.bin'], { env, maxBuffer: 1024 * 1024 });
      const baseSec = (performance.now() - t0) / 1000;
      if ((await client.headObject('bench', 'baseline.bin'))?.size !== SIZE) throw new Error('swift upload did not store the whole object');
      await client.deleteObject('bench', 'baseline.bin');

      const before = rssMb();
      const meter = peakRss();
      const t1 = performance.now();
      const p = await store.publish('ours.bin', createReadStream(file, { highWaterMark: MB }), { ttlSeconds: 3600, size: SIZE });
      const oursSec = (performance.now() - t1) / 1000;
      growth = Math.max(growth, meter.stop() - before);
      if (p.size !== SIZE || (await client.headObject('bench', 'ours.bin'))?.size !== SIZE) throw new Error('our upload did not store the whole object');
      await store.unpublish('ours.bin');
      const ours = SIZE / MB / oursSec;
      const base = SIZE / MB / baseSec;
      best = { ours: Math.max(best.ours, ours), base: Math.max(best.base, base) };
      console.log(`  round ${i + 1}: ours ${fmt(ours)} MB/s, swift upload ${fmt(base)} MB/s`);
    }
    compare(`PUT 2 GiB, best of ${ROUNDS}, vs swift upload`, best.ours, best.base, 'MB/s', { atLeast: 0.9 });
    rssLine('uploading 2 GiB to Swift (our process)', growth);
  } finally {
    await client.close();
    await saio.stop();
  }
}

export const storeBench: BenchSuite = {
  name: 'store',
  async run(): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'ilo-bench-store-'));
    try {
      const fs = await statfs(dir);
      const freeGb = (fs.bavail * fs.bsize) / 1024 ** 3;
      if (freeGb < 9) {
        heading('Media stores');
        console.log(`NOT RUN: needs about 9 GB free in ${tmpdir()} (object, its copy, Swift's copy), have ${fmt(freeGb)} GB`);
        return;
      }
      const file = join(dir, 'object.bin');
      await makeObject(file);
      await builtinServer(dir, file);
      await swiftUpload(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
