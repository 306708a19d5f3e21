import { sql } from '@wharf/store';
import { createTestDatabase, serverUrl, databaseUrl } from '@wharf/testkit';
import pg from 'pg';
import t from 'tap';

t.test('each call gets its own migrated database; data does not leak between them', async (t) => {
  const a = await createTestDatabase(t);
  const b = await createTestDatabase(t);
  t.not(a.name, b.name);
  await a.pool.query(sql.unsafe`INSERT INTO tenants (kind, external_id, name) VALUES ('local', 'a', 'a')`);
  t.equal(await a.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM tenants`), 1);
  t.equal(await b.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM tenants`), 0, 'the other database is untouched');
  t.ok(await b.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM schema_migrations`), 'migrated from the template');
});

t.test('a test that leaves a connection open fails, and the database is dropped anyway', async (t) => {
  const teardowns: (() => unknown)[] = [];
  const failures: string[] = [];
  const db = await createTestDatabase({ teardown: (fn) => teardowns.push(fn), fail: (m) => failures.push(m) });
  const leaked = new pg.Client({ connectionString: db.url, application_name: 'leaky-test-client' });
  leaked.on('error', () => undefined); // the forced drop terminates it
  await leaked.connect();
  for (const fn of teardowns) await fn();
  t.equal(failures.length, 1);
  t.match(failures[0], /test left 1 connection\(s\) open to its database: leaky-test-client/);
  const admin = new pg.Client({ connectionString: databaseUrl(serverUrl(), 'postgres') });
  await admin.connect();
  const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [db.name]);
  await admin.end();
  await leaked.end().catch(() => undefined);
  t.equal(rowCount, 0, 'database dropped');
});

t.test('a clean test passes teardown without failures', async (t) => {
  const teardowns: (() => unknown)[] = [];
  const failures: string[] = [];
  await createTestDatabase({ teardown: (fn) => teardowns.push(fn), fail: (m) => failures.push(m) });
  for (const fn of teardowns) await fn();
  t.same(failures, []);
});
