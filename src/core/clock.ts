// The one source of time for everything time-driven (delays, idle times, leases), so tests can steer it.

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** The latest moment a JavaScript Date can hold, in ms since the epoch: the bound of every time and duration. */
export const MAX_TIME_MS = 8_640_000_000_000_000;

/** A clock that only moves when told to; for tests. */
export class ManualClock implements Clock {
  constructor(private current = Date.now()) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(ms: number): void {
    this.current = ms;
  }
}
