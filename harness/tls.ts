import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './run';

export interface TestCertificates {
  caCertPath: string;
  caCertPem: string;
  serverCertPath: string;
  serverKeyPath: string;
}

/**
 * Makes a throw-away CA and a server certificate for 127.0.0.1/localhost (EC P-256), so every run trusts
 * only its own CA and a client without it must be refused.
 */
export async function makeTestCertificates(
  dir: string,
  commonName = 'abac-test-ca',
): Promise<TestCertificates> {
  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.crt');
  const serverKey = join(dir, 'server.key');
  const serverCsr = join(dir, 'server.csr');
  const serverCert = join(dir, 'server.crt');
  const extFile = join(dir, 'server.ext');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  await run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    caKey,
    '-out',
    caCert,
    '-days',
    '2',
    '-subj',
    `/CN=${commonName}`,
  ]);
  await run('openssl', ['req', ...ec, '-keyout', serverKey, '-out', serverCsr, '-subj', '/CN=localhost']);
  await run('sh', [
    '-c',
    `printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth\\n' > '${extFile}'`,
  ]);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    serverCsr,
    '-CA',
    caCert,
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-out',
    serverCert,
    '-days',
    '2',
    '-extfile',
    extFile,
  ]);
  return {
    caCertPath: caCert,
    caCertPem: await readFile(caCert, 'utf8'),
    serverCertPath: serverCert,
    serverKeyPath: serverKey,
  };
}
