import { guardText } from '../../admin/guard-text';

// The plan review's sentence about the guard: whole sentences, each followed by a space.

describe("the plan review's guard sentence", () => {
  const figures = {
    revokedUsers: 3003,
    clearedUsers: 3003,
    evictions: 120,
    usersInRun: 3004,
    thresholdPercent: 10,
    thresholdUsers: 20,
  };

  it('reads as sentences, a space after each', () => {
    expect(guardText(figures)).toBe(
      '3,003 of 3,004 users would lose values (3,003 cleared), 120 room memberships would end. ' +
        'The guard allows 10% and 20 users.',
    );
  });

  it('names the people counted from the window', () => {
    expect(guardText({ ...figures, recentRevokedUsers: 7, windowMinutes: 60 })).toBe(
      '3,003 of 3,004 users would lose values (3,003 cleared), 120 room memberships would end. ' +
        'Unattended syncs took values from 7 users in the 60 minutes before it, counted together with them. ' +
        'The guard allows 10% and 20 users.',
    );
  });

  it('says one in the singular', () => {
    expect(
      guardText({
        ...figures,
        revokedUsers: 1,
        clearedUsers: 1,
        evictions: 1,
        usersInRun: 1,
        thresholdUsers: 1,
        recentRevokedUsers: 1,
        windowMinutes: 1,
      }),
    ).toBe(
      '1 of 1 user would lose values (1 cleared), 1 room membership would end. ' +
        'Unattended syncs took values from 1 user in the 1 minute before it, counted together with them. ' +
        'The guard allows 10% and 1 user.',
    );
  });
});
