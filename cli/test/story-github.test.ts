/**
 * The same story through the GitHub App: `wharf up` as a child process with GitHub settings, the strict fake
 * GitHub, a real Git remote over smart HTTP, the reference runtime behind the local router. PR opened → checks
 * and a preview URL on the PR; merge → production deployment success; revert PR merged → rollback.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  createTestDatabase,
  installationPayload,
  pullRequestPayload,
  publishPullHead,
  pushPayload,
  REPO_ROOT,
  type RepoRef,
  signedDelivery,
  startFakeGitHub,
  startGitHttpServer,
  startWharf,
} from '@wharf/testkit';
import t from 'tap';

const run = promisify(execFile);
const SECRET = 'story-webhook-secret';
const APP_ID = 777;
const INSTALLATION = 9001;
const REPO: RepoRef = { fullName: 'acme/shop', installationId: INSTALLATION, defaultBranch: 'main' };

t.test('PR → checks and preview URL on the PR; merge → production; revert PR merged → rollback', async (t) => {
  const db = await createTestDatabase(t);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const fake = await startFakeGitHub({ appId: APP_ID, publicKey, installations: [{ id: INSTALLATION, account: 'acme', repositories: [REPO.fullName] }] });
  t.teardown(() => fake.close());

  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-story-gh-'));
  await chmod(dir, 0o755);
  const remotes = path.join(dir, 'remotes');
  const work = path.join(dir, 'work');
  await mkdir(path.join(remotes, 'acme'), { recursive: true });
  const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'Ada', GIT_AUTHOR_EMAIL: 'ada@example.test', GIT_COMMITTER_NAME: 'Ada', GIT_COMMITTER_EMAIL: 'ada@example.test' };
  const git = async (cwd: string, ...args: string[]) => (await run('git', args, { cwd, env: gitEnv })).stdout.trim();
  await git(path.join(remotes, 'acme'), 'init', '-q', '--bare', '-b', 'main', 'shop.git');
  await git(dir, 'clone', '-q', path.join(remotes, 'acme', 'shop.git'), 'work');
  await git(work, 'checkout', '-q', '-b', 'main');
  await cp(path.join(REPO_ROOT, 'examples/hello-api/workflow.yaml'), path.join(work, 'workflow.yaml'));
  await writeFile(path.join(work, 'wharf.yaml'), 'productionBranch: main\napps:\n  - name: shop\n    files: [workflow.yaml]\n');
  const gitServer = await startGitHttpServer(remotes);
  t.teardown(() => gitServer.close());
  /** Commits on a branch, pushes it, and tells the fake about the commit (as GitHub would know it). */
  const commit = async (branch: string, message: string, edit?: (text: string) => string) => {
    if (edit) {
      const file = path.join(work, 'workflow.yaml');
      await writeFile(file, edit(await readFile(file, 'utf8')));
    }
    await git(work, 'add', '-A');
    await git(work, 'commit', '-q', '-m', message);
    return push(branch);
  };
  const push = async (branch: string) => {
    await git(work, 'push', '-q', '--force', 'origin', branch);
    const sha = await git(work, 'rev-parse', 'HEAD');
    fake.state.refs.set(`${REPO.fullName}:refs/heads/${branch}`, sha);
    const parents = (await git(work, 'rev-list', '--parents', '-n', '1', 'HEAD')).split(' ').slice(1);
    fake.state.addCommit(REPO.fullName, { sha, tree: await git(work, 'rev-parse', 'HEAD^{tree}'), parents, message: await git(work, 'log', '-1', '--format=%s') });
    return sha;
  };
  const base = await commit('main', 'First version');

  const wharf = startWharf(['up'], {
    cwd: dir,
    env: {
      DATABASE_URL: db.url,
      WHARF_PORT: '0',
      WHARF_ROUTER_PORT: '0',
      WHARF_DATA_DIR: path.join(dir, '.wharf'),
      GITHUB_APP_ID: String(APP_ID),
      GITHUB_PRIVATE_KEY: privateKey,
      GITHUB_WEBHOOK_SECRET: SECRET,
      GITHUB_API_URL: fake.url,
      GITHUB_GIT_URL: gitServer.url,
      WHARF_PUBLIC_URL: 'https://wharf.example.test',
    },
  });
  t.teardown(async () => {
    wharf.child.kill('SIGTERM');
    await wharf.exited;
    await rm(dir, { recursive: true, force: true });
  });
  const [, url] = await wharf.waitFor(/Wharf is up at (http:\/\/\S+)/, 60_000);
  const [, router] = await wharf.waitFor(/router\s+(http:\/\/\S+)/);
  const deliver = async (event: string, payload: unknown) => {
    const d = signedDelivery(SECRET, event, payload);
    const res = await fetch(`${url}/api/github/webhooks`, { method: 'POST', headers: d.headers, body: d.body });
    t.equal(res.status, 202, `${event} delivery stored and acknowledged`);
  };
  const eventually = async (what: string, check: () => boolean | Promise<boolean>) => {
    const until = Date.now() + 45_000;
    while (Date.now() < until) {
      if (await check()) return t.pass(what);
      await new Promise((r) => setTimeout(r, 100));
    }
    t.fail(`${what}: not within 45 s; fake problems: ${JSON.stringify(fake.problems)}\n${wharf.output().slice(-1500)}`);
  };
  const lastStatus = (environment: string) => fake.state.deploymentsFor(REPO.fullName, environment).at(-1)?.statuses.at(-1);
  /** An environment of the installation answers at its own label (the URL GitHub was given), here path-style. */
  const answer = async (env: string) => {
    const url = [...fake.state.deploymentsFor(REPO.fullName, env === 'production' ? 'production' : `preview/${env}`)]
      .flatMap((d) => d.statuses)
      .findLast((st) => st.environment_url)?.environment_url;
    if (!url) return '';
    return fetch(`${router}/${new URL(url).hostname.replace(/\.localhost$/, '')}/hello`)
      .then((r) => r.text())
      .catch(() => '');
  };

  await deliver('installation', installationPayload({ action: 'created', installationId: INSTALLATION, account: 'acme', repositories: [REPO.fullName] }));
  await deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: '0'.repeat(40), after: base }));
  await eventually('production deployment succeeds on GitHub', () => lastStatus('production')?.state === 'success');
  await eventually('production answers', async () => (await answer('production')).includes('Hello from Wharf'));

  // Pull request from a branch of the same repository.
  await git(work, 'checkout', '-q', '-b', 'feature-1');
  const head = await commit('feature-1', 'New greeting', (s) => s.replace('Hello from Wharf', 'Hello from PR 1'));
  // GitHub keeps every pull request's head at refs/pull/<n>/head; Wharf fetches it from there.
  await publishPullHead({ base: path.join(remotes, 'acme', 'shop.git'), fork: work, branch: 'feature-1', number: 1 });
  await deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 1, headSha: head, headRef: 'feature-1' }));
  await eventually('wharf/validate passes on the PR head', () => fake.state.latestCheckRun(REPO.fullName, head, 'wharf/validate')?.conclusion === 'success');
  await eventually('wharf/plan lists the change', () => /changed/.test(fake.state.latestCheckRun(REPO.fullName, head, 'wharf/plan')?.output.summary ?? ''));
  await eventually('wharf/preview is green', () => fake.state.latestCheckRun(REPO.fullName, head, 'wharf/preview')?.conclusion === 'success');
  await eventually('the preview deployment has the URL ("View deployment")', () => (lastStatus('preview/pr-1')?.environment_url ?? '').includes('pr-1--shop'));
  // The comment goes out after the checks and the deployment (what the author waits for goes first).
  await eventually('one comment with the app', () => /shop/.test(fake.state.commentsOn(REPO.fullName, 1)[0]?.body ?? ''));
  await eventually('the preview answers with the PR change', async () => (await answer('pr-1')).includes('Hello from PR 1'));
  t.match(await answer('production'), /Hello from Wharf/, 'production unchanged while the PR is open');

  // Merge (fast-forward) and push main.
  await git(work, 'checkout', '-q', 'main');
  await git(work, 'merge', '-q', '--ff-only', 'feature-1');
  const merged = await push('main');
  await deliver('pull_request', pullRequestPayload(REPO, { action: 'closed', number: 1, headSha: head, headRef: 'feature-1', merged: true, mergeCommitSha: merged }));
  await deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: base, after: merged }));
  await eventually('production deployment of the merge succeeds', () => {
    const d = fake.state.deploymentsFor(REPO.fullName, 'production').at(-1);
    return d?.sha === merged && d.statuses.at(-1)?.state === 'success';
  });
  await eventually('production answers the merged change', async () => (await answer('production')).includes('Hello from PR 1'));
  await eventually('the merged preview is inactive', () => lastStatus('preview/pr-1')?.state === 'inactive');

  // A revert pull request, merged: production rolls back and GitHub is told so.
  await git(work, 'checkout', '-q', '-b', 'revert-1');
  await git(work, 'revert', '--no-edit', 'HEAD');
  const revert = await push('revert-1');
  await publishPullHead({ base: path.join(remotes, 'acme', 'shop.git'), fork: work, branch: 'revert-1', number: 2 });
  await deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 2, headSha: revert, headRef: 'revert-1' }));
  await git(work, 'checkout', '-q', 'main');
  await git(work, 'merge', '-q', '--ff-only', 'revert-1');
  const reverted = await push('main');
  await deliver('pull_request', pullRequestPayload(REPO, { action: 'closed', number: 2, headSha: revert, headRef: 'revert-1', merged: true, mergeCommitSha: reverted }));
  await deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: merged, after: reverted }));
  await eventually('the production deployment says rollback to the first version', () => {
    const d = fake.state.deploymentsFor(REPO.fullName, 'production').at(-1);
    return d?.sha === reverted && d.statuses.at(-1)?.state === 'success' && (d.description ?? '').includes(`rollback to ${base.slice(0, 7)}`);
  });
  await eventually('production answers the old response again', async () => (await answer('production')).includes('Hello from Wharf'));
  t.same(fake.problems, [], 'the fake saw only requests GitHub would accept');
});
