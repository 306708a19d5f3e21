/**
 * A throwaway certificate for the fake's HTTPS listener (127.0.0.1 and localhost), made at start with `selfsigned`.
 * TLS is on by default because kubectl (client-go) never sends a bearer token over plain HTTP.
 */
import { generate } from 'selfsigned';

export interface ServingCertificate {
  key: string;
  cert: string;
}

export async function servingCertificate(): Promise<ServingCertificate> {
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: 'fake-kubernetes' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + 7 * 24 * 3600_000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
