/**
 * Search filters as data. Values from users and requests only ever travel as equality values, never as
 * filter syntax; the adapter turns this tree into its client's filter objects.
 */
export type DirectoryFilter =
  | { kind: 'and'; filters: DirectoryFilter[] }
  | { kind: 'or'; filters: DirectoryFilter[] }
  | { kind: 'equals'; attribute: string; value: string | Buffer }
  /** attribute >= value, by the attribute's ordering rule (generalized times for the change feed). */
  | { kind: 'atLeast'; attribute: string; value: string }
  /** The admin's LDAP_User_Search_Filter: configuration, parsed by the adapter, never built from input. */
  | { kind: 'configured'; text: string };

export const equals = (attribute: string, value: string | Buffer): DirectoryFilter => ({
  kind: 'equals',
  attribute,
  value,
});
export const atLeast = (attribute: string, value: string): DirectoryFilter => ({
  kind: 'atLeast',
  attribute,
  value,
});
export const anyOf = (filters: DirectoryFilter[]): DirectoryFilter => ({ kind: 'or', filters });
export const allOf = (filters: DirectoryFilter[]): DirectoryFilter => ({ kind: 'and', filters });
