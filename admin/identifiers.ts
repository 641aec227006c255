// Pure: the page's one text box, split into the request's identifier lists. No DOM here.

export const MAX_PER_LIST = 100;

export interface IdentifierLists {
  usernames: string[];
  emails: string[];
  ids: string[];
  ldapIds: string[];
}

export type SplitResult =
  | { ok: true; lists: IdentifierLists; count: number }
  | { ok: false; lists: IdentifierLists; count: number; problems: string[] };

/**
 * One identifier per line (commas and spaces separate too): `id:<user id>`, `ldap:<hex>`, an address with
 * `@` is an email, anything else a username. Duplicates are dropped; each list may hold at most
 * MAX_PER_LIST, as the route allows, so a request that would be refused is never sent.
 */
export function splitIdentifiers(text: string): SplitResult {
  const lists: IdentifierLists = { usernames: [], emails: [], ids: [], ldapIds: [] };
  const problems: string[] = [];
  for (const token of text.split(/[\s,;]+/).filter((part) => part !== '')) {
    const [list, value] = classify(token);
    if (value === '') problems.push(`"${token}" names nothing`);
    else if (list === 'ldapIds' && !/^[0-9a-f]+$/i.test(value))
      problems.push(`"${token}": an LDAP id is hexadecimal`);
    else if (!lists[list].includes(value)) lists[list].push(value);
  }
  for (const [list, values] of Object.entries(lists))
    if (values.length > MAX_PER_LIST)
      problems.push(`${values.length} ${list}: at most ${MAX_PER_LIST} per request`);
  const count = Object.values(lists).reduce((total, values) => total + values.length, 0);
  if (count === 0 && problems.length === 0) problems.push('name at least one user');
  return problems.length > 0 ? { ok: false, lists, count, problems } : { ok: true, lists, count };
}

function classify(token: string): [keyof IdentifierLists, string] {
  const lower = token.toLowerCase();
  if (lower.startsWith('id:')) return ['ids', token.slice(3)];
  if (lower.startsWith('ldap:')) return ['ldapIds', token.slice(5)];
  if (token.includes('@')) return ['emails', token];
  return ['usernames', token];
}

/** The request body: only the lists that hold something. */
export function requestBody(lists: IdentifierLists, dryRun: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { dryRun };
  for (const [list, values] of Object.entries(lists)) if (values.length > 0) body[list] = values;
  return body;
}
