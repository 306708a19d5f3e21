/**
 * Rate limits per organization and per key (or person), from the organization's plan (contracts' BILLING_PLANS:
 * Free 10 req/s, Pro 100, …, bursts of twice that), shared by every replica through Postgres. Public routes (sign
 * in) are limited per source address. Answers RateLimit-* headers, and 429 with Retry-After when a bucket is empty.
 */
import { BILLING_PLANS, isBillingPlanId } from '@wharf/contracts';
import { type DatabasePool, rateLimits } from '@wharf/store';
import { ProblemError } from './problem-error.js';

export const PUBLIC_RATE = { requestsPerSecond: 5, burst: 20 } as const;

export function planRate(plan: string): { requestsPerSecond: number; burst: number } {
  return isBillingPlanId(plan) ? BILLING_PLANS[plan].limits.apiRate : BILLING_PLANS.free.limits.apiRate;
}

/** Takes a token from each bucket; throws rate-limited when any was empty. Returns the headers to send. */
export async function enforceRateLimit(pool: DatabasePool, buckets: readonly { bucket: string; requestsPerSecond: number; burst: number }[]): Promise<Record<string, string>> {
  const states = await rateLimits.takeTokens(
    pool,
    buckets.map((b) => ({ bucket: b.bucket, rate: b.requestsPerSecond, burst: b.burst })),
  );
  let tightest: { limit: number; remaining: number; reset: number; allowed: boolean } | undefined;
  for (const s of states) {
    const spec = buckets.find((b) => b.bucket === s.bucket);
    if (!spec) continue;
    const reset = s.tokens >= 1 ? 0 : Math.ceil((1 - s.tokens) / spec.requestsPerSecond);
    const candidate = { limit: spec.requestsPerSecond, remaining: Math.max(0, Math.floor(s.tokens)), reset, allowed: s.allowed };
    if (!tightest || !candidate.allowed || (tightest.allowed && candidate.remaining < tightest.remaining)) tightest = candidate;
  }
  if (!tightest) return {};
  const headers = {
    'ratelimit-limit': String(tightest.limit),
    'ratelimit-remaining': String(tightest.remaining),
    'ratelimit-reset': String(tightest.reset),
  };
  if (!tightest.allowed) {
    throw new ProblemError('rate-limited', `at most ${tightest.limit} requests per second: retry after ${Math.max(1, tightest.reset)} s`, {
      headers: { ...headers, 'retry-after': String(Math.max(1, tightest.reset)) },
    });
  }
  return headers;
}
