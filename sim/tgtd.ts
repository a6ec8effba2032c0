/**
 * A real tgtd iSCSI target on a loopback address, for the image-writing tests
 * and the simulated DIB deploy ramdisk (which exports its "disk" with it): its own
 * control socket number and a free port, one target whose LUN 1 is a temp
 * file (the "disk" a deploy ramdisk would export), bound to 127.0.0.1, with
 * optional CHAP. Stopped (and its socket files removed) by `stop()`.
 *
 * A missing tgtd or tgtadm is a TgtdError (code `missing-tool`), never a
 * crash: the child's `error` event is heard. Where util-linux's setpriv is
 * available tgtd is started through it with a parent-death signal, so a
 * tgtd never outlives the process that started it (even one killed with
 * SIGKILL).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { diesWithParent } from './dies-with-parent';

const execFileAsync = promisify(execFile);

/** Why a tgtd target could not be set up: `missing-tool` names the tool and the Debian package that brings it. */
export class TgtdError extends Error {
  readonly code: 'missing-tool' | 'failed';
  readonly tool: string;
  readonly debianPackage = 'tgt';

  constructor(code: TgtdError['code'], tool: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TgtdError';
    this.code = code;
    this.tool = tool;
  }
}

const missingTool = (tool: string, cause: unknown): TgtdError =>
  new TgtdError('missing-tool', tool, `${tool} is not installed or not on the PATH (Debian package: tgt)`, cause);

const isNotFound = (err: unknown): boolean => ['ENOENT', 'EACCES'].includes(String((err as NodeJS.ErrnoException | undefined)?.code));

/** Runs a tool of the tgt package; a missing one is a TgtdError. */
async function run(tool: 'tgtadm', args: string[]): Promise<void> {
  try {
    await execFileAsync(tool, args);
  } catch (err) {
    throw isNotFound(err) ? missingTool(tool, err) : err;
  }
}

/** Where `tool` is on the PATH, as spawn would find it. */
function onPath(tool: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, tool);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * tgtd's command line: through util-linux's setpriv when installed, so the
 * kernel kills tgtd when its parent dies.
 */
function tgtdCommand(args: string[]): [string, string[]] {
  const tgtd = onPath('tgtd');
  if (!tgtd) throw missingTool('tgtd', undefined);
  return diesWithParent(tgtd, args);
}

export interface Tgtd {
  host: string;
  port: number;
  iqn: string;
  lun: number;
  /** The file behind LUN 1: what was written can be read here. */
  backingFile: string;
  dir: string;
  stop(): Promise<void>;
}

export interface TgtdOptions {
  sizeBytes: number;
  chap?: { username: string; password: string };
  /** Start the disk with this byte in every position (old data a deploy must overwrite). */
  fill?: number;
  /** Portal address (default 127.0.0.1; any 127.x.y.z works on Linux). */
  host?: string;
  /** Target name (default a unique test name). */
  iqn?: string;
  /** Serve this existing file instead of a new temp one (it is kept on stop). */
  backingFile?: string;
}

export async function startTgtd(o: TgtdOptions): Promise<Tgtd> {
  const dir = mkdtempSync(join(tmpdir(), 'tgtd-'));
  const backingFile = o.backingFile ?? join(dir, 'lun1.img');
  if (!o.backingFile) {
    writeFileSync(backingFile, '');
    truncateSync(backingFile, o.sizeBytes);
  }
  if (o.fill !== undefined) {
    const chunk = Buffer.alloc(1024 * 1024, o.fill);
    const fd = openSync(backingFile, 'r+');
    try {
      for (let at = 0; at < o.sizeBytes; at += chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, o.sizeBytes - at), at);
    } finally {
      closeSync(fd);
    }
  }
  const host = o.host ?? '127.0.0.1';
  const iqn = o.iqn ?? `iqn.2008-10.org.openstack:test-${process.pid}-${Date.now().toString(36)}`;
  let child: ChildProcess | undefined;
  let control = 0;
  let port = 0;
  let output = '';

  const tgtadm = (...args: string[]): Promise<unknown> => run('tgtadm', ['-C', String(control), '--lld', 'iscsi', ...args]);
  const stop = async (): Promise<void> => {
    // A child that never started (pid undefined) has nothing to stop and will never emit `exit`.
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child?.once('exit', r));
      // tgtd ignores SIGTERM while it has targets: remove them, then ask it to leave.
      await tgtadm('--mode', 'target', '--op', 'delete', '--force', '--tid', '1').catch(() => undefined);
      await run('tgtadm', ['-C', String(control), '--op', 'delete', '--mode', 'system']).catch(() => undefined);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    for (const f of [`socket.${control}`, `socket.${control}.lock`]) rmSync(join('/var/run/tgtd', f), { force: true });
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (let attempt = 0; ; attempt++) {
      control = 1000 + Math.floor(Math.random() * 31000); // tgtd accepts up to 32767
      if (existsSync(`/var/run/tgtd/socket.${control}`)) continue;
      port = await freePort(host);
      const [file, args] = tgtdCommand(['-f', '-C', String(control), '--iscsi', `portal=${host}:${port}`]);
      const c = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      let spawnError: Error | undefined;
      c.on('error', (err) => (spawnError = err));
      c.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      c.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      const started = await ready(c, host, port, control, () => spawnError);
      if (spawnError) throw isNotFound(spawnError) ? missingTool('tgtd', spawnError) : new TgtdError('failed', 'tgtd', `tgtd could not be started: ${spawnError.message}`, spawnError);
      if (started) break;
      c.kill('SIGKILL');
      if (attempt >= 3) throw new TgtdError('failed', 'tgtd', `tgtd did not start: ${output.trim()}`);
    }
    await tgtadm('--mode', 'target', '--op', 'new', '--tid', '1', '--targetname', iqn);
    await tgtadm('--mode', 'logicalunit', '--op', 'new', '--tid', '1', '--lun', '1', '--backing-store', backingFile);
    await tgtadm('--mode', 'target', '--op', 'bind', '--tid', '1', '--initiator-address', 'ALL');
    if (o.chap) {
      await tgtadm('--mode', 'account', '--op', 'new', '--user', o.chap.username, '--password', o.chap.password);
      await tgtadm('--mode', 'account', '--op', 'bind', '--tid', '1', '--user', o.chap.username);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { host, port, iqn, lun: 1, backingFile, dir, stop };
}

async function ready(c: ChildProcess, host: string, port: number, control: number, failed: () => Error | undefined): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (failed() || c.exitCode !== null || c.signalCode !== null) return false;
    const listening = await new Promise<boolean>((resolve) => {
      const s = connect(port, host);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (listening) {
      // A missing tgtadm is thrown (typed); any other failure means "not yet".
      const ok = await run('tgtadm', ['-C', String(control), '--mode', 'system', '--op', 'show']).then(
        () => true,
        (err: unknown) => {
          if (err instanceof TgtdError) throw err;
          return false;
        },
      );
      if (ok) return true;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
