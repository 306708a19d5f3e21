/**
 * Token buckets shared by every control-plane replica (api_rate_buckets, unlogged). One statement per request
 * refills and takes from each named bucket under its row lock, so replicas never hand out the same token twice.
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

export async function takeTokens(db: CommonQueryMethods, requests: readonly BucketRequest[]): Promise<readonly BucketState[]> {
  if (requests.length === 0) return [];
  const buckets = sql.array(requests.map((r) => r.bucket), 'text');
  const rates = sql.array(requests.map((r) => r.rate), 'float8');
  const bursts = sql.array(requests.map((r) => r.burst), 'float8');
  const avail = sql.fragment`LEAST(EXCLUDED.burst, b.tokens + GREATEST(0, extract(epoch FROM clock_timestamp() - b.updated_at)) * EXCLUDED.rate)`;
  return db
    .any(sql.type(BucketState)`
    INSERT INTO api_rate_buckets AS b (bucket, tokens, rate, burst, allowed, updated_at)
    SELECT x.bucket, x.burst - 1, x.rate, x.burst, true, clock_timestamp()
    FROM unnest(${buckets}::text[], ${rates}::float8[], ${bursts}::float8[]) AS x(bucket, rate, burst)
    ORDER BY x.bucket
    ON CONFLICT (bucket) DO UPDATE SET
      tokens = CASE WHEN ${avail} >= 1 THEN ${avail} - 1 ELSE ${avail} END,
      rate = EXCLUDED.rate,
      burst = EXCLUDED.burst,
      allowed = ${avail} >= 1,
      updated_at = clock_timestamp()
    RETURNING b.bucket, b.tokens, b.allowed`)
    .then(parseRows(BucketState));
}
