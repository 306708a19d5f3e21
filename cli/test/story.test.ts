/**
 * The whole story on local parts only: a repository made from an example, Wharf as a child process with a
 * fresh database, and the user's Git commands. Commit → preview → merge → production → revert → rollback,
 * then a broken commit that leaves its environment on the last good version.
 */
import { execFile } from 'node:child_process';
import { chmod, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, REPO_ROOT, startWharf, WHARF_BIN, TSX_LOADER } from '@wharf/testkit';
import t from 'tap';

const run = promisify(execFile);

t.test('commit → preview → merge → production → revert → rollback, and a broken commit', async (t) => {
  const db = await createTestDatabase(t);
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-story-'));
  await chmod(dir, 0o755);
  const repo = path.join(dir, 'hello-api');
  await cp(path.join(REPO_ROOT, 'examples/hello-api'), repo, { recursive: true });
  const git = async (...args: string[]) =>
    (await run('git', ['-c', 'user.name=Ada', '-c', 'user.email=ada@example.test', ...args], { cwd: repo })).stdout.trim();
  await git('init', '-q', '-b', 'main');
  await git('add', '-A');
  await git('commit', '-qm', 'First version');
  const first = await git('rev-parse', 'HEAD');

  const wharf = startWharf(['up', '--repo', repo], {
    cwd: dir,
    env: { DATABASE_URL: db.url, WHARF_PORT: '0', WHARF_ROUTER_PORT: '0', WHARF_DATA_DIR: path.join(dir, '.wharf') },
  });
  t.teardown(async () => {
    wharf.child.kill('SIGTERM');
    await wharf.exited;
    await rm(dir, { recursive: true, force: true });
  });
  const [, router] = await wharf.waitFor(/router\s+(http:\/\/\S+)/, 60_000);
  const get = async (app: string, env: string, route: string) => {
    const res = await fetch(`${router}/${app}/${env}${route}`).catch(() => undefined);
    return { status: res?.status ?? 0, body: res ? await res.text() : '' };
  };
  /** Polls until `check` holds (the loop is asynchronous); fails with the last answer after 30 s. */
  const eventually = async (what: string, check: () => Promise<boolean>) => {
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      if (await check()) return t.pass(what);
      await new Promise((r) => setTimeout(r, 100));
    }
    t.fail(`${what}: not within 30 s\n${wharf.output().slice(-2000)}`);
  };
  const wharfCli = async (...args: string[]) => {
    const { stdout } = await run(process.execPath, ['--import', TSX_LOADER, WHARF_BIN, ...args], {
      cwd: dir,
      env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: db.url },
    }).catch((err: { stdout: string; stderr: string }) => ({ stdout: `${err.stdout}${err.stderr}` }));
    return stdout;
  };

  await eventually('production answers its routes', async () => (await get('hello-api', 'production', '/hello')).body.includes('Hello from Wharf'));
  t.equal((await get('hello-api', 'production', '/hello/ada')).body, '{"message":"Hello, ada!","shout":"ADA"}');

  // A branch that changes a response: a preview appears beside production.
  await git('checkout', '-qb', 'new-greeting');
  const file = path.join(repo, 'workflow.yaml');
  await writeFile(file, (await readFile(file, 'utf8')).replace('Hello from Wharf', 'Hello from the preview'));
  await git('commit', '-qam', 'New greeting');
  await eventually('the preview answers with the new response', async () =>
    (await get('hello-api', 'new-greeting', '/hello')).body.includes('Hello from the preview'),
  );
  t.match((await get('hello-api', 'production', '/hello')).body, /Hello from Wharf/, 'production still answers the old one');

  // Merge: fast-forward main; production follows. Deleting the branch tears its preview down.
  await git('checkout', '-q', 'main');
  await git('merge', '-q', '--ff-only', 'new-greeting');
  const merged = await git('rev-parse', 'HEAD');
  await eventually('production answers the new response after the merge', async () =>
    (await get('hello-api', 'production', '/hello')).body.includes('Hello from the preview'),
  );
  await git('branch', '-qD', 'new-greeting');
  await eventually('the merged branch preview is torn down', async () => (await get('hello-api', 'new-greeting', '/hello')).status === 404);

  // Revert on main: production answers the old response again, and history calls it a rollback.
  await git('revert', '--no-edit', 'HEAD');
  await eventually('production answers the old response after the revert', async () =>
    (await get('hello-api', 'production', '/hello')).body.includes('Hello from Wharf'),
  );
  await eventually('history says rollback to the first version', async () =>
    (await wharfCli('history', 'production')).includes(`rollback to ${first.slice(0, 7)}`),
  );
  t.not(merged, first);

  // A broken config on a branch: that environment stays on its last good version and says why.
  await git('checkout', '-qb', 'fix/broken');
  await writeFile(file, (await readFile(file, 'utf8')).replace('name: router', 'name: server'));
  await git('commit', '-qam', 'Break it on purpose');
  await eventually('wharf status shows the broken environment Stalled with file:line', async () => {
    const out = await wharfCli('status');
    return /fix-broken\S*\s.*Stalled/.test(out) && /workflow\.yaml:\d+:\d+/.test(out);
  });
  t.notMatch(await wharfCli('diff', 'fix/broken'), /no environment named/, 'commands take the branch name as well as the slug');
  t.match((await get('hello-api', 'production', '/hello')).body, /Hello from Wharf/, 'production untouched by the broken branch');
});
