import { issueCommentPayload, pullRequestPayload, pushPayload, checkRunPayload } from '@wharf/testkit';
import { desiredState } from '@wharf/store';
import t from 'tap';
import { manifest, REPO, startHarness, workflow } from './helpers/harness.js';

const ZERO = '0'.repeat(40);

t.test('GitHub answering 5xx or 403 rate-limited: retried, nothing lost, no duplicate comments or check runs', async (t) => {
  const h = await startHarness(t);
  const base = await h.commit('main', 'initial', { 'wharf.yaml': manifest(), 'apps/shop/main.yaml': workflow(8080) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: ZERO, after: base }));
  await h.settle();
  h.fake.inject({ fault: { kind: 'server-error', status: 502 }, times: 3, method: 'POST', template: '/repos/{owner}/{repo}/check-runs' });
  h.fake.inject({ fault: { kind: 'rate-limit', resetInSeconds: 0 }, times: 3, method: 'POST', template: '/repos/{owner}/{repo}/issues/{issue_number}/comments' });
  h.fake.inject({ fault: { kind: 'server-error', status: 503 }, times: 2, method: 'POST', template: '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses' });
  const head = await h.commit('feature-5', 'change', { 'apps/shop/main.yaml': workflow(8081) });
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 5, headSha: head, headRef: 'feature-5' }));
  await h.settle();
  const refused = h.fake.requests.filter((r) => r.status === 502 || r.status === 503 || r.status === 403);
  t.equal(refused.length, 8, 'GitHub refused eight requests');
  for (const name of ['wharf/validate', 'wharf/plan', 'wharf/preview']) {
    t.equal(h.fake.state.checkRunsFor(REPO.fullName, head, name).length, 1, `one ${name} run`);
  }
  t.equal(h.fake.state.latestCheckRun(REPO.fullName, head, 'wharf/preview')?.conclusion, 'success', 'the preview still turned green');
  t.equal(h.fake.state.commentsOn(REPO.fullName, 5).length, 1, 'one comment despite the rate limit');
  t.equal(h.fake.state.deploymentsFor(REPO.fullName, 'preview/pr-5')[0]?.statuses.at(-1)?.state, 'success', 'no status lost');
  t.same(h.fake.problems, []);
});

t.test('an oversized pull request: more than 50 annotations in several requests, a summary within 65,535 characters', async (t) => {
  const h = await startHarness(t);
  const base = await h.commit('main', 'initial', { 'wharf.yaml': manifest(), 'apps/shop/main.yaml': workflow(8080) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: ZERO, after: base }));
  await h.settle();
  const broken = Array.from({ length: 300 }, (_, i) => `  - name: dep-${i}\n    type: http.router\n    dependsOn: [missing-${i}-${'x'.repeat(200)}]\n`).join('');
  const head = await h.commit('feature-6', 'many mistakes', { 'apps/shop/main.yaml': workflow(8080, broken) });
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 6, headSha: head, headRef: 'feature-6' }));
  await h.settle();
  const runs = h.fake.state.checkRunsFor(REPO.fullName, head, 'wharf/validate');
  t.equal(runs.length, 1, 'one check run');
  const run = runs[0];
  t.equal(run?.conclusion, 'failure');
  const n = run?.output.annotations.length ?? 0;
  t.ok(n >= 300, `${n} annotations`);
  t.equal(run?.annotationRequests, Math.ceil(n / 50), 'sent 50 per request');
  t.equal(new Set(run?.output.annotations.map((a) => `${a.start_line}:${a.message}`)).size, n, 'none twice');
  t.ok(run?.output.annotations.every((a) => a.path === 'apps/shop/main.yaml' && a.start_line > 0), 'at file and line');
  t.ok((run?.output.summary?.length ?? 0) <= 65_535, 'the summary fits');
  t.equal(h.fake.state.latestCheckRun(REPO.fullName, head, 'wharf/preview')?.conclusion, 'failure', 'an invalid version is not previewed');
  t.same(h.fake.problems, []);
});

t.test('a failing preview reports failure with the reason, and a later success replaces it; Re-run creates a fresh run', async (t) => {
  const h = await startHarness(t);
  const base = await h.commit('main', 'initial', { 'wharf.yaml': manifest(), 'apps/shop/main.yaml': workflow(8080) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: ZERO, after: base }));
  await h.settle();
  const head = await h.commit('feature-8', 'breaks at runtime', { 'apps/shop/main.yaml': workflow(8088) });
  // The preview environment does not exist before the pull request; make its first apply fail.
  const original = h.target.apply.bind(h.target);
  let failNext = true;
  h.target.apply = async (env, ctx) => {
    if (failNext && env.name === 'pr-8') throw new Error('runtime exited with code 1: listen EADDRINUSE :8088');
    return original(env, ctx);
  };
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 8, headSha: head, headRef: 'feature-8' }));
  await h.settle();
  const failed = h.fake.state.latestCheckRun(REPO.fullName, head, 'wharf/preview');
  t.equal(failed?.conclusion, 'failure', 'the preview check is red');
  t.match(failed?.output.summary, /EADDRINUSE/, 'with the reason');
  const dep = h.fake.state.deploymentsFor(REPO.fullName, 'preview/pr-8');
  t.equal(dep.at(-1)?.statuses.at(-1)?.state, 'failure', 'the failure status was posted');
  t.match(h.fake.state.commentsOn(REPO.fullName, 8)[0]?.body, /Failed/);

  failNext = false;
  const fixed = await h.commit('feature-8', 'fix', { 'apps/shop/main.yaml': workflow(8089) });
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'synchronize', number: 8, headSha: fixed, headRef: 'feature-8' }));
  await h.settle();
  t.equal(h.fake.state.latestCheckRun(REPO.fullName, fixed, 'wharf/preview')?.conclusion, 'success', 'green again');
  const all = h.fake.state.deploymentsFor(REPO.fullName, 'preview/pr-8');
  t.ok(all.some((d) => d.statuses.some((s) => s.state === 'failure')), 'the failure is still on record');
  t.equal(all.at(-1)?.statuses.at(-1)?.state, 'success', 'the latest deployment is green');
  t.match(h.fake.state.commentsOn(REPO.fullName, 8)[0]?.body, /Ready/);

  const runId = h.fake.state.latestCheckRun(REPO.fullName, fixed, 'wharf/validate')?.id ?? 0;
  await h.deliver('check_run', checkRunPayload(REPO, { action: 'rerequested', name: 'wharf/validate', headSha: fixed, checkRunId: runId }));
  await h.settle();
  const reruns = h.fake.state.checkRunsFor(REPO.fullName, fixed, 'wharf/validate');
  t.equal(reruns.length, 2, 'Re-run made a fresh check run');
  t.equal(reruns.at(-1)?.conclusion, 'success');
  t.same(h.fake.problems, []);
});

t.test('per-tenant preview cap, idle TTL janitor, redeploy and help commands', async (t) => {
  const h = await startHarness(t, { maxPreviews: 1 });
  const base = await h.commit('main', 'initial', { 'wharf.yaml': manifest('previews:\n  ttlHours: 2\n'), 'apps/shop/main.yaml': workflow(8080) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: ZERO, after: base }));
  await h.settle();
  const a = await h.commit('feature-a', 'a', { 'apps/shop/main.yaml': workflow(8001) });
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 11, headSha: a, headRef: 'feature-a' }));
  await h.settle();
  t.equal(h.fake.state.latestCheckRun(REPO.fullName, a, 'wharf/preview')?.conclusion, 'success');
  await h.commit('main', 'noop', {});
  const b = await h.commit('feature-b', 'b', { 'apps/shop/main.yaml': workflow(8002) });
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 12, headSha: b, headRef: 'feature-b' }));
  await h.settle();
  const capped = h.fake.state.latestCheckRun(REPO.fullName, b, 'wharf/preview');
  t.equal(capped?.conclusion, 'neutral', 'the second preview is refused with a neutral check');
  t.match(capped?.output.title, /Preview limit reached \(1\)/);
  t.equal(h.fake.state.deploymentsFor(REPO.fullName, 'preview/pr-12').length, 0);

  h.fake.state.setPermission(REPO.fullName, 'octocat', 'admin');
  const generationOf = async () => (await desiredState.listRepositoryEnvironments(h.db.pool, await h.repository())).find((e) => e.name === 'pr-11')?.generation ?? 0;
  const generationBefore = await generationOf();
  h.fake.state.comments.push({ id: 900, repo: REPO.fullName, issue: 11, body: '/wharf redeploy', user: 'octocat', reactions: [], edits: 0 });
  await h.deliver('issue_comment', issueCommentPayload(REPO, { issueNumber: 11, body: '/wharf redeploy', commentId: 900, sender: 'octocat' }));
  await h.settle();
  t.same(h.fake.state.comments.find((c) => c.id === 900)?.reactions, ['rocket'], 'redeploy acknowledged');
  t.equal(await generationOf(), generationBefore + 1, 'the preview environment is reconciled again');

  h.fake.state.comments.push({ id: 901, repo: REPO.fullName, issue: 11, body: 'thanks!\n/wharf help', user: 'someone', reactions: [], edits: 0 });
  await h.deliver('issue_comment', issueCommentPayload(REPO, { issueNumber: 11, body: 'thanks!\n/wharf help', commentId: 901, sender: 'someone' }));
  await h.deliver('issue_comment', issueCommentPayload(REPO, { issueNumber: 11, body: 'thanks!\n/wharf help', commentId: 901, sender: 'someone' }));
  await h.settle();
  t.equal(h.fake.state.commentsOn(REPO.fullName, 11).filter((c) => c.body.includes('/wharf rollback <sha>') && !c.body.includes('wharf:pr-comment')).length, 1, 'help answered once');

  h.advance(3 * 3_600_000);
  t.equal(await h.app.tearDownIdlePreviews(), 1, 'the idle preview is torn down after its TTL');
  await h.settle();
  t.equal(h.fake.state.deploymentsFor(REPO.fullName, 'preview/pr-11').at(-1)?.statuses.at(-1)?.state, 'inactive');
  t.match(h.fake.state.commentsOn(REPO.fullName, 11).find((c) => c.body.includes('wharf:pr-comment'))?.body, /idle for more than 2 hours/);
  t.same(h.fake.problems, []);
});

t.test('a revert commit on the production branch is recognised as a rollback; /wharf rollback opens a revert pull request', async (t) => {
  const h = await startHarness(t);
  const first = await h.commit('main', 'v1', { 'wharf.yaml': manifest(), 'apps/shop/main.yaml': workflow(8080) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: ZERO, after: first }));
  await h.settle();
  const second = await h.commit('main', 'v2', { 'apps/shop/main.yaml': workflow(9090) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: first, after: second }));
  await h.settle();

  h.fake.state.setPermission(REPO.fullName, 'octocat', 'maintain');
  h.fake.state.comments.push({ id: 950, repo: REPO.fullName, issue: 20, body: `/wharf rollback ${first.slice(0, 7)}`, user: 'octocat', reactions: [], edits: 0 });
  await h.deliver('issue_comment', issueCommentPayload(REPO, { issueNumber: 20, body: `/wharf rollback ${first.slice(0, 7)}`, commentId: 950, sender: 'octocat' }));
  await h.settle();
  const pull = h.fake.state.pulls.at(-1);
  t.match(pull?.title, `Roll back to ${first.slice(0, 7)}`, 'a revert pull request is opened');
  t.equal(pull?.base, 'main');
  const commitSha = h.fake.state.refs.get(`${REPO.fullName}:refs/heads/${pull?.head}`) ?? '';
  t.equal(h.fake.state.commits.get(`${REPO.fullName}@${commitSha}`)?.tree, await treeOf(h, first), 'its commit restores the tree of the target');
  t.match(h.fake.state.commentsOn(REPO.fullName, 20).at(-1)?.body, /Opened #\d+ to roll back/);
  t.equal(h.fake.state.deploymentsFor(REPO.fullName, 'production').at(-1)?.sha, second, 'production did not change behind Git’s back');

  const revert = await h.commit('main', 'Revert "v2"', { 'apps/shop/main.yaml': workflow(8080) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: second, after: revert }));
  await h.settle();
  const prod = h.fake.state.deploymentsFor(REPO.fullName, 'production').at(-1);
  t.equal(prod?.sha, revert);
  t.match(prod?.description, `rollback to ${first.slice(0, 7)}`, 'the deployment says rollback');
  t.match(prod?.statuses.at(-1)?.description, `rollback to ${first.slice(0, 7)}`);
  t.same(h.fake.problems, []);
});

async function treeOf(h: Awaited<ReturnType<typeof startHarness>>, sha: string): Promise<string> {
  return h.fake.state.commits.get(`${REPO.fullName}@${sha}`)?.tree ?? '';
}
