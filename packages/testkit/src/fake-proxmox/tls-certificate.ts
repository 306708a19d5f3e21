/** A fresh self-signed certificate for the fake's HTTPS listener (like a PVE node's pve-ssl.pem before ACME). */
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';

export interface SelfSignedCertificate {
  cert: string;
  key: string;
  /** SHA-256 of the DER certificate, colon-separated upper-case hex, as the PVE web UI shows it. */
  fingerprint256: string;
}

export async function createSelfSignedCertificate(commonName: string): Promise<SelfSignedCertificate> {
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] }],
  });
  return { cert: pems.cert, key: pems.private, fingerprint256: new X509Certificate(pems.cert).fingerprint256 };
}
