/**
 * Server-level operations for tests and benchmarks (exported from @wharf/store/testing): databases made from a
 * migrated template, dropped again, and the connections a test left open. Wharf itself never creates databases.
 */
import pg from 'pg';

/** The connection string of database `name` on the server of `server`. */
export function databaseUrl(server: string, name: string): string {
  const u = new URL(server);
  u.pathname = `/${name}`;
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

/** Runs `fn` holding a server-wide advisory lock (concurrent test files building one template wait for each other). */
export async function withServerLock<T>(server: string, key: number, fn: () => Promise<T>): Promise<T> {
  return withAdmin(server, async (admin) => {
    await admin.query('SELECT pg_advisory_lock($1)', [key]);
    try {
      return await fn();
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [key]);
    }
  });
}

export async function databaseExists(server: string, name: string): Promise<boolean> {
  return withAdmin(server, async (admin) => ((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount ?? 0) > 0);
}

/** Creates a database, empty or as a copy of `template` (retried while another copy of the template is being made). */
export async function createDatabase(server: string, name: string, options: { template?: string } = {}): Promise<void> {
  await withAdmin(server, async (admin) => {
    const template = options.template ? ` TEMPLATE ${admin.escapeIdentifier(options.template)}` : '';
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}${template}`);
        return;
      } catch (err) {
        if (options.template && attempt < 20 && /being accessed by other users/.test((err as Error).message)) {
          await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
          continue;
        }
        throw err;
      }
    }
  });
}

export async function renameDatabase(server: string, from: string, to: string): Promise<void> {
  await withAdmin(server, (admin) => admin.query(`ALTER DATABASE ${admin.escapeIdentifier(from)} RENAME TO ${admin.escapeIdentifier(to)}`));
}

/** Drops a database, ending every connection to it. */
export async function dropDatabase(server: string, name: string): Promise<void> {
  await withAdmin(server, (admin) => admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)} WITH (FORCE)`));
}

/** The connections other clients hold to database `name`. */
export async function openConnections(server: string, name: string): Promise<{ application_name: string; state: string }[]> {
  return withAdmin(server, async (admin) => {
    const res = await admin.query<{ application_name: string; state: string }>(
      'SELECT application_name, state FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [name],
    );
    return res.rows;
  });
}
