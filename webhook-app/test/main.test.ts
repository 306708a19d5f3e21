/** The control-plane server runs alone against DATABASE_URL; a GitHub App with settings missing is refused at once. */
import path from 'node:path';
import { createTestDatabase, REPO_ROOT, startTsProcess, tempDir } from '@wharf/testkit';
import t from 'tap';

const MAIN = path.join(REPO_ROOT, 'webhook-app/src/main.ts');

t.test('webhook-app main: serves health and readiness on its port, stops on SIGTERM', async (t) => {
  const db = await createTestDatabase(t);
  const dir = await tempDir(t, 'wharf-cp-main-');
  const proc = startTsProcess(MAIN, [], { cwd: dir, env: { DATABASE_URL: db.url, WHARF_PORT: '0', WHARF_DATA_DIR: dir } });
  t.teardown(async () => {
    proc.child.kill('SIGKILL');
    await proc.exited;
  });
  const [, url] = await proc.waitFor(/"url":"(http:\/\/[^"]+)"/, 60_000);
  const ready = await fetch(`${url}/readyz`);
  t.equal(ready.status, 200);
  t.same(await ready.json(), { status: 'ready', checks: { database: 'ok' } });
  t.equal((await fetch(`${url}/api/github/webhooks`, { method: 'POST' })).status, 404, 'no GitHub App without GITHUB_APP_ID');
  proc.child.kill('SIGTERM');
  t.match(await proc.exited, { code: 0 });
});

t.test('webhook-app main: stops on SIGTERM while a dashboard keeps its live event stream open', async (t) => {
  const db = await createTestDatabase(t);
  const dir = await tempDir(t, 'wharf-cp-main-');
  const env = { DATABASE_URL: db.url, WHARF_PORT: '0', WHARF_DATA_DIR: dir, WHARF_API_LOCAL_OWNER: 'true' };
  const proc = startTsProcess(MAIN, [], { cwd: dir, env });
  t.teardown(async () => {
    proc.child.kill('SIGKILL');
    await proc.exited;
  });
  const [, url] = await proc.waitFor(/"url":"(http:\/\/[^"]+)"/, 60_000);
  // What the dashboard's page holds open (the local owner, from this machine): the stream, read as it arrives.
  const res = await fetch(`${url}/api/v1/events`, { headers: { accept: 'text/event-stream' } });
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /text\/event-stream/);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let text = '';
  while (!text.includes('event: ready')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString('utf8');
  }
  t.match(text, /event: ready/, 'the stream is open');
  proc.child.kill('SIGTERM');
  // Before the fix the server waited for the stream to finish, which an open page never does: the process never exited.
  t.match(await proc.exited, { code: 0 }, 'the server stops with the stream open');
  await reader.cancel().catch(() => undefined);
});

t.test('webhook-app main: a GitHub App without its key and secret is refused with every problem', async (t) => {
  const db = await createTestDatabase(t);
  const dir = await tempDir(t, 'wharf-cp-main-');
  const proc = startTsProcess(MAIN, [], { cwd: dir, env: { DATABASE_URL: db.url, WHARF_PORT: '0', WHARF_DATA_DIR: dir, GITHUB_APP_ID: '12' } });
  t.match(await proc.exited, { code: 1 });
  t.match(proc.output(), /GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH is required[\s\S]*GITHUB_WEBHOOK_SECRET is required/);
});
