/**
 * The certificate a simulated ironic-python-agent generates for its
 * automatic TLS, shaped as the real agent's (ironic_python_agent.tls_utils):
 * self-signed, an EC key (P-384, IPA's default curve), the host name as the
 * only subject attribute (CN), the advertised IP address as a critical
 * subjectAltName and nothing else, SHA-512 signature, valid from an hour
 * back (IPA's allowed clock skew) for 30 days.
 */
import selfsigned from 'selfsigned';

export interface AgentCertificate {
  /** PEM, as sent in the heartbeat's agent_verify_ca. */
  cert: string;
  key: string;
}

const HOUR_MS = 3600_000;

export async function generateAgentCertificate(address: string, hostName: string): Promise<AgentCertificate> {
  const from = new Date(Date.now() - HOUR_MS);
  const pems = await selfsigned.generate([{ name: 'commonName', value: hostName }], {
    keyType: 'ec',
    curve: 'P-384',
    algorithm: 'sha512',
    notBeforeDate: from,
    notAfterDate: new Date(from.getTime() + HOUR_MS + 30 * 24 * HOUR_MS),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: address }], critical: true }],
  });
  return { cert: pems.cert, key: pems.private };
}
