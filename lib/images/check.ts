/**
 * "Test the store": prove a media-store configuration works end to end
 * without leaving anything behind. A small probe object is published,
 * read back through its URL the way an iLO reads media (a Range GET), and
 * removed again. For the built-in server this also proves its port can be
 * bound and that it answers; for Swift, that the credentials work and the
 * container and temp URL key are usable.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request, type Dispatcher } from 'undici';
import { BuiltinMediaStore } from '../store/builtin/store';
import { StoreError } from '../store/errors';
import { createHttpAgent, safeUrl } from '../swift/http';
import { MediaService, type MediaServiceConfig } from './service';

export interface StoreCheckReport {
  kind: 'builtin' | 'swift';
  /** Where URLs point (built-in: the base URL; Swift: the container URL), without any signature. */
  url: string;
  /** The probe went through the store that is already running for this configuration. */
  usedRunningStore: boolean;
  /** What was proven, in words. */
  checks: string[];
  /** Things that will not stop the store but may stop an image from publishing. */
  warnings: string[];
}

const PROBE_TTL_SECONDS = 60;

/**
 * Checks `cfg`. When `running` is the service already open for the same
 * configuration (a deployed node), the probe goes through it (its port is
 * taken by itself); otherwise a throw-away store is opened and closed.
 */
export async function checkStoreConfig(cfg: MediaServiceConfig, running?: MediaService): Promise<StoreCheckReport> {
  const warnings = await checkFileRoots(cfg.images?.fileRoots ?? []);
  if (running && sameListener(cfg, running)) return { ...(await probe(running, cfg, true)), warnings };
  let scratch: string | undefined;
  let svc: MediaService | undefined;
  try {
    if (cfg.store === 'builtin') {
      scratch = await mkdtemp(join(tmpdir(), 'ilo-store-check-'));
      cfg = { ...cfg, builtin: { ...(cfg.builtin ?? { stateDir: scratch }), stateDir: scratch } };
    }
    svc = await MediaService.open(cfg);
    return { ...(await probe(svc, cfg, false)), warnings };
  } finally {
    await svc?.close().catch(() => undefined);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

function sameListener(cfg: MediaServiceConfig, running: MediaService): boolean {
  // Only the built-in server holds something a second store could not share: its port.
  const store = running.store;
  if (cfg.store !== 'builtin' || !(store instanceof BuiltinMediaStore)) return false;
  const want = cfg.builtin;
  return !!want && (want.port ?? 0) === store.address.port && (want.host ?? '127.0.0.1') === store.address.host;
}

async function probe(svc: MediaService, cfg: MediaServiceConfig, usedRunningStore: boolean): Promise<Omit<StoreCheckReport, 'warnings'>> {
  const name = `ilo-store-check-${randomBytes(6).toString('hex')}.bin`;
  const body = randomBytes(64);
  const checks: string[] = [];
  const published = await svc.publish(name, body, { ttlSeconds: PROBE_TTL_SECONDS });
  try {
    checks.push(svc.store.kind === 'swift' ? 'logged in to Swift and uploaded a probe object' : 'the server is listening and accepted a probe object');
    const { url, dispatcher, close } = await readerFor(svc, cfg, published.url);
    try {
      const got = await rangeGet(url, dispatcher);
      if (!got.equals(body.subarray(0, got.length)) || got.length !== body.length) {
        throw new StoreError('backend', `the probe read back through ${safeUrl(published.url)} differs from what was published`);
      }
    } finally {
      await close();
    }
    checks.push(svc.store.kind === 'swift' ? 'its temp URL works (a Range GET read it back)' : 'it answered a Range GET with the probe');
  } finally {
    await svc.unpublish(name);
  }
  checks.push('the probe was removed');
  const base = svc.store instanceof BuiltinMediaStore ? svc.store.url : safeUrl(published.url).replace(/\/[^/]*$/, '');
  return { kind: svc.store.kind, url: base, usedRunningStore, checks };
}

/**
 * How to read the probe from here. Built-in store: from its listening
 * socket on this host (URLs may name an address only iLOs reach); its own
 * certificate is not checked, as this is the process talking to itself.
 * Swift: the temp URL as given, with the configured TLS trust.
 */
async function readerFor(svc: MediaService, cfg: MediaServiceConfig, url: string): Promise<{ url: string; dispatcher: Dispatcher; close: () => Promise<void> }> {
  if (svc.store instanceof BuiltinMediaStore) {
    const { host, port } = svc.store.address;
    const local = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    const u = new URL(url);
    const direct = `${u.protocol}//${isIP(local) === 6 ? `[${local}]` : local}:${port}${u.pathname}`;
    const agent = new Agent({ connect: { rejectUnauthorized: false, timeout: 5000 } });
    return { url: direct, dispatcher: agent, close: () => agent.close() };
  }
  const os = cfg.openstack;
  const caPem = os?.caFile ? await readFile(os.caFile, 'utf8') : undefined;
  const agent = createHttpAgent({ tls: { caPem, insecure: os?.insecure === true }, connectTimeoutMs: 5000, headersTimeoutMs: 15_000 });
  return { url, dispatcher: agent, close: () => agent.close() };
}

async function rangeGet(url: string, dispatcher: Dispatcher): Promise<Buffer> {
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, { method: 'GET', headers: { range: 'bytes=0-63' }, dispatcher });
  } catch (err) {
    throw new StoreError('backend', `reading the probe back from ${safeUrl(url)} failed: ${(err as Error).message}`, { cause: err });
  }
  const data = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode !== 206 && res.statusCode !== 200) {
    throw new StoreError('backend', `reading the probe back from ${safeUrl(url)} answered HTTP ${res.statusCode}`);
  }
  return data;
}

async function checkFileRoots(roots: readonly string[]): Promise<string[]> {
  const warnings: string[] = [];
  for (const r of roots) {
    const s = await stat(r).catch((e: NodeJS.ErrnoException) => e);
    if (s instanceof Error) warnings.push(`fileRoots: ${r} cannot be read (${(s as NodeJS.ErrnoException).code ?? s.message})`);
    else if (!s.isDirectory()) warnings.push(`fileRoots: ${r} is not a directory`);
  }
  return warnings;
}
