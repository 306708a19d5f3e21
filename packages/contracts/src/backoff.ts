/**
 * Retry and resync delays, for everything in Wharf that tries again: reconciles, crashed local runtimes, webhook
 * deliveries, outbox rows. `random` is passed in so tests can pin the jitter.
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  /**
   * `proportional`: the delay ±20% (reconciles, crashed runtimes). `equal`: between half the delay and all of it,
   * never below half the base (deliveries and outbox rows: many waiting on one GitHub spread out more).
   */
  jitter: 'proportional' | 'equal';
}

/** About 1 s doubling per consecutive failure up to 5 min, ±20%. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 5 * 60_000, jitter: 'proportional' };

/** The delay before attempt `attempt + 1`, after `attempt` consecutive failures (≥ 1). */
export function backoffDelay(attempt: number, random: () => number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  if (policy.jitter === 'equal') return Math.max(policy.baseMs / 2, ceiling / 2 + (random() * ceiling) / 2);
  return Math.round(Math.min(policy.maxMs, ceiling * (0.8 + 0.4 * random())));
}

/**
 * Next observation of a converged environment: within the resync period, never later, spread over its last
 * quarter so environments converged together drift apart instead of all coming due at once.
 */
export function resyncDelay(resyncMs: number, random: () => number): number {
  return Math.round(resyncMs * (0.75 + 0.25 * random()));
}
