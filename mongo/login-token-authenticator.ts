import type { Clock } from '../lib/clock';
import { UnauthorizedError } from '../lib/errors';
import type { Caller } from '../lib/access/caller';
import {
  hashLoginToken,
  isPlausibleCredential,
  loginTokenAccepted,
  type Authenticator,
  type Credentials,
} from '../lib/access/authenticator';
import type { SettingsSource } from '../lib/settings';
import type { UserDocument, UserModel } from '../models/user';

export interface LoginTokenAuthenticatorPorts {
  users: UserModel;
  settings: SettingsSource;
  clock: Clock;
}

/** X-User-Id + X-Auth-Token against users.services.resume.loginTokens, refusing expired tokens. */
export class LoginTokenAuthenticator implements Authenticator {
  constructor(private readonly ports: LoginTokenAuthenticatorPorts) {}

  async authenticate({ userId, authToken }: Credentials): Promise<Caller> {
    if (!isPlausibleCredential(userId) || !isPlausibleCredential(authToken)) throw new UnauthorizedError();
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
    if (!loginTokenAccepted(token, await this.ports.settings.current(), this.ports.clock.now()))
      throw new UnauthorizedError();
    return { _id: user._id, username: user.username ?? '', roles: user.roles ?? [] };
  }
}
