/**
 * Rate limits per organization and per key (or person), from the organization's plan (contracts' BILLING_PLANS:
 * Free 10 req/s, Pro 100, …, bursts of twice that), shared by every replica through Postgres. Public routes (sign
 * in) are limited per source address. Answers RateLimit-* headers, and 429 with Retry-After when a bucket is empty.
 *
 * A request does not write to Postgres. Each process keeps a copy of the buckets it uses: the level Postgres last
 * gave, refilled at the bucket's rate since, less what this process handed out since. Every SETTLE_MS one statement
 * subtracts what it spent from each shared bucket and reads the levels back (store's settleTokens), so what other
 * replicas spend shows here within one interval. A bucket this process has not settled for STALE_MS (or never saw)
 * takes its token from Postgres at once, exactly as a lone replica would. With one replica the limits are exact;
 * with several, a burst may pass what was left by at most what the others hand out in one interval, and that debt is
 * paid back before the bucket gives anything again, so the rate holds over time.
 */
import { BILLING_PLANS, isBillingPlanId } from '@wharf/contracts';
import { type DatabasePool, rateLimits } from '@wharf/store';
import type { Logger } from 'pino';
import { ProblemError } from './problem-error.js';

export const PUBLIC_RATE = { requestsPerSecond: 5, burst: 20 } as const;
export const SETTLE_MS = 200;
export const STALE_MS = 1_000;
/** Buckets kept per process (source addresses of public routes are chosen by strangers). */
export const MAX_BUCKETS = 50_000;

export function planRate(plan: string): { requestsPerSecond: number; burst: number } {
  return isBillingPlanId(plan) ? BILLING_PLANS[plan].limits.apiRate : BILLING_PLANS.free.limits.apiRate;
}

export interface BucketSpec {
  bucket: string;
  requestsPerSecond: number;
  burst: number;
}

export interface RateLimiter {
  /** Takes a token from each bucket, or throws rate-limited (taking none) when one is empty. The RateLimit headers. */
  take(buckets: readonly BucketSpec[]): Promise<Record<string, string>>;
  /** Sends what this process spent and reads the shared levels back (one statement); runs every SETTLE_MS. */
  settle(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
  /** Buckets this process keeps a copy of. */
  size(): number;
}

interface Local {
  rate: number;
  burst: number;
  /** Tokens at `at` (ms, this process's clock), as this process counts them. */
  tokens: number;
  at: number;
  /** When Postgres last told this process the bucket's level. */
  heard: number;
  /** Handed out since the last settle began; `sending`: by the settle in flight. */
  spent: number;
  sending: number;
}

/** Refills `b` up to now; its tokens. */
function refill(b: Local, now: number): number {
  b.tokens = Math.min(b.burst, b.tokens + (b.rate * Math.max(0, now - b.at)) / 1000);
  b.at = Math.max(b.at, now);
  return b.tokens;
}

function headersOf(limit: number, tokens: number, rate: number): { headers: Record<string, string>; reset: number } {
  const reset = tokens >= 1 ? 0 : Math.ceil((1 - tokens) / rate);
  return {
    reset,
    headers: { 'ratelimit-limit': String(limit), 'ratelimit-remaining': String(Math.max(0, Math.floor(tokens))), 'ratelimit-reset': String(reset) },
  };
}

function refuse(spec: BucketSpec, tokens: number): never {
  const { headers, reset } = headersOf(spec.requestsPerSecond, tokens, spec.requestsPerSecond);
  const after = Math.max(1, reset);
  throw new ProblemError('rate-limited', `at most ${spec.requestsPerSecond} requests per second: retry after ${after} s`, {
    headers: { ...headers, 'ratelimit-remaining': '0', 'retry-after': String(after) },
  });
}

/**
 * Takes a token from each bucket in Postgres at once, in one statement: for callers without a limiter of their own
 * (the dashboard's endpoints, a few requests a page). Throws rate-limited when any was empty; the RateLimit headers.
 */
export async function enforceRateLimit(pool: DatabasePool, specs: readonly BucketSpec[]): Promise<Record<string, string>> {
  return answerOf(specs, await takeInPostgres(pool, specs));
}

const takeInPostgres = (pool: DatabasePool, specs: readonly BucketSpec[]) =>
  rateLimits.takeTokens(
    pool,
    specs.map((s) => ({ bucket: s.bucket, rate: s.requestsPerSecond, burst: s.burst })),
  );

/** The headers of the tightest bucket Postgres answered for, or the 429 when one was empty. */
function answerOf(specs: readonly BucketSpec[], states: readonly rateLimits.BucketState[]): Record<string, string> {
  let tightest: { spec: BucketSpec; tokens: number; allowed: boolean } | undefined;
  for (const s of states) {
    const spec = specs.find((b) => b.bucket === s.bucket);
    if (!spec) continue;
    if (!tightest || !s.allowed || (tightest.allowed && s.tokens < tightest.tokens)) tightest = { spec, tokens: s.tokens, allowed: s.allowed };
  }
  if (!tightest) return {};
  if (!tightest.allowed) refuse(tightest.spec, tightest.tokens);
  return headersOf(tightest.spec.requestsPerSecond, tightest.tokens, tightest.spec.requestsPerSecond).headers;
}

export function createRateLimiter(options: { pool: DatabasePool; log: Logger; now?: () => number; settleMs?: number; staleMs?: number; maxBuckets?: number }): RateLimiter {
  const { pool, log } = options;
  const now = options.now ?? (() => performance.now());
  const staleMs = options.staleMs ?? STALE_MS;
  const maxBuckets = options.maxBuckets ?? MAX_BUCKETS;
  const buckets = new Map<string, Local>();
  let timer: NodeJS.Timeout | undefined;
  let settling: Promise<void> | undefined;

  const remember = (bucket: string, b: Local) => {
    buckets.delete(bucket);
    if (buckets.size >= maxBuckets) {
      const oldest = buckets.keys().next().value;
      if (oldest !== undefined) buckets.delete(oldest);
    }
    buckets.set(bucket, b);
  };

  /** Buckets not known or not settled lately take their token in Postgres (and become known). */
  const takeShared = async (specs: readonly BucketSpec[]): Promise<Record<string, string>> => {
    const states = await takeInPostgres(pool, specs);
    const at = now();
    for (const s of states) {
      const spec = specs.find((b) => b.bucket === s.bucket);
      if (!spec) continue;
      // Spending not settled yet (a settle that failed) stays to be settled, and is not this process's to hand out.
      const known = buckets.get(s.bucket);
      const spent = known?.spent ?? 0;
      remember(s.bucket, { rate: spec.requestsPerSecond, burst: spec.burst, tokens: s.tokens - spent, at, heard: at, spent, sending: known?.sending ?? 0 });
    }
    return answerOf(specs, states);
  };

  const settle = async (): Promise<void> => {
    if (settling) return settling;
    const spending: rateLimits.BucketSpending[] = [];
    const t = now();
    for (const [bucket, b] of buckets) {
      if (b.spent === 0) {
        // Not used since the last settle and soon stale: its next request asks Postgres anyway.
        if (b.sending === 0 && t - b.heard > staleMs) buckets.delete(bucket);
        continue;
      }
      b.sending = b.spent;
      b.spent = 0;
      spending.push({ bucket, rate: b.rate, burst: b.burst, spent: b.sending });
    }
    if (spending.length === 0) return;
    settling = rateLimits
      .settleTokens(pool, spending)
      .then((levels) => {
        const at = now();
        for (const l of levels) {
          const b = buckets.get(l.bucket);
          if (!b) continue;
          // Postgres counted what was sent; what was handed out meanwhile is still this process's to subtract.
          b.tokens = l.tokens - b.spent;
          b.at = at;
          b.heard = at;
          b.sending = 0;
        }
      })
      .catch((err: unknown) => {
        // Kept for the next attempt: the spending is not lost, and requests stay limited by the local copies.
        for (const s of spending) {
          const b = buckets.get(s.bucket);
          if (!b) continue;
          b.spent += b.sending;
          b.sending = 0;
        }
        log.warn({ err, buckets: spending.length }, 'could not settle rate-limit buckets');
      })
      .finally(() => {
        settling = undefined;
      });
    return settling;
  };

  return {
    async take(specs) {
      const t = now();
      const locals: Local[] = [];
      for (const spec of specs) {
        const b = buckets.get(spec.bucket);
        if (!b || t - b.heard > staleMs) return takeShared(specs);
        b.rate = spec.requestsPerSecond;
        b.burst = spec.burst;
        locals.push(b);
      }
      let tightest: { spec: BucketSpec; tokens: number } | undefined;
      specs.forEach((spec, i) => {
        const tokens = refill(locals[i] as Local, t);
        if (!tightest || tokens < tightest.tokens) tightest = { spec, tokens };
      });
      if (!tightest) return {};
      if (tightest.tokens < 1) refuse(tightest.spec, tightest.tokens);
      for (const b of locals) {
        b.tokens -= 1;
        b.spent += 1;
      }
      return headersOf(tightest.spec.requestsPerSecond, tightest.tokens - 1, tightest.spec.requestsPerSecond).headers;
    },
    settle,
    size: () => buckets.size,
    start() {
      timer ??= setInterval(() => void settle(), options.settleMs ?? SETTLE_MS);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await settling;
      await settle();
    },
  };
}
