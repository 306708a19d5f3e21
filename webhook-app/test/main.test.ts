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

t.test('webhook-app main: a GitHub App without its key and secret is refused with every problem', async (t) => {
  const db = await createTestDatabase(t);
  const dir = await tempDir(t, 'wharf-cp-main-');
  const proc = startTsProcess(MAIN, [], { cwd: dir, env: { DATABASE_URL: db.url, WHARF_PORT: '0', WHARF_DATA_DIR: dir, GITHUB_APP_ID: '12' } });
  t.match(await proc.exited, { code: 1 });
  t.match(proc.output(), /GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH is required[\s\S]*GITHUB_WEBHOOK_SECRET is required/);
});
