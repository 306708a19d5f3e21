/**
 * The API's rate limiter on real Postgres: two limiters are two replicas sharing one database. Requests are decided
 * from each replica's copy without a write; settling shares what each spent. Buckets refill at a rate too slow to
 * matter here (one token per 1,000 s), and each limiter runs on a clock the test moves.
 */
import { rateLimits, sql } from '@wharf/store';
import { createTestDatabase, silentLog } from '@wharf/testkit';
import t from 'tap';
import { createRateLimiter } from '../src/api/http/rate-limit.js';
import { ProblemError } from '../src/api/http/problem-error.js';

const SLOW = { requestsPerSecond: 0.001, burst: 10 };
const org = { bucket: 'org:1', ...SLOW };

/** Takes until refused; how many were admitted (at most `max`). */
async function admitted(limiter: ReturnType<typeof createRateLimiter>, specs = [org], max = 100): Promise<number> {
  for (let n = 0; n < max; n++) {
    try {
      await limiter.take(specs);
    } catch (err) {
      if (err instanceof ProblemError && err.problem.code === 'rate-limited') return n;
      throw err;
    }
  }
  return max;
}

const clock = () => {
  let ms = 1_000_000;
  return { now: () => ms, advance: (by: number) => (ms += by) };
};

t.test('a request writes nothing: one statement takes the first token, the rest is settled in one statement', async (t) => {
  const db = await createTestDatabase(t);
  let statements = 0;
  const pool = new Proxy(db.pool, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        statements += 1;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const c = clock();
  const a = createRateLimiter({ pool, log: silentLog, now: c.now });
  const headers = await a.take([org, { bucket: 'key:7', ...SLOW }]);
  t.same(headers, { 'ratelimit-limit': '0.001', 'ratelimit-remaining': '9', 'ratelimit-reset': '0' });
  t.equal(statements, 1, 'the first request of a bucket asks Postgres');
  for (let i = 0; i < 5; i++) await a.take([org, { bucket: 'key:7', ...SLOW }]);
  t.equal(statements, 1, 'the next five do not');
  await a.settle();
  t.equal(statements, 2, 'one statement settles both buckets');
  const levels = await db.pool.any(sql.unsafe`SELECT bucket, round(tokens)::int AS tokens FROM api_rate_buckets ORDER BY bucket`);
  t.same(levels, [
    { bucket: 'key:7', tokens: 4 },
    { bucket: 'org:1', tokens: 4 },
  ]);
  await a.settle();
  t.equal(statements, 2, 'nothing spent, nothing sent');
});

t.test('two replicas share a bucket: what one spent, the other sees once both settled', async (t) => {
  const db = await createTestDatabase(t);
  const c = clock();
  const a = createRateLimiter({ pool: db.pool, log: silentLog, now: c.now });
  const b = createRateLimiter({ pool: db.pool, log: silentLog, now: c.now });
  for (let i = 0; i < 8; i++) await a.take([org]);
  await a.settle();
  t.equal(await admitted(b), 2, 'B gets only the 2 tokens A left');
  // A's copy still says 2 are left: it hands them out, the bucket goes into debt, and settling tells both.
  t.equal(await admitted(a), 2);
  await a.settle();
  await b.settle();
  const level = Number(await db.pool.oneFirst(sql.unsafe`SELECT tokens FROM api_rate_buckets WHERE bucket = 'org:1'`));
  t.ok(level <= -1.9 && level > -2.1, `the debt is recorded (${level})`);
  t.equal(await admitted(a), 0, 'A refuses while the debt lasts');
  t.equal(await admitted(b), 0, 'so does B');
  c.advance(60_000);
  t.equal(await admitted(b), 0, 'a copy gone stale asks Postgres, which still says no');
});

t.test('a refused request takes nothing; the 429 says when to come back', async (t) => {
  const db = await createTestDatabase(t);
  const c = clock();
  const a = createRateLimiter({ pool: db.pool, log: silentLog, now: c.now });
  const key = { bucket: 'key:1', requestsPerSecond: 0.001, burst: 3 };
  t.equal(await admitted(a, [org, key]), 3, 'the key bucket is the tighter one');
  const err = await a.take([org, key]).catch((e: unknown) => e);
  t.ok(err instanceof ProblemError);
  const problem = err as ProblemError;
  t.equal(problem.problem.status, 429);
  t.equal(problem.headers['ratelimit-remaining'], '0');
  t.ok(Number(problem.headers['retry-after']) >= 1);
  await a.settle();
  const orgLevel = Number(await db.pool.oneFirst(sql.unsafe`SELECT round(tokens) FROM api_rate_buckets WHERE bucket = 'org:1'`));
  t.equal(orgLevel, 7, 'the organization paid for the 3 admitted requests only');
});

t.test('a bucket refills at its rate, here and in Postgres', async (t) => {
  const db = await createTestDatabase(t);
  const c = clock();
  const a = createRateLimiter({ pool: db.pool, log: silentLog, now: c.now, staleMs: 10_000 });
  const fast = { bucket: 'ip:192.0.2.1', requestsPerSecond: 2, burst: 4 };
  t.equal(await admitted(a, [fast]), 4);
  c.advance(1_000);
  t.equal(await admitted(a, [fast]), 2, 'two tokens a second later');
  const states = await rateLimits.takeTokens(db.pool, [{ bucket: 'ip:192.0.2.2', rate: 2, burst: 4 }]);
  t.same(states.map((s) => [s.bucket, s.allowed, Math.round(s.tokens)]), [['ip:192.0.2.2', true, 3]]);
});

t.test('strangers cannot grow the table of buckets without bound', async (t) => {
  const db = await createTestDatabase(t);
  const c = clock();
  const a = createRateLimiter({ pool: db.pool, log: silentLog, now: c.now, maxBuckets: 3 });
  for (let i = 0; i < 10; i++) await a.take([{ bucket: `ip:198.51.100.${i}`, ...SLOW }]);
  t.equal(a.size(), 3, 'only the latest buckets are kept');
  c.advance(60_000);
  await a.settle();
  t.equal(a.size(), 0, 'buckets unused for longer than a copy stays fresh are dropped');
});
