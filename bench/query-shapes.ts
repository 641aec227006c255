// How the server under test answers each query shape the lookups by identifier can send (W3's 100 values
// per list), next to what MongoDB does with the same shape.
import { performance } from 'node:perf_hooks';
import { generatedUid } from '../harness/fixtures';
import type { Models } from '../models';
import { emailOf, ldapIdOf, userId } from './data';

const ROUNDS = 5;
const range = (first: number, count: number) => Array.from({ length: count }, (_, offset) => first + offset);
const escape = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const anyIgnoringCase = (values: string[]) => new RegExp(`^(?:${values.map(escape).join('|')})$`, 'i');

export interface QueryShapeCost {
  shape: string;
  found: number;
  medianMs: number;
  /** What MongoDB does with it (the plan `explain` shows). */
  onMongoDb: string;
}

export async function measureQueryShapes(models: Models): Promise<QueryShapeCost[]> {
  const usernames = range(2000, 100).map(generatedUid);
  const emails = range(2100, 100).map(emailOf);
  const shapes: Array<{ shape: string; filter: object; onMongoDb: string }> = [
    {
      shape: '_id $in (ids)',
      filter: { _id: { $in: range(2050, 100).map(userId) } },
      onMongoDb: 'IXSCAN _id_, one point per value',
    },
    {
      shape: 'username $in, as given and lower-cased (usernames)',
      filter: { username: { $in: [...new Set(usernames.flatMap((u) => [u, u.toLowerCase()]))] } },
      onMongoDb: 'IXSCAN username_1, one point per value',
    },
    {
      shape: 'emails $elemMatch {address $in}',
      filter: { emails: { $elemMatch: { address: { $in: emails } } } },
      onMongoDb: 'IXSCAN emails.address_1 (multikey), one point per value; this server scans the collection',
    },
    {
      shape: "'emails.address' $in, as given and lower-cased (emails)",
      filter: { 'emails.address': { $in: [...new Set(emails.flatMap((e) => [e, e.toLowerCase()]))] } },
      onMongoDb: 'IXSCAN emails.address_1 (multikey), one point per value',
    },
    {
      shape: 'services.ldap.id $in, both hex cases (ldapIds)',
      filter: {
        'services.ldap.id': {
          $in: range(2150, 100).flatMap((i) => [ldapIdOf(i).toLowerCase(), ldapIdOf(i).toUpperCase()]),
        },
      },
      onMongoDb: 'IXSCAN services.ldap.id_1, one point per value (this server keeps no non-unique index)',
    },
    {
      shape: 'username, anchored case-insensitive regex (the leftover pass)',
      filter: { username: anyIgnoringCase(usernames) },
      onMongoDb: 'IXSCAN username_1 over every key, the regex on each key; no document fetched but the hits',
    },
    {
      shape: "'emails.address', anchored case-insensitive regex",
      filter: { 'emails.address': anyIgnoringCase(emails) },
      onMongoDb: 'IXSCAN emails.address_1 over every key, the regex on each key',
    },
  ];
  const costs: QueryShapeCost[] = [];
  for (const { shape, filter, onMongoDb } of shapes) {
    const times: number[] = [];
    let found = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      const started = performance.now();
      found = (await models.users.collection.find(filter as never, { projection: { _id: 1 } }).toArray())
        .length;
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    costs.push({ shape, found, medianMs: Math.round(times[Math.floor(ROUNDS / 2)]! * 10) / 10, onMongoDb });
  }
  return costs;
}
