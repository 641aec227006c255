import {
  diffAttributes,
  formatGuid,
  formatSid,
  mapEntry,
  parseAttributeMap,
  sameAttributes,
  satisfies,
} from '../../lib/sync/attribute-mapping';
import { AttributeMapInvalidError } from '../../lib/errors';
import type { DirectoryEntry } from '../../lib/ldap/directory';

function entry(attributes: Record<string, (string | Buffer)[]>): DirectoryEntry {
  const map = new Map<string, { values: string[]; buffers: Buffer[] }>();
  for (const [name, values] of Object.entries(attributes)) {
    const buffers = values.map((value) => (Buffer.isBuffer(value) ? value : Buffer.from(value)));
    map.set(name.toLowerCase(), { buffers, values: buffers.map((buffer) => buffer.toString('utf8')) });
  }
  return { dn: 'uid=x,dc=example,dc=org', attributes: map };
}

describe('parseAttributeMap', () => {
  it('reads a JSON text or an object, lowercasing LDAP names and keeping the order', () => {
    const mapping = parseAttributeMap('{"departmentNumber":"department","memberOf":"groups"}');
    expect(mapping.rules).toEqual([
      { ldapAttribute: 'departmentnumber', abacKey: 'department' },
      { ldapAttribute: 'memberof', abacKey: 'groups' },
    ]);
    expect(parseAttributeMap({ title: 'title' }).ldapAttributes).toEqual(['title']);
  });

  it.each([
    ['{}'],
    ['[]'],
    ['null'],
    ['{"a":"b c"}'],
    ['{"a":""}'],
    ['{"a":1}'],
    ['{"a b":"c"}'],
    ['{"a":"x","A":"y"}'],
    ['nope'],
    ['{"2.16.840.1.113730.3.1.2":"department"}'],
    ['{"2.5.4.11;binary":"unit"}'],
  ])('refuses %s', (raw) => {
    expect(() => parseAttributeMap(raw)).toThrow(AttributeMapInvalidError);
  });
});

describe('mapEntry', () => {
  it('matches attribute names case-insensitively, trims, drops blanks, dedupes in order of first appearance', () => {
    const mapping = parseAttributeMap({ DepartmentNumber: 'department' });
    const mapped = mapEntry(entry({ departmentNumber: [' eng ', 'ops', '', '  ', 'eng', 'ops'] }), mapping);
    expect(mapped).toEqual([{ key: 'department', values: ['eng', 'ops'] }]);
  });

  it('merges several LDAP attributes into one key and omits keys with no value', () => {
    const mapping = parseAttributeMap({
      departmentNumber: 'unit',
      ou: 'unit',
      title: 'title',
      employeeType: 'type',
    });
    const mapped = mapEntry(
      entry({ ou: ['sales', 'eng'], departmentNumber: ['eng'], title: ['  '] }),
      mapping,
    );
    expect(mapped).toEqual([{ key: 'unit', values: ['eng', 'sales'] }]);
  });

  it('decodes objectGUID and objectSid from their bytes', () => {
    const guid = Buffer.from('4AQlP4lP0xGaDAMF6CwzAQ==', 'base64');
    const sid = Buffer.from('AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6YoUQQAAA==', 'base64');
    const mapped = mapEntry(
      entry({ objectGUID: [guid], objectSid: [sid] }),
      parseAttributeMap({ objectGUID: 'guid', objectSid: 'sid' }),
    );
    expect(mapped).toEqual([
      { key: 'guid', values: ['3f2504e0-4f89-11d3-9a0c-0305e82c3301'] },
      { key: 'sid', values: ['S-1-5-21-1004336348-1177238915-682003330-1105'] },
    ]);
    expect(formatGuid(Buffer.from([1, 2]))).toBe('0102');
    expect(formatSid(Buffer.from([1]))).toBe('01');
  });
});

describe('comparing and diffing', () => {
  const before = [
    { key: 'department', values: ['eng', 'ops'] },
    { key: 'clearance', values: ['secret'] },
  ];

  it('treats a reordering as the same set', () => {
    expect(
      sameAttributes(before, [
        { key: 'clearance', values: ['secret'] },
        { key: 'department', values: ['ops', 'eng'] },
      ]),
    ).toBe(true);
    expect(sameAttributes(before, [{ key: 'department', values: ['eng', 'ops'] }])).toBe(false);
  });

  it('reports added and removed values per key', () => {
    expect(diffAttributes(before, [{ key: 'department', values: ['eng', 'sales'] }])).toEqual({
      added: [{ key: 'department', values: ['sales'] }],
      removed: [
        { key: 'department', values: ['ops'] },
        { key: 'clearance', values: ['secret'] },
      ],
    });
  });

  it('admits only a superset of every room attribute', () => {
    const room = [{ key: 'department', values: ['eng', 'ops'] }];
    expect(satisfies(before, room)).toBe(true);
    expect(satisfies([{ key: 'department', values: ['eng'] }], room)).toBe(false);
    expect(
      satisfies(
        [{ key: 'department', values: ['eng', 'ops'] }],
        [...room, { key: 'clearance', values: ['secret'] }],
      ),
    ).toBe(false);
  });
});
