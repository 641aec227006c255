import { createHash } from 'node:crypto';
import type { UserDocument, UserModel } from '../../models/user';
import type { Caller } from './caller';
import type { Clock } from '../clock';
import { UnauthorizedError } from '../errors';
import { numberSetting, SETTING_DEFAULTS, type SettingsSource } from '../settings';

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

export interface LoginTokenAuthenticatorPorts {
  users: UserModel;
  settings: SettingsSource;
  clock: Clock;
}

/** X-User-Id + X-Auth-Token against users.services.resume.loginTokens, refusing expired tokens. */
export class LoginTokenAuthenticator implements Authenticator {
  constructor(private readonly ports: LoginTokenAuthenticatorPorts) {}

  async authenticate({ userId, authToken }: Credentials): Promise<Caller> {
    if (!isPlausible(userId) || !isPlausible(authToken)) throw new UnauthorizedError();
    const hashedToken = hashLoginToken(authToken);
    // By _id alone (the one lookup every MongoDB-wire server serves from an index); `active` and the
    // token are checked here, and every failure gives the same answer.
    const user = await this.ports.users
      .findOne({ _id: userId }, { active: 1, username: 1, roles: 1, 'services.resume.loginTokens': 1 })
      .lean<UserDocument>()
      .exec();
    if (!user || user.active !== true) throw new UnauthorizedError();

    const token = user.services?.resume?.loginTokens?.find(
      (candidate) => candidate.hashedToken === hashedToken,
    );
    if (!token) throw new UnauthorizedError();
    // As in the chat server, personal access tokens do not expire by Accounts_LoginExpiration.
    if (token.type !== PERSONAL_ACCESS_TOKEN) {
      const issuedAt = token.when ? new Date(token.when).getTime() : Number.NaN;
      if (!Number.isFinite(issuedAt)) throw new UnauthorizedError();
      const settings = await this.ports.settings.current();
      const days =
        numberSetting(settings.Accounts_LoginExpiration) ?? SETTING_DEFAULTS.Accounts_LoginExpiration;
      if (this.ports.clock.now() - issuedAt > days * DAY_MS) throw new UnauthorizedError();
    }

    return { _id: user._id, username: user.username ?? '', roles: user.roles ?? [] };
  }
}

function isPlausible(value: string | undefined): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_HEADER_LENGTH;
}
