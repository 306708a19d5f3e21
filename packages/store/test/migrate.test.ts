import { spawn } from 'node:child_process';
import path from 'node:path';
import { createTestDatabase } from '@wharf/testkit';
import { migrate, readMigrations, sql } from '@wharf/store';
import pino from 'pino';
import t from 'tap';

const log = pino({ level: 'silent' });

t.test('four processes migrating an empty database at once end with one schema and no errors', async (t) => {
  const db = await createTestDatabase(t, { migrated: false });
  const script = path.resolve(import.meta.dirname, 'fixtures/migrate-once.ts');
  const runs = await Promise.all(
    [1, 2, 3, 4].map(
      () =>
        new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const child = spawn(process.execPath, ['--import', 'tsx', script, db.url], { stdio: ['ignore', 'ignore', 'pipe'] });
          let stderr = '';
          child.stderr.on('data', (d) => (stderr += d));
          child.on('close', (code) => resolve({ code, stderr }));
        }),
    ),
  );
  for (const r of runs) t.equal(r.code, 0, `migrator exited cleanly ${r.stderr}`);
  const migrations = await readMigrations();
  const applied = await db.pool.anyFirst(sql.unsafe`SELECT name FROM schema_migrations ORDER BY id`);
  t.same(applied, migrations.map((m) => m.name), 'every migration recorded exactly once');
  const tables = await db.pool.anyFirst(sql.unsafe`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
  t.ok(tables.includes('environments') && tables.includes('outbox'), 'schema present');
});

t.test('a shipped migration whose text changed is refused', async (t) => {
  const db = await createTestDatabase(t);
  await db.pool.query(sql.unsafe`UPDATE schema_migrations SET checksum = 'edited' WHERE id = 1`);
  await t.rejects(migrate(db.url, log), /0001_initial\.sql was changed after it was applied/);
});

t.test('migrating an up-to-date database applies nothing', async (t) => {
  const db = await createTestDatabase(t);
  const { applied } = await migrate(db.url, log);
  t.same(applied, []);
});

t.test('claiming due environments is an index scan, not a table scan, with 20,000 environments', async (t) => {
  const db = await createTestDatabase(t);
  await db.pool.query(sql.unsafe`
    WITH tn AS (INSERT INTO tenants (kind, external_id, name) VALUES ('local', 'me', 'me') RETURNING id),
         r AS (INSERT INTO repositories (tenant_id, provider, full_name, url) SELECT id, 'local', 'r', '/r' FROM tn RETURNING id, tenant_id)
    INSERT INTO environments (tenant_id, repository_id, app, name, kind, next_attempt_at)
    SELECT r.tenant_id, r.id, 'app', 'env-' || i, 'preview', now() + (i || ' seconds')::interval FROM r, generate_series(1, 20000) i`);
  await db.pool.query(sql.unsafe`ANALYZE environments`);
  const plan = await db.pool.anyFirst(sql.unsafe`
    EXPLAIN SELECT id FROM environments WHERE NOT suspended AND next_attempt_at <= now()
    ORDER BY next_attempt_at LIMIT 100 FOR UPDATE SKIP LOCKED`);
  t.match(plan.join('\n'), /Index Scan using environments_due/);
  t.notMatch(plan.join('\n'), /Seq Scan/);
});

t.test('the pool returns int8 as numbers and timestamps as ISO strings', async (t) => {
  const db = await createTestDatabase(t);
  const row = await db.pool.one(sql.unsafe`SELECT 9007199254740991::int8 AS big, '2026-11-22T03:00:00Z'::timestamptz AS at`);
  t.equal(row.big, 9_007_199_254_740_991);
  t.equal(row.at, '2026-11-22T03:00:00.000Z');
});
