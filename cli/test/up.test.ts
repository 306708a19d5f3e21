import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { postgresProcesses } from '@wharf/store';
import { createTestDatabase, startWharf } from '@wharf/testkit';
import { createStorePool, sql } from '@wharf/store';
import t from 'tap';

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-up-'));
  // The embedded server runs as the postgres user when tests run as root: it must reach the directory.
  await chmod(dir, 0o755);
  return dir;
}

t.test('invalid settings are all listed at once, naming each setting, exit 1, no stack trace', async (t) => {
  const cwd = await tempDir();
  t.teardown(() => rm(cwd, { recursive: true, force: true }));
  const p = startWharf(['up'], { cwd, env: { WHARF_PORT: 'abc', DATABASE_URL: 'mysql://u:hunter2@h/db', WHARF_LOG_LEVEL: 'loud' } });
  const { code } = await p.exited;
  t.equal(code, 1);
  const out = p.output();
  t.match(out, /WHARF_PORT must be a whole number \(got "abc"\)/);
  t.match(out, /DATABASE_URL must start with postgres:\/\/ or postgresql:\/\//);
  t.match(out, /WHARF_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/);
  t.notMatch(out, /hunter2/, 'the password in DATABASE_URL is never echoed');
  t.notMatch(out, /\n\s+at /, 'no stack trace');
});

t.test('an unreachable database server is named with its setting, password redacted', async (t) => {
  const cwd = await tempDir();
  t.teardown(() => rm(cwd, { recursive: true, force: true }));
  const p = startWharf(['up'], { cwd, env: { DATABASE_URL: 'postgres://wharf:hunter2@127.0.0.1:1/wharf' } });
  const { code } = await p.exited;
  t.equal(code, 1);
  t.match(p.output(), /cannot connect to the database at postgres:\/\/wharf:\[REDACTED\]@127\.0\.0\.1:1\/wharf \(DATABASE_URL\)/);
  t.notMatch(p.output(), /hunter2/);
});

t.test('a port already in use is named with the setting that changes it', async (t) => {
  const db = await createTestDatabase(t);
  const cwd = await tempDir();
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as net.AddressInfo).port;
  t.teardown(async () => {
    await new Promise((r) => blocker.close(r));
    await rm(cwd, { recursive: true, force: true });
  });
  const p = startWharf(['up'], { cwd, env: { DATABASE_URL: db.url, WHARF_PORT: String(port) } });
  const { code } = await p.exited;
  t.equal(code, 1);
  t.match(p.output(), new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use: stop the other process or set WHARF_PORT`));
});

t.test('embedded Postgres: ready, clean stop on SIGTERM, and recovery after kill -9 with data intact', async (t) => {
  const cwd = await tempDir();
  const dataDir = path.join(cwd, '.wharf', 'pg');
  t.teardown(() => rm(cwd, { recursive: true, force: true }));

  const first = startWharf(['up'], { cwd, env: { WHARF_PORT: '0' } });
  const [, url] = await first.waitFor(/Wharf is up at (http:\/\/\S+)/);
  const ready = await fetch(`${url}/readyz`);
  t.equal(ready.status, 200, '/readyz answers 200 once the database is reachable');
  t.same(await ready.json(), { status: 'ready', checks: { database: 'ok' } });

  // Write a row straight into the embedded database, as any client would.
  const port = (await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[3];
  const password = await readFile(path.join(cwd, '.wharf', 'wharf-password'), 'utf8');
  const embeddedUrl = (p: string | undefined) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${p}/postgres`;
  const client = await createStorePool(embeddedUrl(port), { maximumPoolSize: 1 });
  await client.query(sql.unsafe`INSERT INTO audit_log (actor, action) VALUES ('test', 'before-crash')`);
  await client.end();

  first.child.kill('SIGKILL');
  await first.exited;

  const second = startWharf(['up'], { cwd, env: { WHARF_PORT: '0' } });
  const [, url2] = await second.waitFor(/Wharf is up at (http:\/\/\S+)/);
  t.equal((await fetch(`${url2}/readyz`)).status, 200, 'comes back after kill -9');
  const port2 = (await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[3];
  const client2 = await createStorePool(embeddedUrl(port2), { maximumPoolSize: 1 });
  const rows = await client2.any(sql.unsafe`SELECT action FROM audit_log WHERE actor = 'test'`);
  await client2.end();
  t.same(rows, [{ action: 'before-crash' }], 'data written before the crash is intact');

  // Starting again while it runs is refused, and the running Wharf keeps its database.
  const third = startWharf(['up'], { cwd, env: { WHARF_PORT: '0' } });
  t.equal((await third.exited).code, 1, 'a second wharf up on the same data directory exits 1');
  t.match(third.output(), /another Wharf \(pid \d+\) is running with the embedded database in .*: stop it first/);
  t.equal((await fetch(`${url2}/readyz`)).status, 200, 'the running Wharf is untouched');

  second.child.kill('SIGTERM');
  const { code } = await second.exited;
  t.equal(code, 0, 'exits 0 on SIGTERM');
  t.match(second.output(), /Wharf stopped\./);
  t.same(await postgresProcesses(dataDir), [], 'no Postgres process left running');
});

t.test('stops on SIGTERM while a dashboard holds its live event stream and a followed log open', async (t) => {
  const db = await createTestDatabase(t);
  const cwd = await tempDir();
  t.teardown(() => rm(cwd, { recursive: true, force: true }));
  const wharf = startWharf(['up'], { cwd, env: { DATABASE_URL: db.url, WHARF_PORT: '0', WHARF_ROUTER_PORT: '0' } });
  t.teardown(async () => {
    wharf.child.kill('SIGKILL');
    await wharf.exited;
  });
  const [, url] = await wharf.waitFor(/Wharf is up at (http:\/\/\S+)/);
  await wharf.waitFor(/hello-api +production +\w+ +Ready/, 120_000);
  const envs = (await (await fetch(`${url}/api/v1/environments`)).json()) as { items: { id: number }[] };
  const id = envs.items[0]?.id;
  // What the environment page holds open (the local owner, from this machine), each read until it has begun.
  const open = async (path: string, until: RegExp) => {
    const res = await fetch(`${url}${path}`);
    t.equal(res.status, 200, path);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!until.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    t.match(text, until, `${path} is open`);
    return reader;
  };
  const streams = [await open('/api/v1/events', /event: ready/), await open(`/api/v1/environments/${id}/logs?follow=1`, /listening/)];
  wharf.child.kill('SIGTERM');
  // Before, the server waited for these streams to finish, which an open page never does: `stopping…` forever.
  const { code } = await wharf.exited;
  t.equal(code, 0, 'exits 0 on SIGTERM with the streams open');
  t.match(wharf.output(), /Wharf stopped\./);
  for (const s of streams) await s.cancel().catch(() => undefined);
});
