import { listen, sql } from '@wharf/store';
import { createTestDatabase, serverUrl, waitFor } from '@wharf/testkit';
import { databaseExists, openConnections } from '@wharf/store/testing';
import pino from 'pino';
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
  // A LISTEN connection the test forgot to close (the store's dedicated connection, application name wharf-listen).
  const leaked = listen(db.url, ['nothing'], () => undefined, pino({ level: 'silent' }));
  await waitFor('the leaked connection', async () => (await openConnections(serverUrl(), db.name)).some((c) => c.application_name === 'wharf-listen'));
  for (const fn of teardowns) await fn();
  await leaked.close();
  t.equal(failures.length, 1);
  t.match(failures[0], /test left 1 connection\(s\) open to its database: wharf-listen/);
  t.equal(await databaseExists(serverUrl(), db.name), false, 'database dropped');
});

t.test('a clean test passes teardown without failures', async (t) => {
  const teardowns: (() => unknown)[] = [];
  const failures: string[] = [];
  await createTestDatabase({ teardown: (fn) => teardowns.push(fn), fail: (m) => failures.push(m) });
  for (const fn of teardowns) await fn();
  t.same(failures, []);
});
