import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../clock';

/** The modules this endpoint needs, as Rocket.Chat names them. */
export const REQUIRED_LICENSE_MODULES = ['abac', 'ldap-enterprise'] as const;

/** Whether the deployment is licensed for modules. A host with its own licensing supplies its own. */
export interface LicensePort {
  hasModules(modules: readonly string[]): Promise<boolean>;
}

const licensePayloadSchema = z.strictObject({
  licensee: z.string().min(1),
  modules: z.array(z.string().min(1)),
  validFrom: z.iso.datetime({ offset: true }),
  validUntil: z.iso.datetime({ offset: true }),
});

export type LicensePayload = z.infer<typeof licensePayloadSchema>;

export type LicenseStatus =
  | { valid: true; payload: LicensePayload }
  | { valid: false; reason: 'malformed' | 'bad-signature' | 'invalid-payload' };

/**
 * A license is `base64url(JSON payload) + "." + base64url(Ed25519 signature of those payload bytes)`.
 * The signature and payload are checked once; the validity window on every call.
 */
export class SignedLicense implements LicensePort {
  readonly status: LicenseStatus;

  constructor(
    license: string,
    publicKey: string | KeyObject,
    private readonly clock: Clock,
  ) {
    this.status = verifyLicense(
      license,
      typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey,
    );
  }

  async hasModules(modules: readonly string[]): Promise<boolean> {
    if (!this.status.valid) return false;
    const { payload } = this.status;
    const now = this.clock.now();
    if (now < Date.parse(payload.validFrom) || now > Date.parse(payload.validUntil)) return false;
    return modules.every((module) => payload.modules.includes(module));
  }
}

function verifyLicense(license: string, publicKey: KeyObject): LicenseStatus {
  const parts = license.trim().split('.');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return { valid: false, reason: 'malformed' };
  const payloadBytes = Buffer.from(parts[0], 'base64url');
  const signature = Buffer.from(parts[1], 'base64url');
  let signatureValid: boolean;
  try {
    signatureValid = verify(null, payloadBytes, publicKey, signature);
  } catch {
    return { valid: false, reason: 'bad-signature' };
  }
  if (!signatureValid) return { valid: false, reason: 'bad-signature' };
  let json: unknown;
  try {
    json = JSON.parse(payloadBytes.toString('utf8'));
  } catch {
    return { valid: false, reason: 'invalid-payload' };
  }
  const parsed = licensePayloadSchema.safeParse(json);
  return parsed.success ? { valid: true, payload: parsed.data } : { valid: false, reason: 'invalid-payload' };
}

export function signLicense(payload: LicensePayload, privateKey: string | KeyObject): string {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const payloadBytes = Buffer.from(JSON.stringify(payload), 'utf8');
  return `${payloadBytes.toString('base64url')}.${sign(null, payloadBytes, key).toString('base64url')}`;
}

export function generateLicenseKeys(): { publicKeyPem: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
