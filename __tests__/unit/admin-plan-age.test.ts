import { planAge } from '../../admin/plan-age';

// How old a plan reads in the admin page's apply confirmation (pure).

describe('planAge', () => {
  const made = '2026-12-06T12:00:00.000Z';
  const after = (minutes: number) => Date.parse(made) + minutes * 60_000;
  it('names the largest whole unit, with correct plurals', () => {
    expect(planAge(made, after(0.5))).toBe('less than a minute');
    expect(planAge(made, after(1))).toBe('1 minute');
    expect(planAge(made, after(45))).toBe('45 minutes');
    expect(planAge(made, after(60))).toBe('1 hour');
    expect(planAge(made, after(25 * 60))).toBe('25 hours');
    expect(planAge(made, after(3 * 1440))).toBe('3 days');
    expect(planAge(undefined, after(1))).toBe('an unknown time');
  });
});
