import { guardFigures, guardThresholds, revokesTooMuch } from '../../lib/jobs/revocation-guard';

const figures = (revokedUsers: number, usersInRun: number, thresholds = { percent: 10, users: 20 }) =>
  guardFigures({ revokedUsers, clearedUsers: 0, evictions: 0 }, usersInRun, thresholds);

/** The mass-revocation guard's decision (pure: no servers). */
describe('revocation guard', () => {
  it('lets 9% through and stops 11% of a large run', () => {
    expect(revokesTooMuch(figures(90, 1000))).toBe(false);
    expect(revokesTooMuch(figures(100, 1000))).toBe(false);
    expect(revokesTooMuch(figures(101, 1000))).toBe(true);
    expect(revokesTooMuch(figures(110, 1000))).toBe(true);
  });

  it('never stops a run where no more users than the minimum lose a value', () => {
    expect(revokesTooMuch(figures(20, 25))).toBe(false);
    expect(revokesTooMuch(figures(21, 25))).toBe(true);
    expect(revokesTooMuch(figures(19, 19))).toBe(false);
  });

  it('takes the thresholds from the settings, and the defaults for anything unusable', () => {
    expect(guardThresholds({})).toEqual({ percent: 10, users: 20, windowMinutes: 60 });
    expect(
      guardThresholds({
        ABAC_Sync_Guard_Max_Revoked_Percent: '25',
        ABAC_Sync_Guard_Min_Users: 5,
        ABAC_Sync_Guard_Window_Minutes: '15',
      }),
    ).toEqual({ percent: 25, users: 5, windowMinutes: 15 });
    expect(
      guardThresholds({
        ABAC_Sync_Guard_Max_Revoked_Percent: 'lots',
        ABAC_Sync_Guard_Min_Users: -1,
        ABAC_Sync_Guard_Window_Minutes: 0,
      }),
    ).toEqual({ percent: 10, users: 20, windowMinutes: 60 });
    expect(
      guardThresholds({ ABAC_Sync_Guard_Max_Revoked_Percent: 150, ABAC_Sync_Guard_Min_Users: 2.5 }),
    ).toEqual({ percent: 10, users: 20, windowMinutes: 60 });
    expect(revokesTooMuch(figures(1, 10, { percent: 0, users: 0 }))).toBe(true);
  });
});
