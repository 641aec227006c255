import { MAX_PER_LIST, requestBody, splitIdentifiers } from '../../admin/identifiers';

// The admin page's text box, split into the request's lists (pure).

describe('splitIdentifiers', () => {
  it('sorts mixed lines into usernames, emails, ids and ldapIds, without duplicates', () => {
    const result = splitIdentifiers('alice\nbob@example.org, id:u-carol\n\nldap:0A1b  alice');
    expect(result).toEqual({
      ok: true,
      count: 4,
      lists: { usernames: ['alice'], emails: ['bob@example.org'], ids: ['u-carol'], ldapIds: ['0A1b'] },
    });
    expect(requestBody(result.lists, true)).toEqual({
      dryRun: true,
      usernames: ['alice'],
      emails: ['bob@example.org'],
      ids: ['u-carol'],
      ldapIds: ['0A1b'],
    });
  });

  it('refuses before sending what the route would refuse', () => {
    const many = Array.from({ length: MAX_PER_LIST + 1 }, (_, index) => `user${index}`).join('\n');
    expect(splitIdentifiers(many)).toMatchObject({
      ok: false,
      problems: ['101 usernames: at most 100 per request'],
    });
    expect(splitIdentifiers('ldap:xyz')).toMatchObject({
      ok: false,
      problems: ['"ldap:xyz": an LDAP id is hexadecimal'],
    });
    expect(splitIdentifiers('  \n ')).toMatchObject({ ok: false, problems: ['name at least one user'] });
    expect(splitIdentifiers('id:')).toMatchObject({ ok: false, problems: ['"id:" names nothing'] });
  });
});
