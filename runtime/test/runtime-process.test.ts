import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUNTIME_HEALTH_PATH } from '@wharf/contracts/runtime-protocol';
import t from 'tap';
import { call, type RuntimeProcess, startRuntime, stderrMatching } from './helpers/start-runtime.js';

const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name);

t.test('a sqlite-backed todo app served by the runtime process', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-rt-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const rt: RuntimeProcess = await startRuntime(['--config', fixture('todo-app.yaml'), '--data-dir', dataDir], { WHARF_DIGEST: 'sha256:abc' });
  t.teardown(() => rt.stop());
  const u = (p: string) => `${rt.url}${p}`;

  t.same(
    (await call(u(RUNTIME_HEALTH_PATH))).body,
    { status: 'ok', digest: 'sha256:abc', stateful: true, dataFiles: ['data/todos.db'] },
    'the health path reports the digest from WHARF_DIGEST and the SQLite files the runtime holds',
  );
  t.same((await call(u('/healthz'))).body, (await call(u(RUNTIME_HEALTH_PATH))).body, 'an app without its own /healthz gets the same answer there');
  t.equal((await call(u('/.wharf/readyz'))).status, 200);
  t.same((await call(u('/admin/init'), { method: 'POST' })).body, { initialized: true }, 'db_exec runs DDL');

  const created = await call(u('/todos'), { body: { title: 'Buy milk' } });
  t.equal(created.status, 201, 'json_response uses the configured status');
  t.equal(created.headers.get('location'), '/todos/1', 'json_response headers are templated');
  t.same(created.body, { id: '1', title: 'Buy milk', priority: 'medium' }, 'db_exec last_id and default values reach the body');
  const second = await call(u('/todos'), { body: { title: 'Walk dog', priority: 'high' } });
  t.same(second.body, { id: '2', title: 'Walk dog', priority: 'high' });

  const list = await call(u('/todos'));
  t.equal(list.status, 200);
  t.same(list.body.todos.map((x: { title: string }) => x.title), ['Buy milk', 'Walk dog'], 'db_query list mode returns rows');
  t.equal(list.body.count, '2');
  const filtered = await call(u('/todos?priority=high'));
  t.same(filtered.body.todos.map((x: { id: number }) => x.id), [2], 'request_parse query params feed db_query params');

  const one = await call(u('/todos/2'));
  t.equal(one.status, 200);
  t.match(one.body, { id: 2, title: 'Walk dog', priority: 'high', done: 0 }, 'db_query single mode and path params');
  t.match(one.body.created_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, "SQLite's datetime('now') default works");
  const missing = await call(u('/todos/99'));
  t.equal(missing.status, 404, 'conditional routes to an inline response');
  t.same(missing.body, { error: 'todo 99 not found' });

  let audit = await call(u('/audit'));
  for (let i = 0; i < 50 && audit.body.length < 2; i++) {
    await new Promise((r) => setTimeout(r, 20));
    audit = await call(u('/audit'));
  }
  t.same(audit.body, [{ topic: 'todo.created', todo_id: '1' }, { topic: 'todo.created', todo_id: '2' }], 'step.publish reaches a messaging-triggered pipeline');

  const invalid = await call(u('/todos'), { body: { title: 'Bu', priority: 'urgent' } });
  t.equal(invalid.status, 400, 'validate rejects with 400');
  t.match(invalid.body.error, /title: must be at least 3 characters/);
  t.match(invalid.body.error, /priority: must match pattern/);
  const noTitle = await call(u('/todos'), { body: { priority: 'low' } });
  t.equal(noTitle.status, 400);
  t.match(noTitle.body.error, /missing required fields: title/, 'missing required fields are named');

  const malformed = await call(u('/todos'), { raw: '{"title": ', headers: { 'content-type': 'application/json' }, method: 'POST' });
  t.equal(malformed.status, 400, 'malformed JSON gets 400');
  t.match(malformed.body, { error: /malformed JSON/ });

  const broken = await call(u('/broken'));
  t.equal(broken.status, 500, 'an SQL error is a 500');
  t.same(broken.body, { error: 'database error', pipeline: 'bad-sql', step: 'rows' });
  t.notMatch(broken.text, /secret_column|no_such_table/, 'the SQL is not leaked to the client');
  t.match(await stderrMatching(rt, /no such table: no_such_table/), /no such table: no_such_table/, 'the SQL error is logged in full');

  const big = await call(u('/todos'), { body: { title: 'x'.repeat(2 * 1024 * 1024) } });
  t.equal(big.status, 413, 'bodies over the limit get 413');
  t.same(big.body, { error: 'request body too large' });

  const unknown = await call(u('/no/such/route'));
  t.equal(unknown.status, 404);
  t.match(unknown.body, { error: 'not found', path: '/no/such/route' }, 'unknown routes get a JSON 404');

  const metrics = await call(u('/metrics'));
  t.match(metrics.text, /wharf_runtime_http_requests_total\{route="\/todos\/\{id\}",method="GET",status="404"\} 1/, 'metrics count requests by route and status');
  t.match(metrics.text, /wharf_runtime_step_duration_seconds_count\{pipeline="create-todo",step="insert",type="step.db_exec"\} 2/, 'metrics time steps');

  t.equal(await rt.stop(), 0, 'SIGTERM exits cleanly');

  const again = await startRuntime(['--config', fixture('todo-app.yaml'), '--data-dir', dataDir]);
  t.teardown(() => again.stop());
  t.equal((await call(`${again.url}/todos`)).body.count, '2', 'data survives a restart in the same data dir');
  const otherDir = mkdtempSync(join(tmpdir(), 'wharf-rt-preview-'));
  t.teardown(() => rmSync(otherDir, { recursive: true, force: true }));
  const preview = await startRuntime(['--config', fixture('todo-app.yaml'), '--data-dir', otherDir]);
  t.teardown(() => preview.stop());
  await call(`${preview.url}/admin/init`, { method: 'POST' });
  t.equal((await call(`${preview.url}/todos`)).body.count, '0', 'another data dir (a preview) has its own database');
});

t.test('SIGTERM lets an in-flight request finish', async (t) => {
  const rt = await startRuntime(['--config', fixture('todo-app.yaml')]);
  t.teardown(() => rt.stop());
  await call(`${rt.url}/admin/init`, { method: 'POST' });
  const { hostname, port } = new URL(rt.url);
  const payload = JSON.stringify({ title: 'Slow upload' });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ hostname, port, path: '/todos', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.write(payload.slice(0, 5));
    setTimeout(() => {
      rt.proc.kill('SIGTERM');
      setTimeout(() => req.end(payload.slice(5)), 300);
    }, 200);
  });
  const res = await answer;
  t.equal(res.status, 201, 'the request started before SIGTERM is answered');
  t.match(JSON.parse(res.body), { title: 'Slow upload' });
  t.equal(await rt.stop(), 0, 'then the process exits 0');
});
