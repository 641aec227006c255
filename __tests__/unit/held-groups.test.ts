import { groupKeys, progressAfter, reconcileDue, staleHolders } from '../../lib/feed/held-groups';
import { parseAttributeMap } from '../../lib/sync/attribute-mapping';

// The reconciliation of held group DNs, its pure steps: which keys hold DNs, when a pass is due, how far it
// has gone, and whom it syncs.

const HOUR_MS = 60 * 60 * 1000;
const at = (ms: number) => new Date(Date.UTC(2026, 11, 6) + ms);

describe('the reconciliation of held group DNs', () => {
  it('reads the keys mapped from memberOf, whatever its spelling in the map', () => {
    expect(groupKeys(parseAttributeMap({ MemberOf: 'groups', departmentNumber: 'department' }))).toEqual([
      'groups',
    ]);
    expect(groupKeys(parseAttributeMap({ departmentNumber: 'department' }))).toEqual([]);
  });

  it('starts a pass when none ran or the last ended a period ago, and goes on with one under way', () => {
    expect(reconcileDue(undefined, at(0), HOUR_MS)).toEqual({ startedAt: at(0) });
    const done = { startedAt: at(0), completedAt: at(1000) };
    expect(reconcileDue(done, at(HOUR_MS), HOUR_MS)).toBeUndefined();
    expect(reconcileDue(done, at(HOUR_MS + 1000), HOUR_MS)).toEqual({ startedAt: at(HOUR_MS + 1000) });
    const running = { startedAt: at(0), after: 'u-5000' };
    expect(reconcileDue(running, at(5 * HOUR_MS), HOUR_MS)).toBe(running);
    expect(reconcileDue(undefined, at(0), 0)).toBeUndefined();
  });

  it('ends a pass at a slice shorter than the slice size, and else records the last user checked', () => {
    const pass = { startedAt: at(0) };
    const users = [
      { _id: 'u-1', values: [] },
      { _id: 'u-2', values: [] },
    ];
    expect(progressAfter(pass, users, 2, at(5))).toEqual({ startedAt: at(0), after: 'u-2' });
    expect(progressAfter(pass, users, 3, at(5))).toEqual({ startedAt: at(0), completedAt: at(5) });
    expect(progressAfter(pass, [], 3, at(5))).toEqual({ startedAt: at(0), completedAt: at(5) });
  });

  it('syncs the holders of a DN the directory does not list, spelled otherwise included', () => {
    const groups = new Set(['cn=staff,ou=groups,dc=example,dc=org']);
    expect(
      staleHolders(
        [
          { _id: 'in-step', values: ['cn=staff,ou=groups,dc=example,dc=org'] },
          {
            _id: 'deleted',
            values: ['cn=staff,ou=groups,dc=example,dc=org', 'cn=gone,ou=groups,dc=example,dc=org'],
          },
          { _id: 'spelled-otherwise', values: ['CN=Staff,OU=Groups,DC=example,DC=org'] },
          { _id: 'none', values: [] },
        ],
        groups,
      ),
    ).toEqual(['deleted', 'spelled-otherwise']);
  });
});
