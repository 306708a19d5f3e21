/**
 * One metering run at a time across control-plane replicas: a session advisory lock held on one connection for the
 * run. A replica that does not get it skips the run; a crashed replica's lock goes with its connection.
 */
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';

/** Advisory lock keys (pg_try_advisory_lock(int, int)): the first is Wharf's metering, the second the job. */
const METERING_LOCK = 0x77686d74; // 'whmt'
export const METERING_JOBS = { hourly: 1, reconcile: 2 } as const;
export type MeteringJob = keyof typeof METERING_JOBS;

/** Runs `fn` while holding the job's lock; returns `{ ran: false }` without running it when another replica holds it. */
export async function withMeteringLock<T>(pool: DatabasePool, job: MeteringJob, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
  return pool.connect(async (conn) => {
    const got = await conn.oneFirst(sql.type(z.object({ ok: z.boolean() }))`SELECT pg_try_advisory_lock(${METERING_LOCK}, ${METERING_JOBS[job]}) AS ok`);
    if (!got) return { ran: false as const };
    try {
      return { ran: true as const, value: await fn() };
    } finally {
      await conn.query(sql.unsafe`SELECT pg_advisory_unlock(${METERING_LOCK}, ${METERING_JOBS[job]})`);
    }
  });
}
