import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './run';

export interface TestCertificates {
  caCertPath: string;
  caCertPem: string;
  serverCertPath: string;
  serverKeyPath: string;
}

export const LOOPBACK_NAMES = ['IP:127.0.0.1', 'DNS:localhost'];

/**
 * Makes a throw-away CA and a server certificate (EC P-256) for `serverNames` (subjectAltName entries;
 * 127.0.0.1 and localhost unless a test wants a certificate for another host), so every run trusts only
 * its own CA and a client without it must be refused.
 */
export async function makeTestCertificates(
  dir: string,
  commonName = 'abac-test-ca',
  serverNames: readonly string[] = LOOPBACK_NAMES,
): Promise<TestCertificates> {
  if (serverNames.some((name) => !/^(IP|DNS):[A-Za-z0-9.:-]+$/.test(name)))
    throw new Error(`unusable certificate names: ${serverNames.join(', ')}`);
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
    `printf 'subjectAltName=${serverNames.join(',')}\\nextendedKeyUsage=serverAuth\\n' > '${extFile}'`,
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
