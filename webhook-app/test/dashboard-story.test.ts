/**
 * The story watched in a browser, on local parts only: `wharf up` on a fresh repository (no sign-in: the local
 * owner), then commit → the preview appears live → merge → production updates → revert → "rollback to" in the
 * timeline, all on one page load. Also the screenshots README "What you will see" shows.
 */
import { execFile } from 'node:child_process';
import { chmod, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, REPO_ROOT, startWharf } from '@wharf/testkit';
import t from 'tap';
import { describeViolations, launchChromium, markPage, notReloaded, screenshot, seriousViolations } from './helpers/browser.js';

const run = promisify(execFile);

t.test('commit → preview → merge → production → revert → rollback, watched in the dashboard', async (t) => {
  const db = await createTestDatabase(t);
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-dashboard-story-'));
  await chmod(dir, 0o755);
  const repo = path.join(dir, 'hello-api');
  await cp(path.join(REPO_ROOT, 'examples/hello-api'), repo, { recursive: true });
  const git = async (...args: string[]) => (await run('git', ['-c', 'user.name=Ada', '-c', 'user.email=ada@example.test', ...args], { cwd: repo })).stdout.trim();
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
  const [, url] = await wharf.waitFor(/dashboard (http:\/\/\S+?)\/\s/, 90_000);
  const browser = await launchChromium(t);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const within = 60_000;

  await page.goto(`${url}/`);
  await page.locator('[data-env="hello-api/production"] [data-state="Ready"]').waitFor({ timeout: within });
  t.pass('no sign-in: the local owner sees production Ready');
  t.equal(await page.getByRole('link', { name: 'Sign in with GitHub' }).count(), 0);
  await markPage(page);

  // A branch: its preview appears on the open page.
  await git('checkout', '-qb', 'new-greeting');
  const file = path.join(repo, 'workflow.yaml');
  await writeFile(file, (await readFile(file, 'utf8')).replace('Hello from Wharf', 'Hello from the preview'));
  await git('commit', '-qam', 'New greeting');
  const greeting = await git('rev-parse', 'HEAD');
  await page.locator('[data-env="hello-api/new-greeting"] [data-state="Ready"]').waitFor({ timeout: within });
  t.pass('the preview appeared live and became Ready');
  const v = await seriousViolations(page);
  t.same(v.map((x) => x.id), [], `overview: axe${v.length ? `\n${describeViolations(v)}` : ''}`);
  await screenshot(page, 'story-overview');

  // Watch production while merging.
  await page.locator('[data-env="hello-api/production"] a.env-name').click();
  await page.getByRole('heading', { name: 'hello-api/production' }).waitFor();
  await git('checkout', '-q', 'main');
  await git('merge', '-q', '--ff-only', 'new-greeting');
  await git('branch', '-qD', 'new-greeting');
  await page.locator('.history').getByText(`deploy ${greeting.slice(0, 7)} (New greeting)`).waitFor({ timeout: within });
  await page.locator('.facts').getByText(greeting.slice(0, 7)).first().waitFor({ timeout: within });
  t.pass('production runs the merged commit, shown live');

  // Revert: a rollback, named as such in the history and marked in the timeline.
  await git('revert', '--no-edit', 'HEAD');
  await page.locator('.history').getByText(`rollback to ${first.slice(0, 7)} (First version)`).waitFor({ timeout: within });
  await page.locator('.timeline .mark-rollback').first().waitFor({ timeout: within });
  await page.locator('.page-head [data-state="Ready"]').waitFor({ timeout: within });
  t.pass('"rollback to" the first version in the history and the timeline');
  const ve = await seriousViolations(page);
  t.same(ve.map((x) => x.id), [], `environment: axe${ve.length ? `\n${describeViolations(ve)}` : ''}`);
  await screenshot(page, 'story-environment');
  t.ok(await notReloaded(page), 'the whole story on one page load');

  await page.goto(`${url}/`);
  await page.locator('[data-env="hello-api/new-greeting"]').waitFor({ state: 'detached', timeout: within });
  t.pass('the merged branch preview is gone from the overview');
  t.same(errors, [], 'no script errors');
});
