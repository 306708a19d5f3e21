import { randomBytes } from 'node:crypto';
import { createStorePool, type DatabasePool, migrate, migrationsDigest } from '@wharf/store';
import pg from 'pg';
import pino from 'pino';

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

export function databaseUrl(server: string, database: string): string {
  const u = new URL(server);
  u.pathname = `/${database}`;
  return u.toString();
}

async function withAdmin<T>(server: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl(server, 'postgres'), application_name: 'wharf-testkit' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates, once per schema, a migrated template database; concurrent test files wait on an advisory lock. */
async function ensureTemplate(server: string): Promise<string> {
  const name = `wharf_tpl_${await migrationsDigest()}`;
  await withAdmin(server, async (admin) => {
    await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (rowCount) return;
      const building = `${name}_build`;
      await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(building)}`);
      await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(building)}`);
      await migrate(databaseUrl(server, building), pino({ level: 'silent' }));
      await admin.query(`ALTER DATABASE ${admin.escapeIdentifier(building)} RENAME TO ${admin.escapeIdentifier(name)}`);
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]);
    }
  });
  return name;
}

async function createFromTemplate(admin: pg.Client, name: string, template: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)} TEMPLATE ${admin.escapeIdentifier(template)}`);
      return;
    } catch (err) {
      // Another file may be cloning the same template at this instant.
      if (attempt < 20 && /being accessed by other users/.test((err as Error).message)) {
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
        continue;
      }
      throw err;
    }
  }
}

/**
 * Gives the calling test file its own database, cloned from a migrated template, and drops it at teardown.
 * A test that leaves connections to it open fails.
 */
export async function createTestDatabase(t: TeardownHost, options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const server = serverUrl();
  const name = `wharf_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(server, async (admin) => {
    if (options.migrated === false) await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
    else await createFromTemplate(admin, name, await ensureTemplate(server));
  });
  const url = databaseUrl(server, name);
  const pool = await createStorePool(url, { maximumPoolSize: 5 });
  t.teardown(async () => {
    await pool.end();
    await withAdmin(server, async (admin) => {
      // Give clients a moment to finish closing sockets they were told to close.
      let open: { application_name: string; state: string }[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await admin.query<{ application_name: string; state: string }>(
          'SELECT application_name, state FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [name],
        );
        open = res.rows;
        if (open.length === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      if (open.length > 0) {
        t.fail(
          `test left ${open.length} connection(s) open to its database: ${open.map((c) => c.application_name || '(unnamed)').join(', ')}`,
        );
      }
      await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)} WITH (FORCE)`);
    });
  });
  return { url, name, pool };
}
