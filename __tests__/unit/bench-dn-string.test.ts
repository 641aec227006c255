import ldap from 'ldapjs';
import { dnString } from '../../bench/dn-string';

/** A DN as ldapjs hands it over with a search entry: parsed into RDN objects. */
const parsed = (text: string) => ldap.parseDN(text);

/** ldapjs 3's DN constructor (its published types describe an older one). */
const DnOfRdns = ldap.DN as unknown as new (options: { rdns: ldap.RDN[] }) => ldap.DN;

/** A small deterministic generator, so a failing case can be reproduced. */
function generator(seed: number) {
  let state = seed;
  return (below: number) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % below;
  };
}

const CHARACTERS = [
  ..."abcxyzABCXYZ0189-_.@=!$%&*()[]{}|~`?/:'",
  ...' "#+,;<>\\',
  '\u0000',
  '\u001f',
  '\u007f',
  'é',
  'ß',
  '名',
  '😀',
];

describe('printing a parsed DN', () => {
  it.each([
    'uid=jdoe,ou=people,dc=example,dc=org',
    'cn=Doe\\, John,ou=people,dc=example,dc=org',
    'cn=John Doe,ou=Sales \\+ Support,dc=example,dc=org',
    'cn=a+sn=b,dc=example,dc=org',
    'cn=\\#hash,dc=example',
    'cn=\\ leading and trailing\\ ,dc=example',
    'cn=Ren\\C3\\A9e,dc=example',
    'cn=back\\\\slash,dc=example',
    'cn=#04024869,dc=example',
    'cn=quote\\"d,dc=example',
    'cn=semi\\;colon\\<less\\>more,dc=example',
    'CN=Upper,OU=Case,DC=example',
    'cn=equals=sign,dc=example',
    '2.5.4.3=oid,dc=example',
  ])('prints %s as ldapjs does', (text) => {
    const dn = parsed(text);
    expect(dnString(dn)).toBe(dn.toString());
  });

  it('prints any value as ldapjs does (2,000 generated DNs)', () => {
    const next = generator(20261203);
    for (let round = 0; round < 2000; round += 1) {
      const rdns = Array.from({ length: 1 + next(4) }, () => {
        const value = Array.from({ length: next(12) }, () => CHARACTERS[next(CHARACTERS.length)]).join('');
        const attributes: Record<string, string> = { [['cn', 'uid', 'ou', 'o'][next(4)]!]: value };
        if (next(5) === 0) attributes.sn = `x${next(100)}`;
        return new ldap.RDN(attributes);
      });
      const dn = new DnOfRdns({ rdns });
      expect(dnString(dn)).toBe(dn.toString());
    }
  });

  it('prints the empty DN and a plain string', () => {
    expect(dnString(parsed(''))).toBe('');
    expect(dnString('uid=jdoe,dc=example')).toBe('uid=jdoe,dc=example');
  });
});
