import { randomBytes } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import { testServers } from '../../../harness/test-servers';
import { createModels, ensureIndexes, type Models } from '../../../models';
import { MongoFeedStore } from '../../../mongo/mongo-feed-store';

// The users a changed group may have reached, found in MongoDB by the group's DN: from an index, as the
// directory spells the DN and in lower case, never by a scan of every user.

const GROUP = 'cn=Engineering,ou=groups,dc=example,dc=org';

describe('the holders of a group’s DN (MongoDB adapter)', () => {
  let connection: Connection;
  let models: Models;
  const filters: object[] = [];

  beforeAll(async () => {
    connection = await mongoose
      .createConnection(testServers().mongo.uri, {
        dbName: `t_feed_holders_${randomBytes(4).toString('hex')}`,
        monitorCommands: true,
      })
      .asPromise();
    models = createModels(connection);
    await ensureIndexes(models);
    const holding = (values: string[]) => [{ key: 'groups', values }];
    await models.users.create([
      { _id: 'u-as-read', username: 'a', active: true, abacAttributes: holding([GROUP]) },
      { _id: 'u-lower', username: 'b', active: true, abacAttributes: holding([GROUP.toLowerCase()]) },
      { _id: 'u-inactive', username: 'c', active: false, abacAttributes: holding([GROUP]) },
      { _id: 'u-other', username: 'd', active: true, abacAttributes: holding([`cn=sales,${GROUP}`]) },
      { _id: 'u-none', username: 'e', active: true },
    ]);
    connection.getClient().on('commandStarted', (event) => {
      if (event.commandName === 'find' && event.command.find === 'users') filters.push(event.command.filter);
    });
  });
  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  it('finds the active users holding the DN as read or in lower case, with one indexed query', async () => {
    const holders = await new MongoFeedStore(models).usersHoldingValue(GROUP);
    expect(holders.sort()).toEqual(['u-as-read', 'u-lower']);
    expect(filters).toEqual([
      { 'abacAttributes.values': { $in: [GROUP, GROUP.toLowerCase()] }, active: true },
    ]);
    const indexes = await models.users.collection.indexes();
    expect(indexes.map((index) => index.key)).toContainEqual({ 'abacAttributes.values': 1 });
  });
});
