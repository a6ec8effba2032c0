/**
 * Certificates for the simulated fleet: one fleet CA and one leaf per iLO,
 * generated locally (no network). EC P-256 keeps generation fast.
 */
import { X509Certificate } from 'node:crypto';
import selfsigned from 'selfsigned';

export interface CertPair {
  key: string;
  cert: string;
  /** SHA-256 fingerprint as colon-separated upper-case hex (what Node reports). */
  fingerprint256: string;
}

export interface FleetCa extends CertPair {
  issue(name: string, hosts?: string[]): Promise<CertPair>;
}

const YEAR_MS = 365 * 24 * 3600 * 1000;

export async function createFleetCa(label = 'iLO simulator fleet CA'): Promise<FleetCa> {
  const now = new Date(Date.now() - 3600_000);
  const ca = await selfsigned.generate([{ name: 'commonName', value: label }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: now,
    notAfterDate: new Date(now.getTime() + 5 * YEAR_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const caPair = { key: ca.private, cert: ca.cert, fingerprint256: fingerprintOf(ca.cert) };
  return {
    ...caPair,
    async issue(name: string, hosts: string[] = ['127.0.0.1', 'localhost']): Promise<CertPair> {
      const altNames = hosts.map((h) =>
        /^[0-9.]+$/.test(h) || h.includes(':') ? { type: 7 as const, ip: h } : { type: 2 as const, value: h },
      );
      const leaf = await selfsigned.generate([{ name: 'commonName', value: name }], {
        keyType: 'ec',
        curve: 'P-256',
        algorithm: 'sha256',
        notBeforeDate: now,
        notAfterDate: new Date(now.getTime() + 2 * YEAR_MS),
        ca: { key: caPair.key, cert: caPair.cert },
        extensions: [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
          { name: 'extKeyUsage', serverAuth: true },
          { name: 'subjectAltName', altNames },
        ],
      });
      return { key: leaf.private, cert: leaf.cert, fingerprint256: fingerprintOf(leaf.cert) };
    },
  };
}

export function fingerprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}
