import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import t from 'tap';
import { call, runRefusing, startRuntime } from './helpers/start-runtime.js';

const server = process.env.DATABASE_URL;

t.test('database.workflow with the postgres driver', { skip: server ? false : 'DATABASE_URL not set (run through npm test)' }, async (t) => {
  const name = `wharf_runtime_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  t.teardown(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });
  const url = new URL(server as string);
  url.pathname = `/${name}`;
  const refused = await runRefusing(['--config', join(import.meta.dirname, 'fixtures', 'pg-app.yaml')], { NOTES_DATABASE_URL: url.toString() });
  t.match(refused.stderr, new RegExp(`connecting to ${url.hostname}:${url.port || 5432} is not allowed`), 'without --allow-host the database host is refused');
  const rt = await startRuntime(['--config', join(import.meta.dirname, 'fixtures', 'pg-app.yaml'), '--allow-host', `${url.hostname}:${url.port || 5432}`], {
    NOTES_DATABASE_URL: url.toString(),
  });
  t.teardown(() => rt.stop());

  t.same((await call(`${rt.url}/init`, { method: 'POST' })).body, { ok: true });
  const created = await call(`${rt.url}/notes`, { body: { title: 'on postgres', tags: ['a', 'b'] } });
  t.equal(created.status, 201);
  t.same(created.body, { id: '1', affected: '1' }, 'RETURNING gives last_id; $N placeholders pass through');
  const got = await call(`${rt.url}/notes/1`);
  t.same(got.body, { row: { id: 1, title: 'on postgres', tags: ['a', 'b'] }, found: true }, '? placeholders are rewritten to $N; jsonb comes back as JSON');
  const none = await call(`${rt.url}/notes/2`);
  t.same(none.body, { row: {}, found: false });
  const bad = await call(`${rt.url}/bad`);
  t.equal(bad.status, 500);
  t.notMatch(bad.text, /secret_users|password/, 'the SQL is not sent to the client');
  t.equal(await rt.stop(), 0, 'the pool closes on SIGTERM');
});
