/** Retry and resync delays. `random` is injected so tests can pin the jitter. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 5 * 60_000 };

/** About 1 s doubling per consecutive failure up to 5 min, ±20% jitter. `failures` counts this one (≥ 1). */
export function backoffDelay(failures: number, random: () => number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const exp = policy.baseMs * 2 ** Math.max(0, Math.min(failures - 1, 30));
  const capped = Math.min(policy.maxMs, exp);
  return Math.round(Math.min(policy.maxMs, capped * (0.8 + 0.4 * random())));
}

/**
 * Next observation of a converged environment: within the resync period, never later, spread over its last
 * quarter so environments converged together drift apart instead of all coming due at once.
 */
export function resyncDelay(resyncMs: number, random: () => number): number {
  return Math.round(resyncMs * (0.75 + 0.25 * random()));
}
