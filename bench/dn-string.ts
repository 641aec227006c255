/** The parts of ldapjs's parsed DN (and its RDNs) that printing one needs. */
interface ParsedRdn {
  readonly size: number;
  keys(): IterableIterator<string>;
  getValue(name: string): unknown;
  toString(): string;
}
interface ParsedDn {
  readonly length: number;
  rdnAt(index: number): ParsedRdn;
  toString(): string;
}

/**
 * Printable ASCII that RFC 4514 printing leaves as it is: no `"`, `#`, `+`, `,`, `;`, `<`, `>` or `\`, and a
 * space only inside the value. Anything else is printed by ldapjs itself.
 */
const PRINTS_AS_IS =
  /^[\x21\x24-\x2a\x2d-\x3a\x3d\x3f-\x5b\x5d-\x7e](?:[\x20\x21\x24-\x2a\x2d-\x3a\x3d\x3f-\x5b\x5d-\x7e]*[\x21\x24-\x2a\x2d-\x3a\x3d\x3f-\x5b\x5d-\x7e])?$/;

/**
 * An entry's DN as ldapjs prints it, without ldapjs's escaping pass over values that need none. ldapjs
 * parses every entry's DN into RDN objects and escapes each value byte by byte when printing it back; most
 * DNs in a directory are plain ASCII (`uid=jdoe,ou=people,dc=example,dc=org`), and for those the printed
 * value is the value itself. An RDN with several attributes or a value that needs escaping is printed by
 * ldapjs, so the result is always the same string.
 */
export function dnString(objectName: unknown): string {
  if (!isParsedDn(objectName)) return String(objectName);
  let printed = '';
  for (let index = 0; index < objectName.length; index += 1) {
    const rdn = objectName.rdnAt(index);
    printed += index === 0 ? '' : ',';
    if (rdn.size === 1) {
      const name = rdn.keys().next().value as string;
      const value = rdn.getValue(name);
      if (typeof value === 'string' && PRINTS_AS_IS.test(value)) {
        printed += `${name}=${value}`;
        continue;
      }
    }
    printed += rdn.toString();
  }
  return printed;
}

function isParsedDn(value: unknown): value is ParsedDn {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ParsedDn).rdnAt === 'function' &&
    typeof (value as ParsedDn).length === 'number'
  );
}
