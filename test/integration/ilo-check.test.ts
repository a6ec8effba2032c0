/**
 * lib/bmc's "test connection" pieces against the simulated fleet, without
 * Node-RED: the certificate an iLO presents (read without sending
 * anything), and checkConnection, which logs in as the nodes would and
 * leaves no Redfish session behind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { checkConnection, fetchIloCertificate, formatFingerprint, isBmcError } from '../../lib/bmc';
import { Fleet, type SimIlo } from '../../sim/fleet';

let fleet: Fleet;

/** How a node would reach `ilo`: its address, account and the fleet CA. */
function config(ilo: SimIlo): { host: string; port: number; username: string; password: string; tls: { mode: 'ca'; ca: string } } {
  return { host: ilo.host, port: ilo.port, username: ilo.username, password: ilo.password, tls: { mode: 'ca', ca: fleet.ca.cert } };
}

before(async () => {
  fleet = await Fleet.start({ servers: 2, models: ['gen9', 'gen10'] });
});
after(async () => {
  await fleet?.stop();
});

describe('iLO connection check (lib/bmc)', () => {
  test('fetchIloCertificate: the fingerprint, names and expiry; trusted only with the right CA; no request sent', async () => {
    const ilo = fleet.ilos[0]!;
    const before = ilo.server.requests.total;
    const cert = await fetchIloCertificate({ host: ilo.host, port: ilo.port });
    assert.equal(cert.fingerprint256, formatFingerprint(ilo.fingerprint));
    assert.equal(cert.trusted, false);
    assert.match(cert.trustProblem ?? '', /UNABLE_TO_VERIFY_LEAF_SIGNATURE|self.signed|unable to verify/i);
    assert.match(cert.issuer, /CN=/);
    assert.ok(Date.parse(cert.validTo) > Date.now());
    assert.equal((await fetchIloCertificate({ host: ilo.host, port: ilo.port, ca: fleet.ca.cert })).trusted, true);
    assert.equal(ilo.server.requests.total, before, 'only a TLS handshake: no HTTP request reached the iLO');
  });

  test('checkConnection over RIBCL and Redfish (auto); the Redfish session is deleted afterwards', async () => {
    const gen9 = fleet.ilos[0]!;
    const gen10 = fleet.ilos[1]!;
    const ribcl = await checkConnection({ ...config(gen9), protocol: 'auto' });
    assert.equal(ribcl.protocol, 'ribcl');
    assert.equal(ribcl.generation, 'Gen9');
    assert.equal(ribcl.certificate?.fingerprint256, formatFingerprint(gen9.fingerprint));
    const redfish = await checkConnection({ ...config(gen10), protocol: 'auto' });
    assert.equal(redfish.protocol, 'redfish');
    assert.equal(redfish.powerState, gen10.server.powerState);
    assert.equal(gen10.server.sessions.size, 0, 'logged out');
  });

  test('a wrong password is a login error; a pin mismatch a connection error naming both fingerprints', async () => {
    const ilo = fleet.ilos[1]!;
    await assert.rejects(checkConnection({ ...config(ilo), password: 'nope-nope' }), (e: unknown) => isBmcError(e, 'login'));
    await assert.rejects(
      checkConnection({ ...config(ilo), tls: { mode: 'pinned', fingerprint: '00'.repeat(32) } }),
      (e: unknown) => isBmcError(e, 'connection') && e.message.includes(ilo.fingerprint.replace(/:/g, '').toUpperCase()),
    );
  });
});
