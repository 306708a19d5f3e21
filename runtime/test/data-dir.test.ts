import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUNTIME_HEALTH_PATH } from '@wharf/contracts/runtime-protocol';
import t from 'tap';
import { createRuntime } from '../src/runtime.js';
import { call, runRefusing, startRuntime } from './helpers/start-runtime.js';

const todoApp = join(import.meta.dirname, 'fixtures', 'todo-app.yaml');

t.test('a crashed runtime leaves its data and no lock behind: the next one on the same data dir serves it', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-rt-crash-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await startRuntime(['--config', todoApp, '--data-dir', dataDir]);
  await call(`${first.url}/admin/init`, { method: 'POST' });
  await call(`${first.url}/todos`, { body: { title: 'survives a crash' } });
  first.proc.kill('SIGKILL');
  await new Promise((r) => first.proc.once('exit', r));
  t.ok(existsSync(join(dataDir, 'data', 'todos.db.lock')), 'the SQLite VFS left its lock directory behind');

  const second = await startRuntime(['--config', todoApp, '--data-dir', dataDir]);
  t.teardown(() => second.stop());
  const list = await call(`${second.url}/todos`);
  t.equal(list.status, 200, 'the database is usable, not "database is locked"');
  t.same(list.body.todos.map((x: { title: string }) => x.title), ['survives a crash'], 'and the data written before the crash is there');
  t.match(second.stderr(), /removed a stale SQLite lock/, 'the stale lock is removed and logged');
});

t.test('one stateful runtime per data dir: a second is refused until the first stops (stop-then-start)', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-rt-two-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await startRuntime(['--config', todoApp, '--data-dir', dataDir, '--digest', 'v1']);
  t.teardown(() => first.stop());
  await call(`${first.url}/admin/init`, { method: 'POST' });
  await call(`${first.url}/todos`, { body: { title: 'written by v1' } });
  t.same((await call(`${first.url}${RUNTIME_HEALTH_PATH}`)).body, { status: 'ok', digest: 'v1', stateful: true, dataFiles: ['data/todos.db'] }, 'the health answer tells the target to stop it first');

  const refused = await runRefusing(['--config', todoApp, '--data-dir', dataDir, '--data-dir-wait', '200ms']);
  t.equal(refused.code, 1, 'a second runtime on the same data dir exits 1');
  t.match(refused.stderr, /the data dir .* is in use by another runtime that holds its SQLite files; stop that runtime before starting this one/);
  t.equal((await call(`${first.url}/todos`)).body.count, '1', 'the first one is unharmed');

  t.equal(await first.stop(), 0);
  const second = await startRuntime(['--config', todoApp, '--data-dir', dataDir, '--digest', 'v2']);
  t.teardown(() => second.stop());
  t.same((await call(`${second.url}/todos`)).body.todos.map((x: { title: string }) => x.title), ['written by v1'], 'the next version serves the same data');
});

t.test('a stateless app with a data dir may run twice at once (overlapping swap)', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-rt-stateless-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = join(dataDir, '..', `${dataDir.split('/').pop()}-app.yaml`);
  writeFileSync(config, 'modules:\n  - { name: s, type: http.server }\npipelines:\n  hi:\n    trigger: { type: http, config: { path: /hi } }\n    steps: [{ name: r, type: step.json_response, config: { body: { hi: true } } }]\n');
  t.teardown(() => rmSync(config, { force: true }));
  const a = await startRuntime(['--config', config, '--data-dir', dataDir]);
  t.teardown(() => a.stop());
  const b = await startRuntime(['--config', config, '--data-dir', dataDir]);
  t.teardown(() => b.stop());
  t.same((await call(`${a.url}${RUNTIME_HEALTH_PATH}`)).body.stateful, false);
  t.same((await call(`${b.url}/hi`)).body, { hi: true }, 'both answer');
});

t.test('a step that cannot be interrupted (an endless SQL query) ends the process after --stall-timeout', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-rt-stall-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'app.yaml');
  writeFileSync(
    config,
    [
      'modules:',
      '  - { name: db, type: storage.sqlite }',
      'pipelines:',
      '  spin:',
      '    trigger: { type: http, config: { path: /spin } }',
      '    steps:',
      '      - { name: q, type: step.db_query, config: { database: db, query: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS n FROM c" } }',
      '',
    ].join('\n'),
  );
  const rt = await startRuntime(['--config', config, '--data-dir', join(dir, 'data'), '--stall-timeout', '1s']);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => rt.proc.once('exit', (code, signal) => resolve({ code, signal })));
  const answer = call(`${rt.url}/spin`).then(
    (r) => r.status,
    () => 'connection closed',
  );
  const { signal } = await exited;
  t.equal(signal, 'SIGKILL', 'the watchdog ends the process (a stuck thread runs no signal handler)');
  t.equal(await answer, 'connection closed', 'the request that hung it is cut');
  t.match(rt.stderr(), /event loop stalled past --stall-timeout/, 'and says why on stderr');
});

t.test('a database file that cannot be opened makes the health path answer 503, never a false ok', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-rt-corrupt-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  mkdirSync(join(dataDir, 'data'));
  writeFileSync(join(dataDir, 'data', 'todos.db'), 'this is not a SQLite database, it is a text file of some length'.repeat(100));
  const rt = await startRuntime(['--config', todoApp, '--data-dir', dataDir, '--digest', 'v1']);
  t.teardown(() => rt.stop());
  const health = await call(`${rt.url}${RUNTIME_HEALTH_PATH}`);
  t.equal(health.status, 503, 'the target never sees this version as healthy');
  t.match(health.body, { status: 'failed', digest: 'v1', error: /a database could not be opened: file is not a database/ });
  const todos = await call(`${rt.url}/todos`);
  t.equal(todos.status, 500, 'database steps fail');
  t.same(todos.body, { error: 'database error', pipeline: 'list-todos', step: 'rows' });
});

t.test('a restart on the same version reads its parsed config from the data dir; a changed file never does', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-rt-cache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'app.yaml');
  const yaml = (word: string) => `pipelines:\n  hi:\n    trigger: { type: http, config: { path: /hi } }\n    steps: [{ name: r, type: step.json_response, config: { body: { word: ${word} } } }]\n`;
  writeFileSync(config, yaml('first'));
  const dataDir = join(dir, 'data');
  const first = await createRuntime({ configFiles: [config], dataDir, port: 0 });
  t.same((await call(`${first.url}/hi`)).body, { word: 'first' });
  await first.close();
  const key = createHash('sha256').update(yaml('first')).digest('hex');
  const entry = join(dataDir, '.wharf-runtime', 'configs', `${key}.json`);
  t.same(readdirSync(join(dataDir, '.wharf-runtime', 'configs')), [`${key}.json`], 'the parsed config is kept under the SHA-256 of its text');
  // Mark the cached copy, so that the next start shows whether it read the cache or the YAML.
  writeFileSync(entry, readFileSync(entry, 'utf8').replace('"first"', '"from the cache"'));
  const again = await createRuntime({ configFiles: [config], dataDir, port: 0 });
  t.same((await call(`${again.url}/hi`)).body, { word: 'from the cache' }, 'the same text is served from the cache');
  await again.close();
  writeFileSync(config, yaml('second'));
  const changed = await createRuntime({ configFiles: [config], dataDir, port: 0 });
  t.teardown(() => changed.close());
  t.same((await call(`${changed.url}/hi`)).body, { word: 'second' }, 'a changed file is parsed, never taken from an older entry');
});
