/**
 * Opening Wharf's database as a deployable does at start: connect once (so an unreachable server is reported as
 * such), apply pending migrations under the advisory lock, and return a pool. A StartupError says what is wrong,
 * never with the password.
 */
import { redactSecrets, StartupError } from '@wharf/contracts';
import pg from 'pg';
import { sql, type CommonQueryMethods } from 'slonik';
import type { Logger } from 'pino';
import { migrate } from './migrate.js';
import { createStorePool, type DatabasePool } from './pool.js';

export async function openDatabase(url: string, options: { log: Logger; poolSize?: number; what?: string }): Promise<DatabasePool> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000, application_name: 'wharf-check' });
  try {
    await client.connect();
  } catch (err) {
    throw new StartupError(
      `cannot connect to the database at ${redactSecrets(url)}${options.what ? ` (${options.what})` : ''}: ${redactSecrets((err as Error).message)}`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
  await migrate(url, options.log).catch((err) => {
    throw new StartupError(`database migration failed: ${redactSecrets((err as Error).message)}`);
  });
  return createStorePool(url, { maximumPoolSize: options.poolSize ?? 10 });
}

/** Readiness: the database answers, and holds Wharf's schema. */
export async function ping(db: CommonQueryMethods): Promise<void> {
  await db.query(sql.unsafe`SELECT 1 FROM environments LIMIT 1`);
}
