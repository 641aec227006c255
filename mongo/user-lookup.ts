import { escapeRegExp } from '../lib/escape-regexp';
import type { UserDocument, UserModel } from '../models/user';
import { IDENTIFIER_LISTS, type IdentifierList, type Identifiers } from '../lib/sync/sync-request';
import type { SubjectIdentifiers, SubjectLookup, SyncSubject } from '../lib/sync/sync-store';
import { inBatches } from './batches';

const PROJECTION = {
  active: 1,
  ldap: 1,
  username: 1,
  emails: 1,
  abacAttributes: 1,
  __rooms: 1,
  __abacAuditOutbox: 1,
  'services.ldap': 1,
} as const;

/**
 * Finds active users by id (exact), username and email (case-insensitive), and ldapId (hex,
 * case-insensitive). Each query names a single indexed field and `active` is checked here: a filter on one
 * indexed field is one that every MongoDB-wire server answers from its index. The values are first looked
 * up as given and in lower case; only those left over are retried case-insensitively, in one anchored regex
 * per field whose alternatives are escaped, so an identifier can only ever match itself.
 */
export async function findSubjects(users: UserModel, identifiers: Identifiers): Promise<SubjectLookup> {
  const found = new Map<string, UserDocument>();
  const query = async (
    field: 'username' | '_id' | 'email' | 'services.ldap.id',
    values: Array<string | RegExp>,
  ) => {
    if (values.length === 0) return;
    const condition = values.length === 1 ? values[0] : { $in: values };
    // 'emails.address' is the field of the (multikey) index, as chat servers query it.
    const filter = { [field === 'email' ? 'emails.address' : field]: condition };
    const documents = await users.find(filter, PROJECTION).lean<UserDocument[]>().exec();
    for (const document of documents) if (document.active === true) found.set(document._id, document);
  };
  // One query per field, answered from its index: each value as given and in lower case (how chat servers
  // usually store usernames and emails; hex ids in either case). Only what matches none of these is left
  // for the case-insensitive pass below, which no index answers.
  await Promise.all([
    query('_id', identifiers.ids ?? []),
    query('username', withCase(identifiers.usernames, lowerCase)),
    query('email', withCase(identifiers.emails, lowerCase)),
    query('services.ldap.id', withCase(identifiers.ldapIds, lowerCase, upperCase)),
  ]);

  const leftover = matchIdentifiers([...found.values()], identifiers);
  await Promise.all([
    query('username', anyIgnoringCase(leftover.usernames)),
    query('email', anyIgnoringCase(leftover.emails)),
    query('services.ldap.id', anyIgnoringCase(leftover.ldapIds)),
  ]);

  return {
    subjects: [...found.values()].map(toSubject),
    unmatched: matchIdentifiers([...found.values()], identifiers),
  };
}

const LDAP_SUBJECTS = { ldap: true, active: true } as const;

export function countLdapSubjects(users: UserModel): Promise<number> {
  return users.countDocuments(LDAP_SUBJECTS).exec();
}

/**
 * Active LDAP users in `_id` order after `afterUserId`, in batches. One cursor for the whole read: the
 * driver fetches a batch at a time, and a server sorts by the _id index once (a query per batch would
 * make a MongoDB-wire test server sort the collection again for each batch).
 */
export async function* ldapSubjects(
  users: UserModel,
  afterUserId: string | undefined,
  batchSize: number,
): AsyncGenerator<SyncSubject[]> {
  const filter = afterUserId === undefined ? LDAP_SUBJECTS : { ...LDAP_SUBJECTS, _id: { $gt: afterUserId } };
  const cursor = users.find(filter, PROJECTION).sort({ _id: 1 }).lean<UserDocument[]>().cursor({ batchSize });
  yield* inBatches(cursor, batchSize, (document) => toSubject(document as UserDocument));
}

/** The identifiers of active LDAP users, in batches (in `_id` order, as `ldapSubjects`). */
export async function* ldapSubjectIdentifiers(
  users: UserModel,
  batchSize: number,
): AsyncGenerator<SubjectIdentifiers[]> {
  const cursor = users
    .find(LDAP_SUBJECTS, { username: 1, 'services.ldap.id': 1, 'services.ldap.idAttribute': 1 })
    .sort({ _id: 1 })
    .lean<UserDocument[]>()
    .cursor({ batchSize });
  yield* inBatches(cursor, batchSize, (document) => ({
    _id: document._id,
    username: document.username ?? '',
    ldap: ldapIdentifierOf(document),
  }));
}

/** The attributes active LDAP users' identifiers are stored under, each once (one `distinct`). */
export async function ldapIdentifierAttributes(users: UserModel): Promise<string[]> {
  const names: unknown[] = await users.distinct('services.ldap.idAttribute', LDAP_SUBJECTS).exec();
  return names.filter((name): name is string => typeof name === 'string' && name !== '');
}

/** The identifiers of each list that none of the documents answers to. */
function matchIdentifiers(
  documents: UserDocument[],
  identifiers: Identifiers,
): Record<IdentifierList, string[]> {
  const ids = new Set(documents.map((document) => document._id));
  const usernames = new Set(documents.map((document) => document.username?.toLowerCase()));
  const emails = new Set(
    documents.flatMap((document) => (document.emails ?? []).map((e) => e.address?.toLowerCase())),
  );
  const ldapIds = new Set(documents.map((document) => document.services?.ldap?.id?.toLowerCase()));
  const known: Record<IdentifierList, (value: string) => boolean> = {
    ids: (value) => ids.has(value),
    usernames: (value) => usernames.has(value.toLowerCase()),
    emails: (value) => emails.has(value.toLowerCase()),
    ldapIds: (value) => ldapIds.has(value.toLowerCase()),
  };
  const unmatched = {} as Record<IdentifierList, string[]>;
  for (const list of IDENTIFIER_LISTS)
    unmatched[list] = (identifiers[list] ?? []).filter((v) => !known[list](v));
  return unmatched;
}

const lowerCase = (value: string) => value.toLowerCase();
const upperCase = (value: string) => value.toUpperCase();

/** The values as given and in the other cases, each once. */
function withCase(
  values: readonly string[] | undefined,
  ...cases: Array<(value: string) => string>
): string[] {
  return [...new Set((values ?? []).flatMap((value) => [value, ...cases.map((toCase) => toCase(value))]))];
}

/** One regex matching exactly one of the values, ignoring case (none when there are no values). */
function anyIgnoringCase(values: string[]): RegExp[] {
  if (values.length === 0) return [];
  return [new RegExp(`^(?:${values.map(escapeRegExp).join('|')})$`, 'i')];
}

function ldapIdentifierOf(document: UserDocument): SyncSubject['ldap'] {
  const ldap = document.services?.ldap;
  return ldap?.id ? { id: ldap.id, idAttribute: ldap.idAttribute || undefined } : undefined;
}

export function toSubject(document: UserDocument): SyncSubject {
  return {
    _id: document._id,
    username: document.username ?? '',
    emails: (document.emails ?? []).map((email) => email.address),
    storedAttributes: document.abacAttributes ?? [],
    rooms: document.__rooms ?? [],
    ldap: ldapIdentifierOf(document),
    fromLdap: document.ldap === true,
    outbox: document.__abacAuditOutbox,
    asStored: { attributes: document.abacAttributes, rooms: document.__rooms },
  };
}
