/**
 * agent_ilo with agent TLS, end to end against the simulated fleet: the
 * simulated ironic-python-agent does what the real one does from Ironic API
 * 1.68 (its own certificate, HTTPS, an https:// callback_url, the
 * certificate in its heartbeat as agent_verify_ca), and the engine trusts
 * exactly that certificate for it, across a restart too. Agents with their
 * own certificates need the operator's CA; with TLS required, an agent on
 * plain HTTP is refused.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DeployProcess } from '../../lib/deploy/step';
import type { DeployDeps } from '../../lib/deploy/processes';
import { buildIso } from '../../lib/media/iso/writer';
import { createFleetCa } from '../../sim/certs';
import type { SimIpa } from '../../sim/ramdisk/ipa';
import type { SimRamdisk } from '../../sim/ramdisk/boot';
import { makeImage, startLab, until, type Lab } from '../helpers/deploy-lab';

/** Resolves when `until()` is true, polling; rejects when the step is aborted (the engine stops). */
function held(until: () => boolean, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (signal.aborted) return reject(signal.reason);
      if (until()) return resolve();
      setTimeout(tick, 25);
    };
    tick();
  });
}

/** The agent of the ramdisk's next boot, once it has booted. */
function nextAgent(rd: SimRamdisk): () => SimIpa | undefined {
  let ipa: SimIpa | undefined;
  rd.once('ramdisk', () => (ipa = rd.ipa));
  return () => ipa;
}

describe('agent TLS in agent_ilo deploys (IPA automatic TLS, Ironic API 1.68)', () => {
  let lab: Lab;
  let deployIso: string;
  const warnings: string[] = [];
  /** The write-image step waits until this says go (to see heartbeats arrive meanwhile, or to restart in it). */
  const hold: { until?: () => boolean } = {};

  before(async () => {
    lab = await startLab({
      servers: 2,
      fleet: { models: ['gen9', 'gen10'] },
      requireAgentTls: true,
      log: { info: () => undefined, warn: (m) => warnings.push(m) },
      processes: (ps) => {
        const agent = ps.agent_ilo;
        const wrapped: DeployProcess<DeployDeps> = {
          ...agent,
          deploySteps: agent.deploySteps.map((s) =>
            s.name !== 'write-image'
              ? s
              : {
                  ...s,
                  async run(ctx) {
                    if (hold.until) await held(hold.until, ctx.signal);
                    return s.run(ctx);
                  },
                },
          ),
        };
        return { ...ps, agent_ilo: wrapped };
      },
    });
    const iso = await buildIso({ volumeId: 'DEPLOY', files: [{ path: 'isolinux/isolinux.cfg', data: Buffer.from('append boot_method=vmedia') }] });
    deployIso = join(lab.dir, 'deploy.iso');
    await iso.writeToFile(deployIso);
  });
  after(async () => lab?.stop());

  const undeploy = async (i: number): Promise<void> => {
    const ilo = lab.fleet.ilos[i]!;
    const s = await lab.engine.undeploy(`${ilo.host}:${ilo.port}`);
    assert.equal((await lab.engine.wait(s.deployId)).state, 'available');
  };

  test('the agent serves HTTPS with the certificate it generated for its address and sent in its heartbeat; the deploy completes (Gen9 RIBCL, Gen10 Redfish)', async () => {
    for (const i of [0, 1]) {
      const rd = lab.ramdisks[i]!;
      const agent = nextAgent(rd);
      const image = makeImage(lab.dir, `tls-${i}.img`);
      const started = await lab.deploy(lab.fleet.ilos[i]!, { method: 'agent_ilo', image: image.path, deployIso });
      const done = await lab.engine.wait(started.deployId);
      assert.equal(done.state, 'active', done.lastError);
      assert.equal(rd.written?.sha256, image.sha256, 'the agent wrote our image: prepare_image reached it over HTTPS');
      const ipa = agent();
      assert.ok(ipa?.generatedCert, 'the agent generated a certificate');
      assert.match(ipa.agentUrl, new RegExp(`^https://${rd.address.replace(/\./g, '\\.')}:\\d+$`));
      assert.equal(new X509Certificate(ipa.generatedCert.cert).subjectAltName, `IP Address:${rd.address}`);
      assert.equal(ipa.lastHeartbeatStatus, 202);
    }
    assert.deepEqual(warnings, []);
    await undeploy(0);
    await undeploy(1);
  });

  test('a later heartbeat with another certificate is refused (400, Ironic\'s message, logged); the deploy goes on with the pinned one', async () => {
    const rd = lab.ramdisks[0]!;
    rd.faults = { otherCertificate: true };
    const agent = nextAgent(rd);
    hold.until = () => agent()?.lastHeartbeatStatus === 400;
    try {
      const started = await lab.deploy(lab.fleet.ilos[0]!, { method: 'agent_ilo', image: makeImage(lab.dir, 'other-cert.img').path, deployIso });
      const done = await lab.engine.wait(started.deployId);
      assert.equal(done.state, 'active', done.lastError);
      assert.equal(agent()?.lastHeartbeatFault, 'Detected change in ramdisk provided "agent_verify_ca"');
      const line = warnings.find((w) => w.startsWith(`deploy ${started.deployId} (${lab.fleet.ilos[0]!.name}): heartbeat refused:`));
      assert.match(line ?? warnings.join(' | '), /its certificate \(agent_verify_ca, SHA-256 [0-9A-F:]+…\) is not the one its first heartbeat sent \(SHA-256 [0-9A-F:]+…\)/);
    } finally {
      hold.until = undefined;
      rd.faults = {};
      warnings.length = 0;
    }
    await undeploy(0);
  });

  test('an agent with its own certificate (no agent_verify_ca) signed by the operator\'s CA: trusted with the CA configured, a clear failure without', async () => {
    const rd = lab.ramdisks[1]!;
    const ca = await createFleetCa('operator agent CA');
    const leaf = await ca.issue('ipa-own', [rd.address]);
    rd.agentTls = { key: leaf.key, cert: leaf.cert };
    try {
      lab.settings.agentCa = ca.cert;
      const agent = nextAgent(rd);
      const ok = await lab.deploy(lab.fleet.ilos[1]!, { method: 'agent_ilo', image: makeImage(lab.dir, 'own-cert.img').path, deployIso });
      const done = await lab.engine.wait(ok.deployId);
      assert.equal(done.state, 'active', done.lastError);
      assert.match(agent()?.agentUrl ?? '', /^https:\/\//);
      assert.equal(agent()?.generatedCert, undefined, 'it sent no certificate of its own');
      await undeploy(1);

      lab.settings.agentCa = undefined;
      rd.written = undefined;
      const refused = await lab.deploy(lab.fleet.ilos[1]!, { method: 'agent_ilo', image: makeImage(lab.dir, 'own-cert-2.img').path, deployIso });
      const failed = await lab.engine.wait(refused.deployId);
      assert.equal(failed.state, 'deploy failed');
      assert.equal(failed.failedStep, 'write-image');
      assert.match(failed.lastError ?? '', /the agent at [\d.]+:\d+ is not trusted: it sent no certificate in its heartbeat \(agent_verify_ca\).*give the CA that signs the agents' certificates in settings\.js iloDeployAgentCa/);
      assert.deepEqual(failed.cleanup, { done: true, errors: [] });
      assert.equal(rd.written, undefined, 'nothing was written');
    } finally {
      lab.settings.agentCa = undefined;
      rd.agentTls = 'auto';
    }
  });

  test('with TLS required, an agent calling back over plain HTTP is refused (400, logged) and never used; the deploy times out and cleans up', async () => {
    const rd = lab.ramdisks[0]!;
    rd.agentTls = 'off';
    const timeout = lab.settings.callbackTimeoutMs;
    lab.settings.callbackTimeoutMs = 2000;
    try {
      const agent = nextAgent(rd);
      rd.written = undefined;
      const started = await lab.deploy(lab.fleet.ilos[0]!, { method: 'agent_ilo', image: makeImage(lab.dir, 'plain.img').path, deployIso });
      await until(() => agent()?.lastHeartbeatStatus === 400, 15_000, 'a refused heartbeat');
      assert.equal(agent()?.lastHeartbeatFault, 'TLS is required by configuration');
      assert.match(agent()?.agentUrl ?? '', /^http:\/\//);
      const done = await lab.engine.wait(started.deployId);
      assert.equal(done.state, 'deploy failed');
      assert.match(done.lastError ?? '', /no callback from the ramdisk/);
      assert.equal(rd.written, undefined);
      assert.ok(warnings.some((w) => w.startsWith(`deploy ${started.deployId}`) && /callback_url http:\/\/\S+ does not use TLS, and TLS is required/.test(w)), warnings.join(' | '));
    } finally {
      lab.settings.callbackTimeoutMs = timeout;
      rd.agentTls = 'auto';
      warnings.length = 0;
    }
  });

  test('Node-RED restarts while the agent writes: the certificate pinned before comes back with the deploy, commands reach the agent, another certificate is still refused', async () => {
    const rd = lab.ramdisks[1]!;
    rd.faults = { otherCertificate: true };
    const agent = nextAgent(rd);
    let restarted = false;
    // Before the restart the write waits for it; after, until the new engine has refused the other certificate.
    hold.until = () => restarted && warnings.some((w) => /heartbeat refused: its certificate/.test(w));
    try {
      const image = makeImage(lab.dir, 'restart-tls.img');
      const started = await lab.deploy(lab.fleet.ilos[1]!, { method: 'agent_ilo', image: image.path, deployIso });
      await until(async () => (await lab.engine.status(started.deployId))?.step === 'write-image', 15_000, 'the write step');
      const pinned = agent()?.generatedCert?.cert;
      assert.ok(pinned);
      const { resumed } = await lab.restartEngine();
      assert.deepEqual(resumed, [started.deployId]);
      warnings.length = 0;
      restarted = true;
      const done = await lab.engine.wait(started.deployId);
      assert.equal(done.state, 'active', done.lastError);
      assert.equal(rd.written?.sha256, image.sha256);
      assert.equal(agent()?.generatedCert?.cert, pinned, 'the same agent, still serving its first certificate');
    } finally {
      hold.until = undefined;
      rd.faults = {};
    }
  });
});
