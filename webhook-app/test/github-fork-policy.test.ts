/**
 * Fork pull requests as GitHub really sends them (issue 11): the head only under `refs/pull/<n>/head`, a head
 * repository with an id of its own (or none at all, once the fork is deleted), a manifest in the head that the fork's
 * author wrote. What decides a fork's preview is the base branch and a maintainer's approval of one commit.
 */
import { git, issueCommentPayload, pullRequestPayload, pushPayload } from '@wharf/testkit';
import t from 'tap';
import { type Harness, manifest, REPO, startHarness, workflow } from './helpers/harness.js';

/** GitHub's clock in whole seconds, `ms` from now: the pull request's events happen before a maintainer's comment
 * (an approval in the same second as the head is refused: that head may not be the one the maintainer saw). */
const githubTime = (ms: number) => new Date(Date.now() + ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const ZERO = '0'.repeat(40);
const FORK = 'mallory/shop';

async function withProduction(t: Parameters<typeof startHarness>[0], previews = ''): Promise<Harness> {
  const h = await startHarness(t);
  const base = await h.commit('main', 'initial', { 'wharf.yaml': manifest(previews), 'apps/shop/main.yaml': workflow(8080) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: ZERO, after: base }));
  await h.settle();
  return h;
}

const previewCheck = (h: Harness, sha: string) => h.fake.state.latestCheckRun(REPO.fullName, sha, 'wharf/preview');
const deployedShas = (h: Harness, n: number) => h.fake.state.deploymentsFor(REPO.fullName, `preview/pr-${n}`).map((d) => d.sha);
let commentIds = 7000;
async function comment(h: Harness, n: number, sender: string, body: string, at?: string): Promise<number> {
  const id = (commentIds += 1);
  h.fake.state.comments.push({ id, repo: REPO.fullName, issue: n, body, user: sender, reactions: [], edits: 0 });
  await h.deliver('issue_comment', issueCommentPayload(REPO, { issueNumber: n, body, commentId: id, sender, ...(at ? { at } : {}) }));
  await h.settle();
  return id;
}

t.test("a fork's head is only under refs/pull/<n>/head: Wharf fetches it from there and previews it once approved", async (t) => {
  const h = await withProduction(t);
  const head = await h.forkCommit(21, 'from a fork', { 'apps/shop/main.yaml': workflow(8081) });
  t.equal(await git(h.remote, 'branch', '--contains', head), '', 'no branch of the repository has the commit');
  t.equal(await git(h.remote, 'rev-parse', 'refs/pull/21/head'), head, 'refs/pull/21/head does');
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 21, headSha: head, headRef: 'patch-1', forkFullName: FORK, sender: 'mallory', at: githubTime(-60_000) }));
  await h.settle();
  t.equal(h.fake.state.latestCheckRun(REPO.fullName, head, 'wharf/validate')?.conclusion, 'success', 'the fork head was read and validated');
  t.match(previewCheck(h, head)?.output.title, /Fork: waiting for a maintainer/);
  h.fake.state.setPermission(REPO.fullName, 'octocat', 'write');
  await comment(h, 21, 'octocat', '/wharf preview');
  t.equal(previewCheck(h, head)?.conclusion, 'success', 'previewed after approval');
  t.same(deployedShas(h, 21), [head]);
  t.same(h.fake.problems, []);
});

t.test("a fork's own wharf.yaml cannot set its preview policy: previews: {forkPolicy: always} still waits for approval", async (t) => {
  const h = await withProduction(t);
  const head = await h.forkCommit(22, 'let me in', {
    'wharf.yaml': manifest('previews:\n  forkPolicy: always\n  drafts: true\n  ttlHours: 8760\n'),
    'apps/shop/main.yaml': workflow(8082),
  });
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 22, headSha: head, headRef: 'patch-1', forkFullName: FORK, sender: 'mallory' }));
  await h.settle();
  t.equal(h.fake.state.latestCheckRun(REPO.fullName, head, 'wharf/validate')?.conclusion, 'success', 'its manifest is valid');
  t.equal(previewCheck(h, head)?.conclusion, 'neutral');
  t.match(previewCheck(h, head)?.output.title, /Fork: waiting for a maintainer/, 'the base branch (approval by default) decides');
  t.same(deployedShas(h, 22), [], 'nothing deployed');
  t.same(h.fake.problems, []);
});

t.test("the base branch's forkPolicy decides: always previews a fork without approval, and without secrets", async (t) => {
  const h = await withProduction(t, 'previews:\n  forkPolicy: always\n');
  const head = await h.forkCommit(23, 'welcome', { 'apps/shop/main.yaml': workflow(8083) });
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 23, headSha: head, headRef: 'patch-1', forkFullName: FORK, sender: 'mallory' }));
  await h.settle();
  t.equal(previewCheck(h, head)?.conclusion, 'success');
  t.same(deployedShas(h, 23), [head]);
  t.same(h.fake.problems, []);
});

t.test('a pull request whose fork was deleted (head.repo: null) is a fork', async (t) => {
  const h = await withProduction(t);
  const head = await h.forkCommit(24, 'then deleted my fork', { 'apps/shop/main.yaml': workflow(8084) });
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 24, headSha: head, headRef: 'patch-1', forkDeleted: true, sender: 'mallory' }));
  await h.settle();
  t.equal(h.fake.state.latestCheckRun(REPO.fullName, head, 'wharf/validate')?.conclusion, 'success');
  t.match(previewCheck(h, head)?.output.title, /Fork: waiting for a maintainer/, 'waits for approval like any fork');
  t.same(deployedShas(h, 24), []);
  t.same(h.fake.problems, []);
});

t.test('a fork that changes how its app runs (runtime command) is not previewed, even when approved', async (t) => {
  const h = await withProduction(t, 'previews:\n  forkPolicy: always\n');
  const evil = `apps:\n  - name: shop\n    files: ["apps/shop/*.yaml"]\n    runtime:\n      command: ["sh", "-c", "cat /etc/passwd"]\n`;
  const head = await h.forkCommit(25, 'run my own runtime', { 'wharf.yaml': evil, 'apps/shop/main.yaml': workflow(8085) });
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 25, headSha: head, headRef: 'patch-1', forkFullName: FORK, sender: 'mallory', at: githubTime(-60_000) }));
  await h.settle();
  t.match(previewCheck(h, head)?.output, { title: /Fork changes how its app runs/, summary: /`shop`/ });
  h.fake.state.setPermission(REPO.fullName, 'octocat', 'admin');
  await comment(h, 25, 'octocat', '/wharf preview');
  t.same(deployedShas(h, 25), [], 'not deployed, approved or not');
  t.same(h.fake.problems, []);
});

t.test('/wharf preview approves the head at the time of the comment; a head pushed after it needs its own approval', async (t) => {
  const h = await withProduction(t);
  h.fake.state.setPermission(REPO.fullName, 'octocat', 'write');
  const first = await h.forkCommit(26, 'looks harmless', { 'apps/shop/main.yaml': workflow(8086) });
  const t0 = Date.now();
  const iso = (ms: number) => new Date(t0 + ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 26, headSha: first, headRef: 'patch-1', forkFullName: FORK, sender: 'mallory', at: iso(0) }));
  await h.settle();

  // The maintainer reviewed `first` and commented at +10 s; the fork's author pushed at +12 s. GitHub delivered the
  // push first (it does not promise order).
  const second = await h.forkCommit(26, 'not harmless', { 'apps/shop/main.yaml': workflow(8087) });
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'synchronize', number: 26, headSha: second, headRef: 'patch-1', forkFullName: FORK, sender: 'mallory', at: iso(12_000) }));
  await h.settle();
  const id = await comment(h, 26, 'octocat', '/wharf preview', iso(10_000));
  t.same(deployedShas(h, 26), [], 'the later head was not approved by the earlier comment');
  t.same(h.fake.state.comments.find((c) => c.id === id)?.reactions, ['confused']);
  t.match(h.fake.state.commentsOn(REPO.fullName, 26).at(-1)?.body, /moved to `[0-9a-f]{7}` after your comment/, 'the reply says why');
  t.equal(previewCheck(h, second)?.conclusion, 'neutral');

  // A comment after the push approves it.
  await comment(h, 26, 'octocat', '/wharf preview', iso(20_000));
  t.same(deployedShas(h, 26), [second], 'approved and deployed');
  t.same(h.fake.problems, []);
});

t.test('an event delivered late never moves the head back', async (t) => {
  const h = await withProduction(t);
  const t0 = Date.now();
  const iso = (ms: number) => new Date(t0 + ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const first = await h.forkCommit(27, 'one', { 'apps/shop/main.yaml': workflow(8088) });
  const second = await h.forkCommit(27, 'two', { 'apps/shop/main.yaml': workflow(8089) });
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'synchronize', number: 27, headSha: second, headRef: 'patch-1', forkFullName: FORK, at: iso(5_000) }));
  await h.settle();
  // A label event GitHub sent before the push, delivered after it, names the old head.
  h.fake.state.setPermission(REPO.fullName, 'octocat', 'write');
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'labeled', number: 27, headSha: first, headRef: 'patch-1', forkFullName: FORK, label: 'wharf:preview', sender: 'octocat', at: iso(1_000) }));
  await h.settle();
  t.same(deployedShas(h, 27), [], 'the label approved the old head, which is not the head: nothing deployed');
  t.equal(previewCheck(h, second)?.conclusion, 'neutral', 'the head is still the newer commit, waiting');
  t.same(h.fake.problems, []);
});

t.test("Wharf adopts only a status comment its own App wrote, never one that merely carries its marker", async (t) => {
  const h = await withProduction(t);
  const head = await h.commit('feature-28', 'change', { 'apps/shop/main.yaml': workflow(8090) });
  // Someone posts a look-alike before Wharf's first comment: the marker, and a link of their choosing.
  const fake = { id: 6001, repo: REPO.fullName, issue: 28, body: '<!-- wharf:pr-comment -->\n### Wharf\n[Visit preview](https://evil.example)', user: 'mallory', reactions: [], edits: 0 };
  h.fake.state.comments.push(fake);
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 28, headSha: head, headRef: 'feature-28' }));
  await h.settle();
  const mine = h.fake.state.commentsOn(REPO.fullName, 28).filter((c) => c.user === 'wharf[bot]');
  t.equal(mine.length, 1, "Wharf wrote its own comment");
  t.match(mine[0]?.body, /Visit preview\]\(memory:\/\/shop\/pr-28\)/);
  t.equal(fake.edits, 0, "the look-alike was not edited");
  t.match(fake.body, /evil\.example/, 'and not taken over');
  t.same(h.fake.problems, []);
});
