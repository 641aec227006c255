import { createHash } from 'node:crypto';
import type { Caller } from './caller';
import { numberSetting, SETTING_DEFAULTS, type SettingsSnapshot } from '../settings';

export interface Credentials {
  userId: string | undefined;
  authToken: string | undefined;
}

/** Who is calling. A host with its own session system supplies its own implementation. */
export interface Authenticator {
  /** Resolves the caller or rejects with UnauthorizedError. */
  authenticate(credentials: Credentials): Promise<Caller>;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const PERSONAL_ACCESS_TOKEN = 'personalAccessToken';
const MAX_HEADER_LENGTH = 512;

/** Rocket.Chat stores login tokens as base64(sha256(token)). */
export function hashLoginToken(token: string): string {
  return createHash('sha256').update(token).digest('base64');
}

/** A stored login token, as far as deciding whether it still signs its user in goes. */
export interface StoredLoginToken {
  type?: string;
  /** When it was issued. */
  when?: Date | string;
}

/**
 * Whether a stored token still signs its user in at `now`: a personal access token always (as in the
 * chat server, Accounts_LoginExpiration does not apply to them), a login token until it is
 * Accounts_LoginExpiration days old, and never one without a readable issue time.
 */
export function loginTokenAccepted(
  token: StoredLoginToken,
  settings: SettingsSnapshot,
  now: number,
): boolean {
  if (token.type === PERSONAL_ACCESS_TOKEN) return true;
  const issuedAt = token.when ? new Date(token.when).getTime() : Number.NaN;
  if (!Number.isFinite(issuedAt)) return false;
  const days = numberSetting(settings.Accounts_LoginExpiration) ?? SETTING_DEFAULTS.Accounts_LoginExpiration;
  return now - issuedAt <= days * DAY_MS;
}

/** A header value worth looking up: present, and no longer than any real id or token. */
export function isPlausibleCredential(value: string | undefined): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_HEADER_LENGTH;
}
