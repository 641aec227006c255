import { randomBytes } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import { testServers } from '../../../harness/test-servers';
import { createModels, ensureIndexes, type Models } from '../../../models';
import { findSubjects } from '../../../mongo/user-lookup';

/** The users queries the lookup sent (filters only), as the driver reports them. */
function recordUserQueries(connection: Connection): object[] {
  const filters: object[] = [];
  connection.getClient().on('commandStarted', (event) => {
    if (event.commandName === 'find' && event.command.find === 'users') filters.push(event.command.filter);
  });
  return filters;
}

const hasRegex = (filter: object): boolean =>
  JSON.stringify(filter, (_key, value: unknown) => (value instanceof RegExp ? '$regex' : value)).includes(
    '$regex',
  );

describe('finding users by identifier (MongoDB adapter)', () => {
  let connection: Connection;
  let models: Models;
  let queries: object[];

  beforeAll(async () => {
    connection = await mongoose
      .createConnection(testServers().mongo.uri, {
        dbName: `t_user_lookup_${randomBytes(4).toString('hex')}`,
        monitorCommands: true,
      })
      .asPromise();
    models = createModels(connection);
    await ensureIndexes(models);
    await models.users.create([
      { _id: 'u-lower', username: 'dana', active: true, emails: [{ address: 'dana@example.org' }] },
      { _id: 'u-mixed', username: 'MixedCase', active: true, emails: [{ address: 'Mixed@Example.org' }] },
      { _id: 'u-hex', username: 'hex', active: true, services: { ldap: { id: 'a1b2', idAttribute: 'uid' } } },
    ]);
    queries = recordUserQueries(connection);
  });
  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });
  beforeEach(() => {
    queries.length = 0;
  });

  it('finds values stored in lower case from the index, one query per list, with no case-insensitive pass', async () => {
    const { subjects, unmatched } = await findSubjects(models.users, {
      usernames: ['DANA'],
      emails: ['Dana@Example.ORG'],
      ldapIds: ['A1B2'],
    });
    expect(subjects.map((subject) => subject._id).sort()).toEqual(['u-hex', 'u-lower']);
    expect(unmatched).toEqual({ ids: [], usernames: [], emails: [], ldapIds: [] });
    expect(queries).toHaveLength(3);
    expect(queries.filter(hasRegex)).toEqual([]);
  });

  it('leaves only what neither form matched to the case-insensitive pass, one query per field', async () => {
    const { subjects, unmatched } = await findSubjects(models.users, {
      usernames: ['mixedcase', 'dana', 'nobody'],
      emails: ['mixed@example.org'],
    });
    expect(subjects.map((subject) => subject._id).sort()).toEqual(['u-lower', 'u-mixed']);
    expect(unmatched).toEqual({ ids: [], usernames: ['nobody'], emails: [], ldapIds: [] });
    const regexQueries = queries.filter(hasRegex);
    expect(regexQueries).toHaveLength(2);
    // The case-insensitive pass names only the leftovers, never an identifier already found.
    expect(
      JSON.stringify(regexQueries, (_key, value: unknown) =>
        value instanceof RegExp ? value.source : value,
      ),
    ).not.toContain('dana');
  });
});
