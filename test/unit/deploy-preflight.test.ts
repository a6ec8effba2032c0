/**
 * The tools a deploy process runs here are checked before the deploy starts:
 * missing ones are refused naming the program and its Debian package. The
 * qemu-img without an iSCSI driver is the real one, run in a mount namespace
 * where its block modules are hidden (what a machine without
 * qemu-block-extra has).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkTools, parseRequiredTools, toolsFor } from '../../lib/deploy/preflight';
import { needTools } from '../helpers/env';

/** Where Debian's qemu keeps its block driver modules (block-iscsi.so). */
function qemuModuleDir(): string | undefined {
  const roots = ['/usr/lib/qemu', '/usr/lib64/qemu', ...readdirSync('/usr/lib').map((d) => join('/usr/lib', d, 'qemu'))];
  return roots.find((d) => existsSync(join(d, 'block-iscsi.so')));
}

function namespaceSkip(): string | false {
  const tools = needTools('qemu-img', 'unshare', 'mount');
  if (tools) return tools;
  if (!qemuModuleDir()) return noteNotRun('NOT RUN: qemu-img has no block-iscsi.so to hide here (Debian: qemu-block-extra)');
  try {
    execFileSync('unshare', ['-rm', 'true'], { stdio: 'ignore' });
    return false;
  } catch {
    return noteNotRun('NOT RUN: this machine allows no mount namespace (unshare -rm) to hide qemu-block-extra in');
  }
}

function noteNotRun(reason: string): string {
  process.stderr.write(`\n!!! ${reason}\n`);
  return reason;
}

describe('deploy preflight: the tools a process runs here', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'deploy-preflight-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('iscsi_ilo and pxe_ilo need qemu-img: missing, the deploy is refused naming it and qemu-utils; agent_ilo needs nothing here', async () => {
    const empty = join(dir, 'empty');
    execFileSync('mkdir', ['-p', empty]);
    for (const method of ['iscsi_ilo', 'pxe_ilo'] as const) {
      await assert.rejects(checkTools(method, toolsFor(method, {}), { path: empty }), (err: Error & { code?: string; field?: string }) => {
        assert.equal(err.code, 'missing-tool');
        assert.equal(err.field, 'method');
        assert.match(err.message, new RegExp(`^${method} cannot run on this machine: qemu-img is not installed here .*install the Debian package qemu-utils$`));
        return true;
      });
    }
    assert.deepEqual(toolsFor('agent_ilo', {}), []);
    await checkTools('agent_ilo', toolsFor('agent_ilo', {}), { path: empty });
  });

  test('open-iscsi as the initiator needs iscsiadm (open-iscsi)', () => {
    assert.deepEqual(
      toolsFor('iscsi_ilo', { iscsiInitiator: 'open-iscsi' }).map((t) => `${t.tool}:${t.package}`),
      ['qemu-img:qemu-utils', 'iscsiadm:open-iscsi'],
    );
  });

  test('qemu-img without its iSCSI block driver is refused naming qemu-block-extra', { skip: namespaceSkip() }, async () => {
    const wrapped = join(dir, 'hidden');
    const empty = join(dir, 'no-modules');
    execFileSync('mkdir', ['-p', wrapped, empty]);
    const real = execFileSync('sh', ['-c', 'command -v qemu-img'], { encoding: 'utf8' }).trim();
    // The real qemu-img, its modules directory covered by an empty one.
    writeFileSync(join(wrapped, 'qemu-img'), `#!/bin/sh\nexec unshare -rm sh -c 'mount --bind "$0" "$1" && shift && exec "${real}" "$@"' "${empty}" "${qemuModuleDir()}" "$@"\n`);
    chmodSync(join(wrapped, 'qemu-img'), 0o755);
    await assert.rejects(checkTools('iscsi_ilo', toolsFor('iscsi_ilo', {}), { path: wrapped }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'missing-tool');
      assert.match(err.message, /qemu-img has no iSCSI block driver .*install the Debian package qemu-block-extra$/);
      return true;
    });
  });

  test('the qemu-img installed here, with its iSCSI driver, passes', { skip: needTools('qemu-img') || (qemuModuleDir() ? false : noteNotRun('NOT RUN: qemu-block-extra is not installed')) }, async () => {
    await checkTools('iscsi_ilo', toolsFor('iscsi_ilo', {}));
  });

  test('settings.js adds tools per method (the demo: tgtd for its simulated DIB ramdisk); a missing one is refused naming it and its package', async () => {
    const { tools, problems } = parseRequiredTools({
      iscsi_ilo: [{ tool: 'tgtd-not-here', package: 'tgt', purpose: 'the simulated DIB ramdisk exports its disk with it' }],
      pxe_ilo: { tool: 'sh', package: 'dash' },
      bogus_ilo: [{ tool: 'x', package: 'y' }],
      agent_ilo: [{ tool: 'rm -rf /', package: 'x' }, { tool: 'ok' }],
    });
    assert.deepEqual(tools, { iscsi_ilo: [{ tool: 'tgtd-not-here', package: 'tgt', purpose: 'the simulated DIB ramdisk exports its disk with it' }], pxe_ilo: [{ tool: 'sh', package: 'dash', purpose: undefined }] });
    assert.deepEqual(problems, [
      'bogus_ilo: not a deploy method (agent_ilo, iscsi_ilo, pxe_ilo)',
      'agent_ilo[0]: expected { tool: a program name or absolute path, package: its Debian package }',
      'agent_ilo[1]: expected { tool: a program name or absolute path, package: its Debian package }',
    ]);
    assert.deepEqual(parseRequiredTools('tgtd').problems, ['expected an object { <method>: [{ tool, package, purpose? }] }']);
    await assert.rejects(checkTools('iscsi_ilo', tools.iscsi_ilo ?? []), {
      code: 'missing-tool',
      message: 'iscsi_ilo cannot run on this machine: tgtd-not-here is not installed here (the simulated DIB ramdisk exports its disk with it); install the Debian package tgt',
    });
    await checkTools('pxe_ilo', tools.pxe_ilo ?? []);
  });
});
