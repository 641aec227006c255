import ldap from 'ldapjs';

// What the in-process LDAP servers of the tests use of ldapjs's server, typed: the DefinitelyTyped
// declarations were written for ldapjs 2.

/** ldapjs 3 exports its controls; the declarations do not list them. */
export const { PagedResultsControl } = ldap as unknown as {
  PagedResultsControl: new (options: object) => unknown;
};

/** The paged-results control of a search's last page (servers answer a paged search with one). */
export function lastPage(): unknown {
  return new PagedResultsControl({ value: { size: 0, cookie: Buffer.alloc(0) } });
}

export interface SearchRequest {
  dn: { toString(): string };
  scopeName: string;
  filter: { matches(attributes: Record<string, string[]>, strictAttrCase: boolean): boolean };
}

export interface SearchResponse {
  send(entry: { dn: string; attributes: Record<string, string[]> }): void;
  end(): void;
  controls: unknown[];
  attributes: string[];
}
