/** Time as a port, so caches and token expiry are tested by moving a clock, never by sleeping. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
