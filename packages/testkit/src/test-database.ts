import { randomBytes } from 'node:crypto';
import { createStorePool, type DatabasePool, migrate, migrationsDigest } from '@wharf/store';
import { createDatabase, databaseExists, databaseUrl, dropDatabase, openConnections, renameDatabase, withServerLock } from '@wharf/store/testing';
import pino from 'pino';

export { databaseUrl };

/** The part of tap's `t` this needs, so the helper works with any tap version. */
export interface TeardownHost {
  teardown(fn: () => unknown): void;
  fail(message: string): unknown;
}

export interface TestDatabase {
  /** Connection string of this test file's own database. */
  url: string;
  name: string;
  /** A slonik pool on it, ended at teardown. */
  pool: DatabasePool;
}

const TEMPLATE_LOCK_KEY = 7_424_610_002;

export function serverUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) {
    throw new Error('DATABASE_URL is not set: run tests with `npm test`, which starts a throwaway Postgres');
  }
  return url;
}

/** Creates, once per schema, a migrated template database; concurrent test files wait on an advisory lock. */
async function ensureTemplate(server: string): Promise<string> {
  const name = `wharf_tpl_${await migrationsDigest()}`;
  await withServerLock(server, TEMPLATE_LOCK_KEY, async () => {
    if (await databaseExists(server, name)) return;
    const building = `${name}_build`;
    await dropDatabase(server, building);
    await createDatabase(server, building);
    await migrate(databaseUrl(server, building), pino({ level: 'silent' }));
    await renameDatabase(server, building, name);
  });
  return name;
}

/**
 * Gives the calling test file its own database, cloned from a migrated template, and drops it at teardown.
 * A test that leaves connections to it open fails.
 */
export async function createTestDatabase(t: TeardownHost, options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const server = serverUrl();
  const name = `wharf_test_${randomBytes(6).toString('hex')}`;
  if (options.migrated === false) await createDatabase(server, name);
  else await createDatabase(server, name, { template: await ensureTemplate(server) });
  const url = databaseUrl(server, name);
  const pool = await createStorePool(url, { maximumPoolSize: 5 });
  t.teardown(async () => {
    await pool.end();
    // Give clients a moment to finish closing sockets they were told to close.
    let open: { application_name: string; state: string }[] = [];
    for (let i = 0; i < 20; i++) {
      open = await openConnections(server, name);
      if (open.length === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (open.length > 0) {
      t.fail(`test left ${open.length} connection(s) open to its database: ${open.map((c) => c.application_name || '(unnamed)').join(', ')}`);
    }
    await dropDatabase(server, name);
  });
  return { url, name, pool };
}
