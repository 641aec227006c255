import type { Authenticator } from '../../lib/access/authenticator';
import { DatabaseUnavailableError, TooManyRequestsError, UnauthorizedError } from '../../lib/errors';
import { LoginGate } from '../../lib/access/login-gate';
import { memoryRateLimit } from '../../lib/access/rate-limit';
import { ManualClock } from '../helpers/host';

const ADMIN = { userId: 'admin', authToken: 'right' };

/** An authenticator that knows one token, or fails as a database that cannot be reached. */
function fakeAuthenticator(state: { databaseDown: boolean }): Authenticator {
  return {
    authenticate: async ({ userId, authToken }) => {
      if (state.databaseDown)
        throw Object.assign(new Error('no server'), { name: 'MongoServerSelectionError' });
      if (userId === ADMIN.userId && authToken === ADMIN.authToken)
        return { _id: 'admin', username: 'root', roles: [] };
      throw new UnauthorizedError();
    },
  };
}

describe('LoginGate', () => {
  it('tells only a caller who logged in recently with these credentials that the database is down', async () => {
    const state = { databaseDown: false };
    const clock = new ManualClock();
    const gate = new LoginGate({ authenticator: fakeAuthenticator(state), clock });
    await gate.admit('10.0.0.1', ADMIN);
    state.databaseDown = true;
    await expect(gate.admit('10.0.0.1', ADMIN)).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await expect(gate.admit('10.0.0.1', { ...ADMIN, authToken: 'wrong' })).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    await expect(gate.admit('10.0.0.1', { userId: undefined, authToken: undefined })).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    clock.advance(11 * 60_000);
    await expect(gate.admit('10.0.0.1', ADMIN)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('answers 401 to everyone while the connection reports the database down, 503 to a known caller', async () => {
    const clock = new ManualClock();
    let ready = true;
    const gate = new LoginGate({
      authenticator: fakeAuthenticator({ databaseDown: false }),
      clock,
      databaseReady: () => ready,
    });
    await gate.admit('10.0.0.1', ADMIN);
    ready = false;
    await expect(gate.admit('10.0.0.2', ADMIN)).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await expect(gate.admit('10.0.0.2', { userId: 'x', authToken: 'y' })).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
  });

  it('locks a named user out from one address only, and never for others at that address', async () => {
    const clock = new ManualClock();
    const gate = new LoginGate({
      authenticator: fakeAuthenticator({ databaseDown: false }),
      clock,
      failedPerUser: memoryRateLimit({ limit: 2, windowMs: 60_000 }),
      failedPerAddress: memoryRateLimit({ limit: 100, windowMs: 60_000 }),
    });
    for (let attempt = 0; attempt < 2; attempt += 1)
      await expect(gate.admit('nat', { userId: 'bot', authToken: 'stale' })).rejects.toBeInstanceOf(
        UnauthorizedError,
      );
    await expect(gate.admit('nat', { userId: 'bot', authToken: 'stale' })).rejects.toBeInstanceOf(
      TooManyRequestsError,
    );
    await expect(gate.admit('nat', ADMIN)).resolves.toMatchObject({ _id: 'admin' });
    await expect(gate.admit('elsewhere', { userId: 'bot', authToken: 'stale' })).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
  });
});
