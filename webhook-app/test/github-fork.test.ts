import { issueCommentPayload, pullRequestPayload, pushPayload } from '@wharf/testkit';
import { desiredState } from '@wharf/store';
import { listAllAudit } from '@wharf/store/testing';
import t from 'tap';
import { REPO, startHarness, workflow } from './helpers/harness.js';

/** GitHub's clock in whole seconds, `ms` from now: the pull request's events happen before a maintainer's comment
 * (an approval in the same second as the head is refused: that head may not be the one the maintainer saw). */
const githubTime = (ms: number) => new Date(Date.now() + ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const withSecret = `apps:\n  - name: shop\n    files: ["apps/shop/*.yaml"]\n    env:\n      - name: GREETING\n        value: hello\n      - name: API_KEY\n        secretRef: { name: shop, key: api-key }\n`;

t.test('a fork pull request is validated and planned, and previewed only after a maintainer approves, without secrets', async (t) => {
  const h = await startHarness(t);
  const base = await h.commit('main', 'initial', { 'wharf.yaml': withSecret, 'apps/shop/main.yaml': workflow(8080) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: '0'.repeat(40), after: base }));
  await h.settle();

  const head = await h.forkCommit(9, 'from a fork', { 'apps/shop/main.yaml': workflow(8081) });
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 9, headSha: head, headRef: 'patch-1', forkFullName: 'mallory/shop', sender: 'mallory', at: githubTime(-60_000) }));
  await h.settle();
  t.equal(h.fake.state.latestCheckRun(REPO.fullName, head, 'wharf/validate')?.conclusion, 'success', 'validated');
  t.equal(h.fake.state.latestCheckRun(REPO.fullName, head, 'wharf/plan')?.conclusion, 'success', 'planned');
  const waiting = h.fake.state.latestCheckRun(REPO.fullName, head, 'wharf/preview');
  t.equal(waiting?.conclusion, 'neutral', 'no preview yet');
  t.match(waiting?.output.summary, /\/wharf preview/, 'the check says how to approve');
  t.same(waiting?.actions.map((a) => a.identifier), ['approve-preview'], 'with an Approve button');
  t.equal(h.fake.state.deploymentsFor(REPO.fullName, 'preview/pr-9').length, 0, 'nothing deployed');

  // The fork's author cannot approve their own preview.
  h.fake.state.setPermission(REPO.fullName, 'mallory', 'read');
  h.fake.state.comments.push({ id: 501, repo: REPO.fullName, issue: 9, body: '/wharf preview', user: 'mallory', reactions: [], edits: 0 });
  await h.deliver('issue_comment', issueCommentPayload(REPO, { issueNumber: 9, body: '/wharf preview', commentId: 501, sender: 'mallory' }));
  await h.settle();
  t.same(h.fake.state.comments.find((c) => c.id === 501)?.reactions, ['-1'], 'refused with 👎');
  t.ok(h.fake.state.commentsOn(REPO.fullName, 9).some((c) => /needs write access/.test(c.body)), 'and a reply saying why');
  t.equal(h.fake.state.deploymentsFor(REPO.fullName, 'preview/pr-9').length, 0, 'still nothing deployed');

  // A maintainer approves.
  h.fake.state.setPermission(REPO.fullName, 'octocat', 'write');
  h.fake.state.comments.push({ id: 502, repo: REPO.fullName, issue: 9, body: '/wharf preview', user: 'octocat', reactions: [], edits: 0 });
  await h.deliver('issue_comment', issueCommentPayload(REPO, { issueNumber: 9, body: '/wharf preview', commentId: 502, sender: 'octocat' }));
  await h.settle();
  t.same(h.fake.state.comments.find((c) => c.id === 502)?.reactions, ['rocket']);
  t.equal(h.fake.state.latestCheckRun(REPO.fullName, head, 'wharf/preview')?.conclusion, 'success', 'preview deployed after approval');
  const envs = await desiredState.listRepositoryEnvironments(h.db.pool, await h.repository());
  const preview = envs.find((e) => e.name === 'pr-9');
  const env = ((preview?.desired_spec ?? { env: [] }) as { env: { name: string; secretRef?: unknown }[] }).env;
  t.same(env.map((e) => e.name), ['GREETING'], 'the fork preview gets plain variables and no secret reference');
  const prodEnv = ((envs.find((e) => e.name === 'production')?.desired_spec ?? { env: [] }) as { env: { name: string }[] }).env;
  t.same(prodEnv.map((e) => e.name), ['GREETING', 'API_KEY'], 'production keeps its secrets');

  // A new commit from the fork needs a new approval; the running preview stays as approved.
  const head2 = await h.forkCommit(9, 'sneaky change', { 'apps/shop/main.yaml': workflow(8082) });
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'synchronize', number: 9, headSha: head2, headRef: 'patch-1', forkFullName: 'mallory/shop', sender: 'mallory' }));
  await h.settle();
  const again = h.fake.state.latestCheckRun(REPO.fullName, head2, 'wharf/preview');
  t.equal(again?.conclusion, 'neutral');
  t.match(again?.output.title, /New commit from a fork/);
  t.equal(h.fake.state.deploymentsFor(REPO.fullName, 'preview/pr-9').filter((d) => d.sha === head2).length, 0, 'the new commit is not deployed');

  // The label works too, when a maintainer adds it.
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'labeled', number: 9, headSha: head2, headRef: 'patch-1', forkFullName: 'mallory/shop', label: 'wharf:preview', sender: 'octocat' }));
  await h.settle();
  t.equal(h.fake.state.latestCheckRun(REPO.fullName, head2, 'wharf/preview')?.conclusion, 'success', 'label approval deploys the new head');
  t.equal(h.fake.state.commentsOn(REPO.fullName, 9).filter((c) => c.user === 'wharf[bot]' && c.body.includes('wharf:pr-comment')).length, 1, 'one Wharf status comment');

  // Close without merging: torn down.
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'closed', number: 9, headSha: head2, headRef: 'patch-1', forkFullName: 'mallory/shop' }));
  await h.settle();
  t.ok(h.fake.state.deploymentsFor(REPO.fullName, 'preview/pr-9').every((d) => d.statuses.at(-1)?.state === 'inactive'), 'deployments inactive');
  t.equal((await desiredState.listRepositoryEnvironments(h.db.pool, await h.repository())).filter((e) => e.name === 'pr-9').length, 0, 'the preview environment is gone');
  // Who approved what, who asked for what (and was refused), and what was deployed for whom, in the audit log.
  const entries = await listAllAudit(h.db.pool);
  const pick = (action: string) => entries.filter((e) => e.action === action).map((e) => [e.actor, e.details]);
  t.match(pick('command'), [
    ['github:mallory', { command: 'preview', outcome: 'refused: no write access' }],
    ['github:octocat', { command: 'preview', outcome: /approved/ }],
  ]);
  t.match(pick('approve-preview'), [['github:octocat', { sha: head, fork: true }], ['github:octocat', { sha: head2, fork: true }]]);
  t.match(entries.filter((e) => e.action === 'deploy' && e.actor === 'github:octocat').map((e) => e.details), [
    { environment: 'pr-9', sha: head, secretsStripped: true },
    { environment: 'pr-9', sha: head2, secretsStripped: true },
  ]);
  t.same(h.fake.problems, []);
});
