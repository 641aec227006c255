import { createHash } from 'node:crypto';
import type { Authenticator, Credentials } from './authenticator';
import type { Caller } from './caller';
import type { Clock } from '../clock';
import { isDatabaseUnavailable } from '../database-errors';
import { DatabaseUnavailableError, UnauthorizedError } from '../errors';
import { refuseOverLimit, type RateDecision, type RateLimit } from './rate-limit';
import { RecentSet } from './recent-set';

export interface LoginGatePorts {
  authenticator: Authenticator;
  clock: Clock;
  /** Failed logins per client address and named user id; undefined: no limit. */
  failedPerUser?: RateLimit;
  /** Failed logins per client address, all user ids together (looser); undefined: no limit. */
  failedPerAddress?: RateLimit;
  /** False while the host's database connection is known to be down. */
  databaseReady?: () => boolean;
}

/**
 * How long a successful login is remembered: to tell a known caller that the database is down, and to let
 * a user in from an address over its failure limit.
 */
const REMEMBERED_MS = 10 * 60_000;
const REMEMBERED_MAX = 10_000;

/**
 * Authentication with its limits, in the order that tells a caller nothing before they are known:
 * - failed logins are limited per (address, named user): a guesser is stopped on that account from that
 *   address, and nobody else is affected;
 * - per address, more loosely, against sprays across many user ids; a user who logged in from that address
 *   within the last 10 minutes still gets in;
 * - while the database is down, only a caller who logged in recently with these very credentials is told
 *   503; anyone else gets the 401 they would get anyway.
 */
export class LoginGate {
  private readonly rememberedCredentials: RecentSet;
  private readonly rememberedLogins: RecentSet;

  constructor(private readonly ports: LoginGatePorts) {
    const options = { ttlMs: REMEMBERED_MS, maxKeys: REMEMBERED_MAX };
    this.rememberedCredentials = new RecentSet(options, ports.clock);
    this.rememberedLogins = new RecentSet(options, ports.clock);
  }

  async admit(address: string, credentials: Credentials): Promise<Caller> {
    const credentialsKey = fingerprint(credentials);
    const known = credentialsKey !== undefined && this.rememberedCredentials.has(credentialsKey);
    if (this.ports.databaseReady && !this.ports.databaseReady()) throw unavailableOr401(known);

    const pair = `${address}\u0000${credentials.userId ?? ''}`;
    // The limits are read while the caller is authenticated (one round trip, not three); nothing is said
    // about the credentials, and no failure is counted, when the limits refuse the caller.
    const authenticated = Promise.resolve()
      .then(() => this.ports.authenticator.authenticate(credentials))
      .then(
        (caller) => ({ caller }),
        (error: unknown) => ({ error }),
      );
    let overLimit: RateDecision | undefined;
    try {
      overLimit = await this.failureLimits(address, pair);
    } catch (error) {
      await authenticated;
      if (isDatabaseUnavailable(error)) throw unavailableOr401(known);
      throw error;
    }
    const outcome = await authenticated;
    refuseOverLimit(overLimit);

    if ('error' in outcome) {
      const { error } = outcome;
      if (error instanceof UnauthorizedError) await this.countFailure(address, pair);
      if (isDatabaseUnavailable(error)) throw unavailableOr401(known);
      throw error;
    }
    const { caller } = outcome;
    if (credentialsKey !== undefined) this.rememberedCredentials.add(credentialsKey);
    this.rememberedLogins.add(pair);
    return caller;
  }

  /** The first refusal of the two failure limits, if any. */
  private async failureLimits(address: string, pair: string): Promise<RateDecision | undefined> {
    const [perUser, perAddress] = await Promise.all([
      this.ports.failedPerUser?.check(pair),
      this.rememberedLogins.has(pair) ? undefined : this.ports.failedPerAddress?.check(address),
    ]);
    return perUser?.allowed === false ? perUser : perAddress;
  }

  /**
   * Counts a failed login against both limits. A count lost to a database fault only loosens the limit for
   * that moment; the caller gets the 401 either way.
   */
  private async countFailure(address: string, pair: string): Promise<void> {
    await Promise.allSettled([
      this.ports.failedPerUser?.take(pair),
      this.ports.failedPerAddress?.take(address),
    ]);
  }
}

function unavailableOr401(known: boolean) {
  return known ? new DatabaseUnavailableError('The database is unavailable') : new UnauthorizedError();
}

/** A hash of the credentials, so no token is kept in memory as it was sent. */
export function fingerprint({ userId, authToken }: Credentials): string | undefined {
  if (!userId || !authToken) return undefined;
  return createHash('sha256').update(`${userId}\u0000${authToken}`).digest('base64url');
}
