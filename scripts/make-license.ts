// Makes an Ed25519 key pair (unless --key names an existing private key) and prints a signed license.
// Usage: npm run make-license -- [--key private.pem] [--out-dir DIR] [--licensee NAME] [--days N] [--modules a,b]
import { createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateLicenseKeys, signLicense } from '../lib/access/license';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

const keyFile = option('key', '');
const privateKeyPem = keyFile ? readFileSync(keyFile, 'utf8') : generateLicenseKeys().privateKeyPem;
const publicKeyPem = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
const days = Number(option('days', '365'));
const now = Date.now();
const license = signLicense(
  {
    licensee: option('licensee', 'Example Org'),
    modules: option('modules', 'abac,ldap-enterprise').split(','),
    validFrom: new Date(now).toISOString(),
    validUntil: new Date(now + days * 24 * 60 * 60 * 1000).toISOString(),
  },
  privateKeyPem,
);
const outDir = option('out-dir', '');
if (outDir) {
  if (!keyFile) writeFileSync(join(outDir, 'license-private.pem'), privateKeyPem, { mode: 0o600 });
  writeFileSync(join(outDir, 'license-public.pem'), publicKeyPem);
  writeFileSync(join(outDir, 'license.txt'), `${license}\n`);
}
process.stdout.write(`${publicKeyPem}\n${license}\n`);
