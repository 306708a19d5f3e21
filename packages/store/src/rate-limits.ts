/**
 * Token buckets shared by every control-plane replica (api_rate_buckets, unlogged). Each replica decides requests from
 * its own copy of a bucket and settles what it spent with `settleTokens` a few times a second, many buckets in one
 * statement; `takeTokens` takes a token at once (a bucket this replica has not seen lately). Both refill and take
 * under the row lock, so replicas never hand out the same token twice for longer than one settling interval.
 */
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { parseRows } from './rows.js';

export interface BucketRequest {
  bucket: string;
  /** Tokens per second. */
  rate: number;
  /** Bucket size. */
  burst: number;
}

export const BucketState = z.object({ bucket: z.string(), tokens: z.number(), allowed: z.boolean() });
export type BucketState = z.infer<typeof BucketState>;

const refilled = sql.fragment`LEAST(EXCLUDED.burst, b.tokens + GREATEST(0, extract(epoch FROM clock_timestamp() - b.updated_at)) * EXCLUDED.rate)`;

/** Takes one token from each bucket when it has one (allowed), in one statement. */
export async function takeTokens(db: CommonQueryMethods, requests: readonly BucketRequest[]): Promise<readonly BucketState[]> {
  if (requests.length === 0) return [];
  const buckets = sql.array(requests.map((r) => r.bucket), 'text');
  const rates = sql.array(requests.map((r) => r.rate), 'float8');
  const bursts = sql.array(requests.map((r) => r.burst), 'float8');
  return db
    .any(sql.type(BucketState)`
    INSERT INTO api_rate_buckets AS b (bucket, tokens, rate, burst, allowed, updated_at)
    SELECT x.bucket, x.burst - 1, x.rate, x.burst, true, clock_timestamp()
    FROM unnest(${buckets}::text[], ${rates}::float8[], ${bursts}::float8[]) AS x(bucket, rate, burst)
    ORDER BY x.bucket
    ON CONFLICT (bucket) DO UPDATE SET
      tokens = CASE WHEN ${refilled} >= 1 THEN ${refilled} - 1 ELSE ${refilled} END,
      rate = EXCLUDED.rate,
      burst = EXCLUDED.burst,
      allowed = ${refilled} >= 1,
      updated_at = clock_timestamp()
    RETURNING b.bucket, b.tokens, b.allowed`)
    .then(parseRows(BucketState));
}

export interface BucketSpending extends BucketRequest {
  /** Tokens this replica handed out since it last settled. */
  spent: number;
}

export const BucketLevel = z.object({ bucket: z.string(), tokens: z.number() });
export type BucketLevel = z.infer<typeof BucketLevel>;

/**
 * Refills each bucket, subtracts what a replica spent, and returns the levels, in one statement. A level may go below
 * zero (replicas together spent more than was left during one interval): that debt, at most one bucket's worth, is
 * paid back before anyone gets another token, so the rate holds over time.
 */
export async function settleTokens(db: CommonQueryMethods, spending: readonly BucketSpending[]): Promise<readonly BucketLevel[]> {
  if (spending.length === 0) return [];
  const buckets = sql.array(spending.map((r) => r.bucket), 'text');
  const rates = sql.array(spending.map((r) => r.rate), 'float8');
  const bursts = sql.array(spending.map((r) => r.burst), 'float8');
  const spent = sql.array(spending.map((r) => r.spent), 'float8');
  // EXCLUDED carries `spent` as burst − tokens: exact while spent ≤ 2 × burst; beyond that the level is −burst anyway.
  return db
    .any(sql.type(BucketLevel)`
    INSERT INTO api_rate_buckets AS b (bucket, tokens, rate, burst, allowed, updated_at)
    SELECT x.bucket, GREATEST(-x.burst, x.burst - x.spent), x.rate, x.burst, x.burst - x.spent >= 0, clock_timestamp()
    FROM unnest(${buckets}::text[], ${rates}::float8[], ${bursts}::float8[], ${spent}::float8[]) AS x(bucket, rate, burst, spent)
    ORDER BY x.bucket
    ON CONFLICT (bucket) DO UPDATE SET
      tokens = GREATEST(-EXCLUDED.burst, ${refilled} - (EXCLUDED.burst - EXCLUDED.tokens)),
      rate = EXCLUDED.rate,
      burst = EXCLUDED.burst,
      allowed = ${refilled} - (EXCLUDED.burst - EXCLUDED.tokens) >= 0,
      updated_at = clock_timestamp()
    RETURNING b.bucket, b.tokens`)
    .then(parseRows(BucketLevel));
}
