import { progressView } from '../../admin/run-progress';

// What the admin page's progress bar shows (pure).

const reading = (processed: number, at: number, state = 'running', phase = 'planning') => ({
  state,
  phase,
  progress: { total: 1000, processed },
  at,
});

describe('progressView', () => {
  it('shows the share done, the rate from two readings and the time left', () => {
    expect(progressView(reading(100, 0), reading(300, 1000))).toEqual({
      percent: 30,
      label: 'planning: 300 of 1,000 users planned',
      rate: 200,
      etaSeconds: 4,
    });
  });

  it('has no rate on a first reading or across a change of phase, and 100% once completed', () => {
    expect(progressView(undefined, reading(0, 0, 'queued'))).toEqual({ percent: 0, label: 'Queued' });
    expect(progressView(reading(1000, 0), reading(10, 500, 'running', 'applying'))).toEqual({
      percent: 1,
      label: 'applying: 10 of 1,000 changes applied',
    });
    expect(progressView(reading(900, 0), reading(1000, 1000, 'completed')).percent).toBe(100);
  });

  it('says the users are being counted, not “0 of 0”, until the run knows its total', () => {
    expect(progressView(undefined, { state: 'running', progress: { processed: 0 }, at: 0 })).toEqual({
      percent: 0,
      label: 'Counting the users…',
    });
  });
});
