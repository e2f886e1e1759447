/** A source of the current time, injectable for tests. */
export interface Clock {
  /** The current time in epoch milliseconds. */
  now(): number;
}

/** The real clock (`Date.now`). */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });
