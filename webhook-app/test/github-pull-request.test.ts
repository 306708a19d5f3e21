import { pullRequestPayload, pushPayload } from '@wharf/testkit';
import t from 'tap';
import { manifest, REPO, startHarness, workflow } from './helpers/harness.js';

t.test('a same-repository pull request gets checks, a preview with its URL, one comment; merge deploys production', async (t) => {
  const h = await startHarness(t);
  const base = await h.commit('main', 'initial', { 'wharf.yaml': manifest(), 'apps/shop/main.yaml': workflow(8080) });
  t.equal((await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: '0'.repeat(40), after: base }))).status, 202);
  await h.settle();
  const prodDeployments = h.fake.state.deploymentsFor(REPO.fullName, 'production');
  t.equal(prodDeployments.length, 1, 'the first push deploys production');
  t.equal(prodDeployments[0]?.statuses.at(-1)?.state, 'success');

  const head = await h.commit('feature-7', 'add a route', {
    'apps/shop/main.yaml': workflow(8080, `  - name: extra\n    type: http.router\n    dependsOn: [server]\n`),
  });
  const opened = await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 7, headSha: head, headRef: 'feature-7' }));
  t.equal(opened.status, 202, 'the delivery is stored and acknowledged');
  await h.settle();

  const validate = h.fake.state.latestCheckRun(REPO.fullName, head, 'wharf/validate');
  t.equal(validate?.conclusion, 'success', 'wharf/validate passes');
  const plan = h.fake.state.latestCheckRun(REPO.fullName, head, 'wharf/plan');
  t.equal(plan?.conclusion, 'success');
  t.match(plan?.output.summary, /added \| module \| `extra`/, 'the plan lists the added module');
  const preview = h.fake.state.latestCheckRun(REPO.fullName, head, 'wharf/preview');
  t.equal(preview?.conclusion, 'success', 'wharf/preview is green');
  t.match(preview?.output.title, /Preview ready: memory:\/\/shop\/pr-7/);

  const deployments = h.fake.state.deploymentsFor(REPO.fullName, 'preview/pr-7');
  t.equal(deployments.length, 1, 'one deployment for the preview');
  const d = deployments[0];
  t.equal(d?.auto_merge, false);
  t.same(d?.required_contexts, []);
  t.equal(d?.transient_environment, true);
  t.equal(d?.statuses.at(-1)?.state, 'success', 'the deployment is green');
  t.ok(d?.statuses.every((s) => s.state === 'in_progress' || s.state === 'success'), 'in progress, then success');
  t.equal(d?.statuses.at(-1)?.environment_url, 'memory://shop/pr-7', 'the PR shows "View deployment"');

  const comments = h.fake.state.commentsOn(REPO.fullName, 7);
  t.equal(comments.length, 1, 'exactly one Wharf comment');
  t.match(comments[0]?.body, /\| shop \| \[Visit preview\]\(memory:\/\/shop\/pr-7\) \|/);
  t.match(comments[0]?.body, /Ready/);

  // A second commit edits the same comment and adds a deployment.
  const head2 = await h.commit('feature-7', 'tweak', { 'apps/shop/main.yaml': workflow(9090, `  - name: extra\n    type: http.router\n    dependsOn: [server]\n`) });
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'synchronize', number: 7, headSha: head2, headRef: 'feature-7' }));
  await h.settle();
  t.equal(h.fake.state.commentsOn(REPO.fullName, 7).length, 1, 'still one comment, edited in place');
  t.ok((h.fake.state.commentsOn(REPO.fullName, 7)[0]?.edits ?? 0) > 0);
  t.equal(h.fake.state.latestCheckRun(REPO.fullName, head2, 'wharf/preview')?.conclusion, 'success');

  // Merge: preview torn down (inactive), production deploys the merge commit.
  const merge = await h.commit('main', 'Merge pull request #7', { 'apps/shop/main.yaml': workflow(9090, `  - name: extra\n    type: http.router\n    dependsOn: [server]\n`) });
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'closed', number: 7, headSha: head2, headRef: 'feature-7', merged: true, mergeCommitSha: merge }));
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: base, after: merge }));
  await h.settle();
  for (const dep of h.fake.state.deploymentsFor(REPO.fullName, 'preview/pr-7')) {
    t.equal(dep.statuses.at(-1)?.state, 'inactive', 'every preview deployment ends inactive');
  }
  const prod = h.fake.state.deploymentsFor(REPO.fullName, 'production');
  t.equal(prod.at(-1)?.sha, merge);
  t.equal(prod.at(-1)?.statuses.at(-1)?.state, 'success', 'production deployed the merge');
  const body = h.fake.state.commentsOn(REPO.fullName, 7)[0]?.body ?? '';
  t.match(body, /Preview torn down \(merged\)/);
  t.match(body, /\*\*Production\*\*: ✅ Ready/);
  t.same(h.fake.problems, [], 'the fake saw only requests it could serve');
});
