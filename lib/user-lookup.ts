import type { AbacAttribute, UserDocument, UserModel } from '../models/user';
import { IDENTIFIER_LISTS, type IdentifierList, type Identifiers } from './sync-request';

/** A user as the sync needs it; read once, compared against when writing. */
export interface SyncSubject {
  _id: string;
  username: string;
  emails: string[];
  /** Exactly as stored (undefined when absent), so a conditional write can match it. */
  storedAttributes: AbacAttribute[] | undefined;
  rooms: string[];
  ldap: { id: string; idAttribute: string } | undefined;
}

export interface UserLookupResult {
  subjects: SyncSubject[];
  unmatched: Record<IdentifierList, string[]>;
}

const PROJECTION = { username: 1, emails: 1, abacAttributes: 1, __rooms: 1, 'services.ldap': 1 } as const;

/**
 * Finds active users by id (exact), username and email (case-insensitive), and ldapId (hex,
 * case-insensitive). Exact matches use the indexes; only identifiers left over are retried
 * case-insensitively, with the input escaped so it can only ever match itself.
 */
export async function findSubjects(users: UserModel, identifiers: Identifiers): Promise<UserLookupResult> {
  const ids = identifiers.ids ?? [];
  const usernames = identifiers.usernames ?? [];
  const emails = identifiers.emails ?? [];
  const ldapIds = identifiers.ldapIds ?? [];

  const exactClauses: object[] = [];
  if (ids.length) exactClauses.push({ _id: { $in: ids } });
  if (usernames.length) exactClauses.push({ username: { $in: usernames } });
  if (emails.length) exactClauses.push({ 'emails.address': { $in: emails } });
  if (ldapIds.length) {
    const variants = ldapIds.flatMap((id) => [id.toLowerCase(), id.toUpperCase()]);
    exactClauses.push({ 'services.ldap.id': { $in: [...new Set(variants)] } });
  }
  const found = new Map<string, UserDocument>();
  const query = async (clauses: object[]) => {
    if (clauses.length === 0) return;
    const documents = await users
      .find({ active: true, $or: clauses }, PROJECTION)
      .lean<UserDocument[]>()
      .exec();
    for (const document of documents) found.set(document._id, document);
  };
  await query(exactClauses);

  const leftover = matchIdentifiers([...found.values()], identifiers);
  const caseClauses: object[] = [];
  if (leftover.usernames.length)
    caseClauses.push({ username: { $in: leftover.usernames.map(exactIgnoringCase) } });
  if (leftover.emails.length)
    caseClauses.push({ 'emails.address': { $in: leftover.emails.map(exactIgnoringCase) } });
  if (leftover.ldapIds.length) {
    caseClauses.push({ 'services.ldap.id': { $in: leftover.ldapIds.map(exactIgnoringCase) } });
  }
  await query(caseClauses);

  return {
    subjects: [...found.values()].map(toSubject),
    unmatched: matchIdentifiers([...found.values()], identifiers),
  };
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

function exactIgnoringCase(value: string): RegExp {
  return new RegExp(`^${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'i');
}

function toSubject(document: UserDocument): SyncSubject {
  const ldap = document.services?.ldap;
  return {
    _id: document._id,
    username: document.username ?? '',
    emails: (document.emails ?? []).map((email) => email.address),
    storedAttributes: document.abacAttributes,
    rooms: document.__rooms ?? [],
    ldap: ldap?.id && ldap.idAttribute ? { id: ldap.id, idAttribute: ldap.idAttribute } : undefined,
  };
}
