/**
 * A deploy that cannot work is refused before the first step touches the
 * server: a bad image reference (naming the field), a tool this machine
 * lacks (naming it and its package). Nothing is recorded, the server is
 * not claimed, and other deploys go on.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildIso } from '../../lib/media/iso/writer';
import { makeImage, startLab, type Lab } from '../helpers/deploy-lab';

describe('deploy preflight against the simulated fleet', () => {
  let lab: Lab;
  let deployIso: string;
  before(async () => {
    lab = await startLab({ servers: 2 });
    const iso = await buildIso({ volumeId: 'DEPLOY', files: [{ path: 'README', data: Buffer.from('deploy ramdisk') }] });
    deployIso = join(lab.dir, 'deploy.iso');
    await iso.writeToFile(deployIso);
  });
  after(async () => lab?.stop());

  test('a bad image reference is refused naming its field, before the server is touched: outside the allowed directories, missing, unreadable, junk, another scheme', async () => {
    const ilo = lab.fleet.ilos[0]!;
    const before = ilo.server.powerState;
    mkdirSync(join(lab.dir, 'locked'), { recursive: true });
    writeFileSync(join(lab.dir, 'locked', 'secret.img'), 'x', { mode: 0o000 });
    const cases: Array<[string, string, RegExp]> = [
      ['image', '../../etc/passwd', /^image: expected an http\(s\) URL, an absolute file path, swift:container\/object or glance:<id>/],
      ['image', '/etc/passwd', /^image: \/etc\/passwd is outside the directories images may be read from$/],
      ['image', join(lab.dir, 'missing.img'), /^image: cannot read .*missing\.img \(ENOENT\)$/],
      ['image', 'x'.repeat(2 * 1024 * 1024), /^image: expected .*\(got "x{40,60}…"\)$/],
      ['image', 'ftp://images.example/disk.img', /^image: expected an http\(s\) URL/],
      ['image', lab.dir, /^image: expected a regular file/],
      ['deployIso', join(lab.dir, 'no-such.iso'), /^deployIso: cannot read/],
    ];
    if (process.getuid?.() !== 0) cases.push(['image', join(lab.dir, 'locked', 'secret.img'), /^image: cannot open/]);
    for (const [field, ref, message] of cases) {
      const request = field === 'image' ? { method: 'agent_ilo' as const, image: ref, deployIso } : { method: 'agent_ilo' as const, image: makeImage(lab.dir, 'ok.img').path, deployIso: ref };
      await assert.rejects(lab.deploy(ilo, request), (err: Error & { code?: string; field?: string }) => {
        assert.equal(err.code, 'invalid-input', `${ref.slice(0, 40)}: ${err.message.slice(0, 200)}`);
        assert.equal(err.field, field);
        assert.match(err.message, message);
        assert.ok(err.message.length < 300, 'a junk value is not repeated');
        return true;
      });
    }
    assert.deepEqual(await lab.engine.list(), [], 'nothing was started or recorded');
    assert.equal(ilo.server.powerState, before, 'the server was not touched');
    // The server is free: a good request goes through.
    const ok = await lab.deploy(ilo, { method: 'agent_ilo', image: makeImage(lab.dir, 'good.img').path, deployIso });
    assert.equal((await lab.engine.wait(ok.deployId)).state, 'active');
  });

  test('a tool this machine lacks refuses the deploy up front, naming it and its package; the server stays free and other deploys go on', async () => {
    const ilo = lab.fleet.ilos[1]!;
    const path = process.env.PATH;
    process.env.PATH = join(lab.dir, 'no-tools-here');
    try {
      await assert.rejects(lab.deploy(ilo, { method: 'iscsi_ilo', image: makeImage(lab.dir, 'iscsi.img').path, deployIso }), {
        code: 'missing-tool',
        message: /^iscsi_ilo cannot run on this machine: qemu-img is not installed here .*install the Debian package qemu-utils$/,
      });
    } finally {
      process.env.PATH = path;
    }
    assert.equal(await lab.engine.status(`${ilo.host}:${ilo.port}`), undefined, 'nothing recorded for the server');
    const other = await lab.deploy(ilo, { method: 'agent_ilo', image: makeImage(lab.dir, 'agent.img').path, deployIso });
    assert.equal((await lab.engine.wait(other.deployId)).state, 'active');
  });
});
