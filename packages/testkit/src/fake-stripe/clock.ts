/** The fake's notion of now: real time (or a given clock) plus an offset that tests move forward. */
export interface FakeStripeClock {
  /** Unix seconds, as Stripe's timestamps are. */
  now(): number;
  /** Moves the fake's time forward; the billing cycle catches up through `controls.advanceTime`. */
  advance(seconds: number): void;
}

export function createFakeStripeClock(base: () => number = Date.now): FakeStripeClock {
  let offset = 0;
  return {
    now: () => Math.floor(base() / 1000) + offset,
    advance(seconds) {
      if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`the fake's clock only moves forward (got ${seconds})`);
      offset += Math.floor(seconds);
    },
  };
}
