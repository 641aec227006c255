import type { Connection } from 'mongoose';
import type { RevocationLedger } from '../../lib/jobs/revocation-ledger';
import { createModels, ensureIndexes } from '../../models';
import { MongoRevocationLedger } from '../../mongo/mongo-revocation-ledger';
import { closeTestDatabase, openTestDatabase } from '../helpers/database';
import { MemoryRevocationLedger } from '../helpers/memory-revocation-ledger';

const at = (minute: number) => new Date(Date.UTC(2026, 11, 6, 12, minute));

/** The same cases against the MongoDB adapter and the in-memory ledger, so the fake cannot drift. */
describe.each([
  ['in memory', async () => ({ ledger: new MemoryRevocationLedger(), close: async () => {} })],
  [
    'on MongoDB',
    async () => {
      const connection: Connection = await openTestDatabase();
      const models = createModels(connection);
      await ensureIndexes(models);
      return {
        ledger: new MongoRevocationLedger(models.revocationEntries) as RevocationLedger,
        close: () => closeTestDatabase(connection),
      };
    },
  ],
])('the guard window’s ledger %s', (_name, makeFixture) => {
  let fixture: { ledger: RevocationLedger; close(): Promise<void> };
  beforeEach(async () => {
    fixture = await makeFixture();
  });
  afterEach(() => fixture.close());

  const ids = (first: number, count: number) =>
    Array.from({ length: count }, (_, index) => `u-${first + index}`);
  const count = async (ledger: RevocationLedger, since: Date, exceptId?: string) =>
    (await ledger.usersSince(since, exceptId)).size;

  it('names each user of the entries made since a time once, leaving one entry out on request', async () => {
    const { ledger } = fixture;
    expect(await count(ledger, at(0))).toBe(0);
    await ledger.enter({ id: 'feed:a', userIds: ids(0, 5), at: at(10) });
    await ledger.enter({ id: 'feed:b', userIds: ids(3, 7), at: at(20) });
    await ledger.enter({ id: 'run:c', userIds: ids(100, 11), at: at(30) });
    expect(await count(ledger, at(0))).toBe(21);
    expect(await count(ledger, at(20))).toBe(18);
    expect(await count(ledger, at(20), 'run:c')).toBe(7);
    expect(await count(ledger, at(31))).toBe(0);
    expect([...(await ledger.usersSince(at(11), 'run:c'))].sort()).toEqual(ids(3, 7).sort());
  });

  it('replaces an entry entered again under its id, and removes and forgets entries', async () => {
    const { ledger } = fixture;
    await ledger.enter({ id: 'run:a', userIds: ids(0, 5), at: at(10) });
    await ledger.enter({ id: 'run:a', userIds: ids(10, 6), at: at(11) });
    await ledger.enter({ id: 'feed:b', userIds: ids(50, 1), at: at(20) });
    expect(await count(ledger, at(0))).toBe(7);
    await ledger.remove('feed:b');
    await ledger.remove('feed:gone');
    expect(await count(ledger, at(0))).toBe(6);
    await ledger.enter({ id: 'feed:c', userIds: ids(60, 2), at: at(30) });
    await ledger.forgetBefore(at(30));
    expect(await count(ledger, at(0))).toBe(2);
  });

  it('keeps an entry of 25,000 users whole', async () => {
    const { ledger } = fixture;
    await ledger.enter({ id: 'run:large', userIds: ids(0, 25_000), at: at(10) });
    expect(await count(ledger, at(0))).toBe(25_000);
    await ledger.enter({ id: 'run:large', userIds: ids(0, 3), at: at(10) });
    expect(await count(ledger, at(0))).toBe(3);
  });
});
