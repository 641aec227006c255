import { parseLdif } from '../../demo/ldif';

describe("the demo directory's LDIF reader", () => {
  it('reads folded lines, base64 values, comments and repeated attributes', () => {
    const text = [
      '# comment',
      'dn: uid=zoe,ou=people,dc=demo,dc=example',
      'cn: Zoe',
      '  Long',
      `sn:: ${Buffer.from('Zoë').toString('base64')}`,
      'departmentNumber: a',
      'departmentNumber: b',
      '',
      'dn: ou=people,dc=demo,dc=example',
      'ou: people',
    ].join('\n');
    expect(parseLdif(text)).toEqual([
      {
        dn: 'uid=zoe,ou=people,dc=demo,dc=example',
        attributes: { cn: ['Zoe Long'], sn: ['Zoë'], departmentNumber: ['a', 'b'] },
      },
      { dn: 'ou=people,dc=demo,dc=example', attributes: { ou: ['people'] } },
    ]);
  });

  it('rejects change records, URL values and records without a dn', () => {
    expect(() => parseLdif('dn: cn=x\nchangetype: delete')).toThrow(/change records/);
    expect(() => parseLdif('dn: cn=x\njpegPhoto:< file:///etc/passwd')).toThrow(/URL values/);
    expect(() => parseLdif('cn: x')).toThrow(/no dn/);
  });
});
