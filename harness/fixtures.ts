import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const FIXTURES_DIR = join(__dirname, '..', '__tests__', 'fixtures');

export function readFixture(name: string): string {
  return readFileSync(join(FIXTURES_DIR, name), 'utf8');
}

/** base.ldif + people.ldif: the directory most tests start from. */
export function standardDirectory(): string[] {
  return [readFixture('base.ldif'), readFixture('people.ldif')];
}

export interface GeneratedPeopleOptions {
  count: number;
  /** Zero-based index of the first generated person. */
  first?: number;
  departments?: number;
}

export function generatedUid(index: number): string {
  return `user${String(index).padStart(6, '0')}`;
}

export function generatedDepartment(index: number, departments = 50): string {
  return `dept-${index % departments}`;
}

/**
 * LDIF for `count` people under ou=people, with deterministic attributes so a test or the benchmark can
 * compute what a sync must produce. 100k people load with slapadd -q in a few seconds.
 */
export function generatePeopleLdif(options: GeneratedPeopleOptions): string {
  const first = options.first ?? 0;
  const departments = options.departments ?? 50;
  const parts: string[] = [];
  for (let index = first; index < first + options.count; index += 1) {
    const uid = generatedUid(index);
    parts.push(
      `dn: uid=${uid},ou=people,dc=example,dc=org\n` +
        'objectClass: inetOrgPerson\n' +
        `uid: ${uid}\n` +
        `cn: User ${index}\n` +
        `sn: ${index}\n` +
        `mail: ${uid}@example.org\n` +
        `employeeNumber: ${100000 + index}\n` +
        `departmentNumber: ${generatedDepartment(index, departments)}\n` +
        `employeeType: ${index % 2 === 0 ? 'staff' : 'contractor'}\n` +
        'title: Member of staff\n',
    );
  }
  return parts.join('\n');
}
