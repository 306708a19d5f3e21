/**
 * What the author waits for goes first (issue 18): GitHub takes about one write per second per installation, so the
 * order of the writes is what a person sees, and every write saved is a second sooner for the next one.
 */
import { OUTBOX_KINDS, type DeploymentStatusPayload } from '@wharf/contracts';
import { desiredState, outbox } from '@wharf/store';
import { pullRequestPayload, pushPayload, type RecordedRequest } from '@wharf/testkit';
import t from 'tap';
import { manifest, REPO, startHarness, workflow } from './helpers/harness.js';

const ZERO = '0'.repeat(40);
const writes = (requests: readonly RecordedRequest[]) => requests.filter((r) => r.method !== 'GET' && !/access_tokens/.test(r.path));

/** A write, named for what a person sees. */
function describe(r: RecordedRequest): string {
  const body = (r.body ?? {}) as { name?: string; status?: string; conclusion?: string; state?: string };
  if (/\/check-runs/.test(r.path)) return `check ${body.name ?? `#${r.path.split('/').pop()}`} ${body.conclusion ?? body.status ?? ''}`.trim();
  if (/\/deployments\/\d+\/statuses$/.test(r.path)) return `deployment status ${body.state}`;
  if (/\/deployments$/.test(r.path)) return 'deployment created';
  if (/\/comments/.test(r.path)) return r.method === 'POST' ? 'comment created' : 'comment edited';
  return `${r.method} ${r.path}`;
}

t.test('a pull request: its result and its preview go out first, each check and deployment in one write, the plan and comment last', async (t) => {
  const h = await startHarness(t);
  const base = await h.commit('main', 'initial', { 'wharf.yaml': manifest(), 'apps/shop/main.yaml': workflow(8080) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: ZERO, after: base }));
  await h.settle();

  const head = await h.commit('feature-4', 'change', { 'apps/shop/main.yaml': workflow(8081) });
  const from = h.fake.requests.length;
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 4, headSha: head, headRef: 'feature-4' }));
  // The delivery is decided, and the preview deployed (in progress, then ready), before anything is sent to GitHub:
  // what the drain then finds is what a busy installation has waiting.
  await h.app.processDeliveries();
  while ((await h.reconciler.reconcileOnce()) > 0);
  await h.settle();
  const sent = writes(h.fake.requests.slice(from)).map(describe);
  t.same(
    sent.slice(0, 4),
    ['check wharf/validate success', 'check wharf/preview success', 'deployment created', 'deployment status success'],
    'the validation result, then the preview (check and deployment), each in one write',
  );
  t.same(sent.slice(4).sort(), ['check wharf/plan success', 'comment created'], 'then the plan and the comment');
  t.equal(sent.length, 6, 'six writes: no "queued" or "in progress" a later state replaced');
  t.equal(h.fake.state.latestCheckRun(REPO.fullName, head, 'wharf/preview')?.output.title, 'Preview ready: memory://shop/pr-4');
  t.match(h.fake.state.commentsOn(REPO.fullName, 4)[0]?.body, /Visit preview\]\(memory:\/\/shop\/pr-4\)/, 'the comment shows the ready preview');
  t.same(h.fake.problems, []);
});

t.test('a failure status is never skipped, and a recovered environment turns green again', async (t) => {
  const h = await startHarness(t);
  const base = await h.commit('main', 'initial', { 'wharf.yaml': manifest(), 'apps/shop/main.yaml': workflow(8080) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: ZERO, after: base }));
  await h.settle();
  const head = await h.commit('feature-5', 'change', { 'apps/shop/main.yaml': workflow(8081) });
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 5, headSha: head, headRef: 'feature-5' }));
  await h.settle();
  const scope = await h.repository();
  const env = (await desiredState.listRepositoryEnvironments(h.db.pool, scope)).find((e) => e.name === 'pr-5');
  if (!env) throw new Error('no preview environment');

  // The runtime crashed and came back between two drains: both statuses wait, the failure first.
  const status = (state: 'failure' | 'in_progress' | 'success', description: string, generation: number): DeploymentStatusPayload => ({
    environmentId: env.id,
    repositoryId: scope.repositoryId,
    app: 'shop',
    environment: 'pr-5',
    environmentKind: 'preview',
    prNumber: 5,
    sha: head,
    digest: null,
    generation,
    state,
    url: 'memory://shop/pr-5',
    description,
  });
  const rows = [status('failure', 'runtime exited with code 1', 90), status('in_progress', 'restarting', 91), status('success', 'healthy again', 91)];
  await outbox.insertOutboxRows(
    h.db.pool,
    rows.map((payload, i) => ({ tenantId: scope.tenantId, environmentId: env.id, kind: OUTBOX_KINDS.deploymentStatus, payload: { ...payload }, dedupeKey: `test-${i}` })),
  );
  const from = h.fake.requests.length;
  await h.settle();
  const states = writes(h.fake.requests.slice(from))
    .filter((r) => /\/deployments\/\d+\/statuses$/.test(r.path))
    .map((r) => (r.body as { state: string; description?: string }).state);
  t.same(states, ['failure', 'success'], 'the failure was posted, the in-progress note skipped, and success followed');
  const deployment = h.fake.state.deploymentsFor(REPO.fullName, 'preview/pr-5').at(-1);
  t.equal(deployment?.statuses.at(-1)?.state, 'success', 'the environment is green again');
  t.ok(deployment?.statuses.some((s) => s.state === 'failure' && s.description === 'runtime exited with code 1'), 'the failure stays on record');
  t.equal(h.fake.state.latestCheckRun(REPO.fullName, head, 'wharf/preview')?.conclusion, 'success', 'the check turned green again');
  t.same(h.fake.problems, []);
});

t.test('when GitHub says to wait (a secondary rate limit with Retry-After), the whole installation waits', async (t) => {
  const h = await startHarness(t);
  const base = await h.commit('main', 'initial', { 'wharf.yaml': manifest(), 'apps/shop/main.yaml': workflow(8080) });
  await h.deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: ZERO, after: base }));
  await h.settle();
  // The first check run is refused twice (Octokit's one retry in process, then the drain's own).
  h.fake.inject({ fault: { kind: 'secondary-rate-limit', retryAfterSeconds: 1 }, times: 2, method: 'POST', template: '/repos/{owner}/{repo}/check-runs' });
  const head = await h.commit('feature-6', 'change', { 'apps/shop/main.yaml': workflow(8081) });
  const from = h.fake.requests.length;
  await h.deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 6, headSha: head, headRef: 'feature-6' }));
  await h.settle();
  const after = writes(h.fake.requests.slice(from));
  const refused = after.filter((r) => r.status === 403);
  t.equal(refused.length, 2, 'GitHub refused two requests');
  const lastRefusal = refused.at(-1)?.at ?? 0;
  const next = after.find((r) => r.at > lastRefusal && r.status !== 403);
  t.ok(next && next.at - lastRefusal >= 1_000, `the installation's next write waited out the Retry-After (${next ? next.at - lastRefusal : '?'} ms)`);
  t.equal(h.fake.state.latestCheckRun(REPO.fullName, head, 'wharf/validate')?.conclusion, 'success', 'and nothing was lost');
  t.equal(h.fake.state.latestCheckRun(REPO.fullName, head, 'wharf/preview')?.conclusion, 'success');
  t.same(h.fake.problems, []);
});
